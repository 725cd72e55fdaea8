"""Demo data: a municipality with partners, teams, professionals, two waves and simulated responses.

The simulated answers have the structure real data have, so that the reports a newcomer sees
teach the right thing: three correlated but distinct factors with reliable subscales, items that
differ, "weet ik niet" and skipped questions, differences between teams and between professionals,
professionals with too few responses to be shown, self-reports, and a second wave with change
(see :func:`_create_demo_data`). Seeded: every run creates the same answers. Run through
``verbonden demo``; running it again changes nothing but the demo API key.
"""

from __future__ import annotations

import ipaddress
import secrets
import socket
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

import numpy as np
import numpy.typing as npt
from sqlmodel import Session

from app.apikeys import service as apikey_service
from app.auth import Principal, Scope
from app.collection import repository as collection_repository
from app.collection.service import encode_answers, submission_key
from app.db import utcnow
from app.instrument_versions.service import published_instrument
from app.models import Municipality, Professional, Response, Team, Wave
from app.municipality import repository as municipality_repository
from app.municipality import service as municipality_service
from app.organisation import repository as organisation_repository
from app.organisation import service as organisation
from app.organisation.schemas import (
    InvitationCreate,
    PartnerCreate,
    ProfessionalCreate,
    TeamCreate,
    WaveCreate,
)

DEMO_SLUG = "demostad"
DEMO_KEY_NAME = "demo"
DEMO_ADMIN_EMAIL = "beheerder@demostad.example"
SEED = 20261128

PARTNERS = [
    ("Politie Demostad", "police"),
    ("Jongerenwerk Demostad", "youth_work"),
    ("Reclassering", "probation"),
    ("Zorg voor Jeugd", "care"),
    ("Gemeente Demostad", "municipality"),
]
TEAMS = ["Team Centrum", "Team Noord", "Team Oost", "Team West", "Veiligheidshuis casusteam"]
ROLES = {
    "police": "wijkagent",
    "youth_work": "jongerenwerker",
    "probation": "reclasseringswerker",
    "care": "jeugdhulpverlener",
    "municipality": "regisseur",
}
NAMES = [
    "Sam",
    "Noor",
    "Daan",
    "Yara",
    "Milan",
    "Fatima",
    "Jesse",
    "Lotte",
    "Mo",
    "Sanne",
    "Bram",
    "Aylin",
    "Ruben",
    "Iris",
    "Youssef",
    "Emma",
    "Luuk",
    "Sara",
    "Kevin",
    "Demi",
    "Thijs",
    "Nadia",
    "Jordy",
    "Eva",
    "Bilal",
    "Romy",
    "Stijn",
    "Layla",
    "Niels",
    "Inge",
]


@dataclass(frozen=True)
class DemoResult:
    municipality: Municipality
    form_url: str
    api_key: str
    created: bool
    responses: int
    admin_email: str = DEMO_ADMIN_EMAIL
    admin_password: str = ""


@dataclass(frozen=True)
class DemoWave:
    """A wave of the demo, its period in days from today, and how much better it goes in it."""

    name: str
    opens_days: int
    closes_days: int
    change: float
    """Latent change (in SD units) of every score against the first wave; ``IMPROVING_TEAMS`` get more."""


WAVES = (DemoWave("Voorjaar 2026", -240, -180, 0.0), DemoWave("Najaar 2026", -30, 60, 0.10))
CURRENT_WAVE = WAVES[-1].name
"""The open wave: the demo form link and the feedback pages belong to it."""
IMPROVING_TEAMS = {"Team Noord": 0.35, "Veiligheidshuis casusteam": 0.30}
"""Teams that did something between the waves: their latent scores rise this much more."""

# The measurement model of the simulation (see _simulate_responses). Chosen so that the demo
# reports teach the right thing: three distinct factors, reliable but not redundant subscales.
LATENT_CORRELATION = 0.50
"""Correlation between any two factors (core subscales and module subscales alike)."""
TEAM_VARIANCE, PROFESSIONAL_VARIANCE = 0.03, 0.12
"""Shares of the latent variance between teams and between professionals in a team (ICC ~ .15)."""
LOADING_RANGE = (0.75, 0.83)
"""Standardised loadings of the continuous response before it is cut into 1..5 (alpha ~ .8)."""
ITEM_MEAN_SD = 0.25
"""Items differ in how easily they are endorsed: each has its own offset on the 1..5 scale."""
SCALE_CENTRE, SCALE_SPREAD = 3.55, 1.05
DONT_KNOW_RANGE = (0.005, 0.06)
"""Each item's share of "weet ik niet" lies in this range (a few items are harder to judge)."""
SKIPPING_SHARE, BREAKING_OFF_SHARE = 0.12, 0.03
"""Respondents who leave one or two questions open, and who stop halfway."""


def _few(number: int) -> bool:
    """Every sixth professional gets only 2-4 responses from young people: below any minimum."""
    return number % 6 == 5


def _counts(rng: np.random.Generator, number: int, wave_index: int) -> dict[str, int]:
    """How many responses a professional gets per form in a wave (the second wave a bit more)."""
    growth = 1.0 + 0.2 * wave_index
    youth = int(rng.integers(2, 5)) if _few(number) else round(rng.lognormal(3.4, 0.6) * growth)
    parents = 0 if rng.random() < 0.35 else int(rng.integers(2, 30))
    return {"jongere": min(youth, 150), "ouder": parents, "professional": 1}


class FormModel:
    """The fixed part of the simulation for one form: factors, loadings, item offsets, missingness.

    Item parameters are drawn once per form from the demo's seed, so the same items are the
    strong and the weak ones in both waves, for every professional.
    """

    def __init__(self, rng: np.random.Generator, item_ids: tuple[str, ...], factor_of: list[int]) -> None:
        k = len(item_ids)
        self.item_ids = item_ids
        self.factor_of = np.array(factor_of)
        self.factors = int(self.factor_of.max()) + 1
        correlation = np.full((self.factors, self.factors), LATENT_CORRELATION)
        np.fill_diagonal(correlation, 1.0)
        self.cholesky = np.linalg.cholesky(correlation)
        self.loadings = rng.uniform(*LOADING_RANGE, size=k)
        self.offsets = rng.normal(0.0, ITEM_MEAN_SD, size=k)
        self.dont_know = rng.uniform(*DONT_KNOW_RANGE, size=k)

    def latent(self, rng: np.random.Generator, n: int, variance: float) -> npt.NDArray[np.float64]:
        """``n`` draws of the correlated factors with the given variance (rows = draws)."""
        draws: npt.NDArray[np.float64] = rng.standard_normal((n, self.factors)) @ self.cholesky.T
        return draws * float(np.sqrt(variance))

    def answers(
        self, rng: np.random.Generator, shift: npt.NDArray[np.float64], n: int
    ) -> list[dict[str, int | None]]:
        """``n`` respondents around ``shift`` (team + professional + change), with missing answers."""
        eta = shift + self.latent(rng, n, 1.0 - TEAM_VARIANCE - PROFESSIONAL_VARIANCE)
        k = len(self.item_ids)
        continuous = self.loadings * eta[:, self.factor_of] + np.sqrt(
            1 - self.loadings**2
        ) * rng.standard_normal((n, k))
        points = np.clip(np.rint(SCALE_CENTRE + self.offsets + SCALE_SPREAD * continuous), 1, 5).astype(int)
        dont_know = rng.random((n, k)) < self.dont_know
        skipped = np.zeros((n, k), dtype=bool)
        for row in np.flatnonzero(rng.random(n) < SKIPPING_SHARE):
            skipped[row, rng.choice(k, size=int(rng.integers(1, 3)), replace=False)] = True
        for row in np.flatnonzero(rng.random(n) < BREAKING_OFF_SHARE):
            skipped[row, int(rng.integers(k // 3, k - 1)) :] = True
        # Both are stored as "no answer" today; they stay apart here so that the demo keeps
        # telling them apart once the form stores "weet ik niet" on its own (issue #17).
        return [
            {
                item_id: None if dont_know[row, j] or skipped[row, j] else int(points[row, j])
                for j, item_id in enumerate(self.item_ids)
            }
            for row in range(n)
        ]


ENGLISH_OF_FIVE = (2, 4)
"""Two in five young people answer in English: enough for the structure report's invariance
across languages to be tested in the demo (it needs hundreds of complete responses per language)."""


def _language(form: str, number: int) -> str:
    """The language of a simulated response: fixed by its number, so the answers stay as seeded."""
    return "en" if form == "jongere" and number % 5 in ENGLISH_OF_FIVE else "nl"


def _form_model(rng: np.random.Generator, form: str, modules: tuple[str, ...]) -> FormModel:
    definition = published_instrument().form(form)
    modules = tuple(module for module in modules if module in definition.modules)
    item_ids: list[str] = []
    factor_of: list[int] = []
    for factor, group in enumerate(definition.subscales(modules)):
        item_ids.extend(group.item_ids)
        factor_of.extend([factor] * len(group.item_ids))
    return FormModel(rng, tuple(item_ids), factor_of)


def _store_simulated(
    session: Session,
    rng: np.random.Generator,
    *,
    wave: Wave,
    professional: Professional,
    form: str,
    model: FormModel,
    shift: npt.NDArray[np.float64],
    count: int,
    key: str,
) -> int:
    instrument = published_instrument()
    form_definition = instrument.form(form)
    modules = tuple(module for module in wave.module_ids if module in form_definition.modules)
    item_ids = tuple(item.id for item in form_definition.items(modules))
    if item_ids != model.item_ids:  # pragma: no cover - the model is built from the same wave
        raise ValueError(f"the simulated items of {form} do not match the wave's")
    layout = collection_repository.answer_layout(
        session, version=instrument.version, form=form, modules=",".join(modules), item_ids=",".join(item_ids)
    )
    about_professional = any(item.names_professional for item in form_definition.items(modules))
    opens = wave.opens_at
    last = min(wave.closes_at or utcnow(), utcnow())
    window_hours = max(int((last - opens).total_seconds() // 3600), 2)
    rows = []
    for number, simulated in enumerate(model.answers(rng, shift, count)):
        submitted = (opens + timedelta(hours=int(rng.integers(1, window_hours)))).replace(
            minute=0, second=0, microsecond=0
        )
        rows.append(
            Response(
                municipality_id=wave.municipality_id,
                wave_id=wave.id or 0,
                # The professional form is a self-report: its responses are not linked to the person.
                professional_id=professional.id if about_professional else None,
                team_id=professional.team_id,
                form=form,
                layout_id=layout.id,  # type: ignore[arg-type]
                language=_language(form, number),
                answers=encode_answers(item_ids, simulated),
                submitted_at=submitted,
                submission_key=submission_key("demo", f"{wave.id}:{professional.id}:{form}:{key}:{number}"),
            )
        )
    session.add_all(rows)
    return len(rows)


def _new_demo_key(session: Session, municipality: Municipality) -> str:
    assert municipality.id is not None
    return apikey_service.replace_named_key(
        session,
        municipality_id=municipality.id,
        name=DEMO_KEY_NAME,
        scopes=[scope.value for scope in Scope if scope != Scope.admin],
    )


def load_demo(session: Session, *, base_url: str) -> DemoResult:
    """Create the demo municipality and its data once; always hand out a fresh demo key."""
    municipality = municipality_service.by_slug(session, DEMO_SLUG)
    created = municipality is None
    total = 0
    if municipality is None:
        municipality = municipality_service.create_municipality(session, "Demostad")
        total = _create_demo_data(session, municipality)
    assert municipality.id is not None
    invitation = organisation_repository.open_invitation_named(
        session,
        municipality_id=municipality.id,
        wave_name=CURRENT_WAVE,
        form="jongere",
        professional_name=NAMES[0],
    )
    if not created:
        total = municipality_repository.count_responses(session, municipality.id)
    secret = _new_demo_key(session, municipality)
    admin_password = _new_demo_admin_password(session, municipality)
    form_url = f"{base_url.rstrip('/')}/s/{invitation.token}" if invitation else ""
    return DemoResult(municipality, form_url, secret, created, total, DEMO_ADMIN_EMAIL, admin_password)


def _new_demo_admin_password(session: Session, municipality: Municipality) -> str:
    """The demo admin account (created once) gets a fresh random password at every run."""
    from app.users import repository as user_repository
    from app.users import service as user_service
    from app.users.schemas import Role, UserCreate

    admin = user_repository.user_by_email(session, DEMO_ADMIN_EMAIL)
    if admin is None:
        admin = user_service.create_user(
            session,
            user_in=UserCreate(
                email=DEMO_ADMIN_EMAIL,
                display_name="Demo beheerder",
                role=Role.admin,
                municipality_id=municipality.id,
            ),
            actor=None,
        )
    password = "-".join(secrets.token_urlsafe(6) for _ in range(3))
    user_service.set_password(session, user=admin, password=password, actor=None)
    return password


def _create_demo_data(session: Session, municipality: Municipality) -> int:
    """Partners, teams, 30 professionals, two waves and their simulated responses (seeded).

    The structure: three correlated but distinct factors per form (latent r = .50), each item a
    1..5 cut of a factor with loading .76-.86 (alphas near .80), items that differ in level,
    "weet ik niet" on 0.5-6 % of each item, respondents who skip a question or stop halfway;
    two in five young people answering in English (the same model: the translation measures alike);
    differences between teams and professionals (ICC near .15); professionals with 2-4 responses
    beside ones with a hundred; one self-report (form ``professional``) per professional and wave;
    a second wave in which every score rises a little and two teams clearly.
    """
    rng = np.random.default_rng(SEED)
    principal = Principal(api_key_id=0, municipality_id=municipality.id, scopes=frozenset({"manage"}))
    partners = [
        organisation.create_partner(
            session=session, principal=principal, partner_in=PartnerCreate(name=name, kind=kind)
        )
        for name, kind in PARTNERS
    ]
    teams: list[Team] = [
        organisation.create_team(session=session, principal=principal, team_in=TeamCreate(name=name))
        for name in TEAMS
    ]
    modules = ("bejegening", "samenwerking")
    waves = [
        organisation.create_wave(
            session=session,
            principal=principal,
            wave_in=WaveCreate(
                name=demo_wave.name,
                opens_at=utcnow() + timedelta(days=demo_wave.opens_days),
                closes_at=utcnow() + timedelta(days=demo_wave.closes_days),
                modules=list(modules),
            ),
        )
        for demo_wave in WAVES
    ]
    models = {form: _form_model(rng, form, modules) for form in ("jongere", "ouder", "professional")}
    team_effects = {form: model.latent(rng, len(teams), TEAM_VARIANCE) for form, model in models.items()}
    total = 0
    for number, name in enumerate(NAMES):
        team_index = number % len(teams)
        partner = partners[-1] if number % 7 == 6 else partners[(number + 1) % (len(partners) - 1)]
        professional = organisation.create_professional(
            session=session,
            principal=principal,
            professional_in=ProfessionalCreate(
                display_name=name,
                role=ROLES[partner.kind],
                team_id=teams[team_index].id or 0,
                partner_id=partner.id,
            ),
        )
        # The same person in both waves: young people and parents see much the same in them.
        own_effect = models["jongere"].latent(rng, 1, PROFESSIONAL_VARIANCE)[0]
        for wave_index, (demo_wave, wave) in enumerate(zip(WAVES, waves, strict=True)):
            if demo_wave.name == CURRENT_WAVE:  # a closed wave takes no new invitations
                for form, kind in (("jongere", "open"), ("ouder", "open"), ("professional", "personal")):
                    organisation.create_invitation(
                        session=session,
                        principal=principal,
                        invitation_in=InvitationCreate(
                            wave_id=wave.id or 0, form=form, professional_id=professional.id or 0, kind=kind
                        ),
                    )
            change = demo_wave.change + (
                IMPROVING_TEAMS.get(TEAMS[team_index], 0.0) if wave_index > 0 else 0.0
            )
            counts = _counts(rng, number, wave_index)
            for form, model in models.items():
                # A self-report is about the professional's own place: no rating effect, only the team's.
                person = own_effect if form != "professional" else 0.0
                shift = team_effects[form][team_index] + person + change
                total += _store_simulated(
                    session,
                    rng,
                    wave=wave,
                    professional=professional,
                    form=form,
                    model=model,
                    shift=shift,
                    count=counts[form],
                    key=demo_wave.name,
                )
    session.flush()
    return total


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def guess_network_address() -> str | None:
    """This computer's address in its local network, or None.

    Connecting a UDP socket sends no packet: it only asks the operating system which of its
    addresses it would use for a private-network destination.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 1))
            address = str(probe.getsockname()[0])
        except OSError:
            return None
    return None if _is_loopback(address) or ipaddress.ip_address(address).is_unspecified else address


def phone_hint(*, base_url: str, host: str, port: int, network_address: str | None) -> list[str]:
    """What to set to open the demo link on a phone, when the link or the server is loopback only.

    Empty when both the link (``VERBONDEN_BASE_URL``) and the listening address
    (``VERBONDEN_HOST``) can be reached from another device.
    """
    link_host = urlsplit(base_url).hostname or ""
    link_loopback, listen_loopback = _is_loopback(link_host), _is_loopback(host)
    if not link_loopback and not listen_loopback:
        return []
    address = network_address or "<this computer's address>"
    url = f"http://{address}:{port}" if link_loopback else base_url.rstrip("/")
    lines = []
    if link_loopback:
        lines.append(f"This link and QR code point to {link_host}: only this computer can open them.")
    else:
        lines.append(f"The server listens on {host} only: a phone cannot reach it.")
    lines += [
        "To try it on a phone in the same (Wi-Fi) network, start it like this:",
        f"  VERBONDEN_HOST=0.0.0.0 VERBONDEN_BASE_URL={url} make run",
        "0.0.0.0 listens on every network of this computer: do this on a network you trust",
        f"(a firewall may have to allow port {port}). README.md, 'Try it on a phone', says more.",
    ]
    return lines
