"""``POST /api/v1/responses``: partner systems submit completed questionnaires (scope responses:write)."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Header
from fastapi.responses import JSONResponse
from sqlmodel import Session

from app.auth import Principal, Scope, require_scope
from app.collection import service
from app.collection.schemas import ResponseCreate, ResponseReceipt
from app.collection.service import LinkUnavailable
from app.db import SessionDep
from app.errors import Conflict

router = APIRouter(tags=["responses"])
WritePrincipal = Annotated[Principal, Depends(require_scope(Scope.responses_write))]


def refuse_other_answers(session: Session, key: str, body: ResponseCreate) -> None:
    """409 when the Idempotency-Key was used before for other answers (not a retry of them)."""
    if not service.is_retry_of_stored(session, key, body.answers):
        raise Conflict(
            "This Idempotency-Key was used before for other answers; nothing was stored. "
            "Send new answers with a new key.",
            title="Idempotency-Key reused",
        )


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
def submit_response(
    body: ResponseCreate,
    session: SessionDep,
    principal: WritePrincipal,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> JSONResponse:
    """Store a response; the same ``Idempotency-Key`` again stores nothing new and answers 200."""
    # The same key with another link is another request, not a retry of this one.
    retry_id = idempotency_key or secrets.token_hex(16)
    key = service.submission_key("api", f"{principal.api_key_id}:{body.token}:{retry_id}")
    try:
        questionnaire = service.open_questionnaire(
            session, body.token, for_municipality=principal.municipality_id
        )
    except LinkUnavailable:
        if not service.already_stored(session, key):
            raise
        # A retry of a response stored before (it may have used up a personal link): answer as then.
        invitation = service.invitation_for_retry(session, body.token, principal.municipality_id)
        refuse_other_answers(session, key, body)
        receipt = ResponseReceipt(stored=False, form=invitation.form, wave_id=invitation.wave_id)
        return JSONResponse(receipt.model_dump(), status_code=200)
    answers = service.check_answers(questionnaire, body.answers)
    stored = service.store_response(session, questionnaire, answers, language=body.language, key=key)
    if not stored:
        refuse_other_answers(session, key, body)
    receipt = ResponseReceipt(
        stored=stored, form=questionnaire.form.id, wave_id=questionnaire.invitation.wave_id
    )
    return JSONResponse(receipt.model_dump(), status_code=201 if stored else 200)
