"""The sign-in pages (``/login``...), ``POST /logout`` and the landing page ``/app/``.

Thin routes: they read the form, call :mod:`app.users.service` and render a template from
``templates/users/``. Texts live in ``templates/users/messages.yaml`` (Dutch, English second);
``?lang=en`` (or the form's ``lang`` field) switches. No JavaScript; every form carries a CSRF token.
"""

from __future__ import annotations

import secrets
from functools import cache
from typing import Annotated, Any

import yaml
from fastapi import APIRouter, BackgroundTasks, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.config import Settings
from app.db import SessionDep
from app.organisation import qr
from app.organisation import service as organisation
from app.ratelimit import client_address
from app.templates import TEMPLATES_DIR, templates
from app.users import mail, service
from app.users.crypto import PASSWORD_MIN_LENGTH, same
from app.users.sessions import (
    ANY_STAGE,
    FORM_COOKIE,
    SESSION_COOKIE,
    SignedIn,
    SignedInDep,
    clear_session_cookie,
    csrf_field,
    form_csrf_token,
    resolve,
    set_session_cookie,
)
from app.webapp import language as webapp_language
from app.webapp import overview as webapp_overview
from app.webapp.views import page_context

router = APIRouter(tags=["sign-in"], include_in_schema=False)
LANGUAGES = ("nl", "en")
Lang = Annotated[str, Form(max_length=2)]
FormText = Annotated[str, Form(max_length=1024)]
Token = Annotated[str, Path(min_length=1, max_length=100)]
APP_HOME = "/app/"


@cache
def messages() -> dict[str, dict[str, str]]:
    with (TEMPLATES_DIR / "users" / "messages.yaml").open(encoding="utf-8") as file:
        loaded: dict[str, dict[str, str]] = yaml.safe_load(file)
    return loaded


def language(value: str | None) -> str:
    return value if value in LANGUAGES else "nl"


def _settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def _with_lang(url: str, lang: str) -> str:
    return url if lang == "nl" else f"{url}{'&' if '?' in url else '?'}lang={lang}"


def render(
    request: Request,
    template: str,
    lang: str,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    other = "en" if lang == "nl" else "nl"
    path = request.url.path
    return templates.TemplateResponse(
        request,
        f"users/{template}",
        {
            "lang": lang,
            "t": messages()[lang],
            "switch_url": path if other == "nl" else f"{path}?lang=en",
            "switch_label": messages()[other]["language_name"],
            "csrf_field": csrf_field,
            "min_length": PASSWORD_MIN_LENGTH,
            "with_lang": lambda url: _with_lang(url, lang),
            **context,
        },
        status_code=status_code,
        headers=headers,
    )


def render_message(
    request: Request,
    key: str,
    *,
    lang: str | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **values: Any,
) -> HTMLResponse:
    """A page with a heading and a paragraph (``<key>_title``, ``<key>_body`` in messages.yaml)."""
    lang = language(lang or request.query_params.get("lang"))
    t = messages()[lang]
    return render(
        request,
        "message.html",
        lang,
        status_code=status_code,
        headers=headers,
        heading=t[f"{key}_title"],
        body=t[f"{key}_body"].format(**values),
    )


def _form_token(request: Request) -> tuple[str, str | None]:
    """The CSRF token of the signed-out forms, and a new cookie to set when the browser had none."""
    cookie = request.cookies.get(FORM_COOKIE)
    if cookie and 20 <= len(cookie) <= 100:
        return form_csrf_token(_settings(request), cookie), None
    cookie = secrets.token_urlsafe(32)
    return form_csrf_token(_settings(request), cookie), cookie


def _with_form_cookie(request: Request, response: Response, cookie: str | None) -> Response:
    if cookie is not None:
        response.set_cookie(
            FORM_COOKIE, cookie, httponly=True, samesite="lax", secure=_settings(request).https, path="/"
        )
    return response


def _form_csrf_ok(request: Request, given: str) -> bool:
    cookie = request.cookies.get(FORM_COOKIE)
    return bool(cookie) and same(given, form_csrf_token(_settings(request), cookie or ""))


def _throttled(request: Request, lang: str, exc: service.Throttled) -> HTMLResponse:
    minutes = max(1, (exc.retry_after + 59) // 60)
    return render_message(
        request,
        "throttled",
        lang=lang,
        status_code=429,
        headers={"Retry-After": str(exc.retry_after)},
        minutes=minutes,
    )


def _signed_in_redirect(request: Request, location: str, token: str, lang: str) -> Response:
    response = RedirectResponse(_with_lang(location, lang), status_code=303)
    set_session_cookie(response, request, token)
    return response


def _end_current(request: Request, session: SessionDep) -> None:
    """Whatever session the browser brought ends: a sign-in always starts a new one (no fixation)."""
    current = resolve(request, session, stages=ANY_STAGE, owing=True)
    if current is not None:
        service.end_session(session, current.user_session)


# -- sign-in -----------------------------------------------------------------------------------------


def _login_page(
    request: Request, lang: str, *, email: str = "", error: bool = False, notice: str | None = None
) -> Response:
    token, cookie = _form_token(request)
    page = render(
        request,
        "login.html",
        lang,
        csrf_token=token,
        email=email,
        error=error,
        notice=notice,
    )
    return _with_form_cookie(request, page, cookie)


@router.get("/login", response_class=HTMLResponse)
def login_page(
    request: Request, session: SessionDep, lang: str | None = None, done: str | None = None
) -> Response:
    if resolve(request, session) is not None:
        return RedirectResponse(_with_lang(APP_HOME, language(lang)), status_code=303)
    notice = {"password": "password_set", "logout": "logged_out"}.get(done or "")
    return _login_page(request, language(lang), notice=notice)


@router.post("/login")
def login(
    request: Request,
    session: SessionDep,
    email: Annotated[str, Form(max_length=320)] = "",
    password: FormText = "",
    csrf_token: FormText = "",
    lang: Lang = "nl",
) -> Response:
    lang = language(lang)
    if not _form_csrf_ok(request, csrf_token):
        return render_message(request, "csrf", lang=lang, status_code=403)
    settings = _settings(request)
    try:
        user = service.authenticate(
            session, settings, email=email, password=password, address=client_address(request.scope)
        )
    except service.Throttled as exc:
        return _throttled(request, lang, exc)
    except service.SignInFailed:
        return _login_page(request, lang, email=email.strip()[:254], error=True)
    _end_current(request, session)
    municipality = service.municipality_of(session, user)
    stage = service.stage_after_password(user, municipality)
    if stage == service.STAGE_FULL:
        token = service.complete_sign_in(session, settings, user=user, second_factor="none")
        return _signed_in_redirect(request, APP_HOME, token, lang)
    token = service.start_session(session, settings, user=user, stage=stage)
    return _signed_in_redirect(request, f"/login/{stage}", token, lang)


def _halfway(request: Request, session: SessionDep, stage: str) -> SignedIn | None:
    return resolve(request, session, stages=frozenset({stage}))


@router.get("/login/totp", response_class=HTMLResponse)
def totp_page(request: Request, session: SessionDep, lang: str | None = None) -> Response:
    lang = language(lang)
    halfway = _halfway(request, session, service.STAGE_TOTP)
    if halfway is None:
        return RedirectResponse(_with_lang("/login", lang), status_code=303)
    return render(request, "totp.html", lang, csrf_token=halfway.csrf_token, error=False)


@router.post("/login/totp")
def totp(
    request: Request,
    session: SessionDep,
    code: Annotated[str, Form(max_length=64)] = "",
    csrf_token: FormText = "",
    lang: Lang = "nl",
) -> Response:
    lang = language(lang)
    halfway = _halfway(request, session, service.STAGE_TOTP)
    if halfway is None:
        return RedirectResponse(_with_lang("/login", lang), status_code=303)
    if not same(csrf_token, halfway.csrf_token):
        return render_message(request, "csrf", lang=lang, status_code=403)
    settings = _settings(request)
    try:
        second_factor = service.verify_second_factor(
            session, settings, user=halfway.user, code=code, address=client_address(request.scope)
        )
    except service.Throttled as exc:
        return _throttled(request, lang, exc)
    except service.SignInFailed:
        return render(request, "totp.html", lang, csrf_token=halfway.csrf_token, error=True)
    service.end_session(session, halfway.user_session)
    token = service.complete_sign_in(session, settings, user=halfway.user, second_factor=second_factor)
    return _signed_in_redirect(request, APP_HOME, token, lang)


# -- enrolling a second factor -----------------------------------------------------------------------

ENROL_STAGES = frozenset({service.STAGE_ENROL, service.STAGE_FULL})


def _enrol_page(
    request: Request, session: SessionDep, signed_in: SignedIn, lang: str, *, error: bool
) -> Response:
    enrolment = service.begin_enrolment(session, _settings(request), user=signed_in.user)
    secret_groups = " ".join(enrolment.secret[i : i + 4] for i in range(0, len(enrolment.secret), 4))
    return render(
        request,
        "enrol.html",
        lang,
        csrf_token=signed_in.csrf_token,
        qr_svg=qr.qr_svg_inline(enrolment.uri),
        secret=enrolment.secret,
        secret_groups=secret_groups,
        required=signed_in.user_session.stage == service.STAGE_ENROL
        or bool(signed_in.municipality and signed_in.municipality.require_2fa),
        error=error,
        status_code=200 if not error else 422,
    )


@router.get("/login/enrol", response_class=HTMLResponse)
def enrol_page(request: Request, session: SessionDep, lang: str | None = None) -> Response:
    lang = language(lang)
    signed_in = resolve(request, session, stages=ENROL_STAGES, owing=True)
    if signed_in is None:
        return RedirectResponse(_with_lang("/login", lang), status_code=303)
    if signed_in.user.totp_enabled_at is not None:
        return render_message(request, "enrolled_already", lang=lang)
    return _enrol_page(request, session, signed_in, lang, error=False)


@router.post("/login/enrol")
def enrol(
    request: Request,
    session: SessionDep,
    code: Annotated[str, Form(max_length=64)] = "",
    csrf_token: FormText = "",
    lang: Lang = "nl",
) -> Response:
    lang = language(lang)
    signed_in = resolve(request, session, stages=ENROL_STAGES, owing=True)
    if signed_in is None:
        return RedirectResponse(_with_lang("/login", lang), status_code=303)
    if not same(csrf_token, signed_in.csrf_token):
        return render_message(request, "csrf", lang=lang, status_code=403)
    settings = _settings(request)
    try:
        codes = service.confirm_enrolment(
            session, settings, user=signed_in.user, code=code, address=client_address(request.scope)
        )
    except service.Throttled as exc:
        return _throttled(request, lang, exc)
    except service.SignInFailed:
        return _enrol_page(request, session, signed_in, lang, error=True)
    page = render(request, "recovery_codes.html", lang, codes=codes)
    # Half-way through a sign-in, the person is now fully in; signed in already, they get a fresh
    # session all the same (a new token after every change to how an account signs in).
    service.end_session(session, signed_in.user_session)
    token = service.complete_sign_in(session, settings, user=signed_in.user, second_factor="totp")
    set_session_cookie(page, request, token)
    return page


# -- signing out -------------------------------------------------------------------------------------


@router.post("/logout")
def logout(
    request: Request,
    session: SessionDep,
    csrf_token: FormText = "",
    everywhere: Annotated[str, Form(max_length=8)] = "",
    lang: Lang = "nl",
) -> Response:
    """End this session (with ``everywhere``: every session of the account)."""
    lang = language(lang)
    current = resolve(request, session, stages=ANY_STAGE, owing=True)
    if current is not None:
        if not same(csrf_token, current.csrf_token):
            return render_message(request, "csrf", lang=lang, status_code=403)
        if everywhere:
            service.end_every_session(session, user=current.user)
        else:
            service.end_session(session, current.user_session)
    response = RedirectResponse(_with_lang("/login?done=logout", lang), status_code=303)
    if request.cookies.get(SESSION_COOKIE):
        clear_session_cookie(response, request)
    return response


# -- "wachtwoord vergeten" and the one-time links ----------------------------------------------------


@router.get("/login/forgot", response_class=HTMLResponse)
def forgot_page(request: Request, lang: str | None = None) -> Response:
    lang = language(lang)
    token, cookie = _form_token(request)
    return _with_form_cookie(request, render(request, "forgot.html", lang, csrf_token=token), cookie)


@router.post("/login/forgot")
def forgot(
    request: Request,
    session: SessionDep,
    background: BackgroundTasks,
    email: Annotated[str, Form(max_length=320)] = "",
    csrf_token: FormText = "",
    lang: Lang = "nl",
) -> Response:
    """Says the same whether or not the address has an account; the mail leaves after the answer."""
    lang = language(lang)
    if not _form_csrf_ok(request, csrf_token):
        return render_message(request, "csrf", lang=lang, status_code=403)
    settings = _settings(request)
    try:
        found = service.request_reset(session, settings, email=email, address=client_address(request.scope))
    except service.Throttled as exc:
        return _throttled(request, lang, exc)
    if found is not None:
        user, token = found
        background.add_task(
            mail.send_link,
            settings,
            to=user.email,
            name=user.display_name,
            url=service.link_url(settings, token),
            purpose="reset",
            lang=lang,
        )
    return render_message(request, "reset_sent", lang=lang)


def _unusable(request: Request, lang: str, exc: service.LinkUnusable) -> Response:
    return render_message(
        request, f"link_{exc.reason}", lang=lang, status_code=410 if exc.reason != "unknown" else 404
    )


@router.get("/login/password/{token}", response_class=HTMLResponse)
def password_page(request: Request, session: SessionDep, token: Token, lang: str | None = None) -> Response:
    lang = language(lang)
    try:
        link, user = service.open_link(session, token)
    except service.LinkUnusable as exc:
        return _unusable(request, lang, exc)
    form_token, cookie = _form_token(request)
    page = render(
        request,
        "set_password.html",
        lang,
        csrf_token=form_token,
        email=user.email,
        invitation=link.purpose == service.PURPOSE_INVITE,
        problem=None,
    )
    return _with_form_cookie(request, page, cookie)


@router.post("/login/password/{token}")
def set_password(
    request: Request,
    session: SessionDep,
    token: Token,
    password: FormText = "",
    password_confirm: FormText = "",
    csrf_token: FormText = "",
    lang: Lang = "nl",
) -> Response:
    lang = language(lang)
    if not _form_csrf_ok(request, csrf_token):
        return render_message(request, "csrf", lang=lang, status_code=403)
    try:
        service.use_link(session, token=token, password=password, confirmation=password_confirm)
    except service.LinkUnusable as exc:
        return _unusable(request, lang, exc)
    except service.PasswordRefused as exc:
        link, user = service.open_link(session, token)
        return render(
            request,
            "set_password.html",
            lang,
            status_code=422,
            csrf_token=csrf_token,
            email=user.email,
            invitation=link.purpose == service.PURPOSE_INVITE,
            problem=exc.problem,
        )
    _end_current(request, session)
    response = RedirectResponse(_with_lang("/login?done=password", lang), status_code=303)
    clear_session_cookie(response, request)
    return response


# -- the landing page --------------------------------------------------------------------------------

MAX_LISTED = 200


@router.get("/app/", response_class=HTMLResponse)
def app_home(
    request: Request, session: SessionDep, signed_in: SignedInDep, lang: str | None = None
) -> Response:
    """Who is signed in, the waves with their reports, the QR sheets, and signing out (in the web
    app's language: ``?lang=`` or the cookie it leaves, :mod:`app.webapp.language`)."""
    lang = webapp_language.of_request(request)
    principal = signed_in.principal
    waves, _ = organisation.list_waves(session=session, principal=principal, limit=MAX_LISTED, offset=0)
    professionals: list[Any] = []
    if "manage" in principal.scopes:
        professionals, _ = organisation.list_professionals(
            session=session, principal=principal, limit=MAX_LISTED, offset=0
        )
    app_context = page_context(request)
    return render(
        request,
        "home.html",
        lang,
        switch_url=app_context["switch_url"],
        app_t=app_context["t"],
        state_word=app_context["state_word"],
        signed_in=signed_in,
        user=signed_in.user,
        municipality=signed_in.municipality,
        waves=waves,
        professionals=professionals,
        reports="reports:aggregate" in principal.scopes,
        manage="manage" in principal.scopes,
        admin="admin" in principal.scopes,
        role_label=messages()[lang][f"role_{signed_in.user.role}"],
        overview=webapp_overview.overview(
            session, principal, min_group_size=request.app.state.settings.min_group_size
        )
        if principal.municipality_id is not None and "reports:aggregate" in principal.scopes
        else [],
    )
