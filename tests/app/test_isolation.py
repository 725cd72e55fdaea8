"""Walk every route of the OpenAPI schema: no key -> 401, a key without the route's scope -> 403,
another municipality's key -> 404 for every object of this one (and lists that never show it).

A route added later is covered automatically; one whose path parameter the test cannot fill
fails here until it is taught the parameter below.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import combinations
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.auth import Scope
from tests.factories.organisation import make_key, make_municipality

PUBLIC = {("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/api/v1/instrument")}
MARKER = "ALLEEN-VAN-A"
ALL_SCOPES = [scope.value for scope in Scope]


@pytest.fixture
def client(settings, session, app):  # the default client, without rate limits in the way
    app.state.settings = settings.model_copy(update={"api_rate_limit": 0, "submit_rate_limit": 0})
    with TestClient(app) as test_client:
        yield test_client


def operations(client: TestClient) -> list[tuple[str, str, dict[str, Any]]]:
    schema = client.get("/openapi.json").json()
    return [
        (method.upper(), path, operation)
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
        if (method.upper(), path) not in PUBLIC
    ]


@pytest.fixture
def world(client, session):
    """Municipality A with one object of every kind (made through the API), and municipality B."""
    a = make_municipality(session, "Gemeente A")
    b = make_municipality(session, "Gemeente B")
    a_key = make_key(session, a, *ALL_SCOPES)

    def create(path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = client.post(path, json=body, headers=a_key)
        assert response.status_code == 201, (path, response.text)
        return response.json()

    partner = create("/api/v1/partners", {"name": f"{MARKER} partner", "kind": "police"})
    team = create("/api/v1/teams", {"name": f"{MARKER} team"})
    professional = create(
        "/api/v1/professionals",
        {"display_name": MARKER, "role": "wijkagent", "team_id": team["id"], "partner_id": partner["id"]},
    )
    wave = create(
        "/api/v1/waves",
        {"name": f"{MARKER} wave", "opens_at": (datetime.now(UTC) - timedelta(days=1)).isoformat()},
    )
    baseline = create(  # the baseline of GET /api/v1/reports/change
        "/api/v1/waves",
        {"name": f"{MARKER} baseline", "opens_at": (datetime.now(UTC) - timedelta(days=2)).isoformat()},
    )
    invitation = create(
        "/api/v1/invitations",
        {"wave_id": wave["id"], "form": "jongere", "professional_id": professional["id"]},
    )
    link = create(f"/api/v1/professionals/{professional['id']}/feedback-links", {})
    key = create("/api/v1/apikeys", {"name": f"{MARKER} key", "scopes": ["manage"]})
    events = client.get("/api/v1/audit", headers=a_key).json()["items"]
    ids = {
        "partner_id": partner["id"],
        "team_id": team["id"],
        "professional_id": professional["id"],
        "wave_id": wave["id"],
        "baseline_wave_id": baseline["id"],
        "invitation_id": invitation["id"],
        "link_id": link["id"],
        "key_id": key["id"],
        "event_id": events[0]["id"],
    }
    return {"a": a, "b": b, "ids": ids, "token": invitation["token"]}


def request(
    client: TestClient,
    method: str,
    path: str,
    operation: dict[str, Any],
    world: dict[str, Any],
    headers: dict[str, str] | None,
    body: dict[str, Any] | None = None,
):
    params: dict[str, Any] = {}
    for parameter in operation.get("parameters", []):
        name, place = parameter["name"], parameter["in"]
        if not parameter.get("required"):
            continue
        if name == "form":
            value: Any = "jongere"
        elif name in world["ids"]:
            value = world["ids"][name]
        else:
            raise AssertionError(f"{method} {path}: teach this test the parameter {name!r}")
        if place == "path":
            path = path.replace("{" + name + "}", str(value))
        else:
            params[name] = value
    kwargs: dict[str, Any] = {"params": params, "headers": headers or {}}
    if "requestBody" in operation:
        kwargs["json"] = body if body is not None else {}
    return client.request(method, path, **kwargs)


def cross_body(path: str, world: dict[str, Any]) -> dict[str, Any] | None:
    """A valid body that refers to A's objects, for routes that take references in the body."""
    ids = world["ids"]
    return {
        "/api/v1/invitations": {
            "wave_id": ids["wave_id"],
            "form": "jongere",
            "professional_id": ids["professional_id"],
        },
        "/api/v1/professionals": {"display_name": "Kim", "role": "agent", "team_id": ids["team_id"]},
        "/api/v1/responses": {"token": world["token"], "answers": {"jg_gz_1": 3}},
    }.get(path)


def test_every_route_needs_a_key(client, world):
    for method, path, operation in operations(client):
        response = request(client, method, path, operation, world, headers=None)
        assert response.status_code == 401, (method, path, response.status_code)


def test_every_route_refuses_a_key_without_its_scope(client, session, world):
    single = {scope: make_key(session, world["b"], scope) for scope in ALL_SCOPES}
    for method, path, operation in operations(client):
        granting = [
            scope
            for scope, headers in single.items()
            if request(client, method, path, operation, world, headers).status_code != 403
        ]
        if not granting:  # two scopes together (feedback links: manage and reports:professional)
            pair = next(
                pair
                for pair in combinations(ALL_SCOPES, 2)
                if request(
                    client, method, path, operation, world, make_key(session, world["b"], *pair)
                ).status_code
                != 403
            )
            for scope in pair:
                without = make_key(session, world["b"], *[other for other in ALL_SCOPES if other != scope])
                response = request(client, method, path, operation, world, without)
                assert response.status_code == 403, (method, path, scope, response.status_code)
            continue
        assert len(granting) < len(ALL_SCOPES), f"{method} {path} needs no scope at all"
        lacking = make_key(session, world["b"], *[scope for scope in ALL_SCOPES if scope not in granting])
        response = request(client, method, path, operation, world, lacking)
        assert response.status_code == 403, (method, path, granting, response.status_code)


def test_another_municipality_never_sees_this_one(client, session, world):
    other = make_key(session, world["b"], *[scope for scope in ALL_SCOPES if scope != "admin"])
    other_admin = make_key(session, world["b"], "admin")
    checked = 0
    for method, path, operation in operations(client):
        headers = other_admin if "apikeys" in path or "audit" in path else other
        takes_object = "{" in path or any(
            p["name"] == "wave_id" and p.get("required") for p in operation.get("parameters", [])
        )
        body = cross_body(path, world)
        if takes_object or (method == "POST" and body is not None):
            response = request(client, method, path, operation, world, headers, body)
            assert response.status_code == 404, (method, path, response.status_code, response.text[:200])
            checked += 1
        elif method == "GET":
            response = request(client, method, path, operation, world, headers)
            assert response.status_code == 200, (method, path, response.status_code)
            assert MARKER not in response.text, (method, path)
            checked += 1
    assert checked >= 30


def test_a_research_key_changes_nothing(client, session, world):
    """A research key reads across municipalities; every route that writes refuses it."""
    research = make_key(session, None, "reports:aggregate", "reports:professional", "responses:read", "admin")
    for method, path, operation in operations(client):
        if method == "GET":
            continue
        body = cross_body(path, world)
        response = request(client, method, path, operation, world, research, body)
        assert response.status_code in (403, 404, 422), (method, path, response.status_code)
        assert response.status_code != 422 or "requestBody" in operation, (method, path)


# -- signed-in people: the same walk with a session cookie (and its CSRF token) instead of a key --------


def test_another_municipalitys_account_never_sees_this_one(client, session, settings, world):
    """An admin of B, signed in, on every route: A's objects answer 404, lists never show them."""
    from tests.factories.users import make_user, signed_in_headers

    headers = signed_in_headers(session, settings, make_user(session, world["b"], "admin"))
    session.commit()
    checked = 0
    for method, path, operation in operations(client):
        takes_object = "{" in path or any(
            p["name"] == "wave_id" and p.get("required") for p in operation.get("parameters", [])
        )
        body = cross_body(path, world)
        if takes_object or (method == "POST" and body is not None):
            response = request(client, method, path, operation, world, headers, body)
            # No role holds responses:write (partner systems post responses with a key).
            expected = 403 if path == "/api/v1/responses" else 404
            assert response.status_code == expected, (method, path, response.status_code, response.text[:200])
            checked += 1
        elif method == "GET":
            response = request(client, method, path, operation, world, headers)
            assert response.status_code == 200, (method, path, response.status_code)
            assert MARKER not in response.text, (method, path)
            checked += 1
    assert checked >= 30
    home = client.get("/app/", headers=headers)
    assert home.status_code == 200 and MARKER not in home.text
    assert client.get(f"/reports/{world['ids']['wave_id']}", headers=headers).status_code == 404


def test_a_research_account_changes_nothing(client, session, settings, world):
    """A research account (admin role) reads across municipalities; every route that writes refuses it."""
    from tests.factories.users import make_user, signed_in_headers

    headers = signed_in_headers(session, settings, make_user(session, None, "admin"))
    session.commit()
    for method, path, operation in operations(client):
        if method == "GET":
            continue
        body = cross_body(path, world)
        response = request(client, method, path, operation, world, headers, body)
        assert response.status_code in (403, 404, 422), (method, path, response.status_code)
        assert response.status_code != 422 or "requestBody" in operation, (method, path)
    assert client.get(f"/reports/{world['ids']['wave_id']}", headers=headers).status_code == 200


def test_a_session_without_its_csrf_token_writes_nothing(client, session, settings, world):
    """Every state-changing route refuses the cookie without the CSRF token (403), before anything else."""
    from tests.factories.users import make_user, signed_in_headers

    headers = signed_in_headers(session, settings, make_user(session, world["a"], "admin"))
    session.commit()
    cookie_only = {"Cookie": headers["Cookie"]}
    for method, path, operation in operations(client):
        if method == "GET":
            continue
        response = request(client, method, path, operation, world, cookie_only, cross_body(path, world))
        assert response.status_code == 403, (method, path, response.status_code)
