"""Every query of the organisation domain, each scoped to the caller's municipality via app.tenancy."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import ColumnElement, exists, func, null, update
from sqlalchemy import delete as sql_delete
from sqlmodel import Session, SQLModel, col, select

from app.audit.repository import note_bulk_changes
from app.auth import Principal
from app.models import FeedbackLink, Invitation, Partner, Professional, Response, Team, Wave
from app.tenancy import Owned, get_owned, scoped

OwnedRowT = TypeVar("OwnedRowT", bound=SQLModel)


def page_of(
    session: Session,
    model: type[OwnedRowT],
    principal: Principal,
    *,
    limit: int,
    offset: int,
    filters: list[ColumnElement[bool]] | None = None,
) -> tuple[list[OwnedRowT], int]:
    """Rows of ``model`` the caller may see, oldest first, and how many there are in all."""
    municipality_column: Any = model.municipality_id  # type: ignore[attr-defined]
    id_column: Any = model.id  # type: ignore[attr-defined]
    conditions = filters or []
    rows_query = scoped(select(model), municipality_column, principal).where(*conditions)
    count_query = scoped(select(func.count()).select_from(model), municipality_column, principal).where(
        *conditions
    )
    rows = session.exec(rows_query.order_by(id_column).limit(limit).offset(offset)).all()
    total = session.exec(count_query).one()
    return list(rows), int(total)


def get_partner(session: Session, principal: Principal, partner_id: int) -> Partner:
    return get_owned(session, Partner, partner_id, principal, label="partner")


def get_team(session: Session, principal: Principal, team_id: int) -> Team:
    return get_owned(session, Team, team_id, principal, label="team")


def get_professional(session: Session, principal: Principal, professional_id: int) -> Professional:
    return get_owned(session, Professional, professional_id, principal, label="professional")


def get_wave(session: Session, principal: Principal, wave_id: int) -> Wave:
    return get_owned(session, Wave, wave_id, principal, label="wave")


def open_invitation_named(
    session: Session, *, municipality_id: int, wave_name: str, form: str, professional_name: str
) -> Invitation | None:
    """The municipality's first open invitation on ``form`` in the wave called ``wave_name``, about
    the professional shown as ``professional_name`` (the demo's form link)."""
    statement = (
        select(Invitation)
        .join(Professional, Professional.id == Invitation.professional_id)  # type: ignore[arg-type]
        .join(Wave, Wave.id == Invitation.wave_id)  # type: ignore[arg-type]
        .where(
            Invitation.municipality_id == municipality_id,
            Wave.name == wave_name,
            Invitation.form == form,
            Invitation.kind == "open",
            Professional.display_name == professional_name,
        )
    )
    return session.exec(statement).first()


def get_invitation(session: Session, principal: Principal, invitation_id: int) -> Invitation:
    return get_owned(session, Invitation, invitation_id, principal, label="invitation")


def add(session: Session, row: Owned) -> None:
    """Insert or update ``row`` and flush, so its id is known and constraint errors surface here."""
    session.add(row)
    session.flush()


def delete(session: Session, row: Owned) -> None:
    session.delete(row)
    session.flush()


# The database cascades these too (ondelete); doing it here keeps the session's loaded objects in step,
# and the rows each statement changed (RETURNING) go to the audit trail like the rows of a flush.


def detach_professionals_from_partner(session: Session, partner: Partner) -> None:
    changed = session.execute(
        update(Professional)
        .where(col(Professional.municipality_id) == partner.municipality_id)
        .where(col(Professional.partner_id) == partner.id)
        .values(partner_id=None)
        .returning(col(Professional.id), null(), col(Professional.municipality_id))
    )
    note_bulk_changes(session, "professional", "update", changed.all())


def delete_what_belongs_to_professional(session: Session, professional: Professional) -> None:
    """The professional's invitations and feedback links, and the responses about them."""
    models: tuple[tuple[type[Invitation] | type[FeedbackLink] | type[Response], str], ...] = (
        (Invitation, "invitation"),
        (FeedbackLink, "feedback_link"),
        (Response, "response"),
    )
    for model, table in models:
        deleted = session.execute(
            sql_delete(model)
            .where(col(model.municipality_id) == professional.municipality_id)
            .where(col(model.professional_id) == professional.id)
            .returning(
                col(model.id),
                col(model.wave_id) if hasattr(model, "wave_id") else null(),
                col(model.municipality_id),
            )
        )
        note_bulk_changes(session, table, "delete", deleted.all())


def delete_invitations_of_wave(session: Session, wave: Wave) -> None:
    deleted = session.execute(
        sql_delete(Invitation)
        .where(col(Invitation.municipality_id) == wave.municipality_id)
        .where(col(Invitation.wave_id) == wave.id)
        .returning(col(Invitation.id), col(Invitation.wave_id), col(Invitation.municipality_id))
    )
    note_bulk_changes(session, "invitation", "delete", deleted.all())


def code_taken(session: Session, municipality_id: int, code: str, *, except_id: int | None = None) -> bool:
    """Whether another professional of the municipality already has ``code``."""
    query = select(Professional.id).where(
        Professional.municipality_id == municipality_id, Professional.code == code
    )
    if except_id is not None:
        query = query.where(Professional.id != except_id)
    return session.exec(query).first() is not None


def team_has_professionals(session: Session, team: Team) -> bool:
    query = select(Professional.id).where(
        Professional.municipality_id == team.municipality_id, Professional.team_id == team.id
    )
    return session.exec(query.limit(1)).first() is not None


def wave_has_responses(session: Session, wave: Wave) -> bool:
    query = select(Response.id).where(
        Response.municipality_id == wave.municipality_id, Response.wave_id == wave.id
    )
    return session.exec(query.limit(1)).first() is not None


def invitations_of_professional(
    session: Session, principal: Principal, professional: Professional
) -> list[Invitation]:
    """Every invitation for ``professional``, with its wave, oldest first."""
    query = scoped(select(Invitation), Invitation.municipality_id, principal).where(
        Invitation.professional_id == professional.id
    )
    return list(session.exec(query.order_by(col(Invitation.id))).all())


def waves_by_id(session: Session, principal: Principal, wave_ids: set[int]) -> dict[int, Wave]:
    if not wave_ids:
        return {}
    query = scoped(select(Wave), Wave.municipality_id, principal).where(col(Wave.id).in_(wave_ids))
    return {wave.id: wave for wave in session.exec(query).all() if wave.id is not None}


def published_forms(session: Session, wave_ids: list[int], forms: list[str]) -> dict[int, list[str]]:
    """The forms of each wave that have published responses (in a publication cut).

    One EXISTS per form over the ``(wave_id, form)`` index: it stops at the first published row
    instead of counting a wave's responses.
    """
    found: dict[int, list[str]] = {wave_id: [] for wave_id in wave_ids}
    if not wave_ids:
        return found
    for form in forms:
        published = exists().where(
            col(Response.wave_id) == col(Wave.id),
            col(Response.form) == form,
            col(Response.cut_id).is_not(None),
        )
        for wave_id in session.exec(select(Wave.id).where(col(Wave.id).in_(wave_ids), published)).all():
            if wave_id is not None:
                found[wave_id].append(form)
    return found


def invitations_of_wave(session: Session, principal: Principal, wave: Wave) -> list[Invitation]:
    """Every invitation of ``wave``, oldest first (a wave has a few per professional)."""
    query = scoped(select(Invitation), Invitation.municipality_id, principal).where(
        Invitation.wave_id == wave.id
    )
    return list(session.exec(query.order_by(col(Invitation.id))).all())


def latest_wave_before(session: Session, principal: Principal, wave_id: int | None) -> Wave | None:
    """The newest wave of the caller's municipality (before ``wave_id`` when given): what a copy copies."""
    query = scoped(select(Wave), Wave.municipality_id, principal)
    if wave_id is not None:
        query = query.where(col(Wave.id) < wave_id)
    return session.exec(query.order_by(col(Wave.id).desc()).limit(1)).first()


def active_professionals_per_team(session: Session, principal: Principal) -> dict[int, int]:
    """How many active (not deactivated) professionals each team of the caller's municipality has."""
    query = (
        select(Professional.team_id, func.count())
        .where(col(Professional.deactivated_at).is_(None))
        .group_by(col(Professional.team_id))
    )
    if principal.municipality_id is not None:  # as app.tenancy.scoped, for a two-column select
        query = query.where(Professional.municipality_id == principal.municipality_id)
    return {int(team_id): int(count) for team_id, count in session.exec(query).all()}
