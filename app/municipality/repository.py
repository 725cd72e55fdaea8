"""Every query on the ``municipality`` table (the tenants), and the count of what one owns."""

from __future__ import annotations

from sqlmodel import Session, col, func, select

from app.models import Municipality, Response


def get(session: Session, municipality_id: int) -> Municipality | None:
    return session.get(Municipality, municipality_id)


def by_slug(session: Session, slug: str) -> Municipality | None:
    return session.exec(select(Municipality).where(Municipality.slug == slug)).first()


def slugs(session: Session) -> dict[int, str]:
    """Every municipality's slug by its id."""
    return {row.id: row.slug for row in session.exec(select(Municipality)).all() if row.id is not None}


def save(session: Session, municipality: Municipality) -> Municipality:
    session.add(municipality)
    session.flush()
    return municipality


def count_responses(session: Session, municipality_id: int) -> int:
    statement = (
        select(func.count()).select_from(Response).where(col(Response.municipality_id) == municipality_id)
    )
    return int(session.exec(statement).one())


def delete(session: Session, municipality: Municipality) -> None:
    """Delete the row; the foreign keys cascade to everything the municipality owns."""
    session.delete(municipality)
    session.flush()
