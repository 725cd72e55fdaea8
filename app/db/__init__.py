"""The database: its column types (:mod:`.types`), its engine (:mod:`.engine`) and the sessions of a
request (:mod:`.sessions`). What the rest of the application uses is named here."""

from app.db.engine import (
    SQLITE_BUSY_TIMEOUT_MS,
    SQLITE_IMMEDIATE,
    build_engine,
    get_engine,
    writing_engine,
)
from app.db.sessions import (
    READ_METHODS,
    READ_ONLY_PREFIXES,
    ReadSession,
    SessionDep,
    StreamSessionDep,
    UnitOfWork,
    UnitOfWorkDep,
    autocommit,
    end_transaction,
    get_session,
    get_stream_session,
    get_unit_of_work,
)
from app.db.types import NAMING_CONVENTION, UTCDateTime, metadata, utcnow

__all__ = [
    "NAMING_CONVENTION",
    "READ_METHODS",
    "READ_ONLY_PREFIXES",
    "SQLITE_BUSY_TIMEOUT_MS",
    "SQLITE_IMMEDIATE",
    "ReadSession",
    "SessionDep",
    "StreamSessionDep",
    "UTCDateTime",
    "UnitOfWork",
    "UnitOfWorkDep",
    "autocommit",
    "build_engine",
    "end_transaction",
    "get_engine",
    "get_session",
    "get_stream_session",
    "get_unit_of_work",
    "metadata",
    "utcnow",
    "writing_engine",
]
