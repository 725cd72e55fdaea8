"""Every query of the response export: the layouts a wave's responses were stored in, and the rows
themselves, streamed in batches."""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import String, type_coerce
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from app.models import Professional, Response, Team

ExportRow = tuple[int, str, str, str, datetime, str, int | None, str | None]
"""(layout id, form, language, answers, submitted_at, professional code, team id, team name)."""


def _export_filter(
    statement: Any, *, wave_id: int, form: str | None, municipality_id: int | None, published_only: bool
) -> Any:
    statement = statement.where(Response.wave_id == wave_id)
    if published_only:
        statement = statement.where(col(Response.cut_id).is_not(None))  # in a publication cut
    if form is not None:
        statement = statement.where(Response.form == form)
    if municipality_id is not None:
        statement = statement.where(Response.municipality_id == municipality_id)
    return statement


def response_layout_ids(
    session: Session, *, wave_id: int, form: str | None, municipality_id: int | None, published_only: bool
) -> set[int]:
    """The answer layouts the responses of a wave (and form) were stored in: the export's columns."""
    statement = _export_filter(
        select(Response.layout_id).distinct(),
        wave_id=wave_id,
        form=form,
        municipality_id=municipality_id,
        published_only=published_only,
    )
    return set(session.exec(statement).all())


def iter_response_rows(
    session: Session,
    *,
    wave_id: int,
    form: str | None,
    municipality_id: int | None,
    published_only: bool,
    batch_size: int = 5000,
) -> Iterator[Sequence[ExportRow]]:
    """Every response of a wave (one form, or all for ``None``) in batches of ``batch_size``.

    ``yield_per`` makes PostgreSQL (psycopg) use a server-side cursor and SQLite step its cursor,
    so only one batch is in memory however large the wave. The professional's pseudonymous
    ``code`` is read, never the display name; the team is the one at the time of the response.
    Rows are read through Core (no ORM row processing), and ``submitted_at`` raw: it is rounded to
    the hour, so converting each distinct value once saves most of the per-row cost on SQLite.
    """
    # SQLAlchemy's select: SQLModel's typed overloads stop at four columns.
    statement = _export_filter(
        sa_select(  # type: ignore[call-overload]
            Response.layout_id,
            Response.form,
            Response.language,
            Response.answers,
            type_coerce(Response.submitted_at, String),
            Professional.code,
            Response.team_id,
            Team.name,
        )
        # Outer: a self-report (the professional form) is linked to no professional.
        .outerjoin(Professional, Professional.id == Response.professional_id)
        .outerjoin(Team, Team.id == Response.team_id)
        # By the submission key, a hash: rows in the order they were stored could be matched to
        # the order in which personal links were used.
        .order_by(Response.submission_key),
        wave_id=wave_id,
        form=form,
        municipality_id=municipality_id,
        published_only=published_only,
    )
    as_utc = functools.lru_cache(maxsize=4096)(_stored_time_as_utc)
    # Options on the statement, not the connection: Connection.execution_options() changes the
    # session's connection for good (every later statement would open a server-side cursor).
    result = session.connection().execute(statement.execution_options(yield_per=batch_size))
    try:
        for batch in result.partitions():
            yield [(*row[:4], as_utc(row[4]), *row[5:]) for row in batch]
    finally:
        result.close()


def _stored_time_as_utc(value: datetime | str) -> datetime:
    """A stored ``UTCDateTime`` as read without its type: text on SQLite (naive UTC), a datetime on
    PostgreSQL."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
