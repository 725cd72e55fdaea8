"""What the wave pages show and send: the wave form, its links' state, the team's QR sheets and the
personal links for a mail merge. Built on the organisation service (the rules live there).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlmodel import Session

from app.auth import Principal
from app.db import utcnow
from app.errors import AppError
from app.exports.spreadsheet import SafeCsvWriter
from app.instrument_versions.service import published_instrument
from app.models import Invitation, InvitationKind, Professional, Team, Wave
from app.organisation import service as organisation
from app.organisation import sheet as print_sheet
from app.organisation.schemas import InvitationCreate, InvitationStatus, SheetAudience, WaveCreate, WaveUpdate
from app.publication import service as publication
from app.publication.dates import MONTHS
from app.webapp import service
from app.webapp.forms import FieldErrors, field_errors, iso_day
from app.webapp.language import current, say
from app.webapp.service import MAX_LISTED, WaveProgress, list_teams
from app.webapp.teams import professionals_of_team

WAVE_FIELDS = {"name", "opens_at", "closes_at", "modules", "professional_feedback"}
FORM_FIELD = {"opens_at": "opens_on", "closes_at": "closes_on"}
"""The schema's field -> the form's (the form asks for days, the schema holds moments)."""


def _form_fields(errors: FieldErrors) -> FieldErrors:
    return {FORM_FIELD.get(name, name): message for name, message in errors.items()}


MAX_PERSONAL_LINKS = 200
"""Personal links per professional and form in one batch."""


@dataclass(frozen=True)
class ModuleChoice:
    id: str
    title: str
    forms: list[str]


def module_choices() -> list[ModuleChoice]:
    """The optional modules of the published instrument, with the forms each adds questions to
    (titles in the page's language)."""
    instrument = published_instrument()
    lang = current()
    found: dict[str, ModuleChoice] = {}
    for form_id, form in instrument.forms.items():
        for module_id, module in form.modules.items():
            choice = found.setdefault(
                module_id, ModuleChoice(module_id, module.title.get(lang, module_id), [])
            )
            choice.forms.append(form_id)
    return sorted(found.values(), key=lambda choice: choice.id)


@dataclass(frozen=True)
class WaveFormValues:
    """What the wave form shows: typed values, kept when the form comes back with a message."""

    name: str = ""
    opens_on: str = ""
    closes_on: str = ""
    modules: tuple[str, ...] = ()
    professional_feedback: bool = True
    copy_of: int | None = None


def local_day(moment: datetime | None, *, end: bool = False) -> str:
    """A stored moment as the day typed in the form (``YYYY-MM-DD``, Europe/Amsterdam)."""
    local = print_sheet.ends(moment) if end else print_sheet.starts(moment)
    return f"{local.day:%Y-%m-%d}" if local is not None else ""


def day_text(moment: datetime | None, *, end: bool = False) -> str:
    """A stored moment as a reader writes the day: ``1-3-2027`` (nl) or ``1 Mar 2027`` (en), in
    Europe/Amsterdam."""
    local = print_sheet.ends(moment) if end else print_sheet.starts(moment)
    if local is None:
        return ""
    if current() == "en":
        return f"{local.day.day} {MONTHS['en'][local.day.month - 1][:3]} {local.day.year}"
    return f"{local.day.day}-{local.day.month}-{local.day.year}"


def values_of(wave: Wave, *, copy: bool = False) -> WaveFormValues:
    if copy:
        return WaveFormValues(
            name=f"{wave.name}{say('copy_suffix')}"[:200],
            modules=wave.module_ids,
            professional_feedback=wave.professional_feedback,
            copy_of=wave.id,
        )
    return WaveFormValues(
        name=wave.name,
        opens_on=local_day(wave.opens_at),
        closes_on=local_day(wave.closes_at, end=True),
        modules=wave.module_ids,
        professional_feedback=wave.professional_feedback,
    )


def wave_in(
    values: WaveFormValues, *, update: bool = False
) -> tuple[WaveCreate | WaveUpdate | None, FieldErrors]:
    """The posted wave form as the API's schema (days as plain dates), or a message per field."""
    errors: FieldErrors = {}
    opens = iso_day(values.opens_on)
    closes = iso_day(values.closes_on)
    if opens is None:
        errors["opens_on"] = say("first_day_missing")
    data: dict[str, Any] = {
        "name": values.name,
        "opens_at": opens or "2000-01-01",
        "closes_at": closes,
        "modules": list(values.modules),
        "professional_feedback": values.professional_feedback,
    }
    try:
        checked: WaveCreate | WaveUpdate = (WaveUpdate if update else WaveCreate).model_validate(data)
    except ValidationError as exc:
        for name, message in _form_fields(field_errors(exc, WAVE_FIELDS, fallback="name")).items():
            errors.setdefault(name, message)
        return None, errors
    return (None, errors) if errors else (checked, {})


def rule_errors(exc: AppError) -> FieldErrors:
    """A refusal of the organisation service, at the field of the wave form it concerns."""
    text = exc.detail
    if exc.status == 409 and "modules" in text:
        return {"modules": say("modules_fixed")}
    if "numbers per professional" in text:
        return {"professional_feedback": say("feedback_fixed")}
    if "closes_at" in text:
        return {"closes_on": say("field_closes_before")}
    return _form_fields(field_errors(exc, WAVE_FIELDS, fallback="name"))


def wave_progress(session: Session, principal: Principal, wave: Wave, *, min_group_size: int) -> WaveProgress:
    """The wave's progress after publishing what is due, as opening its report would
    (:func:`app.publication.service.publish_due`: the one rule of what may be published)."""
    publication.publish_due(session, wave, min_group_size=min_group_size)
    return service.wave_progress(session, principal, wave, min_group_size=min_group_size)


def wave_state(wave: Wave, now: datetime | None = None) -> str:
    now = now or utcnow()
    if organisation.wave_is_closed(wave, now):
        return "gesloten"
    if wave.opens_at > now:
        return "nog niet open"
    return "open"


def list_waves(session: Session, principal: Principal) -> list[Wave]:
    """The municipality's waves, newest first."""
    waves, _ = organisation.list_waves(session=session, principal=principal, limit=MAX_LISTED, offset=0)
    return sorted(waves, key=lambda wave: -(wave.id or 0))


# -- the state of a wave's links ------------------------------------------------------------------------

STATUS_WORDS = {  # keys in templates/app/messages.yaml
    InvitationStatus.active: "link_active",
    InvitationStatus.used: "link_used",
    InvitationStatus.expired: "link_expired",
    InvitationStatus.revoked: "link_revoked",
}


def link_states(session: Session, principal: Principal, wave: Wave) -> dict[tuple[int, str], str]:
    """Per (professional id, form): the state of the links in words, e.g. "open link actief" (in the
    page's language)."""
    assert wave.id is not None
    invitations = organisation.wave_invitations(session=session, principal=principal, wave_id=wave.id)
    now = utcnow()
    grouped: dict[tuple[int, str], list[Invitation]] = {}
    for invitation in invitations:
        grouped.setdefault((invitation.professional_id, invitation.form), []).append(invitation)
    statuses = organisation.invitation_statuses(session, invitations, now)
    states = {}
    for key, links in grouped.items():
        parts = []
        for kind, label in (
            (InvitationKind.open.value, say("link_open")),
            (InvitationKind.personal.value, say("link_personal")),
        ):
            counts: dict[str, int] = {}
            for link in links:
                if link.kind == kind:
                    word = say(STATUS_WORDS[statuses[link.id or 0]])
                    counts[word] = counts.get(word, 0) + 1
            if not counts:
                continue
            if kind == InvitationKind.open.value:
                parts.append(f"{label} " + ", ".join(counts))
            else:
                parts.append(
                    f"{sum(counts.values())} {label} ("
                    + ", ".join(f"{n} {w}" for w, n in counts.items())
                    + ")"
                )
        states[key] = "; ".join(parts)
    return states


# -- the team's QR sheets -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TeamSheets:
    team: Team
    wave: Wave
    pages: list[dict[str, Any]]
    """One A4 per active professional: the context of ``print/_professional.html``."""


def team_sheets(
    session: Session, principal: Principal, *, wave_id: int, team_id: int, base_url: str
) -> TeamSheets:
    """The sheet for young people and parents of every active professional of the team, for one wave.

    Only the forms about the professional (``audience=respondents``): a professional's own
    self-report link is never on it. 404 for another municipality's wave or team; 422 once the wave
    has closed (its codes work no more).
    """
    wave = organisation.get_wave(session=session, principal=principal, wave_id=wave_id)
    team = organisation.get_team(session=session, principal=principal, team_id=team_id)
    pages = []
    for professional in professionals_of_team(session, principal, team):
        if not organisation.professional_is_active(professional):
            continue
        assert professional.id is not None
        sheet = organisation.print_sheet(
            session=session,
            principal=principal,
            professional_id=professional.id,
            base_url=base_url,
            wave_id=wave_id,
            audience=SheetAudience.respondents,
        )
        pages.append(print_sheet.context(sheet))
    return TeamSheets(team, wave, pages)


# -- personal links for a mail merge --------------------------------------------------------------------

PERSONAL_LINK_COLUMNS = ("naam", "rol", "team", "code", "vragenlijst", "link", "werkt_tot")


def personal_links_csv(
    session: Session,
    principal: Principal,
    *,
    wave_id: int,
    team_id: int,
    form: str,
    count: int,
    base_url: str,
) -> tuple[bytes, int]:
    """Make ``count`` personal (one-use) links per active professional of the team for ``form``, as a
    CSV for a mail merge (one row a link; text cells injection-safe). Returns the file and the number made.
    """
    wave = organisation.get_wave(session=session, principal=principal, wave_id=wave_id)
    team = organisation.get_team(session=session, principal=principal, team_id=team_id)
    rows: list[tuple[Professional, Invitation]] = []
    for professional in professionals_of_team(session, principal, team):
        if not organisation.professional_is_active(professional):
            continue
        assert professional.id is not None
        for _ in range(count):
            invitation = organisation.create_invitation(
                session=session,
                principal=principal,
                invitation_in=InvitationCreate(
                    wave_id=wave_id, form=form, professional_id=professional.id, kind=InvitationKind.personal
                ),
            )
            rows.append((professional, invitation))
    stream = io.StringIO()
    writer = SafeCsvWriter(stream)
    writer.writerow(PERSONAL_LINK_COLUMNS)
    until = local_day(wave.closes_at, end=True)
    for professional, invitation in rows:
        writer.writerow(
            (
                professional.display_name,
                professional.role,
                team.name,
                professional.code,
                form,
                organisation.invitation_url(base_url, invitation.token),
                until,
            )
        )
    return stream.getvalue().encode("utf-8-sig"), len(rows)


def teams_of(session: Session, principal: Principal) -> list[Team]:
    return list_teams(session, principal)


def save_wave(
    session: Session, principal: Principal, values: WaveFormValues, *, wave_id: int | None = None
) -> tuple[Wave | None, FieldErrors]:
    """Create (or copy, or with ``wave_id`` change) the wave of the posted form, or say per field why not.

    In a savepoint, so a refusal half-way leaves the wave as it was.
    """
    checked, errors = wave_in(values, update=wave_id is not None)
    if checked is None:
        return None, errors
    try:
        with session.begin_nested():
            if wave_id is not None:
                assert isinstance(checked, WaveUpdate)
                wave = organisation.update_wave(
                    session=session, principal=principal, wave_id=wave_id, wave_in=checked
                )
            elif values.copy_of is not None:
                assert isinstance(checked, WaveCreate)
                wave = organisation.copy_wave(
                    session=session, principal=principal, source_id=values.copy_of, wave_in=checked
                )
            else:
                assert isinstance(checked, WaveCreate)
                wave = organisation.create_wave(session=session, principal=principal, wave_in=checked)
    except AppError as exc:
        if exc.status == 404:
            raise
        return None, rule_errors(exc)
    return wave, {}
