"""The wave (meetronde): a period of data collection with one instrument version."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from app.db import UTCDateTime, utcnow


class Wave(SQLModel, table=True):
    """Responses are collected between ``opens_at`` and ``closes_at`` (open-ended when null).

    ``modules`` lists the optional instrument modules switched on, comma-separated.
    """

    id: int | None = Field(default=None, primary_key=True)
    municipality_id: int = Field(foreign_key="municipality.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=200)
    instrument_version: str = Field(foreign_key="instrument_version.version", max_length=32)
    modules: str = Field(default="", max_length=200)
    opens_at: datetime = Field(sa_type=UTCDateTime)
    closes_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    @property
    def module_ids(self) -> tuple[str, ...]:
        return tuple(part for part in self.modules.split(",") if part)
