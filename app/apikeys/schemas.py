"""Request and response shapes of ``/api/v1/apikeys``: the secret appears once, at creation."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.api_common import Page
from app.auth import Scope
from app.validation import EndMoment, PlainText

KeyName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), PlainText]


class ApiKeyCreate(BaseModel):
    """A new key for the caller's municipality, or a research key (``research: true``) that reads
    every municipality and writes nothing; only an admin research key may create one."""

    model_config = ConfigDict(extra="forbid")

    name: KeyName
    scopes: list[Scope] = Field(min_length=1, max_length=len(Scope))
    expires_at: EndMoment | None = Field(
        default=None,
        description="A moment with a zone, or a date: the key works through that day",
    )
    research: bool = False


class ApiKeyPublic(BaseModel):
    """A key as lists show it: its prefix identifies it, the secret is never shown again."""

    id: int
    name: str
    prefix: str
    scopes: list[str]
    municipality_id: int | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


class ApiKeyCreated(ApiKeyPublic):
    key: str = Field(description="The secret: shown only in this answer, store it now")


ApiKeyPage = Page[ApiKeyPublic]
