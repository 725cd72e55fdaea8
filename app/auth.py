"""API keys and scopes: ``Authorization: Bearer <key>`` -> :class:`Principal`.

A key is ``vb_`` followed by 43 URL-safe characters (256 random bits). Only its SHA-256 hash is
stored; a slow password hash buys nothing for a secret this long, and a fast one keeps every API
call cheap. A key belongs to one municipality, or to none for a research key that may read
across municipalities.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session, select

from app.db import SessionDep, utcnow
from app.errors import Forbidden, Unauthorized
from app.models import ApiKey
from app.ratelimit import KEY_VERIFIED

KEY_PREFIX = "vb_"
KEY_RANDOM_BYTES = 32
LAST_USED_RESOLUTION = timedelta(minutes=1)


class Scope(StrEnum):
    manage = "manage"
    responses_write = "responses:write"
    responses_read = "responses:read"
    reports_aggregate = "reports:aggregate"
    reports_professional = "reports:professional"
    admin = "admin"


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key, its municipality (None for a research key) and its scopes."""

    api_key_id: int
    municipality_id: int | None
    scopes: frozenset[str]

    @property
    def is_research(self) -> bool:
        return self.municipality_id is None


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def new_secret() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(KEY_RANDOM_BYTES)


def create_api_key(
    session: Session,
    *,
    municipality_id: int | None,
    name: str,
    scopes: list[str],
    expires_at: datetime | None = None,
) -> tuple[ApiKey, str]:
    """Create a key; return the row and the secret, which is never stored and shown only now."""
    unknown = sorted(set(scopes) - {scope.value for scope in Scope})
    if unknown:
        known = ", ".join(scope.value for scope in Scope)
        raise ValueError(f"unknown scope(s): {', '.join(unknown)}; known: {known}")
    if not scopes:
        raise ValueError("give at least one scope")
    secret = new_secret()
    api_key = ApiKey(
        municipality_id=municipality_id,
        name=name,
        prefix=secret[: len(KEY_PREFIX) + 6],
        secret_hash=hash_secret(secret),
        scopes=" ".join(sorted(set(scopes))),
        expires_at=expires_at,
    )
    session.add(api_key)
    session.flush()
    return api_key, secret


_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer vb_...`")
_BEARER_CHALLENGE = {"WWW-Authenticate": "Bearer"}


def get_principal(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller of an API route; 401 when the key is missing, unknown, revoked or expired.

    Tells the rate limiter what it found (``KEY_VERIFIED``): a key is counted against itself only
    once verified, and against the client address while made up or refused.
    """
    if credentials is None or not credentials.credentials:
        raise Unauthorized("Send an API key: Authorization: Bearer <key>.", headers=_BEARER_CHALLENGE)
    secret = credentials.credentials
    digest = hash_secret(secret)
    api_key = session.exec(select(ApiKey).where(ApiKey.secret_hash == digest)).first()
    now = utcnow()
    if (
        api_key is None
        or not hmac.compare_digest(api_key.secret_hash, digest)
        or api_key.revoked_at is not None
        or (api_key.expires_at is not None and api_key.expires_at <= now)
    ):
        setattr(request.state, KEY_VERIFIED, False)
        raise Unauthorized("This API key is unknown, revoked or expired.", headers=_BEARER_CHALLENGE)
    setattr(request.state, KEY_VERIFIED, True)
    if api_key.last_used_at is None or now - api_key.last_used_at >= LAST_USED_RESOLUTION:
        api_key.last_used_at = now
        session.add(api_key)
    assert api_key.id is not None
    return Principal(api_key_id=api_key.id, municipality_id=api_key.municipality_id, scopes=api_key.scope_set)


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def require_scope(*needed: Scope) -> Callable[[Principal], Principal]:
    """A dependency that lets the call through when the key holds at least one of ``needed``."""

    def _check(principal: CurrentPrincipal) -> Principal:
        if not principal.scopes & {scope.value for scope in needed}:
            names = " or ".join(scope.value for scope in needed)
            raise Forbidden(f"This API key lacks the scope {names}.")
        return principal

    return _check


ManagePrincipal = Annotated[Principal, Depends(require_scope(Scope.manage))]
