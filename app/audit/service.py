"""Recording audit events, inside the request's session (they commit, or roll back, with it).

What is recorded: reads of professional-level scores, every export download, every create, update
and delete through the management API, and key creation. Never answer values, tokens, names,
addresses or user agents: an event holds ids, an action name and a few short parameters.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from fastapi import Request
from sqlalchemy import event as sa_event
from sqlmodel import Session

from app.audit import repository
from app.audit.schemas import AuditFilter
from app.auth import CurrentPrincipal, Principal
from app.db import SessionDep
from app.models import AuditEvent

MAX_DETAIL_LENGTH = 255
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# The management API's tables whose changes are recorded (``<table>.create|update|delete``).
MANAGED_TABLES = frozenset({"partner", "team", "professional", "wave", "invitation"})

DetailValue = str | int | float | bool | None


def record(
    session: Session,
    principal: Principal | None,
    action: str,
    *,
    object_type: str | None = None,
    object_id: int | None = None,
    wave_id: int | None = None,
    municipality_id: int | None = None,
    detail: Mapping[str, DetailValue] | None = None,
) -> AuditEvent:
    """Add one event; ``principal`` None means the command line. ``detail`` holds parameters only."""
    return record_as(
        session,
        principal.api_key_id if principal else None,
        action,
        object_type=object_type,
        object_id=object_id,
        wave_id=wave_id,
        municipality_id=municipality_id
        if municipality_id is not None
        else (principal.municipality_id if principal else None),
        detail=detail,
        user_id=principal.user_id if principal else None,
    )


def record_as(
    session: Session,
    api_key_id: int | None,
    action: str,
    *,
    object_type: str | None = None,
    object_id: int | None = None,
    wave_id: int | None = None,
    municipality_id: int | None = None,
    detail: Mapping[str, DetailValue] | None = None,
    user_id: int | None = None,
) -> AuditEvent:
    """Add one event attributed to ``api_key_id`` (or the signed-in ``user_id``) when the caller
    holds no key itself (a feedback page is read through its link, and recorded under the key
    that made the link)."""
    text = json.dumps(dict(detail), sort_keys=True, separators=(",", ":")) if detail else None
    if text is not None and len(text) > MAX_DETAIL_LENGTH:
        raise ValueError(f"audit detail longer than {MAX_DETAIL_LENGTH} characters: {text[:40]}...")
    return repository.add(
        session,
        AuditEvent(
            api_key_id=api_key_id,
            user_id=user_id,
            municipality_id=municipality_id,
            action=action,
            object_type=object_type,
            object_id=object_id,
            wave_id=wave_id,
            detail=text,
        ),
    )


def _wave_of(table: str, instance: Any) -> int | None:
    if table == "wave":
        return getattr(instance, "id", None)
    return getattr(instance, "wave_id", None)


def audit_changes(request: Request, session: SessionDep, principal: CurrentPrincipal) -> Iterator[None]:
    """A router dependency: after a successful write, record each managed row it created, changed
    or deleted (one event per row), so no route can forget to.

    The rows are collected from the session's flushes, which is where the ids of new rows exist.
    """
    yield from recording_changes(request, session, principal)


def recording_changes(request: Request, session: Session, principal: Principal) -> Iterator[None]:
    """The body of :func:`audit_changes`, for a door that knows its caller another way (the web
    app's pages: :func:`app.webapp.auditing.audit_page_changes`)."""
    if request.method in READ_METHODS:
        yield
        return
    changes: dict[tuple[str, int], tuple[str, Any]] = {}

    def collect(flushed: Session, _context: Any) -> None:
        for verb, instances in (
            ("create", flushed.new),
            ("update", flushed.dirty),
            ("delete", flushed.deleted),
        ):
            for instance in instances:
                table = getattr(instance, "__tablename__", None)
                row_id = getattr(instance, "id", None)
                if table not in MANAGED_TABLES or row_id is None:
                    continue
                if verb == "update" and not flushed.is_modified(instance):
                    continue
                earlier = changes.get((table, row_id))
                # create then update in one request is a create; anything then delete is a delete.
                if earlier is None or verb == "delete":
                    changes[(table, row_id)] = (verb, instance)

    repository.take_bulk_changes(session)  # nothing from an earlier request of this session
    sa_event.listen(session, "after_flush", collect)
    try:
        yield
        session.flush()  # an update the route left unflushed
    finally:
        sa_event.remove(session, "after_flush", collect)
    for table, verb, row_id, wave_id, municipality_id in repository.take_bulk_changes(session):
        if table in MANAGED_TABLES and (table, row_id) not in changes:
            record(
                session,
                principal,
                f"{table}.{verb}",
                object_type=table,
                object_id=row_id,
                wave_id=wave_id,
                municipality_id=municipality_id,
            )
    for (table, row_id), (verb, instance) in sorted(changes.items(), key=lambda item: item[0]):
        record(
            session,
            principal,
            f"{table}.{verb}",
            object_type=table,
            object_id=row_id,
            wave_id=_wave_of(table, instance),
            municipality_id=getattr(instance, "municipality_id", None),
        )


def list_events(
    session: Session, principal: Principal | None, *, wanted: AuditFilter, limit: int, offset: int
) -> tuple[Sequence[AuditEvent], int]:
    """A municipality's key sees its municipality's trail; a research key (or the CLI) sees all."""
    scope = principal.municipality_id if principal else None
    return repository.list_events(
        session, scope_municipality_id=scope, wanted=wanted, limit=limit, offset=offset
    )


def get_event(session: Session, principal: Principal, event_id: int) -> AuditEvent | None:
    return repository.get_event(session, scope_municipality_id=principal.municipality_id, event_id=event_id)


def list_actions(session: Session, principal: Principal) -> list[str]:
    """The actions in the caller's trail (a research key or the CLI: every municipality's)."""
    return repository.actions(session, scope_municipality_id=principal.municipality_id)
