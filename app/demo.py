"""Demo data: a municipality with partners, teams, professionals, a wave and simulated responses.

The simulated answers have the structure real data have (differences between teams and between
professionals within teams, respondents who differ, an occasional "weet ik niet"), so every
report has something to show. Run through ``verbonden demo``; running it again changes nothing
but the demo API key.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

import numpy as np
from sqlmodel import Session, col, select

from app.auth import Principal, Scope, create_api_key
from app.collection import repository as collection_repository
from app.collection.service import encode_answers, submission_key
from app.db import utcnow
from app.instrument_registry import published_instrument
from app.models import ApiKey, Invitation, Municipality, Professional, Response, Team, Wave
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


def _simulate(
    rng: np.random.Generator, n: int, k: int, mean: float, dont_know: float = 0.04
) -> list[dict[int, int | None]]:
    person = rng.normal(mean, 0.6, size=(n, 1))
    raw = np.rint(3.5 + 0.9 * person + rng.normal(0, 0.65, size=(n, k)))
    answers = np.clip(raw, 1, 5).astype(int)
    missing = rng.random((n, k)) < dont_know
    return [{j: None if missing[i, j] else int(answers[i, j]) for j in range(k)} for i in range(n)]


def _store_simulated(
    session: Session,
    rng: np.random.Generator,
    *,
    wave: Wave,
    professional: Professional,
    form: str,
    count: int,
    mean: float,
) -> int:
    instrument = published_instrument()
    form_definition = instrument.form(form)
    modules = tuple(module for module in wave.module_ids if module in form_definition.modules)
    item_ids = tuple(item.id for item in form_definition.items(modules))
    layout = collection_repository.answer_layout(
        session, version=instrument.version, form=form, modules=",".join(modules), item_ids=",".join(item_ids)
    )
    about_professional = any(item.names_professional for item in form_definition.items(modules))
    now = utcnow()
    rows = []
    for number, simulated in enumerate(_simulate(rng, count, len(item_ids), mean)):
        submitted = (now - timedelta(hours=int(rng.integers(1, 24 * 28)))).replace(
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
                language="nl",
                answers=encode_answers(item_ids, {item_ids[j]: value for j, value in simulated.items()}),
                submitted_at=submitted,
                submission_key=submission_key("demo", f"{wave.id}:{professional.id}:{form}:{number}"),
            )
        )
    session.add_all(rows)
    return len(rows)


def _new_demo_key(session: Session, municipality: Municipality) -> str:
    for old in session.exec(
        select(ApiKey).where(
            ApiKey.municipality_id == municipality.id,
            ApiKey.name == DEMO_KEY_NAME,
            col(ApiKey.revoked_at).is_(None),
        )
    ):
        old.revoked_at = utcnow()
        session.add(old)
    _, secret = create_api_key(
        session,
        municipality_id=municipality.id,
        name=DEMO_KEY_NAME,
        scopes=[scope.value for scope in Scope if scope != Scope.admin],
    )
    return secret


def load_demo(session: Session, *, base_url: str) -> DemoResult:
    """Create the demo municipality and its data once; always hand out a fresh demo key."""
    municipality = session.exec(select(Municipality).where(Municipality.slug == DEMO_SLUG)).first()
    created = municipality is None
    total = 0
    if municipality is None:
        municipality = Municipality(slug=DEMO_SLUG, name="Demostad")
        session.add(municipality)
        session.flush()
        total = _create_demo_data(session, municipality)
    invitation = session.exec(
        select(Invitation)
        .join(Professional, Professional.id == Invitation.professional_id)  # type: ignore[arg-type]
        .where(
            Invitation.municipality_id == municipality.id,
            Invitation.form == "jongere",
            Invitation.kind == "open",
            Professional.display_name == NAMES[0],
        )
    ).first()
    if not created:
        total = len(
            session.exec(select(Response.id).where(Response.municipality_id == municipality.id)).all()
        )
    secret = _new_demo_key(session, municipality)
    form_url = f"{base_url.rstrip('/')}/s/{invitation.token}" if invitation else ""
    return DemoResult(municipality, form_url, secret, created, total)


def _create_demo_data(session: Session, municipality: Municipality) -> int:
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
    wave = organisation.create_wave(
        session=session,
        principal=principal,
        wave_in=WaveCreate(
            name="Najaar 2026",
            opens_at=utcnow() - timedelta(days=30),
            closes_at=utcnow() + timedelta(days=60),
            modules=["bejegening", "samenwerking"],
        ),
    )
    team_effect = rng.normal(0, 0.25, size=len(teams))
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
        for form, kind in (("jongere", "open"), ("ouder", "open"), ("professional", "personal")):
            organisation.create_invitation(
                session=session,
                principal=principal,
                invitation_in=InvitationCreate(
                    wave_id=wave.id or 0, form=form, professional_id=professional.id or 0, kind=kind
                ),
            )
        mean = float(team_effect[team_index] + rng.normal(0, 0.35))
        total += _store_simulated(
            session,
            rng,
            wave=wave,
            professional=professional,
            form="jongere",
            count=int(rng.integers(3, 140)),
            mean=mean,
        )
        total += _store_simulated(
            session,
            rng,
            wave=wave,
            professional=professional,
            form="ouder",
            count=int(rng.integers(0, 40)),
            mean=mean + 0.1,
        )
        total += _store_simulated(
            session,
            rng,
            wave=wave,
            professional=professional,
            form="professional",
            count=1,
            mean=float(team_effect[team_index]),
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
