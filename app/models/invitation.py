"""The invitation (uitnodiging): a link or QR code for one form, wave and professional."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from app.db import UTCDateTime, utcnow


class InvitationKind(StrEnum):
    open = "open"  # many responses, e.g. a QR code shown on the street
    personal = "personal"  # one response, then used up


class Invitation(SQLModel, table=True):
    """The token is a capability for the form, not a secret about a person.

    It is stored as given so a coordinator can print its QR code again. A response does not
    record which invitation it came through: a personal link handed to one parent must not
    point to that parent's answers.
    """

    id: int | None = Field(default=None, primary_key=True)
    municipality_id: int = Field(foreign_key="municipality.id", index=True, ondelete="CASCADE")
    wave_id: int = Field(foreign_key="wave.id", index=True, ondelete="CASCADE")
    professional_id: int = Field(foreign_key="professional.id", index=True, ondelete="CASCADE")
    form: str = Field(max_length=32)
    kind: str = Field(max_length=16, default=InvitationKind.open.value)
    token: str = Field(max_length=64, unique=True)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
