"""Plain error pages for the web app (``/app/...``) in its language; the JSON API keeps problem+json.

Every error handler the application has (:func:`app.errors.install_error_handlers`) answers
problem+json. Under ``/app/`` that is no page for a person, so each handler is wrapped: what it
answers there with ``application/problem+json`` becomes a short page with the same status
and headers (``Retry-After`` stays), and a way back. An unexpected exception becomes a 500 page
(problem+json elsewhere), never a stack trace. Nothing of the request is echoed in the page.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from app.errors import PROBLEM_JSON, problem
from app.templates import templates
from app.webapp import language

logger = logging.getLogger("verbonden")
APP_PREFIX = "/app/"
# The response headers an error keeps on its page (the rest is the page's own).
KEPT_HEADERS = ("retry-after", "allow", "www-authenticate")

MESSAGES = (400, 401, 403, 404, 405, 409, 410, 413, 422, 429, 500, 503)
"""The statuses with their own page (``error_<status>_title`` and ``_body`` in messages.yaml)."""


def is_app_page(request: Request) -> bool:
    return request.url.path.startswith(APP_PREFIX) or request.url.path == APP_PREFIX.rstrip("/")


def error_page(request: Request, status: int, headers: dict[str, str] | None = None) -> HTMLResponse:
    """The page of ``status`` in the request's language (the nearest kind for a status without its
    own text). Read from the request itself: an unexpected error is answered outside the middleware."""
    lang = language.of_request(request)
    kind = status if status in MESSAGES else 500 if status >= 500 else 400
    context = language.switch(request, lang)
    if request.method != "GET":  # the switch link opens a page, never the refused POST again
        context["switch_url"] = f"{APP_PREFIX}?lang={context['other_lang']}"
    return templates.TemplateResponse(
        request,
        "app/error.html",
        {
            **context,
            "heading": language.say(f"error_{kind}_title", lang),
            "body": language.say(f"error_{kind}_body", lang),
            "status": status,
        },
        status_code=status,
        headers={**(headers or {}), "Cache-Control": "no-store"},
    )


Handler = Callable[[Request, Exception], Response | Awaitable[Response]]


def _wrapped(handler: Handler) -> Callable[[Request, Exception], Awaitable[Response]]:
    async def handle(request: Request, exc: Exception) -> Response:
        if inspect.iscoroutinefunction(handler):
            response = await handler(request, exc)
        else:
            response = await run_in_threadpool(handler, request, exc)
        assert isinstance(response, Response)
        if is_app_page(request) and response.headers.get("content-type", "").startswith(PROBLEM_JSON):
            kept = {name: value for name, value in response.headers.items() if name in KEPT_HEADERS}
            return error_page(request, response.status_code, kept)
        return response

    return handle


def install_app_error_pages(app: FastAPI) -> None:
    """Wrap every registered error handler (call after all of them are installed), and answer an
    unexpected exception with a 500 page under ``/app/`` and problem+json elsewhere."""
    for key, handler in list(app.exception_handlers.items()):
        app.exception_handlers[key] = _wrapped(handler)

    def _unexpected(request: Request, exc: Exception) -> Response:
        logger.error(
            "unexpected %s on %s %s",
            type(exc).__name__,
            request.method,
            getattr(request.scope.get("route"), "path", "?"),
        )
        if is_app_page(request):
            return error_page(request, 500)
        return problem(500, "Something went wrong on our side.")

    app.add_exception_handler(Exception, _unexpected)
