"""The feedback link: a personal, revocable address where a professional sees their own scores."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from app.db import UTCDateTime, utcnow


class FeedbackLink(SQLModel, table=True):
    """A capability for one professional's feedback page (``/f/{token}``).

    Whoever holds the link sees that professional's scores, so a coordinator can revoke it (a
    revocation is final) or let it expire. The token is stored as given so the link can be sent
    again; it is never logged (the link id is). Deleting the professional deletes their links.

    ``created_by_api_key_id`` is the key that made the link: every read of the page is recorded in
    the audit trail under that key, since whoever made the link chose who may read it. A plain
    number, not a foreign key, like the audit trail's own (it outlives the key); null for links
    made from the command line, or before it was recorded.
    """

    __tablename__ = "feedback_link"

    id: int | None = Field(default=None, primary_key=True)
    municipality_id: int = Field(foreign_key="municipality.id", index=True, ondelete="CASCADE")
    professional_id: int = Field(foreign_key="professional.id", index=True, ondelete="CASCADE")
    token: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    created_by_api_key_id: int | None = Field(default=None)
    created_by_user_id: int | None = Field(default=None)
    """The signed-in account that made the link in the web app (its reads are recorded under it)."""
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
