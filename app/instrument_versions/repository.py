"""Every query on the ``instrument_version`` table: the record of the versions data were collected with."""

from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, select

from app.db import utcnow
from app.models import InstrumentVersion


def get(session: Session, version: str) -> InstrumentVersion | None:
    return session.get(InstrumentVersion, version)


def record(session: Session, *, version: str, content_hash: str) -> InstrumentVersion:
    """Record ``version`` unless it is recorded already; return the row as stored."""
    # ON CONFLICT DO NOTHING: another request may record the same version at the same moment.
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    session.execute(
        insert(InstrumentVersion)
        .values(version=version, content_hash=content_hash, recorded_at=utcnow())
        .on_conflict_do_nothing(index_elements=["version"])
    )
    recorded = session.get(InstrumentVersion, version)
    assert recorded is not None
    return recorded


def recorded_hashes(session: Session) -> dict[str, str]:
    """Every recorded version with the content hash it was recorded with."""
    return {row.version: row.content_hash for row in session.exec(select(InstrumentVersion))}
