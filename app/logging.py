"""Request logging that keeps respondents anonymous.

Uvicorn's access log prints the client address and the raw path (which holds invitation tokens),
so it is switched off; this middleware logs the route *template* (``/s/{token}``), the status and
the duration, and never an address, user agent, query string or token.
"""

from __future__ import annotations

import logging
import time

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger("verbonden.access")


def configure_logging(level: str = "info") -> None:
    """Log verbonden's own messages at ``level``; other libraries keep their own settings."""
    service_logger = logging.getLogger("verbonden")
    service_logger.setLevel(level.upper())
    if not service_logger.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
        service_logger.addHandler(handler)


class AccessLogMiddleware:
    """Pure ASGI (no BaseHTTPMiddleware task and stream per request on the submission's hot path)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not logger.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_note_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note_status)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", "(no route)")
            elapsed_ms = (time.perf_counter() - started) * 1000
            logger.info("%s %s %d %.1fms", scope["method"], path, status, elapsed_ms)


def install_access_log(app: FastAPI) -> None:
    app.add_middleware(AccessLogMiddleware)
