"""The session cookie -> :class:`~app.auth.Principal`, the CSRF token, and the dependencies pages use.

For pages built on the sign-in (``/app/...``)::

    from app.users.sessions import SignedInDep, require_page_scope

    @router.get("/app/teams")
    def teams(request: Request, signed_in: SignedInDep) -> HTMLResponse:
        ...  # signed_in.principal goes to the services, signed_in.csrf_token into every form

    @router.post("/app/teams", dependencies=[Depends(require_page_scope(Scope.manage))])
    def add_team(signed_in: SignedInDep, name: Annotated[str, Form()]) -> Response: ...

- Signed out (or idle too long, past the absolute lifetime, disabled, or still owing the second
  factor), a page answers 303 to ``/login`` (``/login/enrol`` or ``/login/totp`` when the person is
  half-way). On the JSON API, :func:`app.auth.get_principal` answers 401 instead.
- A write (any method but GET/HEAD/OPTIONS) made with the cookie must carry the session's CSRF
  token: a form's hidden ``csrf_token`` field (``{{ csrf_field(signed_in) }}`` in a template), or the
  ``X-CSRF-Token`` header. Without it, or with another session's: 403 (a plain-Dutch page, or
  problem+json under ``/api``). The token is an HMAC of the session's token with the secret key:
  per session, nothing to store, and it changes with every sign-in.
- The cookie: ``HttpOnly``, ``SameSite=Lax``, ``Path=/``, ``Secure`` with ``VERBONDEN_HTTPS=true``;
  no expiry (it ends with the browser), while the server ends it after ``SESSION_IDLE_MINUTES``
  without use and ``SESSION_MAX_HOURS`` after sign-in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup, escape
from sqlmodel import Session

from app.auth import SAFE_METHODS, Principal, Scope, posted_csrf_token
from app.config import Settings
from app.db import SessionDep, utcnow
from app.errors import Forbidden, problem
from app.models import Municipality, User, UserSession
from app.users import crypto, repository, service

SESSION_COOKIE = "verbonden_session"
# Before anyone signs in, the sign-in forms are bound to this cookie (login CSRF).
FORM_COOKIE = "verbonden_form"
LAST_SEEN_RESOLUTION = timedelta(minutes=1)
_STATE_KEY = "verbonden_signed_in"


@dataclass(frozen=True)
class SignedIn:
    """A browser's session with its account: what a page needs to serve a signed-in person."""

    user: User
    user_session: UserSession
    municipality: Municipality | None
    principal: Principal
    csrf_token: str


class SignInRequired(Exception):
    """A page needs a signed-in person: answered with 303 to ``location``."""

    def __init__(self, location: str = "/login") -> None:
        super().__init__(location)
        self.location = location


class CsrfRefused(Forbidden):
    """A write with the session cookie but without (or with another session's) CSRF token."""


def session_csrf_token(settings: Settings, session_token: str) -> str:
    return crypto.keyed_hash(settings.secret_key, "csrf-session", session_token)


def form_csrf_token(settings: Settings, form_cookie: str) -> str:
    return crypto.keyed_hash(settings.secret_key, "csrf-form", form_cookie)


def csrf_field(token: str | SignedIn) -> Markup:
    """The hidden form field with the CSRF token (for templates)."""
    value = token.csrf_token if isinstance(token, SignedIn) else token
    return Markup('<input type="hidden" name="csrf_token" value="{}">').format(escape(value))


def _settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def set_session_cookie(response: Response, request: Request, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE, token, httponly=True, samesite="lax", secure=_settings(request).https, path="/"
    )


def clear_session_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(
        SESSION_COOKIE, httponly=True, samesite="lax", secure=_settings(request).https, path="/"
    )


FULL = frozenset({service.STAGE_FULL})
ANY_STAGE = frozenset({service.STAGE_FULL, service.STAGE_TOTP, service.STAGE_ENROL})


def resolve(
    request: Request, session: Session, *, stages: frozenset[str] = FULL, owing: bool = False
) -> SignedIn | None:
    """The browser's live session in one of ``stages``, or None (an ended session is deleted when
    the request succeeds, else at the next sign-in).

    A full session of an account that must set up a second factor first counts only with ``owing``.
    """
    token = request.cookies.get(SESSION_COOKIE)
    if not token or len(token) > 100:
        return None
    cached: dict[tuple[frozenset[str], bool], SignedIn | None] = request.scope.setdefault(_STATE_KEY, {})
    if (stages, owing) in cached:
        return cached[(stages, owing)]
    settings = _settings(request)
    found = repository.session_by_token_hash(session, crypto.token_hash(token))
    signed_in = None
    if found is not None:
        user_session, user, municipality = found
        now = utcnow()
        if user.disabled_at is not None or not service.valid_until(user_session, settings, now):
            service.end_session(session, user_session)
        elif user_session.stage in stages and (
            owing or not _owes_second_factor(user_session, user, municipality)
        ):
            if now - user_session.last_seen_at >= LAST_SEEN_RESOLUTION:
                assert user_session.id is not None
                repository.touch_session(session, user_session.id, now)
            signed_in = SignedIn(
                user=user,
                user_session=user_session,
                municipality=municipality,
                principal=service.principal_for(user),
                csrf_token=session_csrf_token(settings, token),
            )
    cached[(stages, owing)] = signed_in
    return signed_in


def _owes_second_factor(user_session: UserSession, user: User, municipality: Municipality | None) -> bool:
    """A full session of an account whose municipality came to require a second factor it lacks."""
    return (
        user_session.stage == service.STAGE_FULL
        and user.totp_enabled_at is None
        and municipality is not None
        and municipality.require_2fa
    )


def check_csrf(request: Request, signed_in: SignedIn, given: str | None) -> None:
    if request.method not in SAFE_METHODS and not crypto.same(given, signed_in.csrf_token):
        raise CsrfRefused(
            "This request needs the session's CSRF token (X-CSRF-Token header or csrf_token field)."
        )


def principal_from_cookie(request: Request, session: Session, *, csrf_token: str | None) -> Principal | None:
    """The API's view of a signed-in browser (see :func:`app.auth.get_principal`)."""
    signed_in = resolve(request, session)
    if signed_in is None:
        return None
    check_csrf(request, signed_in, csrf_token)
    return signed_in.principal


def get_signed_in(
    request: Request, session: SessionDep, csrf_token: Annotated[str | None, Depends(posted_csrf_token)]
) -> SignedIn:
    """The signed-in person of a page; 303 to ``/login`` (or the step still to do) without one."""
    signed_in = resolve(request, session)
    if signed_in is None:
        halfway = resolve(request, session, stages=ANY_STAGE, owing=True)
        if halfway is None:
            raise SignInRequired("/login")
        raise SignInRequired(
            "/login/totp" if halfway.user_session.stage == service.STAGE_TOTP else "/login/enrol"
        )
    check_csrf(request, signed_in, csrf_token)
    return signed_in


SignedInDep = Annotated[SignedIn, Depends(get_signed_in)]


class PageScopeCheck:
    """A page dependency: the signed-in person's role grants one of ``scopes`` (``require_all``:
    every one of them), else a 403 page. A class, like :class:`app.auth.ScopeCheck`, so that the
    route walk in the tests can read what each page needs."""

    def __init__(self, scopes: tuple[Scope, ...], *, require_all: bool = False) -> None:
        self.scopes = frozenset(scope.value for scope in scopes)
        self.require_all = require_all

    def __call__(self, signed_in: SignedInDep) -> SignedIn:
        held = signed_in.principal.scopes
        allowed = self.scopes <= held if self.require_all else bool(self.scopes & held)
        if not allowed:
            raise Forbidden("Your role does not allow this page.")
        return signed_in


def require_page_scope(*needed: Scope, require_all: bool = False) -> Callable[[SignedIn], SignedIn]:
    """A page dependency: the signed-in person's role grants one of ``needed`` (``require_all``:
    every one), else 403 page."""
    return PageScopeCheck(needed, require_all=require_all)


def install_sign_in_handlers(app: FastAPI) -> None:
    """Signed-out pages redirect to the sign-in; a refused CSRF token gets a plain-Dutch page."""
    from app.users.views import render_message

    @app.exception_handler(SignInRequired)
    def _sign_in(request: Request, exc: SignInRequired) -> Response:
        return RedirectResponse(exc.location, status_code=303)

    @app.exception_handler(CsrfRefused)
    def _csrf(request: Request, exc: CsrfRefused) -> Response:
        if request.url.path.startswith("/api/"):
            return problem(403, exc.detail)
        return render_message(request, "csrf", status_code=403)
