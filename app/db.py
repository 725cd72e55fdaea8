"""The database engine, the metadata naming convention, the per-request session and unit of work."""

from __future__ import annotations

import functools
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, TypeVar

import anyio
from fastapi import Depends, Request
from sqlalchemy import DateTime, MetaData, event
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.types import TypeDecorator
from sqlmodel import Session, SQLModel, create_engine
from starlette.concurrency import run_in_threadpool

from app.config import Settings, get_settings

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION
metadata: MetaData = SQLModel.metadata

T = TypeVar("T")

SQLITE_BUSY_TIMEOUT_MS = 15_000
SQLITE_IMMEDIATE = "verbonden_sqlite_immediate"
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Requests that never write. Everything else may write, even a GET: an API call records when its
# key was last used, and reading professional scores or an export writes an audit row.
READ_ONLY_PREFIXES = ("/s/", "/static/", "/healthz", "/readyz")


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC times (app.db.utcnow)")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _set_sqlite_pragmas(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    # pysqlite's own transaction handling emits no BEGIN before SAVEPOINT and commits on RELEASE;
    # take it over so transactions and savepoints behave as on PostgreSQL (SQLAlchemy's recipe).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class _SQLiteWriters:
    """One writer at a time per process, queued on a lock instead of SQLite's busy handler.

    A writing request's transaction begins IMMEDIATE (a deferred one that reads first and writes
    later fails at once with SQLITE_BUSY when another writer committed in between). Waiting for
    the write lock in SQLite's busy handler means sleeping and polling, which under many
    concurrent submissions collapses throughput; waiting on a Python lock hands the database to
    the next writer the moment the previous one returns its connection. Other processes on the
    same file still meet SQLite's busy timeout.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()

    def begin(self, connection: Connection) -> None:
        if not connection.get_execution_options().get(SQLITE_IMMEDIATE, False):
            connection.exec_driver_sql("BEGIN")
            return
        info = connection.info
        if not info.get(_HOLDS_WRITE_LOCK):
            if not self.lock.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000):
                raise OperationalError("BEGIN IMMEDIATE", None, sqlite3.OperationalError("database is busy"))
            info[_HOLDS_WRITE_LOCK] = True
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            self.release(info)
            raise

    def release(self, info: dict[Any, Any]) -> None:
        if info.pop(_HOLDS_WRITE_LOCK, False):
            self.lock.release()

    def checkin(self, _dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        # The session is closed and its transaction over: the next writer may begin.
        self.release(record.info)


_HOLDS_WRITE_LOCK = "verbonden_holds_write_lock"


def writing_engine(engine: Engine) -> Engine:
    """The engine for requests that write: on SQLite its transactions begin IMMEDIATE."""
    return engine.execution_options(**{SQLITE_IMMEDIATE: True}) if engine.dialect.name == "sqlite" else engine


def build_engine(database_url: str, *, pool_size: int = 10) -> Engine:
    """Create an engine: SQLite with WAL, foreign keys and a busy timeout; PostgreSQL with a pool."""
    url = make_url(database_url)
    if url.drivername == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            database_url,
            hide_parameters=True,  # tokens and answers never reach a log through an error message
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        )
        writers = _SQLiteWriters()
        event.listen(engine, "connect", _set_sqlite_pragmas)
        event.listen(engine, "begin", writers.begin)
        event.listen(engine, "checkin", writers.checkin)
        event.listen(engine, "invalidate", lambda _conn, record, _exc: writers.release(record.info))
        return engine
    return create_engine(
        database_url,
        hide_parameters=True,
        # No pre-ping: it would cost a round trip on every request. A connection that died (the
        # database restarted) fails its request with a disconnect error, SQLAlchemy then discards
        # the whole pool, and the next request connects afresh; /readyz reports the outage.
        pool_size=pool_size,
        max_overflow=max(pool_size // 4, 1),
        pool_timeout=10,
        connect_args={"connect_timeout": 5},
    )


@lru_cache
def _engine_for(database_url: str, pool_size: int) -> Engine:
    return build_engine(database_url, pool_size=pool_size)


def get_engine(settings: Settings | None = None) -> Engine:
    """The one engine of this process for the configured database."""
    settings = settings or get_settings()
    return _engine_for(settings.database_url, settings.db_pool_size)


class ReadSession(Session):
    """The session of a reading request (GET, HEAD, OPTIONS) on SQLite: it never holds the write lock
    while the route runs.

    SQLite has one writer at a time; a report that took the write lock for its whole run (its
    session began IMMEDIATE) would hold up every submission behind it. So a reading request reads
    in a plain deferred transaction, and the few rows it writes (the key's last use, an audit
    event) wait in the session, unflushed, until the route has finished: then
    :meth:`commit_writes` stores them in one short transaction on the writing engine (a reader
    never blocks a writer in WAL mode) and ends the read transaction. Nothing in a reading request
    needs a written row back before its end. Deleting is not deferred: a reading request does not.
    """

    def __init__(self, engine: Engine, write_engine: Engine) -> None:
        super().__init__(engine, expire_on_commit=False, autoflush=False)
        self.write_engine = write_engine

    def flush(self, objects: Any = None) -> None:
        if self.deleted:
            raise RuntimeError("a reading request deletes nothing")
        # the writes wait for commit_writes

    def restart_snapshot(self) -> None:
        """Read on from a fresh snapshot (after a short writing transaction of its own committed).

        The rows added or changed so far wait on: they are added, and their changes made, again.
        """
        changes = []
        for row in self.dirty:
            state = sa_inspect(row)
            changed = {attr.key: attr.value for attr in state.attrs if attr.history.has_changes()}
            if changed:
                changes.append((row, changed))
        waiting = list(self.new)
        self.rollback()
        self.add_all(waiting)
        for row, changed in changes:
            for key, value in changed.items():
                setattr(row, key, value)

    def commit_writes(self) -> None:
        """Store what the request added or changed (if anything), then end the read transaction."""
        changed = [*self.new, *(row for row in self.dirty if self.is_modified(row))]
        if changed:
            with Session(self.write_engine, expire_on_commit=False) as writer:
                for row in changed:
                    writer.merge(row)
                writer.commit()
        self.rollback()  # the read transaction; its unflushed rows are stored above


def end_transaction(session: Session) -> None:
    """Commit what the session holds now (a write session), ending its transaction and returning its
    connection; a reading session on SQLite keeps its writes for the end of the request."""
    if not isinstance(session, ReadSession):
        session.commit()


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One session per request: committed once after the route succeeds, rolled back on any error.

    The commit happens before FastAPI sends the response, so a client never sees a success for a
    write that was not stored. The dependency itself runs on the event loop (opening a session
    touches no database) and hands only the commit or rollback to a worker thread: one thread
    hop fewer per request than a plain generator dependency. A reading request on SQLite gets a
    :class:`ReadSession`.
    """
    state = request.app.state
    if request.method in READ_METHODS and state.engine.dialect.name == "sqlite":
        session: Session = ReadSession(state.engine, state.write_engine)
    else:
        session = Session(_request_engine(request), expire_on_commit=False)
    try:
        yield session
    except BaseException:
        await _in_thread(_end, session, commit=False)
        raise
    if _idle(session):  # nothing to commit and no connection held (see end_transaction)
        session.close()
        return
    await _in_thread(_end, session, commit=True)


def _idle(session: Session) -> bool:
    return not (session.in_transaction() or session.new or session.dirty or session.deleted)


class UnitOfWork:
    """A request's database work and its commit, in one worker thread: for the hot ``async`` routes.

    A sync route with :data:`SessionDep` costs two worker-thread hops (the route, then the commit)
    and FastAPI's generator-dependency machinery; ``await unit.run(work, *args)`` opens a session,
    runs ``work(session, *args)``, commits (rolls back on any error) and closes it, in one hop. As
    with :data:`SessionDep`, the commit happens before the response is sent, and services never
    commit. ``sessions`` makes the session (a context manager that closes it).
    """

    def __init__(self, sessions: Callable[[], AbstractContextManager[Session]]) -> None:
        self.sessions = sessions

    def __call__(self, work: Callable[..., T], *args: Any) -> T:
        with self.sessions() as session:
            try:
                result = work(session, *args)
                session.commit()
            except BaseException:
                session.rollback()
                raise
        return result

    async def run(self, work: Callable[..., T], *args: Any) -> T:
        return await run_in_threadpool(self, work, *args)


async def get_unit_of_work(request: Request) -> UnitOfWork:
    """The request's :class:`UnitOfWork` (a plain ``async`` dependency: nothing runs after the route)."""
    return UnitOfWork(functools.partial(Session, _request_engine(request), expire_on_commit=False))


def _request_engine(request: Request) -> Engine:
    """The engine for a request: the writing one unless the request is known never to write."""
    state = request.app.state
    read_only = request.method in READ_METHODS and request.scope["path"].startswith(READ_ONLY_PREFIXES)
    return state.engine if read_only else state.write_engine  # type: ignore[no-any-return]


UnitOfWorkDep = Annotated[UnitOfWork, Depends(get_unit_of_work)]


async def _in_thread(function: Callable[..., None], *args: Any, **kwargs: Any) -> None:
    # Outside the shared worker-thread limit, as FastAPI runs generator dependencies' exits: when
    # every worker is busy waiting for a pooled connection, the commit that frees one must not
    # wait for a worker itself. Shielded, so a client that hangs up cannot leave a session open.
    with anyio.CancelScope(shield=True):
        await anyio.to_thread.run_sync(
            functools.partial(function, *args, **kwargs), limiter=anyio.CapacityLimiter(1)
        )


def _end(session: Session, *, commit: bool) -> None:
    try:
        if commit and isinstance(session, ReadSession):
            session.commit_writes()
        elif commit:
            session.commit()
        else:
            session.rollback()
    finally:
        session.close()


# scope="function": the commit runs when the route returns, *before* the response is sent. With the
# default (request) scope FastAPI would send a 303 or 201 first and commit afterwards, so a failed
# commit would thank a respondent for an answer that was never stored.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def get_stream_session(request: Request) -> Iterator[Session]:
    """A read-only session for a response body that streams after the route has returned: it
    stays open until the last byte is sent (scope="request"), and never commits.

    One snapshot from its first read to its last: what a route plans in it (an export's columns)
    still holds for every row it streams, whatever is committed in between. SQLite's deferred
    transaction in WAL mode reads one snapshot; PostgreSQL needs REPEATABLE READ for that.
    """
    engine: Engine = request.app.state.engine
    if engine.dialect.name == "postgresql":
        engine = engine.execution_options(isolation_level="REPEATABLE READ")
    with Session(engine, expire_on_commit=False) as session:
        yield session


StreamSessionDep = Annotated[Session, Depends(get_stream_session, scope="request")]
