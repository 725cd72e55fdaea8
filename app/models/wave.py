"""The wave (meetronde): a period of data collection with one instrument version."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import true as sa_true
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime, utcnow


class Wave(SQLModel, table=True):
    """Responses are collected between ``opens_at`` and ``closes_at`` (open-ended when null).

    ``modules`` lists the optional instrument modules switched on, comma-separated.
    ``professional_feedback`` decides the smallest published cell (see :mod:`app.models.publication`).
    """

    id: int | None = Field(default=None, primary_key=True)
    municipality_id: int = Field(foreign_key="municipality.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=200)
    instrument_version: str = Field(foreign_key="instrument_version.version", max_length=32)
    modules: str = Field(default="", max_length=200)
    opens_at: datetime = Field(sa_type=UTCDateTime)
    closes_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    professional_feedback: bool = Field(default=True, sa_column_kwargs={"server_default": sa_true()})
    """Whether the wave publishes numbers per professional. Off: a team is the smallest published
    cell (its batches fill sooner) and no output shows a professional's own numbers."""

    @property
    def module_ids(self) -> tuple[str, ...]:
        return tuple(part for part in self.modules.split(",") if part)
