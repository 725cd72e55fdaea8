"""A request's session: committed once before the response is sent, or rolled back; the unit of work
of the hot ``async`` routes; the reading session of SQLite; the session of a streamed body."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractContextManager
from typing import Annotated, Any, TypeVar

import anyio
from fastapi import Depends, Request
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.engine import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

T = TypeVar("T")

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Requests that never write. Everything else may write, even a GET: an API call records when its
# key was last used, and reading professional scores or an export writes an audit row.
READ_ONLY_PREFIXES = ("/s/", "/static/", "/healthz", "/readyz")


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


def autocommit(session: Session) -> None:
    """Run the session's next statements each in its own transaction, on PostgreSQL: a lookup then
    costs one round trip instead of three (BEGIN, the query, COMMIT). Only for a session that has
    not begun yet on an engine of its own (a request's, not a test's joined connection); a
    single-statement write (the key's last use) is then stored when it is flushed."""
    bind = session.get_bind()
    if (
        not session.in_transaction()
        and isinstance(session.bind, Engine)
        and bind.dialect.name == "postgresql"
        and not isinstance(session, ReadSession)
    ):
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


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
