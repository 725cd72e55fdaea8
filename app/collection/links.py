"""The one rule of a usable respondent link, written once, in SQL.

A link (an invitation) is usable when none of :data:`RULES` breaks it. Each rule is a condition on
the link's own rows (``invitation``, its ``wave`` and its ``professional``) at a moment ``now``,
with the :class:`LinkProblem` it means. Every query composes these clauses, never a copy of them:
the one ``INSERT ... SELECT`` that stores a response (:func:`usable_invitation`), opening a link
and the status shown to coordinators (:func:`link_problem`, which names the first rule that
breaks it). Python only explains a problem (its page, status code and text); it never decides one.

Adding a rule ("a link stops working when its professional leaves") is one more entry here.
A rule must be NULL-safe (``and_(column.is_not(None), column <= now)``): it is read in a ``CASE``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, and_, case, literal, null
from sqlalchemy.sql.elements import BindParameter

from app.db import UTCDateTime
from app.models import Invitation, InvitationKind, Professional, Wave

INVITATION = Invitation.__table__  # type: ignore[attr-defined]
WAVE = Wave.__table__  # type: ignore[attr-defined]
PROFESSIONAL = Professional.__table__  # type: ignore[attr-defined]


class LinkProblem(StrEnum):
    """Why a respondent link cannot be used; each has its own page and status."""

    unknown = "unknown"
    not_open = "not_open"
    closed = "closed"
    expired = "expired"
    revoked = "revoked"
    used = "used"


Moment = ColumnElement[Any] | BindParameter[Any]


@dataclass(frozen=True)
class LinkRule:
    """``breaks(now)``: the SQL condition (on ``invitation``, ``wave``, ``professional``) under
    which a link is not usable, for the reason ``problem``. ``of_wave``: it reads the wave only."""

    problem: LinkProblem
    breaks: Callable[[Moment], ColumnElement[bool]]
    of_wave: bool = False


RULES: tuple[LinkRule, ...] = (
    LinkRule(LinkProblem.revoked, lambda now: INVITATION.c.revoked_at.is_not(None)),
    LinkRule(
        LinkProblem.used,
        lambda now: and_(
            INVITATION.c.kind == InvitationKind.personal.value, INVITATION.c.used_at.is_not(None)
        ),
    ),
    LinkRule(
        LinkProblem.expired,
        lambda now: and_(INVITATION.c.expires_at.is_not(None), INVITATION.c.expires_at <= now),
    ),
    LinkRule(LinkProblem.not_open, lambda now: WAVE.c.opens_at > now, of_wave=True),
    LinkRule(
        LinkProblem.closed,
        lambda now: and_(WAVE.c.closes_at.is_not(None), WAVE.c.closes_at <= now),
        of_wave=True,
    ),
)
"""In order: a link broken by several rules shows the first one's problem."""


def moment(now: datetime | Moment) -> Moment:
    """``now`` as a SQL value (a datetime is bound as a UTC timestamp)."""
    return literal(now, UTCDateTime()) if isinstance(now, datetime) else now


def link_problem(now: datetime | Moment, *, rules: tuple[LinkRule, ...] | None = None) -> ColumnElement[Any]:
    """The first problem of the link at ``now`` (a :class:`LinkProblem` value), NULL when usable."""
    chosen = RULES if rules is None else rules
    when = moment(now)
    return case(*((rule.breaks(when), rule.problem.value) for rule in chosen), else_=null())


def usable_invitation(now: datetime | Moment) -> ColumnElement[bool]:
    """True for a link that no rule breaks at ``now``: the clause every storing query composes."""
    return link_problem(now).is_(None)


def wave_problem(now: datetime | Moment) -> ColumnElement[Any]:
    """The first problem of a wave itself at ``now`` (not open yet, closed), NULL when open."""
    return link_problem(now, rules=tuple(rule for rule in RULES if rule.of_wave))


def invitation_problem(now: datetime | Moment) -> ColumnElement[Any]:
    """The first problem of a link that is not its wave's (what a coordinator sees as its status)."""
    return link_problem(now, rules=tuple(rule for rule in RULES if not rule.of_wave))
