"""The rules of API keys: who may create which key, and revocation."""

from __future__ import annotations

from sqlmodel import Session

from app.apikeys import repository
from app.apikeys.schemas import ApiKeyCreate, ApiKeyPublic
from app.audit import service as audit
from app.auth import Principal, Scope, create_api_key
from app.db import utcnow
from app.errors import Forbidden, InvalidInput, NotFound
from app.models import ApiKey

RESEARCH_FORBIDDEN = frozenset({Scope.manage, Scope.responses_write})


def present(api_key: ApiKey) -> ApiKeyPublic:
    return ApiKeyPublic(
        id=api_key.id or 0,
        name=api_key.name,
        prefix=api_key.prefix,
        scopes=sorted(api_key.scope_set),
        municipality_id=api_key.municipality_id,
        created_at=api_key.created_at,
        expires_at=api_key.expires_at,
        revoked_at=api_key.revoked_at,
        last_used_at=api_key.last_used_at,
    )


def list_keys(session: Session, principal: Principal, *, limit: int, offset: int) -> tuple[list[ApiKey], int]:
    """The keys of the caller's municipality (a research key: every key), oldest first."""
    return repository.list_keys(session, principal, limit=limit, offset=offset)


def get_key(session: Session, principal: Principal, key_id: int) -> ApiKey:
    """One key of the caller's municipality; another municipality's is not found (404)."""
    return repository.get_key(session, principal, key_id)


def create_key(*, session: Session, principal: Principal, key_in: ApiKeyCreate) -> tuple[ApiKey, str]:
    """A municipality's admin makes keys for its own municipality; an admin research key makes
    research keys, which never hold ``manage`` or ``responses:write``."""
    if key_in.research != principal.is_research:
        raise Forbidden(
            "Only an admin research key creates research keys, and it creates no municipality keys."
        )
    if key_in.research and RESEARCH_FORBIDDEN & set(key_in.scopes):
        raise InvalidInput(
            "A research key reads only: it cannot have manage or responses:write.",
            errors=[
                {
                    "loc": ["body", "scopes"],
                    "msg": "manage and responses:write are not for research keys",
                    "type": "value_error",
                }
            ],
        )
    if key_in.expires_at is not None and key_in.expires_at <= utcnow():
        raise InvalidInput(
            "expires_at lies in the past.",
            errors=[{"loc": ["body", "expires_at"], "msg": "in the past", "type": "value_error"}],
        )
    api_key, secret = create_api_key(
        session,
        municipality_id=principal.municipality_id,
        name=key_in.name,
        scopes=[scope.value for scope in key_in.scopes],
        expires_at=key_in.expires_at,
    )
    audit.record(
        session,
        principal,
        "apikey.create",
        object_type="api_key",
        object_id=api_key.id,
        detail={"scopes": api_key.scopes},
    )
    return api_key, secret


def revoke_key(*, session: Session, principal: Principal, key_id: int) -> ApiKey:
    """Revoke (never delete: the audit trail names keys); revoking twice changes nothing."""
    api_key = repository.get_key(session, principal, key_id)
    if principal.is_research and api_key.municipality_id is not None:
        # A research key reads every municipality but changes none of them: not even their keys.
        raise NotFound(f"API key {key_id} not found")
    if api_key.revoked_at is None:
        api_key.revoked_at = utcnow()
        session.add(api_key)
        audit.record(
            session,
            principal,
            "apikey.revoke",
            object_type="api_key",
            object_id=api_key.id,
            municipality_id=api_key.municipality_id,
        )
    return api_key
