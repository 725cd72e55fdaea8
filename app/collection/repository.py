"""Every query of the collection domain: invitations by token, answer layouts, responses."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Integer, String, and_, bindparam, null, update
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.apikeys import repository as apikey_repository
from app.collection import links
from app.db import UTCDateTime
from app.models import (
    AnswerLayout,
    Invitation,
    Municipality,
    Professional,
    Response,
    Wave,
)


def invitation_by_token(session: Session, token: str) -> Invitation | None:
    """The invitation of a respondent link. Tokens are global: the link itself names no municipality."""
    return session.exec(select(Invitation).where(Invitation.token == token)).first()


_NOW = bindparam("now", type_=UTCDateTime())


def invitation_with_context(
    session: Session, token: str, now: datetime
) -> tuple[Invitation, Wave, Professional, Municipality, str | None] | None:
    """The invitation of a link with its wave, professional and municipality (the sender), and its
    problem at ``now`` by the one rule (:func:`links.link_problem`; None when usable), in one query."""
    row = session.execute(_invitation_with_context(links.RULES), {"token": token, "now": now}).first()
    return None if row is None else (row[0], row[1], row[2], row[3], row[4])


@functools.cache
def _invitation_with_context(rules: tuple[links.LinkRule, ...]) -> Any:
    """The statement of :func:`invitation_with_context`, built once per rule set (``rules`` is the key
    only, as in :func:`_insert_through_usable_link`): opening a form builds no SQL expression."""
    return (
        sa_select(Invitation, Wave, Professional, Municipality, links.link_problem(_NOW))
        .join(Wave, col(Wave.id) == col(Invitation.wave_id))
        .join(Professional, col(Professional.id) == col(Invitation.professional_id))
        .join(Municipality, col(Municipality.id) == col(Invitation.municipality_id))
        .where(col(Invitation.token) == bindparam("token", type_=String()))
    )


def invitation_problems(session: Session, invitation_ids: list[int], now: datetime) -> dict[int, str | None]:
    """Each invitation's own problem at ``now`` (:func:`links.invitation_problem`), by id."""
    statement = (
        sa_select(col(Invitation.id), links.invitation_problem(now))
        .join(Wave, col(Wave.id) == col(Invitation.wave_id))
        .join(Professional, col(Professional.id) == col(Invitation.professional_id))
        .where(col(Invitation.id).in_(invitation_ids))
    )
    return {row[0]: row[1] for row in session.execute(statement)}


def wave_problem(session: Session, wave_id: int, now: datetime) -> str | None:
    """The wave's own problem at ``now`` (:func:`links.wave_problem`): not open yet, closed, or None."""
    statement = sa_select(links.wave_problem(now)).where(col(Wave.id) == wave_id)
    return session.execute(statement).scalar()


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


def insert_response(
    session: Session,
    *,
    token: str,
    version: str,
    form: str,
    wave_modules: str,
    layout_modules: str,
    about_professional: bool,
    now: datetime,
    language: str,
    answers: str,
    submitted_at: datetime,
    submission_key: str,
    live_key: int | None = None,
) -> bool:
    """Store one response through a usable link, in one statement; False when nothing was stored.

    The only way a response row is made. ``INSERT INTO response ... SELECT ... FROM invitation
    JOIN wave JOIN professional JOIN answer_layout WHERE ...``: the municipality, wave, professional
    (when the form is about them), team and layout come from the link's own rows, and a row is
    stored only when the link is usable at ``now`` (:func:`links.usable_invitation`, the one
    rule) and its wave still has ``version`` and ``wave_modules`` and the link ``form`` (so the
    answers are in the layout's order). A stored submission key stores nothing (``ON CONFLICT
    DO NOTHING``: a retried or double-tapped submission is a no-op without a failed statement),
    and neither does a wave whose layout was never made (:func:`answer_layout` makes it).
    ``live_key``: the id of the partner API key the statement must find live and of the link's
    municipality (:func:`app.apikeys.repository.live_key`), else it stores nothing.
    """
    statement = _insert_through_usable_link(
        session.get_bind().dialect.name, about_professional, links.RULES, live_key is not None
    )
    parameters = {
        "token": token,
        "version": version,
        "form": form,
        "modules": wave_modules,
        "layout_modules": layout_modules,
        "now": now,
        "language": language,
        "answers": answers,
        "submitted_at": submitted_at,
        "submission_key": submission_key,
    }
    if live_key is not None:
        parameters["api_key_id"] = live_key
    # RETURNING, not rowcount: an INSERT ... SELECT does not promise a rowcount on every driver.
    return session.connection().execute(statement, parameters).first() is not None


@functools.cache
def _insert_through_usable_link(
    dialect: str, about_professional: bool, rules: tuple[links.LinkRule, ...], with_live_key: bool
) -> Any:
    """The statement, built once per dialect, kind of form, rule set (``rules`` is the key only:
    the clause reads :data:`links.RULES`) and whether an API key must be live."""
    invitation, wave, professional = links.INVITATION, links.WAVE, links.PROFESSIONAL
    layout, response = AnswerLayout.__table__, Response.__table__  # type: ignore[attr-defined]
    now = bindparam("now", type_=UTCDateTime())
    form = bindparam("form", type_=String())
    source = (
        sa_select(
            invitation.c.municipality_id,
            invitation.c.wave_id,
            invitation.c.professional_id if about_professional else null(),
            professional.c.team_id,
            invitation.c.form,
            layout.c.id,
            bindparam("language", type_=String()),
            bindparam("answers", type_=String()),
            bindparam("submitted_at", type_=UTCDateTime()),
            bindparam("submission_key", type_=String()),
        )
        .join_from(invitation, wave, wave.c.id == invitation.c.wave_id)
        .join(professional, professional.c.id == invitation.c.professional_id)
        .join(
            layout,
            and_(
                layout.c.instrument_version == wave.c.instrument_version,
                layout.c.form == invitation.c.form,
                layout.c.modules == bindparam("layout_modules", type_=String()),
            ),
        )
        .where(
            invitation.c.token == bindparam("token", type_=String()),
            invitation.c.form == form,
            wave.c.instrument_version == bindparam("version", type_=String()),
            wave.c.modules == bindparam("modules", type_=String()),
            links.usable_invitation(now),
        )
    )
    if with_live_key:
        key_id = bindparam("api_key_id", type_=Integer())
        source = source.where(apikey_repository.live_key(key_id, invitation.c.municipality_id, now))
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
