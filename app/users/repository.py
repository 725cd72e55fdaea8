"""Every query on accounts, sessions, one-time links and sign-in throttling.

Accounts are looked up by e-mail across municipalities (a person signs in before anyone knows their
municipality); lists are scoped to the caller's municipality like every other list.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import case, delete, literal, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from app.db import UTCDateTime
from app.models import LoginThrottle, Municipality, User, UserSession, UserToken


def user_by_email(session: Session, email: str) -> User | None:
    return session.exec(select(User).where(User.email == email)).first()


def user_by_id(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def list_users(
    session: Session, *, municipality_id: int | None, research_only: bool = False
) -> Sequence[User]:
    """Accounts of one municipality, or every account (``municipality_id`` None)."""
    statement = select(User)
    if municipality_id is not None:
        statement = statement.where(User.municipality_id == municipality_id)
    elif research_only:
        statement = statement.where(col(User.municipality_id).is_(None))
    return session.exec(statement.order_by(col(User.municipality_id), col(User.email))).all()


def add(session: Session, row: User | UserSession | UserToken) -> None:
    session.add(row)
    session.flush()


# -- sessions ----------------------------------------------------------------------------------------


def session_by_token_hash(
    session: Session, token_hash: str
) -> tuple[UserSession, User, Municipality | None] | None:
    row = session.exec(
        select(UserSession, User, Municipality)
        .join(User, col(User.id) == col(UserSession.user_id))
        .outerjoin(Municipality, col(Municipality.id) == col(User.municipality_id))
        .where(UserSession.token_hash == token_hash)
    ).first()
    return (row[0], row[1], row[2]) if row is not None else None


def delete_session(session: Session, session_id: int) -> None:
    session.execute(delete(UserSession).where(col(UserSession.id) == session_id))


def delete_sessions_of(session: Session, user_id: int) -> int:
    """Sign a person out everywhere; returns how many sessions ended."""
    result = session.execute(delete(UserSession).where(col(UserSession.user_id) == user_id))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def touch_session(session: Session, session_id: int, now: datetime) -> None:
    session.execute(update(UserSession).where(col(UserSession.id) == session_id).values(last_seen_at=now))


def delete_ended_sessions(session: Session, *, now: datetime, idle_since: datetime) -> None:
    session.execute(
        delete(UserSession).where(
            (col(UserSession.expires_at) <= now) | (col(UserSession.last_seen_at) <= idle_since)
        )
    )


# -- one-time links ----------------------------------------------------------------------------------


def token_by_hash(session: Session, token_hash: str) -> tuple[UserToken, User] | None:
    row = session.exec(
        select(UserToken, User)
        .join(User, col(User.id) == col(UserToken.user_id))
        .where(UserToken.token_hash == token_hash)
    ).first()
    return (row[0], row[1]) if row is not None else None


def use_up_tokens(session: Session, user_id: int, now: datetime) -> None:
    """Every unused link of the account stops working (a newer one, or the password, replaced it)."""
    session.execute(
        update(UserToken)
        .where(col(UserToken.user_id) == user_id, col(UserToken.used_at).is_(None))
        .values(used_at=now)
    )


# -- throttling --------------------------------------------------------------------------------------


def failures(
    session: Session, key_hashes: Sequence[str], *, window_start: datetime
) -> dict[str, LoginThrottle]:
    """The throttle rows of ``key_hashes`` whose window is still running."""
    rows = session.exec(
        select(LoginThrottle).where(
            col(LoginThrottle.key_hash).in_(list(key_hashes)),
            col(LoginThrottle.window_started_at) > window_start,
        )
    ).all()
    return {row.key_hash: row for row in rows}


def add_failure(session: Session, key_hash: str, *, now: datetime, window: timedelta) -> None:
    """Count one failure against ``key_hash``; a finished window starts again at one (one statement,
    so concurrent failures on several workers are all counted)."""
    table = LoginThrottle.__table__  # type: ignore[attr-defined]
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    ended = table.c.window_started_at <= literal(now - window, UTCDateTime())
    statement = insert(table).values(key_hash=key_hash, window_started_at=now, failures=1)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.key_hash],
        set_={
            "failures": case((ended, 1), else_=table.c.failures + 1),
            "window_started_at": case((ended, literal(now, UTCDateTime())), else_=table.c.window_started_at),
        },
    )
    session.execute(statement)
    session.execute(delete(LoginThrottle).where(col(LoginThrottle.window_started_at) <= now - window))


def forget_failures(session: Session, key_hash: str) -> None:
    session.execute(delete(LoginThrottle).where(col(LoginThrottle.key_hash) == key_hash))
