"""Retention: responses are kept for ``VERBONDEN_RETENTION_DAYS`` and no longer, by whole batches."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from app.audit import service as audit
from app.db import utcnow
from app.publication import repository


def retention_cutoff(retention_days: int, now: datetime | None = None) -> datetime:
    return (now or utcnow()) - timedelta(days=retention_days)


def apply_retention(session: Session, *, retention_days: int, now: datetime | None = None) -> int:
    """Delete the responses submitted before the cut-off; return how many were deleted.

    Published responses go by whole batches, never one by one: a batch (its cut, form and team, a
    union of the leaves' batches of that cut) is deleted once its newest response is older than the
    cut-off, so what disappears from the reports between two reads is again about at least
    ``min_group_size`` people. A pending response (published nowhere) goes at the cut-off itself.
    """
    deleted = repository.delete_responses_before(session, retention_cutoff(retention_days, now))
    audit.record(
        session, None, "retention.apply", detail={"retention_days": retention_days, "deleted": deleted}
    )
    return deleted
