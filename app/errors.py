"""Errors the service raises on purpose, and how they reach the client.

JSON routes answer ``application/problem+json`` (RFC 9457); respondent pages get a friendly HTML page.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DataError, DBAPIError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

logger = logging.getLogger("verbonden")

PROBLEM_JSON = "application/problem+json"
DATABASE_RETRY_AFTER_SECONDS = 30


class AppError(Exception):
    """A failure the client can act on; ``status`` is the HTTP status, ``detail`` says what to do."""

    status: int = 400
    title: str | None = None

    def __init__(
        self,
        detail: str,
        *,
        status: int | None = None,
        title: str | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if status is not None:
            self.status = status
        if title is not None:
            self.title = title
        self.headers = headers or {}
        self.extra = extra


class NotFound(AppError):
    status = 404


class Conflict(AppError):
    status = 409


class Gone(AppError):
    status = 410


class Unauthorized(AppError):
    status = 401


class Forbidden(AppError):
    status = 403


class InvalidInput(AppError):
    """Input that passed the schema but breaks a rule; ``errors`` lists the fields concerned."""

    status = 422


def problem(
    status: int, detail: str, *, title: str | None = None, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        **extra,
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    return [
        {
            "loc": [str(part) for part in error.get("loc", ())],
            "msg": error.get("msg", ""),
            "type": error.get("type", ""),
        }
        for error in exc.errors()
    ]


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers; respondent pages (``/s/``) register their own HTML rendering on top."""

    @app.exception_handler(AppError)
    def _app_error(request: Request, exc: AppError) -> Response:
        return problem(exc.status, exc.detail, title=exc.title, headers=exc.headers, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(request: Request, exc: RequestValidationError) -> Response:
        # A caller not checked yet (app.auth.UNCONFIRMED_CALLER) hears 401 or 403 before 422.
        unconfirmed_caller = getattr(request.state, "unconfirmed_caller", None)
        if unconfirmed_caller is not None:
            try:
                await unconfirmed_caller(request)
            except AppError as refused:
                return _app_error(request, refused)
        return problem(422, "The request is not valid; see errors.", errors=_validation_errors(exc))

    @app.exception_handler(StarletteHTTPException)
    def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return problem(exc.status_code, str(exc.detail), headers=getattr(exc, "headers", None))

    @app.exception_handler(OperationalError)
    def _database_unavailable(request: Request, exc: OperationalError) -> Response:
        logger.error("database unavailable: %s", type(exc.orig).__name__ if exc.orig else exc)
        respondent_page = getattr(request.app.state, "respondent_outage_page", None)
        if respondent_page is not None and request.url.path.startswith("/s/"):
            page: Response | None = respondent_page(request)
            if page is not None:
                return page
        return problem(
            503,
            "The database is not reachable right now; try again shortly.",
            headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
        )

    @app.exception_handler(DataError)
    def _value_the_database_refuses(request: Request, exc: DataError) -> Response:
        # The input layer (app.validation) stops what we know of (NUL, moments out of range);
        # a value that still slips past it is the client's, so a 422 rather than a 500.
        route = getattr(request.scope.get("route"), "path", "?")
        logger.warning(
            "database refused a value on %s %s: %s", request.method, route, type(exc.orig).__name__
        )
        return problem(422, "The request holds a value that cannot be stored (e.g. a NUL character).")

    @app.exception_handler(DBAPIError)
    def _database_error(request: Request, exc: DBAPIError) -> Response:
        if exc.connection_invalidated:
            unavailable = OperationalError(exc.statement, exc.params, exc.orig or exc)
            return _database_unavailable(request, unavailable)
        logger.exception("database error on %s %s", request.method, request.scope.get("route", "?"))
        return problem(500, "Something went wrong on our side.")
