"""Protected by default: every route but the public doors needs a caller (an API key or a signed-in
person), because its router is included behind that dependency in :mod:`app.api`."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from starlette.routing import Mount

from app.auth import get_principal
from app.users.sessions import get_signed_in

CALLERS = (get_principal, get_signed_in)
PUBLIC_MODULES = frozenset(
    {
        "app.collection.views",  # the respondent form: a token in the link, no account
        "app.feedback.views",  # a professional's own feedback page: a token in the link
        "app.health",
        "app.home.views",
        "app.instrument_versions.api",  # the published questionnaire
        "app.api_docs",
    }
)
SIGN_IN_PATHS = ("/login", "/logout")
"""The sign-in pages of :mod:`app.users.views` (its ``/app/`` overview needs a signed-in person)."""
PUBLIC_PATHS = frozenset({"/openapi.json", "/docs"})


def _dependants(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for sub in dependant.dependencies:
        yield from _dependants(sub)


def is_public(route: APIRoute) -> bool:
    module = route.endpoint.__module__
    return module in PUBLIC_MODULES or (module == "app.users.views" and route.path.startswith(SIGN_IN_PATHS))


def unprotected_routes(app: FastAPI) -> list[str]:
    """``METHOD path (module)`` of each route that is not public and asks for no caller."""
    found = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, Mount) or context.path in PUBLIC_PATHS:
            continue
        assert isinstance(route, APIRoute), f"{context.path}: a route the check cannot read"
        if is_public(route):
            continue
        if not any(dependant.call in CALLERS for dependant in _dependants(context.dependant)):
            found.append(f"{sorted(context.methods or ())} {context.path} ({route.endpoint.__module__})")
    return found


def test_every_route_but_the_public_doors_needs_a_caller(app: FastAPI):
    assert unprotected_routes(app) == []


def test_the_check_sees_a_route_added_without_a_caller(app: FastAPI):
    @app.get("/api/v1/forgotten")
    def forgotten() -> dict[str, str]:
        return {}

    assert unprotected_routes(app) == [f"['GET'] /api/v1/forgotten ({__name__})"]


def test_the_report_and_the_audit_trail_refuse_a_caller_without_a_key(client: TestClient):
    assert client.get("/api/v1/audit").status_code == 401
    assert client.get("/reports/1").status_code == 401
    page = client.get("/app/teams", follow_redirects=False)
    assert (page.status_code, page.headers["location"]) == (303, "/login")
