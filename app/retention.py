"""Retention and erasure: responses are kept for ``VERBONDEN_RETENTION_DAYS`` and no longer, and a
municipality that leaves takes everything it owns with it."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, delete, func, or_, tuple_
from sqlmodel import Session, col, select

from app.audit import service as audit
from app.db import utcnow
from app.models import Municipality, Response


def retention_cutoff(retention_days: int, now: datetime | None = None) -> datetime:
    return (now or utcnow()) - timedelta(days=retention_days)


def apply_retention(session: Session, *, retention_days: int, now: datetime | None = None) -> int:
    """Delete the responses submitted before the cut-off; return how many were deleted.

    Published responses go by whole batches, never one by one: a batch (its cut, form and team, a
    union of the leaves' batches of that cut) is deleted once its newest response is older than the
    cut-off, so what disappears from the reports between two reads is again about at least
    ``min_group_size`` people. A pending response (published nowhere) goes at the cut-off itself.
    """
    cutoff = retention_cutoff(retention_days, now)
    team = func.coalesce(col(Response.team_id), -1)
    expired_batches = (
        select(col(Response.cut_id), col(Response.form), team)
        .where(col(Response.cut_id).is_not(None))
        .group_by(col(Response.cut_id), col(Response.form), team)
        .having(func.max(col(Response.submitted_at)) < cutoff)
    )
    result = session.execute(
        delete(Response).where(
            or_(
                and_(col(Response.cut_id).is_(None), col(Response.submitted_at) < cutoff),
                tuple_(col(Response.cut_id), col(Response.form), team).in_(expired_batches),
            )
        )
    )
    deleted = int(result.rowcount or 0)  # type: ignore[attr-defined]
    audit.record(
        session, None, "retention.apply", detail={"retention_days": retention_days, "deleted": deleted}
    )
    return deleted


def count_responses(session: Session, municipality_id: int) -> int:
    statement = (
        select(func.count()).select_from(Response).where(col(Response.municipality_id) == municipality_id)
    )
    return int(session.exec(statement).one())


def delete_municipality(session: Session, municipality: Municipality) -> int:
    """Erase a municipality: its partners, teams, professionals, waves, invitations, feedback links,
    keys and responses go with it (the foreign keys cascade). The audit trail keeps the bare
    events, which name no person. Returns the number of responses erased."""
    responses = count_responses(session, municipality.id or 0)
    audit.record(
        session,
        None,
        "municipality.delete",
        object_type="municipality",
        object_id=municipality.id,
        municipality_id=municipality.id,
        detail={"responses": responses},
    )
    session.delete(municipality)
    session.flush()
    return responses
