"""``GET /api/v1/audit`` (scope ``admin``): read the audit trail. There is no route that writes it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from app.api_common import MAX_OFFSET, MAX_ROW_ID, Paging, error_responses, page_of, problem
from app.audit import service
from app.audit.schemas import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, AuditEventPublic, AuditFilter, AuditPage
from app.auth import Principal, Scope, require_scope
from app.db import SessionDep
from app.errors import NotFound
from app.validation import EndMoment, StartMoment

router = APIRouter(prefix="/audit", tags=["audit"])
AdminPrincipal = Annotated[Principal, Depends(require_scope(Scope.admin))]
RowId = Annotated[int | None, Query(ge=1, le=MAX_ROW_ID)]

_ERRORS = error_responses(forbidden="The key lacks the scope `admin`")


@router.get("", responses=_ERRORS)
def list_audit_events(
    session: SessionDep,
    principal: AdminPrincipal,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    action: Annotated[str | None, Query(max_length=64)] = None,
    api_key_id: RowId = None,
    wave_id: RowId = None,
    municipality_id: Annotated[
        int | None, Query(ge=1, le=MAX_ROW_ID, description="Research keys only; others see their own")
    ] = None,
    since: Annotated[
        StartMoment | None, Query(description="From this moment on; a date alone: from the start of that day")
    ] = None,
    until: Annotated[
        EndMoment | None, Query(description="Before this moment; a date alone: through the end of that day")
    ] = None,
) -> AuditPage:
    """Newest first. A municipality's admin key sees its own municipality's events; a research key all."""
    wanted = AuditFilter(
        municipality_id=municipality_id,
        api_key_id=api_key_id,
        action=action,
        wave_id=wave_id,
        since=since,
        until=until,
    )
    rows, total = service.list_events(session, principal, wanted=wanted, limit=limit, offset=offset)
    return page_of([AuditEventPublic.model_validate(row) for row in rows], total, Paging(limit, offset))


@router.get("/{event_id}", responses={**_ERRORS, 404: problem("No such event")})
def get_audit_event(
    session: SessionDep, principal: AdminPrincipal, event_id: Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
) -> AuditEventPublic:
    event = service.get_event(session, principal, event_id)
    if event is None:
        raise NotFound("No such audit event for this key.")
    return AuditEventPublic.model_validate(event)
