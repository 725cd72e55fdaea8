"""Request logging that keeps respondents anonymous.

Uvicorn's access log prints the client address and the raw path (which holds invitation tokens),
so it is switched off; this middleware logs the route *template* (``/s/{token}``), the status and
the duration, and never an address, user agent, query string or token.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response

logger = logging.getLogger("verbonden.access")


def configure_logging(level: str = "info") -> None:
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s")


def install_access_log(app: FastAPI) -> None:
    @app.middleware("http")
    async def _access_log(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        path = getattr(route, "path", "(no route)")
        logger.info(
            "%s %s %d %.1fms",
            request.method,
            path,
            response.status_code,
            (time.perf_counter() - started) * 1000,
        )
        return response
