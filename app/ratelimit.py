"""Rate limits: form submissions per invitation token and per client address, API calls per key.

Counted in memory, per process, in fixed one-minute windows: with N worker processes the effective
limit is N times the setting, and a burst across a window boundary can reach twice it. That is
enough to stop a script hammering a link or a key; we do not build shared (Redis) counters for it.

- ``POST /s/{token}`` counts against the token and against the client address
  (``VERBONDEN_SUBMIT_RATE_LIMIT`` per minute each). Over either limit, the form comes back with
  status 429, ``Retry-After``, a calm message and every answer kept.
- Everything under ``/api/`` and ``/reports/`` counts against the presented API key
  (``VERBONDEN_API_RATE_LIMIT`` per minute), or, without a key, against the client address. Over the
  limit: 429 problem+json with ``Retry-After``.
- Every request counts, valid or not (a wrong key, a malformed body, an unknown route), because the
  check runs before routing, authentication and body parsing. 0 switches a limit off.

Privacy: tokens, keys and addresses are only ever held as keyed BLAKE2b digests (the key is random
per process), they are never stored or logged, and they are forgotten when their window is over.
Memory is bounded: at most ``MAX_TRACKED`` counters per kind, the oldest windows dropped first.
Behind a proxy, uvicorn's ``--proxy-headers`` (on in ``verbonden serve``) takes the address from
``X-Forwarded-For`` for proxies listed in ``FORWARDED_ALLOW_IPS``; otherwise every respondent shares
the proxy's address.
"""

from __future__ import annotations

import hashlib
import math
import re
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from fastapi import FastAPI, Request
from fastapi.responses import Response
from sqlmodel import Session
from starlette.types import ASGIApp, Receive, Scope, Send

from app.errors import problem

WINDOW_SECONDS = 60.0
MAX_TRACKED = 100_000
API_PREFIXES = ("/api/", "/reports/")
_FORM_PATH = re.compile(r"^/s/([^/]+)$")


class FixedWindowCounter:
    """Requests per key in fixed windows; thread-safe, at most ``max_tracked`` keys in memory."""

    def __init__(
        self,
        *,
        window_seconds: float = WINDOW_SECONDS,
        max_tracked: int = MAX_TRACKED,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.window_seconds = window_seconds
        self.max_tracked = max_tracked
        self.clock = clock
        self._lock = threading.Lock()
        # key -> [window start, count]; ordered by window start, oldest first.
        self._windows: OrderedDict[bytes, list[float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._windows)

    def hit(self, key: bytes, limit: int) -> int | None:
        """Count one request; return the seconds to wait when ``key`` is over ``limit``, else None."""
        now = self.clock()
        with self._lock:
            window = self._windows.get(key)
            if window is None or now - window[0] >= self.window_seconds:
                self._make_room(now)
                window = [now, 0.0]
                self._windows[key] = window
                self._windows.move_to_end(key)
            window[1] += 1
            if window[1] <= limit:
                return None
            return max(1, math.ceil(window[0] + self.window_seconds - now))

    def _make_room(self, now: float) -> None:
        """Drop finished windows (they sit at the front), then the oldest ones if still full."""
        while self._windows:
            start = next(iter(self._windows.values()))[0]
            if now - start < self.window_seconds and len(self._windows) < self.max_tracked:
                break
            self._windows.popitem(last=False)


class RateLimits:
    """The counters of one application, and the per-process key that blinds what they count."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._blinding_key = secrets.token_bytes(32)
        self.submit_by_token = FixedWindowCounter(clock=clock)
        self.submit_by_address = FixedWindowCounter(clock=clock)
        self.api_by_key = FixedWindowCounter(clock=clock)

    def blind(self, kind: str, value: str) -> bytes:
        """A digest of ``value`` that cannot be turned back into it (nor matched across processes)."""
        message = f"{kind}\x00{value}".encode("utf-8", "surrogateescape")
        return hashlib.blake2b(message, key=self._blinding_key, digest_size=16).digest()


def client_address(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


def bearer_credential(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            scheme, _, credential = value.decode("latin-1").partition(" ")
            credential = credential.strip()
            return credential if scheme.lower() == "bearer" and credential else None
    return None


async def busy_form(request: Request, owner: FastAPI, token: str, retry_after: int) -> Response:
    """The form again with the posted answers and the "it is busy" notice (status 429)."""
    # Imported here: the respondent views import the whole collection domain.
    from app.collection import service, views

    headers = {"Retry-After": str(retry_after)}
    try:
        posted = await views.posted_form(request)
    except Exception:  # a malformed body is still only "too many requests", never a 500
        posted = views.Posted(lang=views.language(request.query_params.get("lang")), submission_id="")
    # The page is normally in the views' own cache since the GET that showed the form (the same
    # cache their outage page uses); otherwise it is read once from the database.
    page = views._pages.get((token, posted.lang))
    if page is None:
        try:
            with Session(owner.state.engine) as session:
                page = views.form_page(token, service.open_questionnaire(session, token), posted.lang)
        except service.LinkUnavailable as unavailable:
            return views.render_link_problem(
                request, unavailable, posted.lang, status_code=429, headers=headers
            )
    known = {item["id"] for item in page.items}
    valid_id = 16 <= len(posted.submission_id) <= 64
    return views.render_form(
        request,
        page,
        answers={name: value for name, value in posted.answers.items() if name in known},
        errors={},
        submission_id=posted.submission_id if valid_id else secrets.token_urlsafe(18),
        status_code=429,
        notice=views.texts(page.lang, page.register)["busy_body"],
        headers=headers,
    )


class RateLimitMiddleware:
    """Pure ASGI middleware; the limits are read from ``app.state.settings`` on every request."""

    def __init__(self, app: ASGIApp, *, owner: FastAPI) -> None:
        self.app = app
        self.owner = owner

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            response = await self.check(scope, receive)
            if response is not None:
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def check(self, scope: Scope, receive: Receive) -> Response | None:
        settings = self.owner.state.settings
        limits: RateLimits = self.owner.state.rate_limits
        path: str = scope.get("path", "")
        form = _FORM_PATH.match(path) if scope.get("method") == "POST" else None
        if form is not None and settings.submit_rate_limit > 0:
            token = form.group(1)
            waits = [
                limits.submit_by_token.hit(limits.blind("token", token), settings.submit_rate_limit),
                limits.submit_by_address.hit(
                    limits.blind("address", client_address(scope)), settings.submit_rate_limit
                ),
            ]
            wait = max((seconds for seconds in waits if seconds is not None), default=None)
            if wait is not None:
                return await busy_form(Request(scope, receive), self.owner, token, wait)
        elif path.startswith(API_PREFIXES) and settings.api_rate_limit > 0:
            credential = bearer_credential(scope)
            key = (
                limits.blind("key", credential)
                if credential
                else limits.blind("address", client_address(scope))
            )
            wait = limits.api_by_key.hit(key, settings.api_rate_limit)
            if wait is not None:
                return problem(
                    429,
                    f"Too many requests for this API key; try again in {wait} seconds.",
                    headers={"Retry-After": str(wait)},
                )
        return None


def install_rate_limits(app: FastAPI) -> None:
    app.state.rate_limits = RateLimits()
    app.add_middleware(RateLimitMiddleware, owner=app)
