"""The audit event: who read or changed what, and when; never answer values, tokens or addresses."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from app.db import UTCDateTime, utcnow


class AuditEvent(SQLModel, table=True):
    """One recorded access or change.

    ``api_key_id``, ``municipality_id`` and ``wave_id`` are plain numbers, not foreign keys: the
    trail must outlive a revoked or deleted key, a deleted wave and an erased municipality (a
    cascade would silently erase the record of who read their data), and an audit row names no
    person. ``api_key_id`` is null for the command line and for a signed-in person, whose account
    is ``user_id``. ``detail`` is a short JSON object of parameters (form, format, level), never
    answer values, tokens, names or addresses.
    """

    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    occurred_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    api_key_id: int | None = Field(default=None, index=True)
    user_id: int | None = Field(default=None, index=True)
    municipality_id: int | None = Field(default=None, index=True)
    action: str = Field(max_length=64, index=True)
    object_type: str | None = Field(default=None, max_length=32)
    object_id: int | None = Field(default=None)
    wave_id: int | None = Field(default=None)
    detail: str | None = Field(default=None, max_length=255)
