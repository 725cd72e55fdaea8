"""Plain-Dutch error pages for the web app (``/app/...``); the JSON API keeps problem+json.

Every error handler the application has (:func:`app.errors.install_error_handlers`) answers
problem+json. Under ``/app/`` that is no page for a person, so each handler is wrapped: what it
answers there with ``application/problem+json`` becomes a short Dutch page with the same status
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

logger = logging.getLogger("verbonden")
APP_PREFIX = "/app/"
# The response headers an error keeps on its page (the rest is the page's own).
KEPT_HEADERS = ("retry-after", "allow", "www-authenticate")

MESSAGES: dict[int, tuple[str, str]] = {
    400: (
        "Dat verzoek begrijpen we niet",
        "Er ging iets mis met wat de browser stuurde. Probeer het opnieuw.",
    ),
    401: ("Log eerst in", "Deze pagina is alleen te zien als u bent ingelogd."),
    403: (
        "Dit mag u niet openen",
        "Uw rol geeft geen toegang tot deze pagina. Denkt u dat dit niet klopt? "
        "Vraag het de beheerder van uw gemeente.",
    ),
    404: (
        "Deze pagina bestaat niet",
        "Misschien is de link oud, of hoort wat u zoekt bij een andere gemeente.",
    ),
    405: (
        "Dat kan op deze pagina niet",
        "Deze pagina werkt niet zo. Ga terug en probeer het via de knoppen.",
    ),
    409: (
        "Dat kan nu niet",
        "Dit botst met wat er al is. Ga terug, laad de pagina opnieuw en kijk wat er staat.",
    ),
    410: ("Dit bestaat niet meer", "Wat u zoekt, is ingetrokken of verlopen."),
    413: ("Dat is te groot", "Wat u stuurde of vroeg, is te groot. Probeer een kleiner deel."),
    422: (
        "Dat klopt niet helemaal",
        "Een van de gegevens in het adres of het formulier kunnen we niet gebruiken. "
        "Ga terug en controleer wat u invulde.",
    ),
    429: ("Even wachten", "Er kwamen te veel verzoeken tegelijk. Wacht een minuut en probeer het opnieuw."),
    500: (
        "Er ging iets mis bij ons",
        "Dit ligt niet aan u. Probeer het over een paar minuten opnieuw; blijft het misgaan, "
        "meld het dan bij de beheerder.",
    ),
    503: (
        "Even niet bereikbaar",
        "De gegevens zijn nu niet bereikbaar. Probeer het over een paar minuten opnieuw.",
    ),
}


def is_app_page(request: Request) -> bool:
    return request.url.path.startswith(APP_PREFIX) or request.url.path == APP_PREFIX.rstrip("/")


def error_page(request: Request, status: int, headers: dict[str, str] | None = None) -> HTMLResponse:
    """The Dutch page of ``status`` (the nearest kind for a status without its own text)."""
    heading, body = MESSAGES.get(status) or MESSAGES[500 if status >= 500 else 400]
    return templates.TemplateResponse(
        request,
        "app/error.html",
        {"lang": "nl", "heading": heading, "body": body, "status": status},
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
