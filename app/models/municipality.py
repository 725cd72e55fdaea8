"""The municipality (gemeente): the tenant that owns partners, teams, professionals, waves and keys."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime, utcnow


class Municipality(SQLModel, table=True):
    """A partner municipality; every other row belongs to exactly one."""

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Every account of the municipality must use a second factor (``municipality require-2fa``).
    require_2fa: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
