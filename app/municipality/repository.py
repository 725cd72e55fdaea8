"""Reading and writing the caller's municipality row."""

from __future__ import annotations

from sqlmodel import Session

from app.models import Municipality


def get(session: Session, municipality_id: int) -> Municipality | None:
    return session.get(Municipality, municipality_id)


def save(session: Session, municipality: Municipality) -> Municipality:
    session.add(municipality)
    session.flush()
    return municipality
