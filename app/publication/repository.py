"""Every query of publication cuts: pending responses, new cuts, and the latest cut of a wave."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, or_, text, tuple_, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from app.models import PublicationCut, Response

PUBLISH_CHUNK = 5_000
"""Response ids per UPDATE (SQLite allows 32,766 bound parameters per statement)."""
CUT_LOCK_CLASS = 0x76620001
"""The first key of PostgreSQL's advisory lock that serialises the cuts of one wave."""


def pending_leaf_counts(session: Session, wave_id: int) -> list[tuple[str, int | None, int | None, int]]:
    """(form, professional id, team id, pending responses) of a wave's responses without a cut."""
    statement = (
        select(Response.form, Response.professional_id, Response.team_id, func.count())
        .where(col(Response.wave_id) == wave_id, col(Response.cut_id).is_(None))
        .group_by(col(Response.form), col(Response.professional_id), col(Response.team_id))
    )
    return [(row[0], row[1], row[2], int(row[3])) for row in session.execute(statement).all()]


def pending_answers(
    session: Session, wave_id: int, form: str
) -> list[tuple[int, int | None, int | None, int, str]]:
    """(response id, professional id, team id, layout id, answers) of the pending responses."""
    statement = (
        sa_select(
            Response.id, Response.professional_id, Response.team_id, Response.layout_id, Response.answers
        )  # type: ignore[call-overload]
        .where(col(Response.wave_id) == wave_id, col(Response.form) == form, col(Response.cut_id).is_(None))
        .order_by(col(Response.id))
    )
    return session.execute(statement).all()  # type: ignore[return-value]


def lock_cuts_of_wave(session: Session, wave_id: int) -> None:
    """Serialise cut-making for one wave until the transaction ends.

    PostgreSQL: a transaction-level advisory lock (submissions take no such lock, so they are
    never held up). SQLite: a writing transaction already holds the database's one write lock.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(:kind, :wave)"), {"kind": CUT_LOCK_CLASS, "wave": wave_id}
        )


def add_cut(session: Session, cut: PublicationCut) -> PublicationCut:
    session.add(cut)
    session.flush()
    return cut


def publish(session: Session, cut_id: int, response_ids: Sequence[int]) -> int:
    """Give pending responses the cut ``cut_id``; returns how many changed (all, under the lock)."""
    changed = 0
    for start in range(0, len(response_ids), PUBLISH_CHUNK):
        chunk = [int(value) for value in response_ids[start : start + PUBLISH_CHUNK]]
        result: Any = session.execute(
            update(Response)
            .where(col(Response.id).in_(chunk), col(Response.cut_id).is_(None))
            .values(cut_id=cut_id)
            .execution_options(synchronize_session=False)
        )
        changed += int(result.rowcount or 0)
    return changed


def latest_cut(session: Session, wave_id: int) -> PublicationCut | None:
    statement = (
        select(PublicationCut)
        .where(col(PublicationCut.wave_id) == wave_id)
        .order_by(col(PublicationCut.id).desc())
        .limit(1)
    )
    return session.exec(statement).first()


def wave_has_cut(session: Session, wave_id: int) -> bool:
    statement = select(PublicationCut.id).where(col(PublicationCut.wave_id) == wave_id).limit(1)
    return session.exec(statement).first() is not None


def published_counts(session: Session, wave_id: int) -> tuple[int, int]:
    """(responses the wave's cuts published, published responses still stored)."""
    made = sa_select(func.coalesce(func.sum(PublicationCut.n_responses), 0)).where(
        col(PublicationCut.wave_id) == wave_id
    )
    return int(session.execute(made).scalar_one()), published_in_store(session, wave_id)


def published_in_store(session: Session, wave_id: int) -> int:
    """How many of the wave's published responses are still stored."""
    stored = sa_select(func.count()).where(
        col(Response.wave_id) == wave_id, col(Response.cut_id).is_not(None)
    )
    return int(session.execute(stored).scalar_one())


def response_counts(session: Session, wave_id: int) -> list[tuple[str, int | None, bool, int]]:
    """(form, professional id, published, responses) of a wave: counts only, never answers."""
    published = col(Response.cut_id).is_not(None)
    statement = (
        sa_select(Response.form, Response.professional_id, published, func.count())  # type: ignore[call-overload]
        .where(col(Response.wave_id) == wave_id)
        .group_by(col(Response.form), col(Response.professional_id), published)
    )
    return [(row[0], row[1], bool(row[2]), int(row[3])) for row in session.execute(statement).all()]


def delete_responses_before(session: Session, cutoff: datetime) -> int:
    """Delete the pending responses submitted before ``cutoff``, and every published batch (cut, form
    and team) whose newest response is; return how many responses went."""
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
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def daily_counts(session: Session, wave_ids: list[int], since: datetime) -> list[tuple[int, str, str, int]]:
    """(wave id, form, day as ``YYYY-MM-DD`` in UTC, responses) since ``since``: counts only.

    ``submitted_at`` is stored rounded to the hour, so a day is never finer than a respondent's hour.
    """
    if not wave_ids:
        return []
    # Grouped by the stored hour (portable SQL; at most 24 rows a day), then summed per day here.
    hour = col(Response.submitted_at)
    statement = (
        sa_select(Response.wave_id, Response.form, hour, func.count())  # type: ignore[call-overload]
        .where(col(Response.wave_id).in_(wave_ids), hour >= since)
        .group_by(col(Response.wave_id), col(Response.form), hour)
    )
    per_day: dict[tuple[int, str, str], int] = {}
    for wave_id, form, submitted_at, count in session.execute(statement).all():
        moment = _stored_time(submitted_at)
        key = (int(wave_id), str(form), f"{moment:%Y-%m-%d}")
        per_day[key] = per_day.get(key, 0) + int(count)
    return [(*key, count) for key, count in sorted(per_day.items())]


def _stored_time(value: datetime | str) -> datetime:
    """A column read through a plain select: SQLite may hand back text."""
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)
