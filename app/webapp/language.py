"""The web app's language (issue #16): Dutch first, English a click away, remembered in a cookie.

Every text of the pages under ``/app/`` lives in ``templates/app/messages.yaml`` (``nl:`` and
``en:``, the same keys). The language of a request is ``?lang=`` when it is ``nl`` or ``en``, else
the cookie ``lang``, else Dutch. A page opened with ``?lang=`` sets the cookie (``Path=/app``,
``SameSite=Lax``, ``HttpOnly``), so every later link, form and redirect of the web app keeps the
choice without carrying it. Each page shows a link "English" / "Nederlands" to itself with the
other ``lang``.

:class:`PageLanguageMiddleware` reads the language once per request and holds it in a context
variable, so code that words a message (a field error, a notice, an import row) calls :func:`say`
without a language argument; :func:`speaking` sets it for code run outside a request (tests).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from functools import cache
from http.cookies import SimpleCookie
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode

import yaml
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.publication.dates import MONTHS
from app.templates import TEMPLATES_DIR

Language = Literal["nl", "en"]
LANGUAGES: tuple[Language, ...] = ("nl", "en")
DEFAULT: Language = "nl"
COOKIE = "lang"
COOKIE_PATH = "/app"
COOKIE_MAX_AGE = 365 * 24 * 3600
APP_PREFIX = "/app"
_current: ContextVar[Language] = ContextVar("webapp_language", default=DEFAULT)


@cache
def messages() -> dict[str, dict[str, str]]:
    """Every text of the web app per language (``templates/app/messages.yaml``)."""
    with (TEMPLATES_DIR / "app" / "messages.yaml").open(encoding="utf-8") as file:
        loaded: dict[str, dict[str, str]] = yaml.safe_load(file)
    return loaded


def _valid(value: str | None) -> Language | None:
    return value if value in LANGUAGES else None


def chosen(query_lang: str | None, cookie_lang: str | None) -> Language:
    """``?lang=`` when valid, else the cookie, else Dutch."""
    return _valid(query_lang) or _valid(cookie_lang) or DEFAULT


def of_request(request: Request) -> Language:
    return chosen(request.query_params.get("lang"), request.cookies.get(COOKIE))


def current() -> Language:
    """The language of the request being answered (Dutch outside one)."""
    return _current.get()


@contextmanager
def speaking(lang: Language) -> Iterator[None]:
    """Word messages in ``lang`` within the block (for code run outside a request)."""
    token = _current.set(lang)
    try:
        yield
    finally:
        _current.reset(token)


def say(key: str, lang: Language | None = None, **values: Any) -> str:
    """The text ``key`` in the current language, its ``{placeholders}`` filled in."""
    text = messages()[lang or current()][key]
    return text.format(**values) if values else text


def plural(count: int, one: str, many: str, **values: Any) -> str:
    """``one`` or ``many`` (keys) by ``count``, with ``{n}`` the count."""
    return say(one if count == 1 else many, n=count, **values)


class Texts(Mapping[str, str]):
    """The texts of one language for a template: ``t.key`` or ``t['key']``."""

    def __init__(self, lang: Language) -> None:
        self.lang = lang
        self._texts = messages()[lang]
        # ``t.key`` is then a plain attribute: a page of 2,000 rows looks texts up ten thousand times.
        # (No key is named like a method of this class: tests/app/test_webapp_language.py checks it.)
        self.__dict__.update(self._texts)

    def __getitem__(self, key: str) -> str:
        return self._texts[key]

    def __getattr__(self, key: str) -> str:  # a key not in the language: AttributeError, as before
        raise AttributeError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(self._texts)

    def __len__(self) -> int:
        return len(self._texts)

    def __call__(self, key: str, **values: Any) -> str:
        return say(key, self.lang, **values)


def texts(lang: Language | None = None) -> Texts:
    return Texts(lang or current())


# -- days and numbers -----------------------------------------------------------------------------------


def day(moment: datetime | None, lang: Language | None = None) -> str:
    """A day as the reader writes it: ``02-12-2026`` (nl) or ``2 Dec 2026`` (en); the stored (UTC) day."""
    if moment is None:
        return ""
    if (lang or current()) == "en":
        return f"{moment.day} {MONTHS['en'][moment.month - 1][:3]} {moment.year}"
    return f"{moment:%d-%m-%Y}"


def moment_text(moment: datetime | None, lang: Language | None = None) -> str:
    """A day and time in UTC: ``02-12-2026 14:30 UTC`` (nl) or ``2 Dec 2026 14:30 UTC`` (en)."""
    if moment is None:
        return ""
    return f"{day(moment, lang)} {moment:%H:%M} UTC"


def number(value: float | int, digits: int = 0, lang: Language | None = None) -> str:
    """A number with a decimal comma in Dutch and a point in English."""
    text = f"{value:.{digits}f}"
    return text.replace(".", ",") if (lang or current()) == "nl" else text


# -- the switch link --------------------------------------------------------------------------------------

# A form's POST answers with the page it belongs to: the switch link of that answer opens that page.
_POSTED_PAGE = [
    (re.compile(r"^/app/partners$"), "/app/teams"),
    (re.compile(r"^/app/teams/import/confirm$"), "/app/teams/import"),
    (re.compile(r"^(/app/teams/\d+)/professionals$"), r"\1"),
    (re.compile(r"^(/app/waves/\d+)/personal-links$"), r"\1"),
    (re.compile(r"^/app/users/.+$"), "/app/users"),
    (re.compile(r"^/app/apikeys/.+$"), "/app/apikeys"),
]
# Query parameters a page may be opened with that only make sense once (a notice).
_ONCE = {"lang", "done", "added", "partner", "imported", "problem"}


def switch_url(request: Request, to: Language) -> str:
    """The page itself in the other language (for a POST's answer: the page the form belongs to)."""
    path = request.url.path
    kept: list[tuple[str, str]] = []
    if request.method == "GET":
        kept = [(name, value) for name, value in parse_qsl(request.url.query) if name not in _ONCE]
    else:
        for pattern, page in _POSTED_PAGE:
            if pattern.match(path):
                path = pattern.sub(page, path)
                break
    return f"{path}?{urlencode([*kept, ('lang', to)])}"


def switch(request: Request, lang: Language) -> dict[str, Any]:
    """The context a page needs for its language: ``lang``, ``t``, the switch link and its label."""
    other: Language = "en" if lang == "nl" else "nl"
    return {
        "lang": lang,
        "t": texts(lang),
        "other_lang": other,
        "switch_url": switch_url(request, other),
        "switch_label": messages()[other]["language_name"],
        "day": lambda moment: day(moment, lang),
        "moment": lambda moment: moment_text(moment, lang),
    }


# -- the middleware ---------------------------------------------------------------------------------------


class PageLanguageMiddleware:
    """Pure ASGI: under ``/app``, the request's language in :func:`current`, and ``?lang=`` kept as the
    cookie ``lang`` (set when it differs from the cookie the browser sent)."""

    def __init__(self, app: ASGIApp, https: bool = False) -> None:
        self.app = app
        self.https = https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith(APP_PREFIX):
            await self.app(scope, receive, send)
            return
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        cookie_header = next((value for name, value in scope.get("headers", []) if name == b"cookie"), b"")
        cookies = SimpleCookie()
        try:
            cookies.load(cookie_header.decode("latin-1"))
        except Exception:
            cookies = SimpleCookie()
        sent = cookies[COOKIE].value if COOKIE in cookies else None
        asked = _valid(query.get("lang"))
        lang = chosen(asked, sent)
        token = _current.set(lang)
        remember = asked is not None and asked != sent

        async def send_with_cookie(message: Message) -> None:
            if remember and message["type"] == "http.response.start":
                secure = "; Secure" if self.https else ""
                value = (
                    f"{COOKIE}={asked}; Path={COOKIE_PATH}; Max-Age=31536000; HttpOnly; SameSite=Lax{secure}"
                )
                message = {
                    **message,
                    "headers": [*message.get("headers", []), (b"set-cookie", value.encode())],
                }
            await send(message)

        try:
            await self.app(scope, receive, send_with_cookie)
        finally:
            _current.reset(token)


def _register_template_global() -> None:
    """``webapp_texts()`` in every template: the texts of the request's language, for a page whose
    route renders it without the web app's context (the team's QR sheets: their frame is for staff)."""
    from app.templates import environment

    environment.globals["webapp_texts"] = texts


_register_template_global()


def install_page_language(app: Any) -> None:
    """Add :class:`PageLanguageMiddleware` (the cookie is ``Secure`` when the site runs on https)."""
    app.add_middleware(PageLanguageMiddleware, https=bool(app.state.settings.https))
