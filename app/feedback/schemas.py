"""Request and response shapes of the feedback-link routes (``manage`` + ``reports:professional``)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from app.validation import EndMoment


class FeedbackLinkStatus(StrEnum):
    active = "active"
    expired = "expired"
    revoked = "revoked"


class FeedbackLinkCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    expires_at: EndMoment | None = None


class FeedbackLinkPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    municipality_id: int
    professional_id: int
    token: str
    url: str
    status: FeedbackLinkStatus
    created_at: datetime
    revoked_at: datetime | None
    expires_at: datetime | None
