"""API keys, sessions and scopes: a Bearer key or a signed-in session -> :class:`Principal`.

A key is ``vb_`` followed by 43 URL-safe characters (256 random bits). Only its SHA-256 hash is
stored; a slow password hash buys nothing for a secret this long, and a fast one keeps every API
call cheap. A key belongs to one municipality, or to none for a research key that may read
across municipalities. A person signed in through ``/login`` (:mod:`app.users`) becomes the same
kind of :class:`Principal`, with the scopes of their role, so tenancy, scopes, the audit trail and
disclosure control do not know the difference. A key always wins over a session cookie; a
state-changing call made with the cookie needs the session's CSRF token (``X-CSRF-Token`` header,
or the ``csrf_token`` field of a posted form).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from app.apikeys import repository as apikey_repository
from app.collection import caches
from app.db import SessionDep, UnitOfWork, UnitOfWorkDep, autocommit, end_transaction, utcnow
from app.errors import Forbidden, Unauthorized
from app.ratelimit import KEY_VERIFIED

F = TypeVar("F", bound=Callable[..., object])

LAST_USED_RESOLUTION = timedelta(minutes=1)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class Scope(StrEnum):
    manage = "manage"
    responses_write = "responses:write"
    responses_read = "responses:read"
    reports_aggregate = "reports:aggregate"
    reports_professional = "reports:professional"
    admin = "admin"


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key (or the signed-in account, ``user_id``), its municipality (None for
    research) and its scopes. Exactly one of ``api_key_id`` and ``user_id`` is set."""

    api_key_id: int | None
    municipality_id: int | None
    scopes: frozenset[str]
    user_id: int | None = None

    @property
    def is_research(self) -> bool:
        return self.municipality_id is None


def hash_secret(secret: str) -> str:
    """What is stored of a key (and looked up): its SHA-256; keys are made in :mod:`app.apikeys`."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


_bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer vb_...`")
_BEARER_CHALLENGE = {"WWW-Authenticate": "Bearer"}


async def posted_csrf_token(request: Request) -> str | None:
    """The CSRF token a cookie-authenticated write sends: the ``X-CSRF-Token`` header, else the
    ``csrf_token`` field of a posted form. Read only for writes without a Bearer key."""
    if request.method in SAFE_METHODS or request.headers.get("authorization"):
        return None
    header = request.headers.get("x-csrf-token")
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        value = (await request.form()).get("csrf_token")
        return value if isinstance(value, str) else None
    return None


def _is_browser_page(request: Request) -> bool:
    """A browser opening one of the HTML pages (the report, the QR sheet): it is sent to sign in."""
    path = request.url.path
    return (
        request.method == "GET"
        and (path.startswith("/reports/") or path.endswith(".html"))
        and "text/html" in request.headers.get("accept", "")
    )


async def get_principal(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    csrf_token: Annotated[str | None, Depends(posted_csrf_token)],
    unit_of_work: UnitOfWorkDep,
) -> Principal | PendingKey:
    """The caller of an API route: a Bearer key, else a signed-in session (writes need its CSRF
    token); 401 when neither is there or the key is unknown, revoked or expired.

    Tells the rate limiter what it found (``KEY_VERIFIED``): a key is counted against itself only
    once verified, and against the client address while made up or refused. A route marked with
    :func:`checks_key_in_unit_of_work` gets a :class:`PendingKey` for a Bearer key instead, and
    checks it in its own unit of work (:func:`confirm_key`): one worker-thread hop and one
    transaction for the whole call.
    """
    if credentials is None or not credentials.credentials:
        return await run_in_threadpool(_signed_in_principal, request, session, csrf_token)
    digest = hash_secret(credentials.credentials)
    route = request.scope.get("route")
    if getattr(route, "endpoint", None) in _KEY_CHECKED_BY_ROUTE:
        pending = PendingKey(digest)
        setattr(
            request.state,
            UNCONFIRMED_CALLER,
            functools.partial(_refuse_unless_confirmed, pending, unit_of_work),
        )
        return pending
    return await run_in_threadpool(_key_principal, request, session, digest)


def _signed_in_principal(request: Request, session: Session, csrf_token: str | None) -> Principal:
    # Imported here: the sign-in domain builds on this module.
    from app.users.sessions import SignInRequired, principal_from_cookie

    principal = principal_from_cookie(request, session, csrf_token=csrf_token)
    if principal is None:
        if _is_browser_page(request):
            raise SignInRequired("/login")
        raise Unauthorized(
            "Send an API key (Authorization: Bearer <key>) or sign in at /login.",
            headers=_BEARER_CHALLENGE,
        )
    return principal


def _key_principal(request: Request, session: Session, digest: str) -> Principal:
    autocommit(session)  # one round trip for the lookup, none to begin or end it
    principal = verified_key(session, request, digest)
    # In this worker-thread hop: the request then holds no connection while its route runs.
    end_transaction(session)
    return principal


def verified_key(session: Session, request: Request, digest: str) -> Principal:
    """The principal of the key stored under ``digest``, or 401 when it is unknown, revoked or
    expired; notes its use (at most once per ``LAST_USED_RESOLUTION``) and the rate limiter's verdict."""
    api_key = apikey_repository.key_by_secret_hash(session, digest)
    now = utcnow()
    if (
        api_key is None
        or not hmac.compare_digest(api_key.secret_hash, digest)
        or api_key.revoked_at is not None
        or (api_key.expires_at is not None and api_key.expires_at <= now)
    ):
        setattr(request.state, KEY_VERIFIED, False)
        _verified_here.discard(digest)
        raise Unauthorized("This API key is unknown, revoked or expired.", headers=_BEARER_CHALLENGE)
    setattr(request.state, KEY_VERIFIED, True)
    if api_key.last_used_at is None or now - api_key.last_used_at >= LAST_USED_RESOLUTION:
        api_key.last_used_at = now
        session.add(api_key)
    assert api_key.id is not None
    principal = Principal(
        api_key_id=api_key.id, municipality_id=api_key.municipality_id, scopes=api_key.scope_set
    )
    _verified_here.put(digest, VerifiedKey(principal, api_key.last_used_at or now))
    return principal


KEYS_REMEMBERED = 1_000
"""Keys verified in this process that it remembers (each a digest, a few ids and its scopes)."""


@dataclass(frozen=True)
class VerifiedKey:
    """A key this process verified: its principal (a key's municipality and scopes never change),
    and when its last use was noted in the database."""

    principal: Principal
    noted_at: datetime


_verified_here: caches.LRU[str, VerifiedKey] = caches.lru(KEYS_REMEMBERED)


def verified_here(request: Request, pending: PendingKey, now: datetime) -> Principal | None:
    """The principal of a pending key this process verified before, if its last use was noted less
    than ``LAST_USED_RESOLUTION`` ago and it passes every scope check it passed by; else None.

    A hint, never a proof: whether the key is still live (not revoked, not expired) is for the
    caller's own statement to check (:func:`app.apikeys.repository.live_key`), and a caller whose
    statement did nothing checks the key in full (:func:`confirm_key`). A hint that turns out
    wrong costs that one full check, and the key is forgotten.
    """
    known = _verified_here.get(pending.digest)
    if known is None or now - known.noted_at >= LAST_USED_RESOLUTION:
        return None
    for check in getattr(request.state, _PENDING_CHECKS, ()):
        if not check.allows(known.principal):
            return None
    return known.principal


def confirmed_by_statement(request: Request) -> None:
    """Tell the rate limiter that the request's key was found live (by the caller's own statement)."""
    setattr(request.state, KEY_VERIFIED, True)


@dataclass(frozen=True)
class PendingKey:
    """A Bearer key not checked yet: what a route marked with :func:`checks_key_in_unit_of_work` gets.

    It is no :class:`Principal` (it names no municipality and no scopes), so nothing can mistake it
    for a caller; :func:`confirm_key` turns it into one, in the route's own transaction, and applies
    every scope check the route's dependencies (its routers' too) asked for on the way.
    """

    digest: str


_PENDING_CHECKS = "pending_scope_checks"


_KEY_CHECKED_BY_ROUTE: set[Callable[..., object]] = set()


def checks_key_in_unit_of_work(endpoint: F) -> F:
    """Mark a route whose unit of work checks the caller's Bearer key itself, with :func:`confirm_key`
    as its first statement (the route then gets a :class:`PendingKey` from its scope check)."""
    _KEY_CHECKED_BY_ROUTE.add(endpoint)
    return endpoint


UNCONFIRMED_CALLER = "unconfirmed_caller"
"""Where a route marked with :func:`checks_key_in_unit_of_work` keeps, until its unit of work runs,
an ``async`` check of its caller: the request's error handlers await it before they refuse the
input (422), so that a key that is made up, revoked or without the scope hears 401 or 403 first,
as it does on every other route."""


async def _refuse_unless_confirmed(pending: PendingKey, unit_of_work: UnitOfWork, request: Request) -> None:
    await unit_of_work.run(confirm_key, request, pending)  # commits the key's last use


def confirm_key(session: Session, request: Request, caller: Principal | PendingKey) -> Principal:
    """The caller as a :class:`Principal`: a pending key is checked now (401 when unknown, revoked or
    expired), and then held to every scope check it passed by (403)."""
    if isinstance(caller, Principal):
        return caller
    principal = verified_key(session, request, caller.digest)
    for check in getattr(request.state, _PENDING_CHECKS, ()):
        check.check(principal)
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]
"""The caller (a :class:`PendingKey` only in a route marked with :func:`checks_key_in_unit_of_work`)."""


class ScopeCheck:
    """A dependency that lets the call through when the key holds the scopes it names.

    ``require_all`` False: at least one of ``scopes``; True: every one. A class rather than a
    closure so that what a route needs can be read from its dependencies (the README's scope
    table is derived from them, see tests/app/test_scopes.py).
    """

    def __init__(self, *scopes: Scope, require_all: bool = False) -> None:
        if not scopes:
            raise ValueError("name at least one scope")
        self.scopes = tuple(scopes)
        self.require_all = require_all

    async def __call__(self, request: Request, principal: CurrentPrincipal) -> Principal:
        # async: a check of a set in memory costs no worker-thread hop
        if isinstance(principal, PendingKey):  # applied with the key check (confirm_key)
            pending: list[ScopeCheck] = getattr(request.state, _PENDING_CHECKS, [])
            setattr(request.state, _PENDING_CHECKS, [*pending, self])
            return principal
        return self.check(principal)

    def allows(self, principal: Principal) -> bool:
        needed = {scope.value for scope in self.scopes}
        return needed <= principal.scopes if self.require_all else bool(needed & principal.scopes)

    def check(self, principal: Principal) -> Principal:
        """``principal`` when it holds the scopes, else 403."""
        if self.allows(principal):
            return principal
        if self.require_all:
            missing = sorted({scope.value for scope in self.scopes} - principal.scopes)
            names = " and ".join(scope.value for scope in self.scopes)
            raise Forbidden(
                f"This API key (or account) lacks the scope {' and '.join(missing)} (needs {names})."
            )
        names = " or ".join(scope.value for scope in self.scopes)
        raise Forbidden(f"This API key (or account) lacks the scope {names}.")


def require_scope(*needed: Scope) -> ScopeCheck:
    """A dependency that lets the call through when the key holds at least one of ``needed``."""
    return ScopeCheck(*needed)


def require_all_scopes(*needed: Scope) -> ScopeCheck:
    """A dependency that lets the call through only when the key holds every one of ``needed``."""
    return ScopeCheck(*needed, require_all=True)


ManagePrincipal = Annotated[Principal, Depends(require_scope(Scope.manage))]
ProfessionalManagePrincipal = Annotated[
    Principal, Depends(require_all_scopes(Scope.manage, Scope.reports_professional))
]
"""Managing what shows a professional's scores (feedback links): ``manage`` and ``reports:professional``."""
