"""``POST /api/v1/responses``: partner systems submit completed questionnaires (scope responses:write)."""

from __future__ import annotations

import functools
import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse
from sqlmodel import Session

from app.api_common import error_responses, problem
from app.auth import (
    PendingKey,
    Principal,
    Scope,
    checks_key_in_unit_of_work,
    confirm_key,
    confirmed_by_statement,
    require_scope,
    verified_here,
)
from app.collection import service
from app.collection.schemas import ResponseCreate, ResponseReceipt
from app.db import UnitOfWorkDep, utcnow
from app.errors import Conflict

router = APIRouter(tags=["responses"])
WritePrincipal = Annotated[Principal | PendingKey, Depends(require_scope(Scope.responses_write))]


@router.post(
    "/responses",
    status_code=201,
    response_model=ResponseReceipt,
    responses={
        **error_responses(
            forbidden="The key lacks the scope `responses:write`",
            not_found="Unknown link",
            invalid="Invalid input, or answers refused; `errors` names the fields",
        ),
        200: {"model": ResponseReceipt, "description": "A retry: stored before, nothing new"},
        409: problem("The Idempotency-Key was used before for other answers"),
        410: problem("Link expired, withdrawn or used"),
    },
)
@checks_key_in_unit_of_work
async def submit_response(
    request: Request,
    body: ResponseCreate,
    unit_of_work: UnitOfWorkDep,
    caller: WritePrincipal,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> JSONResponse:
    """Store a response; the same ``Idempotency-Key`` again stores nothing new and answers 200."""
    # The key is checked in the submission's own transaction: one worker-thread hop for the call.
    outcome = await unit_of_work.run(
        functools.partial(submit_as, request=request, caller=caller, idempotency_key=idempotency_key),
        body,
    )
    match outcome:
        case service.Stored(new, form, wave_id):
            receipt = ResponseReceipt(stored=new, form=form, wave_id=wave_id)
            return JSONResponse(receipt.model_dump(), status_code=201 if new else 200)
        case service.KeyReused():
            raise Conflict(
                "This Idempotency-Key was used before for other answers; nothing was stored. "
                "Send new answers with a new key.",
                title="Idempotency-Key reused",
            )
        case service.Unusable(problem):
            raise problem
        case service.Refused(refused=refused):
            raise refused
    raise AssertionError(f"an API submission is never asked again: {outcome!r}")  # pragma: no cover


def submit_as(
    session: Session,
    body: ResponseCreate,
    *,
    request: Request,
    caller: Principal | PendingKey,
    idempotency_key: str | None,
) -> service.Outcome:
    """Check the caller's key and submit through :func:`service.submit`, in one transaction.

    A key this worker verified within the minute goes with the submission's one statement, which
    finds it live itself (:func:`service.store_known`); anything else, or a statement that stored
    nothing, checks the key in full first (401, 403) and then submits the whole way.
    """
    # The same key with another link is another request, not a retry of this one.
    retry_id = idempotency_key or secrets.token_hex(16)
    now = utcnow()
    known = verified_here(request, caller, now) if isinstance(caller, PendingKey) else None
    if known is not None and known.municipality_id is not None:
        stored = service.store_known(
            session,
            body.token,
            body.answers,
            language=body.language,
            key=_submission_key(known, body, retry_id),
            for_municipality=known.municipality_id,
            live_key=known.api_key_id,
            now=now,
        )
        if stored is not None:
            confirmed_by_statement(request)
            return stored
    principal = confirm_key(session, request, caller)
    return service.submit(
        session,
        body.token,
        body.answers,
        language=body.language,
        key=_submission_key(principal, body, retry_id),
        for_municipality=principal.municipality_id,
        now=now,
    )


def _submission_key(principal: Principal, body: ResponseCreate, retry_id: str) -> str:
    return service.submission_key("api", f"{principal.api_key_id}:{body.token}:{retry_id}")
