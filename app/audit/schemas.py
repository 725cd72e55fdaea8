"""What the audit API returns: events, a page of them, and the filters a caller may set."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from app.api_common import Page

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500


@dataclass(frozen=True)
class AuditFilter:
    """What a reader of the audit trail asks for; ``None`` leaves a field open."""

    municipality_id: int | None = None
    api_key_id: int | None = None
    user_id: int | None = None
    action: str | None = None
    wave_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None


class AuditEventPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    occurred_at: datetime
    api_key_id: int | None
    user_id: int | None = None
    municipality_id: int | None
    action: str
    object_type: str | None
    object_id: int | None
    wave_id: int | None
    detail: str | None


AuditPage = Page[AuditEventPublic]
