"""The partner organisation (partnerorganisatie): employer of professionals."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from app.db import UTCDateTime, utcnow


class PartnerKind(StrEnum):
    police = "police"
    youth_work = "youth_work"
    probation = "probation"
    care = "care"
    municipality = "municipality"
    education = "education"
    other = "other"


class Partner(SQLModel, table=True):
    """Police, youth work, probation, a care provider or a municipal department."""

    id: int | None = Field(default=None, primary_key=True)
    municipality_id: int = Field(foreign_key="municipality.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=200)
    kind: str = Field(max_length=32, default=PartnerKind.other.value)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
