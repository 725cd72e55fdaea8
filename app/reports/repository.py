"""Every query of the reports domain besides the answers themselves (those are app.collection.answers)."""

from __future__ import annotations

from sqlmodel import Session, select

from app.models import Partner, Professional, Team, Wave


def wave(session: Session, wave_id: int) -> Wave | None:
    """A wave by id, unscoped: only for the command line, which reads the database directly.

    Routes look waves up with :func:`app.tenancy.get_owned`.
    """
    return session.get(Wave, wave_id)


def professional_codes(session: Session, municipality_id: int) -> dict[int, str]:
    """Pseudonymous code of every professional of a municipality (never the display name)."""
    rows = session.execute(
        select(Professional.id, Professional.code).where(Professional.municipality_id == municipality_id)
    ).all()
    return {row[0]: row[1] for row in rows}


def team_names(session: Session, municipality_id: int) -> dict[int, str]:
    rows = session.execute(select(Team.id, Team.name).where(Team.municipality_id == municipality_id)).all()
    return {row[0]: row[1] for row in rows}


def professional_partners(session: Session, municipality_id: int) -> dict[int, int | None]:
    """The partner organisation of every professional of a municipality (None: no partner)."""
    statement = select(Professional.id, Professional.partner_id).where(
        Professional.municipality_id == municipality_id
    )
    rows = session.execute(statement).all()
    return {row[0]: row[1] for row in rows}


def partner_names(session: Session, municipality_id: int) -> dict[int, str]:
    rows = session.execute(
        select(Partner.id, Partner.name).where(Partner.municipality_id == municipality_id)
    ).all()
    return {row[0]: row[1] for row in rows}
