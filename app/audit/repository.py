"""Every query on ``audit_event``; reads are scoped to the caller's municipality (None: all)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlmodel import Session, col, func, select

from app.audit.schemas import AuditFilter
from app.models import AuditEvent

BULK_CHANGES = "verbonden_bulk_changes"
"""``session.info`` key: rows changed by bulk UPDATE/DELETE statements, which no flush shows."""

BulkChange = tuple[str, str, int, int | None, int | None]
"""(table, verb, row id, wave id, municipality id)."""


def note_bulk_changes(session: Session, table: str, verb: str, rows: Any) -> None:
    """Note rows (id, wave id, municipality id) that a bulk statement changed, for the audit trail.

    A repository that updates or deletes many rows in one statement calls this with the rows the
    statement returned (``RETURNING``); :func:`app.audit.service.audit_changes` records them as it
    records the rows of a flush.
    """
    noted: list[BulkChange] = session.info.setdefault(BULK_CHANGES, [])
    noted.extend((table, verb, int(row[0]), row[1], row[2]) for row in rows)


def take_bulk_changes(session: Session) -> list[BulkChange]:
    """The bulk changes noted since the last call (and forget them)."""
    return list(session.info.pop(BULK_CHANGES, []))


def add(session: Session, event: AuditEvent) -> AuditEvent:
    session.add(event)
    session.flush()
    return event


def _conditions(scope_municipality_id: int | None, wanted: AuditFilter) -> list[Any]:
    conditions: list[Any] = []
    municipality_id = scope_municipality_id if scope_municipality_id is not None else wanted.municipality_id
    if scope_municipality_id is not None and wanted.municipality_id not in (None, scope_municipality_id):
        conditions.append(col(AuditEvent.id).is_(None))  # another municipality's trail: nothing
    if municipality_id is not None:
        conditions.append(col(AuditEvent.municipality_id) == municipality_id)
    if wanted.api_key_id is not None:
        conditions.append(col(AuditEvent.api_key_id) == wanted.api_key_id)
    if wanted.user_id is not None:
        conditions.append(col(AuditEvent.user_id) == wanted.user_id)
    if wanted.action is not None:
        conditions.append(col(AuditEvent.action) == wanted.action)
    if wanted.wave_id is not None:
        conditions.append(col(AuditEvent.wave_id) == wanted.wave_id)
    if wanted.since is not None:
        conditions.append(col(AuditEvent.occurred_at) >= wanted.since)
    if wanted.until is not None:
        conditions.append(col(AuditEvent.occurred_at) < wanted.until)
    return conditions


def list_events(
    session: Session,
    *,
    scope_municipality_id: int | None,
    wanted: AuditFilter,
    limit: int,
    offset: int,
) -> tuple[Sequence[AuditEvent], int]:
    """Newest first; ``scope_municipality_id`` None only for research (cross-municipality) keys."""
    conditions = _conditions(scope_municipality_id, wanted)
    rows = session.exec(
        select(AuditEvent)
        .where(*conditions)
        .order_by(col(AuditEvent.occurred_at).desc(), col(AuditEvent.id).desc())
        .limit(limit)
        .offset(offset)
    ).all()
    total = session.exec(select(func.count()).select_from(AuditEvent).where(*conditions)).one()
    return rows, total


def get_event(session: Session, *, scope_municipality_id: int | None, event_id: int) -> AuditEvent | None:
    event = session.get(AuditEvent, event_id)
    if event is None:
        return None
    if scope_municipality_id is not None and event.municipality_id != scope_municipality_id:
        return None
    return event


def actions(session: Session, *, scope_municipality_id: int | None) -> list[str]:
    """The actions the trail holds (for a filter's choices), in alphabetical order."""
    statement = select(AuditEvent.action).distinct()
    if scope_municipality_id is not None:
        statement = statement.where(col(AuditEvent.municipality_id) == scope_municipality_id)
    return sorted(session.exec(statement).all())
