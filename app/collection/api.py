"""``POST /api/v1/responses``: partner systems submit completed questionnaires (scope responses:write)."""

from __future__ import annotations

import functools
import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Header
from fastapi.responses import JSONResponse

from app.auth import Principal, Scope, require_scope
from app.collection import service
from app.collection.schemas import ResponseCreate, ResponseReceipt
from app.db import UnitOfWorkDep
from app.errors import Conflict

router = APIRouter(tags=["responses"])
WritePrincipal = Annotated[Principal, Depends(require_scope(Scope.responses_write))]


@router.post(
    "/responses",
    status_code=201,
    response_model=ResponseReceipt,
    responses={
        200: {"model": ResponseReceipt, "description": "A retry: stored before, nothing new"},
        404: {"description": "Unknown link"},
        409: {"description": "The Idempotency-Key was used before for other answers"},
        410: {"description": "Link expired, withdrawn or used"},
    },
)
async def submit_response(
    body: ResponseCreate,
    unit_of_work: UnitOfWorkDep,
    principal: WritePrincipal,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> JSONResponse:
    """Store a response; the same ``Idempotency-Key`` again stores nothing new and answers 200."""
    # The same key with another link is another request, not a retry of this one.
    retry_id = idempotency_key or secrets.token_hex(16)
    key = service.submission_key("api", f"{principal.api_key_id}:{body.token}:{retry_id}")
    outcome = await unit_of_work.run(
        functools.partial(
            service.submit, language=body.language, key=key, for_municipality=principal.municipality_id
        ),
        body.token,
        body.answers,
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
