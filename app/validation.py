"""The one input layer for what a client may send: text, tokens, times and the size of a body.

- **Text** (names and other free text a person types): no control characters, no zero-width and no
  bidirectional-formatting characters (``PlainText``); a 422 names the field.
- **NUL** (U+0000) is refused in every JSON string and every query parameter before any route
  runs (a 422 naming the field); PostgreSQL cannot store it, and nobody types it.
- **Tokens** in a path (``/s/{token}``, ``/f/{token}``) that could never have been issued are not
  looked up: they are simply unknown (404).
- **Times**: a date without a time (``2026-12-01``) means that day in Europe/Amsterdam, where the
  coordinators are; the start of it for a "from" field and the end of it for an "until" field. A
  time of day needs a zone (``Z`` or ``+01:00``). Moments outside the years 1-9999 in UTC are a 422.
- **Bodies** are at most :data:`MAX_BODY_BYTES` (64 KB, as the respondent form); a larger one is a
  413 problem+json, refused before it is read in full.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

from fastapi import FastAPI
from pydantic import AfterValidator, AwareDatetime, BeforeValidator

MAX_BODY_BYTES = 64 * 1024
LOCAL_ZONE = ZoneInfo("Europe/Amsterdam")
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")
"""Every token we issue is URL-safe base64 (``secrets.token_urlsafe``)."""

# Unicode categories a name never needs: Cc control (NUL, tab, newline, ESC ...), Cf format (zero-width
# space/joiner, byte-order mark, soft hyphen, the bidi embeddings, overrides and isolates),
# Cs surrogates, Zl/Zp line and paragraph separators.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def refused_character(text: str) -> str | None:
    """The first character of ``text`` that a name may not hold, as ``U+XXXX``, or None."""
    for character in text:
        if unicodedata.category(character) in _REFUSED_CATEGORIES:
            return f"U+{ord(character):04X}"
    return None


def _plain_text(text: str) -> str:
    found = refused_character(text)
    if found is not None:
        raise ValueError(
            f"must not contain control, zero-width or bidirectional formatting characters (found {found})"
        )
    return text


PlainText = AfterValidator(_plain_text)
"""Add to a ``str`` field that a person types (a name): refuses invisible and control characters."""


def could_be_token(token: str) -> bool:
    """Whether ``token`` has the shape of a token we issue; anything else is not looked up."""
    return TOKEN_PATTERN.fullmatch(token) is not None


# -- times --------------------------------------------------------------------------------------------

_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _day_in_amsterdam(value: Any, *, end: bool) -> Any:
    if isinstance(value, str) and _DATE_ONLY.fullmatch(value.strip()):
        try:
            value = date.fromisoformat(value.strip())
        except ValueError:
            return value  # let the datetime validation say what is wrong
    if isinstance(value, date) and not isinstance(value, datetime):
        try:
            day = value + timedelta(days=1) if end else value
        except OverflowError:
            raise ValueError("the day after 9999-12-31 lies outside the years 1-9999") from None
        return datetime.combine(day, time(), tzinfo=LOCAL_ZONE)
    return value


def _in_utc(moment: datetime) -> datetime:
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # e.g. 9999-12-31T23:59:59-05:00 or 0001-01-01T00:30+01:00
        raise ValueError("the moment lies outside the years 1-9999 in UTC") from None


StartMoment = Annotated[
    AwareDatetime, BeforeValidator(lambda value: _day_in_amsterdam(value, end=False)), AfterValidator(_in_utc)
]
"""A moment from which something holds: a date alone is the start of that day in Europe/Amsterdam."""

EndMoment = Annotated[
    AwareDatetime, BeforeValidator(lambda value: _day_in_amsterdam(value, end=True)), AfterValidator(_in_utc)
]
"""A moment until which something holds (exclusive): a date alone includes that whole day, so it
means the midnight that ends it in Europe/Amsterdam."""


# -- the body and query middleware --------------------------------------------------------------------


def _problem(status: int, title: str, detail: str, **extra: Any) -> tuple[int, bytes]:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return status, json.dumps(body).encode()


def _nul_location(value: Any, location: list[str]) -> list[str] | None:
    """Where in parsed JSON a string (or a key) holds NUL, as a ``loc`` list, or None."""
    if isinstance(value, str):
        return location if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            if "\x00" in key:
                return [*location, key.replace("\x00", "\\u0000")]
            found = _nul_location(item, [*location, key])
            if found is not None:
                return found
    if isinstance(value, list):
        for position, item in enumerate(value):
            found = _nul_location(item, [*location, str(position)])
            if found is not None:
                return found
    return None


def _nul_error(location: list[str]) -> tuple[int, bytes]:
    message = "must not contain the NUL character (U+0000)"
    return _problem(
        422,
        "Unprocessable Content",
        f"{'.'.join(location[1:]) or location[0]}: {message}.",
        errors=[{"loc": location, "msg": message, "type": "string_nul"}],
    )


class InputLimitMiddleware:
    """Refuse oversized bodies (413) and NUL in query parameters or JSON strings (422), before routing.

    The respondent form (``/s/``) reads and limits its own form-encoded body (it answers with a page).
    """

    def __init__(self, app: ASGIApp, max_body_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        query = scope.get("query_string", b"")
        if b"%00" in query.lower() or b"\x00" in query:
            for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
                if "\x00" in name or "\x00" in value:
                    await self._answer(send, *_nul_error(["query", name.replace("\x00", "\\u0000")]))
                    return
        if scope["method"] in ("GET", "HEAD", "OPTIONS") or scope["path"].startswith("/s/"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", ()))
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            await self._too_large(send)
            return
        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.max_body_bytes:
                await self._too_large(send)
                return
        if b"json" in headers.get(b"content-type", b"").lower() and b"\\u0000" in body:
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = None  # FastAPI answers the malformed JSON itself
            location = _nul_location(parsed, ["body"])
            if location is not None:
                await self._answer(send, *_nul_error(location))
                return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _too_large(self, send: Send) -> None:
        await self._answer(
            send,
            *_problem(
                413,
                "Content Too Large",
                f"A request body is at most {self.max_body_bytes // 1024} KB.",
            ),
        )

    @staticmethod
    async def _answer(send: Send, status: int, body: bytes) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/problem+json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def install_input_limits(app: FastAPI) -> None:
    """Add :class:`InputLimitMiddleware` (inside the rate limits: a refused request still counts)."""
    app.add_middleware(InputLimitMiddleware)
