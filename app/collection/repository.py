"""Every query of the collection domain: invitations by token, answer layouts, responses."""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Integer, String, bindparam, event, null, or_, type_coerce, update
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as SASession
from sqlmodel import Session, col, select

from app.db import UTCDateTime
from app.models import (
    AnswerLayout,
    Invitation,
    InvitationKind,
    Municipality,
    Professional,
    Response,
    Team,
    Wave,
)


def invitation_by_token(session: Session, token: str) -> Invitation | None:
    """The invitation of a respondent link. Tokens are global: the link itself names no municipality."""
    return session.exec(select(Invitation).where(Invitation.token == token)).first()


def invitation_with_context(
    session: Session, token: str
) -> tuple[Invitation, Wave, Professional, Municipality] | None:
    """The invitation of a link with its wave, professional and municipality (the sender), in one
    query (opening a form)."""
    statement = (
        select(Invitation, Wave, Professional, Municipality)
        .join(Wave, col(Wave.id) == col(Invitation.wave_id))
        .join(Professional, col(Professional.id) == col(Invitation.professional_id))
        .join(Municipality, col(Municipality.id) == col(Invitation.municipality_id))
        .where(Invitation.token == token)
    )
    row = session.exec(statement).first()
    return None if row is None else (row[0], row[1], row[2], row[3])


def answer_layout(session: Session, *, version: str, form: str, modules: str, item_ids: str) -> AnswerLayout:
    """The layout for this version, form and modules, created on first use (race-safe)."""
    statement = select(AnswerLayout).where(
        AnswerLayout.instrument_version == version, AnswerLayout.form == form, AnswerLayout.modules == modules
    )
    layout = session.exec(statement).first()
    if layout is not None:
        return layout
    try:
        with session.begin_nested():
            layout = AnswerLayout(instrument_version=version, form=form, modules=modules, item_ids=item_ids)
            session.add(layout)
    except IntegrityError:  # another request created it first
        layout = session.exec(statement).one()
    return layout


class _LayoutIds:
    """Answer layout ids, remembered per process once they are *committed*.

    A layout never changes or disappears once a response refers to it, so a submission need not
    look it up again. An id is remembered only after the transaction that found or created it
    really committed: a layout created in a transaction that is rolled back is never remembered,
    and neither is one whose session committed only a savepoint of a transaction still open on its
    connection (as in the tests, which roll everything back at the end).
    """

    PENDING = "verbonden_pending_layouts"

    def __init__(self) -> None:
        self.known: dict[tuple[str, str, str, str], int] = {}
        # Session events only: an engine-wide event would slow every statement of every engine.
        event.listen(SASession, "after_commit", self._after_commit)
        event.listen(SASession, "after_rollback", lambda session: session.info.pop(self.PENDING, None))

    def _after_commit(self, session: SASession) -> None:
        layouts = session.info.pop(self.PENDING, None)
        bind = session.bind
        if layouts is not None and not (isinstance(bind, Connection) and bind.in_transaction()):
            self.known.update(layouts)

    def get(self, session: Session, *, version: str, form: str, modules: str, item_ids: str) -> int:
        key = (str(session.get_bind().engine.url), version, form, modules)
        known = self.known.get(key)
        if known is not None:
            return known
        layout = answer_layout(session, version=version, form=form, modules=modules, item_ids=item_ids)
        session.info.setdefault(self.PENDING, {})[key] = layout.id
        return layout.id or 0


_layout_ids = _LayoutIds()
answer_layout_id = _layout_ids.get


def response_exists(session: Session, submission_key: str) -> bool:
    statement = select(Response.id).where(Response.submission_key == submission_key)
    return session.exec(statement).first() is not None


def stored_answers(session: Session, submission_key: str) -> tuple[str, tuple[str, ...]] | None:
    """The answers stored under ``submission_key`` and the item ids they follow, or None."""
    statement = (
        select(Response.answers, AnswerLayout.item_ids)
        .join(AnswerLayout, col(AnswerLayout.id) == col(Response.layout_id))
        .where(Response.submission_key == submission_key)
    )
    found = session.exec(statement).first()
    return None if found is None else (found[0], tuple(found[1].split(",")))


def insert_response(session: Session, values: dict[str, Any]) -> bool:
    """Insert one response in one statement; False when its submission key was stored before.

    ``INSERT ... ON CONFLICT (submission_key) DO NOTHING`` makes a retried or double-tapped
    submission a no-op without a failed statement (and without a savepoint to recover from one).
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(Response)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["submission_key"])
        .returning(col(Response.id))
    )
    # RETURNING, not rowcount: an ORM-enabled INSERT does not promise a rowcount on every driver.
    return session.execute(statement).first() is not None


def insert_response_through_open_link(
    session: Session,
    *,
    token: str,
    version: str,
    form: str,
    wave_modules: str,
    about_professional: bool,
    now: datetime,
    values: dict[str, Any],
) -> bool:
    """Insert a response through an open link in one statement; False when nothing was stored.

    ``INSERT INTO response ... SELECT ... FROM invitation JOIN wave JOIN professional WHERE ...``:
    the municipality, wave, professional (when the form is about them) and team come from the
    link's own rows, and a row is stored only when the link is open (not personal, revoked or
    expired; its wave open at ``now``) and its wave still has ``version`` and ``wave_modules`` and
    the link ``form`` (so the answers in ``values`` are in the right layout). ``values`` gives
    layout_id, language, answers, submitted_at and submission_key; a stored submission key stores
    nothing (``ON CONFLICT DO NOTHING``).
    """
    statement = _insert_through_open_link(session.get_bind().dialect.name, about_professional)
    parameters = {"token": token, "version": version, "form": form, "modules": wave_modules, "now": now}
    result = session.connection().execute(statement, {**parameters, **values})
    return result.first() is not None


@functools.cache
def _insert_through_open_link(dialect: str, about_professional: bool) -> Any:
    invitation, wave, professional = Invitation.__table__, Wave.__table__, Professional.__table__  # type: ignore[attr-defined]
    response = Response.__table__  # type: ignore[attr-defined]
    now = bindparam("now", type_=UTCDateTime())
    source = (
        sa_select(
            invitation.c.municipality_id,
            invitation.c.wave_id,
            invitation.c.professional_id if about_professional else null(),
            professional.c.team_id,
            bindparam("form", type_=String()),
            bindparam("layout_id", type_=Integer()),
            bindparam("language", type_=String()),
            bindparam("answers", type_=String()),
            bindparam("submitted_at", type_=UTCDateTime()),
            bindparam("submission_key", type_=String()),
        )
        .join_from(invitation, wave, wave.c.id == invitation.c.wave_id)
        .join(professional, professional.c.id == invitation.c.professional_id)
        .where(
            invitation.c.token == bindparam("token", type_=String()),
            invitation.c.kind == InvitationKind.open.value,
            invitation.c.form == bindparam("form", type_=String()),
            invitation.c.revoked_at.is_(None),
            or_(invitation.c.expires_at.is_(None), invitation.c.expires_at > now),
            wave.c.opens_at <= now,
            or_(wave.c.closes_at.is_(None), wave.c.closes_at > now),
            wave.c.instrument_version == bindparam("version", type_=String()),
            wave.c.modules == bindparam("modules", type_=String()),
        )
    )
    columns = [
        "municipality_id",
        "wave_id",
        "professional_id",
        "team_id",
        "form",
        "layout_id",
        "language",
        "answers",
        "submitted_at",
        "submission_key",
    ]
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    return (
        insert(response)
        .from_select(columns, source)
        .on_conflict_do_nothing(index_elements=["submission_key"])
        .returning(response.c.id)
    )


def use_up_invitation(session: Session, invitation_id: int, now: datetime) -> bool:
    """Mark a personal invitation used; False when another submission used it first."""
    result = session.execute(
        update(Invitation)
        .where(col(Invitation.id) == invitation_id, col(Invitation.used_at).is_(None))
        # The day only: an exact time could be matched to the one response stored at that moment.
        .values(used_at=now.replace(hour=0, minute=0, second=0, microsecond=0))
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def answer_rows(
    session: Session, *, wave_id: int, form: str, municipality_id: int | None, published: bool = True
) -> list[tuple[int | None, int | None, int, str]]:
    """(professional id, team id, layout id, answers) of every response of a wave and form.

    Reads four narrow columns through the ``(wave_id, form)`` index, without building ORM objects:
    a report over a million responses spends its time in the database, not here.
    """
    statement = select(
        Response.professional_id, Response.team_id, Response.layout_id, Response.answers
    ).where(Response.wave_id == wave_id, Response.form == form, _published(published))
    if municipality_id is not None:
        statement = statement.where(Response.municipality_id == municipality_id)
    return session.execute(statement).all()  # type: ignore[return-value]


def answer_rows_with_language(
    session: Session, *, wave_id: int, form: str, municipality_id: int | None, published: bool = True
) -> list[tuple[int | None, int | None, int, str, str]]:
    """The rows of :func:`answer_rows` with each response's language as a fifth column."""
    # SQLAlchemy's select: SQLModel's typed overloads stop at four columns.
    statement = sa_select(  # type: ignore[call-overload]
        Response.professional_id, Response.team_id, Response.layout_id, Response.answers, Response.language
    ).where(Response.wave_id == wave_id, Response.form == form, _published(published))
    if municipality_id is not None:
        statement = statement.where(Response.municipality_id == municipality_id)
    return session.execute(statement).all()  # type: ignore[return-value]


def _published(published: bool) -> Any:
    """Published responses (those of a cut) or the pending ones."""
    cut = col(Response.cut_id)
    return cut.is_not(None) if published else cut.is_(None)


def answer_arrays(
    session: Session, *, wave_id: int, form: str, municipality_id: int | None, published: bool = True
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64], bytes] | None:
    """The columns of :func:`answer_rows` on PostgreSQL as arrays; None on other databases.

    Returns professional ids, team ids, layout ids and every answer string followed by a comma,
    in one buffer (row i's answers are its layout's width of characters, then ``,``).

    PostgreSQL joins each column into one value (``string_agg``: the aggregates of one query see
    the rows in the same order), the ids as 4-byte big-endian binary, so a million responses cross
    the wire as four values instead of a million result rows built by the driver and SQLAlchemy
    (seconds of pure Python), and numpy reads them without parsing text. A missing professional
    or team comes as -1. Runs in the session's transaction, so it sees what the session sees.
    """
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        return None
    statement = (
        "SELECT count(*), string_agg(int4send(coalesce(professional_id, -1)), ''), "
        "string_agg(int4send(coalesce(team_id, -1)), ''), string_agg(int4send(layout_id), ''), "
        "convert_to(string_agg(answers, ','), 'UTF8') FROM response "
        "WHERE wave_id = %s AND form = %s AND (%s::integer IS NULL OR municipality_id = %s) "
        "AND (cut_id IS NOT NULL) = %s"
    )
    parameters = (wave_id, form, municipality_id, municipality_id, published)
    with connection.connection.driver_connection.cursor() as cursor:  # type: ignore[union-attr]
        cursor.execute(statement, parameters, binary=True)
        count, professionals, teams, layout_ids, answers = cursor.fetchone()
    if not count:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty.copy(), empty.copy(), b""

    def integers(joined: bytes) -> npt.NDArray[np.int64]:
        return np.frombuffer(joined, dtype=">i4").astype(np.int64)

    return integers(professionals), integers(teams), integers(layout_ids), bytes(answers) + b","


def layouts(session: Session, layout_ids: set[int]) -> dict[int, AnswerLayout]:
    if not layout_ids:
        return {}
    found = session.exec(select(AnswerLayout).where(AnswerLayout.id.in_(layout_ids)))  # type: ignore[union-attr]
    return {layout.id: layout for layout in found if layout.id is not None}


# -- exports: every response of a wave, streamed -----------------------------------------------------

ExportRow = tuple[int, str, str, str, datetime, str, int | None, str | None]
"""(layout id, form, language, answers, submitted_at, professional code, team id, team name)."""


def _export_filter(
    statement: Any, *, wave_id: int, form: str | None, municipality_id: int | None, published_only: bool
) -> Any:
    statement = statement.where(Response.wave_id == wave_id)
    if published_only:
        statement = statement.where(_published(True))
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
