"""The professional: the person respondents rate, under a pseudonymous code."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime, utcnow


class Professional(SQLModel, table=True):
    """A youth worker, community police officer, probation officer, care worker, ...

    ``code`` is the pseudonym used in exports and reports; ``display_name`` is what respondents
    see on the form ("Sam") and is never exported.
    """

    __table_args__ = (UniqueConstraint("municipality_id", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    municipality_id: int = Field(foreign_key="municipality.id", index=True, ondelete="CASCADE")
    team_id: int = Field(foreign_key="team.id", index=True)
    partner_id: int | None = Field(default=None, foreign_key="partner.id", index=True, ondelete="SET NULL")
    code: str = Field(max_length=32)
    display_name: str = Field(max_length=100)
    role: str = Field(max_length=100)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    deactivated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    """Set when the professional stops (left, moved on): their links are revoked, their history kept,
    and a copied wave leaves them out."""
