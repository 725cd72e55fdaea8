"""The municipality (gemeente): the tenant that owns partners, teams, professionals, waves and keys."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import Text
from sqlmodel import Field, SQLModel

from app.db import UTCDateTime, utcnow


class Municipality(SQLModel, table=True):
    """A partner municipality; every other row belongs to exactly one.

    The sender fields say to respondents who asks them to fill in a form ("Wie vraagt dit?"): the
    name they know (``display_name``, else ``name``), how to reach someone (``contact_email``,
    ``contact_phone``) and the privacy statement (a link, ``privacy_url``, and/or a short text,
    ``privacy_text``). They are shown on the form, the thank-you page, the link pages and the QR
    sheet; they are the municipality's contact details, never a respondent's.
    """

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Every account of the municipality must use a second factor (``municipality require-2fa``).
    require_2fa: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    display_name: str | None = Field(default=None, max_length=200)
    contact_email: str | None = Field(default=None, max_length=254)
    contact_phone: str | None = Field(default=None, max_length=32)
    privacy_url: str | None = Field(default=None, max_length=500)
    privacy_text: str | None = Field(default=None, sa_type=Text)

    @property
    def sender_name(self) -> str:
        """The name respondents see: the display name, or the registered name."""
        return self.display_name or self.name
