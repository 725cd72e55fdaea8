"""``GET``/``PATCH /api/v1/municipality``: the caller's own municipality (scope ``manage`` or ``admin``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from app.api_common import INVALID_INPUT, error_responses
from app.auth import Principal, Scope, require_scope
from app.db import SessionDep
from app.municipality import service
from app.municipality.schemas import MunicipalityPublic, MunicipalityUpdate

router = APIRouter(tags=["municipality"])

ManageOrAdmin = Annotated[Principal, Depends(require_scope(Scope.manage, Scope.admin))]

_FORBIDDEN = "The key lacks the scope `manage` or `admin`, or is a research key writing"
_NOT_FOUND = "A research key, which belongs to no municipality"
_ERRORS = error_responses(forbidden=_FORBIDDEN, not_found=_NOT_FOUND)
_WRITE_ERRORS = error_responses(forbidden=_FORBIDDEN, not_found=_NOT_FOUND, invalid=INVALID_INPUT)


@router.get("/municipality", responses=_ERRORS)
def get_municipality(session: SessionDep, principal: ManageOrAdmin) -> MunicipalityPublic:
    """The caller's municipality with the sender details respondents see."""
    return MunicipalityPublic.model_validate(service.own_municipality(session, principal))


@router.patch("/municipality", responses=_WRITE_ERRORS)
def update_municipality(
    session: SessionDep, principal: ManageOrAdmin, changes: MunicipalityUpdate
) -> MunicipalityPublic:
    """Change the sender details: ``display_name``, ``contact_email``, ``contact_phone``,
    ``privacy_url``, ``privacy_text`` (``null`` clears one)."""
    return MunicipalityPublic.model_validate(service.update_municipality(session, principal, changes))
