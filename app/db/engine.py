"""The engine of this process: SQLite (WAL, foreign keys, one writer at a time) or PostgreSQL (a pool)."""

from __future__ import annotations

import sqlite3
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import ConnectionPoolEntry
from sqlmodel import create_engine

from app.config import Settings, get_settings

SQLITE_BUSY_TIMEOUT_MS = 15_000
SQLITE_IMMEDIATE = "verbonden_sqlite_immediate"


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
