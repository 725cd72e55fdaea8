"""``/api/v1/apikeys`` (scope ``admin``): list, create and revoke keys of the caller's municipality."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response, status

from app.apikeys import service
from app.apikeys.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyPage, ApiKeyPublic
from app.auth import Principal, Scope, require_scope
from app.db import SessionDep

router = APIRouter(prefix="/apikeys", tags=["api keys"])
AdminPrincipal = Annotated[Principal, Depends(require_scope(Scope.admin))]
KeyId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.get("", response_model=ApiKeyPage)
def list_api_keys(
    session: SessionDep,
    principal: AdminPrincipal,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> ApiKeyPage:
    keys, total = service.list_keys(session, principal, limit=limit, offset=offset)
    return ApiKeyPage(items=[service.present(key) for key in keys], total=total, limit=limit, offset=offset)


@router.post("", response_model=ApiKeyCreated, status_code=status.HTTP_201_CREATED)
def create_api_key(
    key_in: ApiKeyCreate, session: SessionDep, principal: AdminPrincipal, response: Response
) -> ApiKeyCreated:
    """The answer holds the secret ``key``: it is shown once and only its hash is stored."""
    api_key, secret = service.create_key(session=session, principal=principal, key_in=key_in)
    response.headers["Cache-Control"] = "no-store"
    return ApiKeyCreated(**service.present(api_key).model_dump(), key=secret)


@router.get("/{key_id}", response_model=ApiKeyPublic)
def get_api_key(key_id: KeyId, session: SessionDep, principal: AdminPrincipal) -> ApiKeyPublic:
    return service.present(service.get_key(session, principal, key_id))


@router.delete("/{key_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_api_key(key_id: KeyId, session: SessionDep, principal: AdminPrincipal) -> Response:
    """Revoke the key: it answers 401 from now on. The row stays for the audit trail."""
    service.revoke_key(session=session, principal=principal, key_id=key_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
