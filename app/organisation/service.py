"""The rules of the organisation domain: partners, teams, professionals, waves and invitations.

Functions are keyword-only and never commit (the request's session does, once). A referenced id that
does not exist or belongs to another municipality answers 404, exactly like the object route of that
id would, so ids never reveal another municipality's data. Research keys read but never write.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import object_session
from sqlmodel import Session, col

from app.auth import Principal
from app.collection import service as collection
from app.collection.links import LinkProblem
from app.db import utcnow
from app.errors import Conflict, InvalidInput, NotFound
from app.instrument_versions.service import (
    ensure_instrument_version_recorded,
    instrument_for_version,
    published_instrument,
)
from app.models import Invitation, Partner, Professional, Team, Wave
from app.organisation import repository
from app.organisation.schemas import (
    InvitationCreate,
    InvitationPublic,
    InvitationStatus,
    InvitationUpdate,
    PartnerCreate,
    PartnerUpdate,
    ProfessionalCreate,
    ProfessionalUpdate,
    SheetAudience,
    TeamCreate,
    TeamUpdate,
    WaveCreate,
    WaveListed,
    WavePublic,
    WaveUpdate,
)
from app.publication import service as publication
from app.tenancy import writing_municipality

# No 0/O or 1/I: a code may be read aloud or typed over from paper.
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
CODE_ATTEMPTS = 20
TOKEN_BYTES = 24  # 192 bits, 32 URL-safe characters: unguessable, and still a small QR code


def _invalid(field: str, message: str, kind: str = "value_error") -> InvalidInput:
    """A 422 shaped like a schema error, naming the body field concerned."""
    return InvalidInput(
        f"{field}: {message}", errors=[{"loc": ["body", field], "msg": message, "type": kind}]
    )


# -- partners -------------------------------------------------------------------------------------------


def create_partner(*, session: Session, principal: Principal, partner_in: PartnerCreate) -> Partner:
    partner = Partner(
        municipality_id=writing_municipality(principal), name=partner_in.name, kind=partner_in.kind.value
    )
    repository.add(session, partner)
    return partner


def list_partners(
    *, session: Session, principal: Principal, limit: int, offset: int
) -> tuple[list[Partner], int]:
    return repository.page_of(session, Partner, principal, limit=limit, offset=offset)


def get_partner(*, session: Session, principal: Principal, partner_id: int) -> Partner:
    return repository.get_partner(session, principal, partner_id)


def update_partner(
    *, session: Session, principal: Principal, partner_id: int, partner_in: PartnerUpdate
) -> Partner:
    writing_municipality(principal)
    partner = repository.get_partner(session, principal, partner_id)
    changes = partner_in.model_dump(exclude_unset=True)
    if changes.get("name") is not None:
        partner.name = changes["name"]
    if changes.get("kind") is not None:
        partner.kind = changes["kind"].value
    repository.add(session, partner)
    return partner


def delete_partner(*, session: Session, principal: Principal, partner_id: int) -> None:
    """Its professionals stay, without a partner."""
    writing_municipality(principal)
    partner = repository.get_partner(session, principal, partner_id)
    repository.detach_professionals_from_partner(session, partner)
    repository.delete(session, partner)


# -- teams ----------------------------------------------------------------------------------------------


def create_team(*, session: Session, principal: Principal, team_in: TeamCreate) -> Team:
    team = Team(municipality_id=writing_municipality(principal), name=team_in.name)
    repository.add(session, team)
    return team


def list_teams(*, session: Session, principal: Principal, limit: int, offset: int) -> tuple[list[Team], int]:
    return repository.page_of(session, Team, principal, limit=limit, offset=offset)


def get_team(*, session: Session, principal: Principal, team_id: int) -> Team:
    return repository.get_team(session, principal, team_id)


def update_team(*, session: Session, principal: Principal, team_id: int, team_in: TeamUpdate) -> Team:
    writing_municipality(principal)
    team = repository.get_team(session, principal, team_id)
    if team_in.name is not None:
        team.name = team_in.name
    repository.add(session, team)
    return team


def delete_team(*, session: Session, principal: Principal, team_id: int) -> None:
    """Refused (409) while professionals belong to the team: move or delete them first."""
    writing_municipality(principal)
    team = repository.get_team(session, principal, team_id)
    if repository.team_has_professionals(session, team):
        raise Conflict(f"team {team_id} still has professionals; move or delete them first")
    repository.delete(session, team)


# -- professionals --------------------------------------------------------------------------------------


def new_professional_code() -> str:
    """A random pseudonym; it says nothing about the person."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def _free_code(session: Session, municipality_id: int) -> str:
    for _ in range(CODE_ATTEMPTS):
        code = new_professional_code()
        if not repository.code_taken(session, municipality_id, code):
            return code
    raise Conflict("could not find a free professional code; give one as code")  # pragma: no cover


def _store_professional(session: Session, professional: Professional) -> None:
    try:
        repository.add(session, professional)
    except IntegrityError:
        # Two requests chose the same code at the same moment; the request's session rolls back.
        raise Conflict(f"professional code {professional.code!r} is already in use") from None


def create_professional(
    *, session: Session, principal: Principal, professional_in: ProfessionalCreate
) -> Professional:
    municipality_id = writing_municipality(principal)
    repository.get_team(session, principal, professional_in.team_id)
    if professional_in.partner_id is not None:
        repository.get_partner(session, principal, professional_in.partner_id)
    if professional_in.code is None:
        code = _free_code(session, municipality_id)
    elif repository.code_taken(session, municipality_id, professional_in.code):
        raise Conflict(f"professional code {professional_in.code!r} is already in use")
    else:
        code = professional_in.code
    professional = Professional(
        municipality_id=municipality_id,
        team_id=professional_in.team_id,
        partner_id=professional_in.partner_id,
        code=code,
        display_name=professional_in.display_name,
        role=professional_in.role,
    )
    _store_professional(session, professional)
    return professional


def code_in_use(*, session: Session, principal: Principal, code: str) -> bool:
    """Whether a professional of the caller's municipality already has ``code``."""
    return repository.code_taken(session, writing_municipality(principal), code)


def list_professionals(
    *,
    session: Session,
    principal: Principal,
    limit: int,
    offset: int,
    team_id: int | None = None,
    partner_id: int | None = None,
) -> tuple[list[Professional], int]:
    filters: list[ColumnElement[bool]] = []
    if team_id is not None:
        filters.append(col(Professional.team_id) == team_id)
    if partner_id is not None:
        filters.append(col(Professional.partner_id) == partner_id)
    return repository.page_of(session, Professional, principal, limit=limit, offset=offset, filters=filters)


def get_professional(*, session: Session, principal: Principal, professional_id: int) -> Professional:
    return repository.get_professional(session, principal, professional_id)


def update_professional(
    *, session: Session, principal: Principal, professional_id: int, professional_in: ProfessionalUpdate
) -> Professional:
    municipality_id = writing_municipality(principal)
    professional = repository.get_professional(session, principal, professional_id)
    changes = professional_in.model_dump(exclude_unset=True)
    if changes.get("team_id") is not None:
        professional.team_id = repository.get_team(session, principal, changes["team_id"]).id  # type: ignore[assignment]
    if "partner_id" in changes:
        if changes["partner_id"] is not None:
            repository.get_partner(session, principal, changes["partner_id"])
        professional.partner_id = changes["partner_id"]
    code = changes.get("code")
    if code is not None and code != professional.code:
        if repository.code_taken(session, municipality_id, code, except_id=professional.id):
            raise Conflict(f"professional code {code!r} is already in use")
        professional.code = code
    for field in ("display_name", "role"):
        if changes.get(field) is not None:
            setattr(professional, field, changes[field])
    _store_professional(session, professional)
    return professional


def delete_professional(*, session: Session, principal: Principal, professional_id: int) -> None:
    """Deletes the professional with their invitations and the responses about them (erasure)."""
    writing_municipality(principal)
    professional = repository.get_professional(session, principal, professional_id)
    repository.delete_what_belongs_to_professional(session, professional)
    repository.delete(session, professional)


# -- waves ----------------------------------------------------------------------------------------------


def _checked_modules(version: str, modules: list[str]) -> str:
    """The modules as stored (comma-separated, in the order given, once each); 422 for an unknown one."""
    known = instrument_for_version(version).module_ids
    for index, module_id in enumerate(modules):
        if module_id not in known:
            message = f"unknown module {module_id!r}; modules: {', '.join(sorted(known)) or 'none'}"
            raise InvalidInput(
                f"modules: {message}",
                errors=[{"loc": ["body", "modules", str(index)], "msg": message, "type": "unknown_module"}],
            )
    return ",".join(dict.fromkeys(modules))


def create_wave(*, session: Session, principal: Principal, wave_in: WaveCreate) -> Wave:
    """A wave pins the published instrument version of the moment it is created."""
    municipality_id = writing_municipality(principal)
    instrument = published_instrument()
    modules = _checked_modules(instrument.version, wave_in.modules)
    ensure_instrument_version_recorded(session, instrument)
    wave = Wave(
        municipality_id=municipality_id,
        name=wave_in.name,
        instrument_version=instrument.version,
        modules=modules,
        opens_at=wave_in.opens_at,
        closes_at=wave_in.closes_at,
        professional_feedback=wave_in.professional_feedback,
    )
    repository.add(session, wave)
    collection.prepare_answer_layouts(session, wave)
    return wave


def list_waves(*, session: Session, principal: Principal, limit: int, offset: int) -> tuple[list[Wave], int]:
    return repository.page_of(session, Wave, principal, limit=limit, offset=offset)


def present_listed_waves(session: Session, waves: list[Wave]) -> list[WaveListed]:
    """Waves with the forms that have published responses (what a report can be asked for)."""
    forms = list(published_instrument().forms)
    published = repository.published_forms(session, [wave.id for wave in waves if wave.id is not None], forms)
    return [
        WaveListed.model_validate(
            {**present_wave(wave).model_dump(), "published_forms": published.get(wave.id or 0, [])}
        )
        for wave in waves
    ]


def get_wave(*, session: Session, principal: Principal, wave_id: int) -> Wave:
    return repository.get_wave(session, principal, wave_id)


def update_wave(*, session: Session, principal: Principal, wave_id: int, wave_in: WaveUpdate) -> Wave:
    writing_municipality(principal)
    wave = repository.get_wave(session, principal, wave_id)
    changes = wave_in.model_dump(exclude_unset=True)
    if changes.get("modules") is not None:
        modules = _checked_modules(wave.instrument_version, changes["modules"])
        if modules != wave.modules and repository.wave_has_responses(session, wave):
            raise Conflict(f"wave {wave_id} has responses; its modules can no longer change")
        wave.modules = modules
    if changes.get("professional_feedback") is not None:
        publication.check_professional_feedback_change(session, wave, changes["professional_feedback"])
        wave.professional_feedback = changes["professional_feedback"]
    if changes.get("name") is not None:
        wave.name = changes["name"]
    if changes.get("opens_at") is not None:
        wave.opens_at = changes["opens_at"]
    if "closes_at" in changes:
        if wave_is_closed(wave) and changes["closes_at"] != wave.closes_at:
            # Some numbers (the comparison between languages) are published only once a wave has
            # closed, because no later cut can follow; reopening would let one.
            raise Conflict(
                f"wave {wave_id} has closed; it cannot be reopened or given another closing moment"
            )
        wave.closes_at = changes["closes_at"]
    if wave.closes_at is not None and wave.closes_at <= wave.opens_at:
        raise _invalid("closes_at", "closes_at must be after opens_at")
    repository.add(session, wave)
    collection.prepare_answer_layouts(session, wave)
    return wave


def delete_wave(*, session: Session, principal: Principal, wave_id: int) -> None:
    """Refused (409) once the wave has responses: an accepted response is never lost by accident."""
    writing_municipality(principal)
    wave = repository.get_wave(session, principal, wave_id)
    if repository.wave_has_responses(session, wave):
        raise Conflict(f"wave {wave_id} has responses and cannot be deleted")
    repository.delete_invitations_of_wave(session, wave)
    repository.delete(session, wave)


def present_wave(wave: Wave) -> WavePublic:
    return WavePublic.model_validate({**wave.model_dump(), "modules": list(wave.module_ids)})


# -- invitations ----------------------------------------------------------------------------------------


def new_invitation_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def invitation_url(base_url: str, token: str) -> str:
    """The respondent's link: what the QR code holds."""
    return f"{base_url.rstrip('/')}/s/{token}"


_STATUS = {
    LinkProblem.revoked: InvitationStatus.revoked,
    LinkProblem.used: InvitationStatus.used,
    LinkProblem.expired: InvitationStatus.expired,
}


def _status(problem: LinkProblem | None) -> InvitationStatus:
    # a rule added later that names no status of its own withdraws the link, as far as its users see
    return InvitationStatus.active if problem is None else _STATUS.get(problem, InvitationStatus.revoked)


def invitation_statuses(
    session: Session, invitations: list[Invitation], now: datetime | None = None
) -> dict[int, InvitationStatus]:
    """:func:`invitation_status` of many links in one query, by invitation id (for list pages)."""
    session.flush()
    states = collection.link_states(session, invitations, now)
    return {id_: _status(problem) for id_, problem in states.items()}


def invitation_status(invitation: Invitation, now: datetime | None = None) -> InvitationStatus:
    """The link's own status, by the one rule of a usable link (:mod:`app.collection.links`),
    read from the database the invitation was loaded from. Its wave's dates are the wave's."""
    return _status(collection.link_state(_session_of(invitation), invitation, now))


def wave_is_closed(wave: Wave, now: datetime | None = None) -> bool:
    """Whether the wave's links work no more, by the one rule (:mod:`app.collection.links`)."""
    return collection.wave_state(_session_of(wave), wave, now) is LinkProblem.closed


def _session_of(row: Invitation | Wave) -> Session:
    session = object_session(row)
    if not isinstance(session, Session):  # pragma: no cover - rows here are always loaded or added
        raise RuntimeError(f"{type(row).__name__} {row.id} is in no session")
    session.flush()  # the rule reads the rows as this request changed them
    return session


def present_invitation(invitation: Invitation, *, base_url: str) -> InvitationPublic:
    return InvitationPublic.model_validate(
        {
            **invitation.model_dump(),
            "url": invitation_url(base_url, invitation.token),
            "status": invitation_status(invitation),
        }
    )


def check_future(field: str, moment: datetime | None) -> None:
    """422 naming ``field`` when ``moment`` is not in the future."""
    if moment is not None and moment <= utcnow():
        raise _invalid(field, f"{field} must be in the future")


def create_invitation(
    *, session: Session, principal: Principal, invitation_in: InvitationCreate
) -> Invitation:
    municipality_id = writing_municipality(principal)
    wave = repository.get_wave(session, principal, invitation_in.wave_id)
    professional = repository.get_professional(session, principal, invitation_in.professional_id)
    if professional.deactivated_at is not None:
        raise _invalid("professional_id", f"professional {professional.id} is deactivated")
    if wave.municipality_id != professional.municipality_id:  # pragma: no cover - both scoped above
        raise _invalid("wave_id", "the wave and the professional belong to different municipalities")
    forms = instrument_for_version(wave.instrument_version).forms
    if invitation_in.form not in forms:
        raise _invalid("form", f"no form {invitation_in.form!r} in instrument {wave.instrument_version}")
    if wave_is_closed(wave):
        raise _invalid("wave_id", f"wave {wave.id} closed at {wave.closes_at:%Y-%m-%d %H:%M} UTC")
    check_future("expires_at", invitation_in.expires_at)
    invitation = Invitation(
        municipality_id=municipality_id,
        wave_id=invitation_in.wave_id,
        professional_id=invitation_in.professional_id,
        form=invitation_in.form,
        kind=invitation_in.kind.value,
        token=new_invitation_token(),
        expires_at=invitation_in.expires_at,
    )
    repository.add(session, invitation)
    return invitation


def list_invitations(
    *,
    session: Session,
    principal: Principal,
    limit: int,
    offset: int,
    wave_id: int | None = None,
    professional_id: int | None = None,
) -> tuple[list[Invitation], int]:
    filters: list[ColumnElement[bool]] = []
    if wave_id is not None:
        filters.append(col(Invitation.wave_id) == wave_id)
    if professional_id is not None:
        filters.append(col(Invitation.professional_id) == professional_id)
    return repository.page_of(session, Invitation, principal, limit=limit, offset=offset, filters=filters)


def get_invitation(*, session: Session, principal: Principal, invitation_id: int) -> Invitation:
    return repository.get_invitation(session, principal, invitation_id)


def update_invitation(
    *, session: Session, principal: Principal, invitation_id: int, invitation_in: InvitationUpdate
) -> Invitation:
    """Change the expiry or revoke. A revocation is final: a revoked link may have been passed on."""
    writing_municipality(principal)
    invitation = repository.get_invitation(session, principal, invitation_id)
    changes: dict[str, Any] = invitation_in.model_dump(exclude_unset=True)
    if changes.get("revoked") is False and invitation.revoked_at is not None:
        raise _invalid("revoked", "a revoked invitation stays revoked; create a new one")
    if "expires_at" in changes:
        check_future("expires_at", changes["expires_at"])
        invitation.expires_at = changes["expires_at"]
    if changes.get("revoked") and invitation.revoked_at is None:
        invitation.revoked_at = utcnow()
    repository.add(session, invitation)
    return invitation


def revoke_invitation(*, session: Session, principal: Principal, invitation_id: int) -> Invitation:
    return update_invitation(
        session=session,
        principal=principal,
        invitation_id=invitation_id,
        invitation_in=InvitationUpdate(revoked=True),
    )


def delete_invitation(*, session: Session, principal: Principal, invitation_id: int) -> None:
    """Responses never point to an invitation, so deleting one loses no answers."""
    writing_municipality(principal)
    repository.delete(session, repository.get_invitation(session, principal, invitation_id))


# -- the printable sheet --------------------------------------------------------------------------------

SELF_REPORT_FORMS = frozenset({"professional"})
"""Forms a professional fills in about their own work: printed on their own page, never on the sheet
that is shown to young people and parents."""


@dataclass(frozen=True)
class PrintableInvitation:
    invitation: Invitation
    wave: Wave
    url: str
    works_from: datetime | None
    """When the wave opens, if it has not yet: the code works from then on."""
    works_until: datetime | None
    """The earlier of the wave's close and the invitation's expiry (None: open-ended)."""


@dataclass(frozen=True)
class PrintSheet:
    professional: Professional
    wave: Wave
    audience: SheetAudience
    entries: list[PrintableInvitation]


def _for_audience(invitation: Invitation, audience: SheetAudience) -> bool:
    return (invitation.form in SELF_REPORT_FORMS) == (audience is SheetAudience.professional)


def _invalid_query(field: str, message: str) -> InvalidInput:
    return InvalidInput(f"{field}: {message}", errors=[{"loc": ["query", field], "msg": message}])


def wave_is_open(wave: Wave, now: datetime | None = None) -> bool:
    return collection.wave_state(_session_of(wave), wave, now) is None


def _sheet_wave(
    session: Session,
    principal: Principal,
    *,
    wave_id: int | None,
    usable: list[Invitation],
    now: datetime,
) -> Wave:
    """The wave asked for, else the one open wave with invitations on this sheet.

    A closed wave's codes work no more (422). Without ``wave_id``: no open wave with invitations is
    404, naming the waves still to come; several open waves are 422 (the sheet is for one wave).
    """
    if wave_id is not None:
        wave = repository.get_wave(session, principal, wave_id)
        if wave_is_closed(wave, now):
            raise _invalid_query(
                "wave_id",
                f"wave {wave.id} closed at {wave.closes_at:%Y-%m-%d %H:%M} UTC: its codes work no more",
            )
        return wave
    waves = repository.waves_by_id(session, principal, {invitation.wave_id for invitation in usable})
    candidates = sorted(
        (wave for wave in waves.values() if wave_is_open(wave, now)), key=lambda wave: wave.id or 0
    )
    if len(candidates) > 1:
        ids = ", ".join(str(wave.id) for wave in candidates)
        raise _invalid_query(
            "wave_id", f"several open waves have invitations on this sheet ({ids}): choose one"
        )
    if not candidates:
        upcoming = sorted(
            (wave for wave in waves.values() if wave.opens_at > now), key=lambda wave: wave.opens_at
        )
        later = "".join(
            f"; wave {wave.id} opens at {wave.opens_at:%Y-%m-%d %H:%M} UTC (wave_id={wave.id})"
            for wave in upcoming
        )
        raise NotFound(f"No open wave has usable invitations on this sheet{later}.")
    return candidates[0]


def print_sheet(
    *,
    session: Session,
    principal: Principal,
    professional_id: int,
    base_url: str,
    wave_id: int | None = None,
    audience: SheetAudience = SheetAudience.respondents,
) -> PrintSheet:
    """The professional's invitations of one wave that a respondent can use now or later.

    ``audience`` respondents: the forms about the professional (``jongere``, ``ouder``), to show
    young people and parents; professional: the self-report form, for the professional alone.
    Revoked, expired and used-up invitations are left off.
    """
    professional = repository.get_professional(session, principal, professional_id)
    now = utcnow()
    candidates = [
        invitation
        for invitation in repository.invitations_of_professional(session, principal, professional)
        if _for_audience(invitation, audience)
    ]
    problems = collection.link_states(session, candidates, now)
    usable = [invitation for invitation in candidates if problems.get(invitation.id or 0) is None]
    wave = _sheet_wave(session, principal, wave_id=wave_id, usable=usable, now=now)
    entries = []
    for invitation in usable:
        if invitation.wave_id != wave.id:
            continue
        ends = [moment for moment in (wave.closes_at, invitation.expires_at) if moment is not None]
        entries.append(
            PrintableInvitation(
                invitation,
                wave,
                invitation_url(base_url, invitation.token),
                works_from=wave.opens_at if wave.opens_at > now else None,
                works_until=min(ends) if ends else None,
            )
        )
    return PrintSheet(professional=professional, wave=wave, audience=audience, entries=entries)


# -- running a wave: links for everyone, copying the last wave, a professional who stops ----------------


def professional_is_active(professional: Professional) -> bool:
    return professional.deactivated_at is None


def deactivate_professional(*, session: Session, principal: Principal, professional_id: int) -> Professional:
    """Stop a professional: their links are revoked at once; their code, history and reports stay."""
    writing_municipality(principal)
    professional = repository.get_professional(session, principal, professional_id)
    if professional.deactivated_at is None:
        now = utcnow()
        professional.deactivated_at = now
        for invitation in repository.invitations_of_professional(session, principal, professional):
            if invitation.revoked_at is None:
                invitation.revoked_at = now
                repository.add(session, invitation)
        repository.add(session, professional)
    return professional


def reactivate_professional(*, session: Session, principal: Principal, professional_id: int) -> Professional:
    """Active again; revoked links stay revoked (a link may have been passed on): make new ones."""
    writing_municipality(principal)
    professional = repository.get_professional(session, principal, professional_id)
    professional.deactivated_at = None
    repository.add(session, professional)
    return professional


def team_sizes(*, session: Session, principal: Principal) -> dict[int, int]:
    """Active professionals per team id."""
    return repository.active_professionals_per_team(session, principal)


def wave_invitations(*, session: Session, principal: Principal, wave_id: int) -> list[Invitation]:
    wave = repository.get_wave(session, principal, wave_id)
    return repository.invitations_of_wave(session, principal, wave)


def create_wave_links(
    *,
    session: Session,
    principal: Principal,
    wave_id: int,
    professional_ids: set[int] | None = None,
    forms: dict[int, set[str]] | None = None,
) -> list[Invitation]:
    """An open link per active professional and form of the wave that has no usable one yet.

    ``professional_ids`` limits it to those professionals; ``forms`` (per professional) to those
    forms. Returns the links made; a closed wave gets none (422, as for one invitation).
    """
    writing_municipality(principal)
    wave = repository.get_wave(session, principal, wave_id)
    if wave_is_closed(wave):
        raise _invalid("wave_id", f"wave {wave.id} closed at {wave.closes_at:%Y-%m-%d %H:%M} UTC")
    wave_forms = list(instrument_for_version(wave.instrument_version).forms)
    existing = repository.invitations_of_wave(session, principal, wave)
    statuses = invitation_statuses(session, existing)
    usable = {
        (invitation.professional_id, invitation.form)
        for invitation in existing
        if statuses.get(invitation.id or 0) is InvitationStatus.active
    }
    professionals, _ = repository.page_of(session, Professional, principal, limit=10_000, offset=0)
    made = []
    for professional in professionals:
        assert professional.id is not None
        if not professional_is_active(professional):
            continue
        if professional_ids is not None and professional.id not in professional_ids:
            continue
        wanted = forms.get(professional.id, set()) if forms is not None else set(wave_forms)
        for form in wave_forms:
            if form in wanted and (professional.id, form) not in usable:
                made.append(
                    create_invitation(
                        session=session,
                        principal=principal,
                        invitation_in=InvitationCreate(
                            wave_id=wave_id, form=form, professional_id=professional.id
                        ),
                    )
                )
    return made


def previous_wave(*, session: Session, principal: Principal, before: int | None = None) -> Wave | None:
    """The wave a copy starts from: the newest one (before wave ``before`` when given)."""
    return repository.latest_wave_before(session, principal, before)


def copy_wave(*, session: Session, principal: Principal, source_id: int, wave_in: WaveCreate) -> Wave:
    """A new wave with the modules and feedback setting of ``wave_in``, and a link for each active
    professional and form that had one in the source wave (so the same teams and professionals)."""
    source = repository.get_wave(session, principal, source_id)
    wave = create_wave(session=session, principal=principal, wave_in=wave_in)
    assert wave.id is not None
    forms: dict[int, set[str]] = {}
    for invitation in repository.invitations_of_wave(session, principal, source):
        forms.setdefault(invitation.professional_id, set()).add(invitation.form)
    if not wave_is_closed(wave):
        create_wave_links(
            session=session, principal=principal, wave_id=wave.id, professional_ids=set(forms), forms=forms
        )
    return wave


def close_wave(*, session: Session, principal: Principal, wave_id: int) -> Wave:
    """Close a wave now (early): its links stop working; what came in stays and is published as due."""
    wave = repository.get_wave(session, principal, wave_id)
    now = utcnow()
    if wave_is_closed(wave, now):
        return wave
    if wave.opens_at >= now:
        raise _invalid("closes_at", "the wave has not opened yet; change its dates instead")
    return update_wave(
        session=session, principal=principal, wave_id=wave_id, wave_in=WaveUpdate(closes_at=now)
    )
