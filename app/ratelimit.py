"""Rate limits: form submissions per invitation link and per client address, API calls per key.

Counted in a moving window of one minute (a request is counted for exactly 60 seconds after it
was let through, so no burst across a boundary gets twice the limit through). Where:

- with ``VERBONDEN_REDIS_URL`` set, in Redis, through the ``limits`` library's moving-window
  strategy: one count shared by every worker and container, so a limit is the setting, not N
  times it. If Redis stops answering, each process counts in its own memory instead (logged once,
  retried every ``REDIS_RETRY_SECONDS``); a limiter never turns a request into an error, and
  ``/readyz`` does not depend on it.
- without it, in each process's memory (``verbonden serve`` warns when it starts more than one
  worker that way: every limit is then N times its setting).

What is counted:

- ``POST /s/{token}`` counts against the link (``VERBONDEN_SUBMIT_RATE_LIMIT`` per minute) and
  against the client address (``VERBONDEN_SUBMIT_ADDRESS_RATE_LIMIT``, higher: a school class
  shares one address behind its NAT). Over either, the form comes back with status 429,
  ``Retry-After``, a calm message and every answer kept.
- Everything under ``/api/`` and ``/reports/`` counts against the API key once this process has
  seen that key verified (:data:`KEY_VERIFIED`, set by :func:`app.auth.get_principal`); a key not
  (yet) verified here, made up, revoked or absent is counted against the client address, so a
  fresh made-up key per request gains nothing. ``VERBONDEN_API_RATE_LIMIT`` per minute; over it:
  429 problem+json with ``Retry-After``.
- Every request counts, valid or not (a wrong key, a malformed body, an unknown route), because the
  check runs before routing, authentication and body parsing; a refused request is not counted
  again, so a client that keeps on sending gets exactly the limit through per minute. 0 switches a
  limit off.

Privacy: links, keys and addresses are only ever held as keyed BLAKE2b digests, never stored or
logged, and forgotten a minute after their last counted request. In memory the key is random per
process; in Redis it is derived from ``VERBONDEN_SECRET_KEY`` (every worker must find the same
counter), and the Redis keys expire after the window. In memory at most ``MAX_TRACKED`` digests per
kind are held, the least recently seen dropped first. The client address is the TCP peer, or,
behind a proxy listed in ``VERBONDEN_TRUSTED_PROXIES``, what that proxy put in
``X-Forwarded-For`` (uvicorn's ``forwarded_allow_ips``; without that setting forwarded headers are
ignored, so a client cannot present itself as many addresses).
"""

from __future__ import annotations

import asyncio
import bisect
import hashlib
import hmac
import logging
import math
import re
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response
from limits import RateLimitItem, RateLimitItemPerMinute
from limits.aio.storage import RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlmodel import Session
from starlette.types import ASGIApp, Receive, Scope, Send

from app.config import Settings
from app.errors import problem

logger = logging.getLogger("verbonden.ratelimit")

WINDOW_SECONDS = 60
MAX_TRACKED = 100_000
MAX_VERIFIED_KEYS = 10_000
REDIS_TIMEOUT_SECONDS = 1.0
REDIS_RETRY_SECONDS = 5.0
API_PREFIXES = ("/api/", "/reports/")
KEY_VERIFIED = "api_key_verified"
"""Name in ``request.state``: True once the request's API key was verified, False when refused."""
_FORM_PATH = re.compile(r"^/s/([^/]+)$")


class MovingWindowCounter:
    """Counted requests per key in a moving window; thread-safe, at most ``max_tracked`` keys.

    A key keeps the times of its counted requests (at most ``limit`` of them within the window),
    oldest first; keys are ordered by their last request, so the ones seen least lately are
    dropped first when room is needed, and finished ones on the way.
    """

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
        self._hits: OrderedDict[bytes, list[float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._hits)

    def digests(self) -> list[bytes]:
        with self._lock:
            return list(self._hits)

    def hit(self, key: bytes, limit: int) -> int | None:
        """Count one request unless ``key`` is at ``limit``; then return the seconds to wait."""
        now = self.clock()
        horizon = now - self.window_seconds
        with self._lock:
            times = self._hits.get(key)
            if times is None:
                self._make_room(horizon)
                self._hits[key] = [now]
                return None
            if times and times[0] <= horizon:
                del times[: bisect.bisect_right(times, horizon)]
            self._hits.move_to_end(key)
            if len(times) >= limit:
                # The next request may pass once the ``limit``-th latest counted one is a window old.
                return max(1, math.ceil(times[-limit] - horizon))
            times.append(now)
            return None

    def _make_room(self, horizon: float) -> None:
        while self._hits:
            times = next(iter(self._hits.values()))
            if times and times[-1] > horizon and len(self._hits) < self.max_tracked:
                break
            self._hits.popitem(last=False)


class MemoryCounters:
    """One :class:`MovingWindowCounter` per kind, in this process."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.by_kind: dict[str, MovingWindowCounter] = {}

    def counter(self, kind: str) -> MovingWindowCounter:
        counter = self.by_kind.get(kind)
        if counter is None:
            counter = self.by_kind.setdefault(kind, MovingWindowCounter(clock=self.clock))
        return counter

    async def hit(self, kind: str, key: bytes, limit: int) -> int | None:
        """Count one request of ``kind`` for ``key``; the seconds to wait when over ``limit``."""
        return self.counter(kind).hit(key, limit)

    async def aclose(self) -> None:
        return None


def limits_storage_uri(redis_url: str) -> str:
    """``VERBONDEN_REDIS_URL`` in the ``limits`` library's words for its asyncio Redis storage."""
    scheme, _, rest = redis_url.partition("://")
    return f"async+redis+unix://{rest}" if scheme == "unix" else f"async+{redis_url}"


@lru_cache(maxsize=256)
def per_minute(limit: int, kind: str) -> RateLimitItem:
    return RateLimitItemPerMinute(limit, namespace=kind)


class RedisCounters:
    """Counters in Redis shared by every worker (``limits``' moving window), memory as a fallback.

    A Redis client belongs to one event loop, so one is made per loop (uvicorn runs one per
    worker; a test client may run one per request).
    """

    def __init__(self, url: str, *, key_prefix: str, fallback: MemoryCounters | None = None) -> None:
        self.url = url
        self.key_prefix = key_prefix
        self.fallback = fallback or MemoryCounters()
        self.down = False
        self._retry_at = 0.0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._strategy: MovingWindowRateLimiter | None = None
        self._storage: RedisStorage | None = None

    def _strategy_here(self) -> MovingWindowRateLimiter:
        loop = asyncio.get_running_loop()
        if self._strategy is None or self._loop is not loop:
            options: dict[str, Any] = {
                "socket_timeout": REDIS_TIMEOUT_SECONDS,
                "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
                # One immediate retry on a broken connection (one that went stale while idle);
                # none on a timeout, and no back-off: fail fast and count in memory instead.
                "retry": Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
            }
            self._storage = RedisStorage(
                limits_storage_uri(self.url), implementation="redispy", key_prefix=self.key_prefix, **options
            )
            self._strategy = MovingWindowRateLimiter(self._storage)
            self._loop = loop
        return self._strategy

    async def hit(self, kind: str, key: bytes, limit: int) -> int | None:
        """As :meth:`MemoryCounters.hit`, in Redis; in memory while Redis does not answer."""
        now = time.monotonic()
        if self.down:
            if now < self._retry_at:
                return await self.fallback.hit(kind, key, limit)
            self._retry_at = now + REDIS_RETRY_SECONDS  # this request tries; the others keep to memory
        try:
            wait = await self._redis_hit(kind, key.hex(), limit)
        except Exception as exc:  # whatever Redis does, a limiter never turns into a 500
            if not self.down:
                self.down = True
                logger.warning(
                    "rate limits: Redis (VERBONDEN_REDIS_URL) does not answer (%s); counting in this "
                    "process's memory until it does",
                    type(exc).__name__,
                )
            self._retry_at = time.monotonic() + REDIS_RETRY_SECONDS
            return await self.fallback.hit(kind, key, limit)
        if self.down:
            self.down = False
            logger.warning("rate limits: Redis answers again; counting there, shared by every worker")
        return wait

    async def _redis_hit(self, kind: str, key: str, limit: int) -> int | None:
        strategy = self._strategy_here()
        item = per_minute(limit, kind)
        if await strategy.hit(item, key):
            return None
        stats = await strategy.get_window_stats(item, key)
        return max(1, math.ceil(stats.reset_time - time.time()))

    async def ping(self) -> bool:
        try:
            return bool(await self._strategy_here().storage.check())
        except Exception:
            return False

    async def aclose(self) -> None:
        storage, self._storage, self._strategy, self._loop = self._storage, None, None, None
        if storage is not None:
            client = getattr(storage.bridge, "storage", None)  # the redis.asyncio client
            try:
                if client is not None:
                    await client.aclose()
            except Exception:  # closing a connection that is gone already
                logger.debug("rate limits: closing the Redis client failed", exc_info=True)


class VerifiedKeys:
    """Digests of the API keys this process saw verified lately (least recently seen out first).

    Only picks the counter a request is counted against: :func:`app.auth.get_principal` checks
    every request's key in the database all the same, and a refused key is forgotten here.
    """

    def __init__(self, size: int = MAX_VERIFIED_KEYS) -> None:
        self.size = size
        self._keys: OrderedDict[bytes, None] = OrderedDict()
        self._lock = threading.Lock()

    def __contains__(self, digest: bytes) -> bool:
        return digest in self._keys

    def add(self, digest: bytes) -> None:
        with self._lock:
            self._keys[digest] = None
            self._keys.move_to_end(digest)
            while len(self._keys) > self.size:
                self._keys.popitem(last=False)

    def discard(self, digest: bytes) -> None:
        with self._lock:
            self._keys.pop(digest, None)


class RateLimits:
    """The counters of one application, the key that blinds what they count, the verified keys."""

    def __init__(self, settings: Settings, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.counters: MemoryCounters | RedisCounters
        if settings.redis_url:
            # Every worker must turn a token into the same digest: derived from the shared secret.
            self._blinding_key = hmac.digest(
                settings.secret_key.encode("utf-8"), b"verbonden rate limits", "sha256"
            )
            namespace = self.blind("namespace", "").hex()[:12]
            self.counters = RedisCounters(
                settings.redis_url,
                key_prefix=f"verbonden:{namespace}",
                fallback=MemoryCounters(clock=clock),
            )
        else:
            self._blinding_key = secrets.token_bytes(32)
            self.counters = MemoryCounters(clock=clock)
        self.verified_keys = VerifiedKeys()

    def blind(self, kind: str, value: str) -> bytes:
        """A digest of ``value`` that cannot be turned back into it without the blinding key."""
        message = f"{kind}\x00{value}".encode("utf-8", "surrogateescape")
        return hashlib.blake2b(message, key=self._blinding_key, digest_size=16).digest()

    async def start(self) -> None:
        """Say at start-up where the counters live (once per worker)."""
        if isinstance(self.counters, RedisCounters):
            if await self.counters.ping():
                logger.info("rate limits: counted in Redis, shared by every worker")
            else:
                self.counters.down = True
                logger.warning(
                    "rate limits: Redis (VERBONDEN_REDIS_URL) does not answer; counting in this "
                    "process's memory until it does"
                )

    async def aclose(self) -> None:
        await self.counters.aclose()


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
        self._read_from: Settings | None = None
        self._limits = (0, 0, 0)

    def limits_of(self, settings: Settings) -> tuple[int, int, int]:
        """(per link, per address, per API key) from ``settings``, worked out once per settings object."""
        if settings is not self._read_from:
            self._limits = (
                settings.submit_rate_limit,
                settings.submit_limit_per_address,
                settings.api_rate_limit,
            )
            self._read_from = settings
        return self._limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        per_link, per_address, per_key = self.limits_of(self.owner.state.settings)
        limits: RateLimits = self.owner.state.rate_limits
        path: str = scope.get("path", "")
        form = _FORM_PATH.match(path) if scope.get("method") == "POST" else None
        if form is not None and (per_link > 0 or per_address > 0):
            token = form.group(1)
            wait = await self.submission_wait(limits, scope, token, per_link, per_address)
            if wait is not None:
                response = await busy_form(Request(scope, receive), self.owner, token, wait)
                await response(scope, receive, send)
                return
        elif path.startswith(API_PREFIXES) and per_key > 0:
            credential = bearer_credential(scope)
            key = limits.blind("key", credential) if credential else None
            counted = (
                key
                if key is not None and key in limits.verified_keys
                else limits.blind("address", client_address(scope))
            )
            wait = await limits.counters.hit("api", counted, per_key)
            if wait is not None:
                response = problem(
                    429,
                    f"Too many requests; try again in {wait} seconds.",
                    headers={"Retry-After": str(wait)},
                )
                await response(scope, receive, send)
                return
            if key is not None:
                await self.app(scope, receive, send)
                verdict = scope.get("state", {}).get(KEY_VERIFIED)
                if verdict is True:
                    limits.verified_keys.add(key)
                elif verdict is False:
                    limits.verified_keys.discard(key)
                return
        await self.app(scope, receive, send)

    @staticmethod
    async def submission_wait(
        limits: RateLimits, scope: Scope, token: str, per_link: int, per_address: int
    ) -> int | None:
        """Count a submission against its link and its address; the longer wait if over either."""
        by_link = by_address = None
        if per_link > 0:
            by_link = await limits.counters.hit("submit_link", limits.blind("token", token), per_link)
        if per_address > 0:
            address = limits.blind("address", client_address(scope))
            by_address = await limits.counters.hit("submit_address", address, per_address)
        if by_link is None or by_address is None:
            return by_link if by_address is None else by_address
        return max(by_link, by_address)


def install_rate_limits(app: FastAPI) -> None:
    app.state.rate_limits = RateLimits(app.state.settings)
    app.add_middleware(RateLimitMiddleware, owner=app)
