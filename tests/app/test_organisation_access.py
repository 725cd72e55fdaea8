"""Who may call each management route: no key 401, no `manage` 403, another municipality 404,
a research key reads but never writes (403); a feedback link route also needs
`reports:professional` (403 with `manage` alone). Every route of the organisation and feedback-link
routers is listed here, and a test checks that none is missing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from sqlmodel import Session

import tests.conftest
from app.config import Settings
from app.db import utcnow
from app.feedback.api import router as feedback_router
from app.main import create_app
from app.organisation.api import router as organisation_router
from tests.factories.collection import make_invitation, make_wave
from tests.factories.organisation import (
    make_feedback_link,
    make_key,
    make_municipality,
    make_partner,
    make_professional,
    make_team,
)

_apps: dict[str, FastAPI] = {}
MANAGER = ("manage", "reports:professional")


def _create_app_once(settings: Settings) -> FastAPI:
    key = settings.model_dump_json()
    if key not in _apps:
        _apps[key] = create_app(settings)
    return _apps[key]


@pytest.fixture(autouse=True)
def one_app_per_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    """Build the application once per database instead of once per test (building it takes ~0.2 s).

    The ``app`` fixture of conftest still installs the test's own session on it for every test.
    """
    monkeypatch.setattr(tests.conftest, "create_app", _create_app_once)


@dataclass
class World:
    ids: dict[str, int]
    own: dict[str, str]  # a manage + reports:professional key of the municipality that owns the objects
    other: dict[str, str]  # such a key of another municipality
    other_ids: dict[str, int]  # objects of that other municipality
    no_scope: dict[str, str]  # a key of the owner without `manage`
    research: dict[str, str]  # a research key (no municipality) with `manage` + `reports:professional`
    manage_only: dict[str, str]  # a key of the owner with `manage` but not `reports:professional`
    no_read_scope: dict[str, str]  # a key of the owner without `manage`, `reports:*` or `responses:read`


@pytest.fixture
def world(session: Session) -> World:
    owner = make_municipality(session, "Bars-A")
    team = make_team(session, owner)
    empty_team = make_team(session, owner, name="Team Zuid")
    partner = make_partner(session, owner)
    professional = make_professional(session, team, partner=partner)
    wave = make_wave(session, owner, closes_at=utcnow() + timedelta(days=30))
    invitation = make_invitation(session, wave, professional)
    feedback_link = make_feedback_link(session, professional)

    other = make_municipality(session, "Bars-B")
    other_team = make_team(session, other)
    other_professional = make_professional(session, other_team)
    other_wave = make_wave(session, other)
    return World(
        ids={
            "partner": partner.id,
            "team": team.id,
            "empty_team": empty_team.id,
            "professional": professional.id,
            "wave": wave.id,
            "invitation": invitation.id,
            "feedback_link": feedback_link.id,
        },
        own=make_key(session, owner, *MANAGER),
        other=make_key(session, other, *MANAGER),
        other_ids={"team": other_team.id, "professional": other_professional.id, "wave": other_wave.id},
        no_scope=make_key(session, owner, "responses:write", "reports:aggregate"),
        research=make_key(session, None, *MANAGER),
        manage_only=make_key(session, owner, "manage", "reports:aggregate", "responses:read", "admin"),
        no_read_scope=make_key(session, owner, "responses:write"),
    )


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # with {name} placeholders filled from World.ids
    body: dict[str, Any] | None = None
    writes: bool = False
    object_route: bool = True  # addresses one object by id in the path
    created: bool = False  # answers 201 although it addresses an object (a child is created)
    shows_scores: bool = False  # leads to a professional's scores: needs reports:professional too
    readers: bool = False  # report, export and research keys may call it too (read-only)

    def url(self, ids: dict[str, int]) -> str:
        return "/api/v1" + self.path.format(**ids)

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


ROUTES = [
    Route("POST", "/partners", {"name": "Politie", "kind": "police"}, writes=True, object_route=False),
    Route("GET", "/partners", object_route=False),
    Route("GET", "/partners/{partner}"),
    Route("PATCH", "/partners/{partner}", {"name": "Politie Noord"}, writes=True),
    Route("DELETE", "/partners/{partner}", writes=True),
    Route("POST", "/teams", {"name": "Team West"}, writes=True, object_route=False),
    Route("GET", "/teams", object_route=False),
    Route("GET", "/teams/{team}"),
    Route("PATCH", "/teams/{team}", {"name": "Team Oost"}, writes=True),
    Route("DELETE", "/teams/{empty_team}", writes=True),
    Route(
        "POST",
        "/professionals",
        {"display_name": "Kim", "role": "wijkagent", "team_id": "{team}"},
        writes=True,
        object_route=False,
    ),
    Route("GET", "/professionals", object_route=False),
    Route("GET", "/professionals/{professional}"),
    Route("PATCH", "/professionals/{professional}", {"role": "ambulant jongerenwerker"}, writes=True),
    Route("DELETE", "/professionals/{professional}", writes=True),
    Route("GET", "/professionals/{professional}/invitations.html"),
    Route(
        "POST",
        "/waves",
        {"name": "Najaar", "opens_at": "2026-09-01T00:00:00+02:00"},
        writes=True,
        object_route=False,
    ),
    Route("GET", "/waves", object_route=False, readers=True),
    Route("GET", "/waves/{wave}"),
    Route("PATCH", "/waves/{wave}", {"name": "Voorjaar 2027"}, writes=True),
    Route("DELETE", "/waves/{wave}", writes=True),
    Route(
        "POST",
        "/invitations",
        {"wave_id": "{wave}", "form": "ouder", "professional_id": "{professional}"},
        writes=True,
        object_route=False,
    ),
    Route("GET", "/invitations", object_route=False),
    Route("GET", "/invitations/{invitation}"),
    Route("PATCH", "/invitations/{invitation}", {"revoked": True}, writes=True),
    Route("POST", "/invitations/{invitation}/revoke", writes=True),
    Route("DELETE", "/invitations/{invitation}", writes=True),
    Route("GET", "/invitations/{invitation}/qr.svg"),
    Route("GET", "/invitations/{invitation}/qr.png"),
    Route(
        "POST", "/professionals/{professional}/feedback-links", writes=True, created=True, shows_scores=True
    ),
    Route("GET", "/professionals/{professional}/feedback-links", shows_scores=True),
    Route("GET", "/feedback-links/{feedback_link}", shows_scores=True),
    Route("POST", "/feedback-links/{feedback_link}/revoke", writes=True, shows_scores=True),
]


def _body(route: Route, ids: dict[str, int]) -> dict[str, Any] | None:
    if route.body is None:
        return None
    return {
        key: ids[value[1:-1]] if isinstance(value, str) and value.startswith("{") else value
        for key, value in route.body.items()
    }


def call(client, route: Route, world: World, headers: dict[str, str] | None):
    return client.request(
        route.method, route.url(world.ids), json=_body(route, world.ids), headers=headers or {}
    )


def _shape(path: str) -> str:
    return "/".join("{id}" if part.startswith("{") else part for part in path.split("/"))


def test_every_management_route_is_in_the_matrix():
    listed = {(route.method, _shape(route.path)) for route in ROUTES}
    served = {
        (method, _shape(api_route.path))
        for router in (organisation_router, feedback_router)
        for api_route in router.routes
        for method in api_route.methods
    }
    assert served == listed


def _problem(response, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["status"] == status


def _owner_view(route: Route) -> Route:
    """The GET of the object a route addresses, e.g. /professionals/{professional}."""
    return Route("GET", "/".join(route.path.split("/")[:3]))


@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_access_matrix(client, world, route):
    """One test per route, the callers in turn (one app per test keeps the suite fast)."""
    no_key = call(client, route, world, None)
    _problem(no_key, 401)
    assert no_key.headers["www-authenticate"] == "Bearer"
    _problem(call(client, route, world, {"Authorization": "Bearer vb_not-a-real-key"}), 401)
    _problem(call(client, route, world, world.no_read_scope if route.readers else world.no_scope), 403)
    if route.shows_scores:
        _problem(call(client, route, world, world.manage_only), 403)

    if route.object_route:
        # Another municipality: 404, and the object as its owner sees it is unchanged.
        before = call(client, _owner_view(route), world, world.own)
        _problem(call(client, route, world, world.other), 404)
        after = call(client, _owner_view(route), world, world.own)
        assert after.status_code == 200, after.text
        assert after.json() == before.json()

    research = call(client, route, world, world.research)
    if route.writes:
        _problem(research, 403)
    else:
        assert research.status_code == 200, research.text

    owner = call(client, route, world, world.own)
    created = route.created or not route.object_route
    expected = {"POST": 201 if created else 200, "DELETE": 204}.get(route.method, 200)
    assert owner.status_code == expected, owner.text


@pytest.mark.parametrize("resource", ["partners", "teams", "professionals", "waves", "invitations"])
def test_lists_hold_only_the_callers_municipality(client, world, resource):
    own = client.get(f"/api/v1/{resource}", headers=world.own).json()
    other = client.get(f"/api/v1/{resource}", headers=world.other).json()
    own_ids = {item["id"] for item in own["items"]}
    other_ids = {item["id"] for item in other["items"]}
    assert own_ids and not own_ids & other_ids
    assert own["total"] == len(own_ids)
    research = client.get(f"/api/v1/{resource}", headers=world.research).json()
    assert own_ids | other_ids <= {item["id"] for item in research["items"]}


@pytest.mark.parametrize(
    ("path", "body_of"),
    [
        (
            "/professionals",
            lambda own, other: {"display_name": "Kim", "role": "wijkagent", "team_id": own["team"]},
        ),
        (
            "/professionals",
            lambda own, other: {
                "display_name": "Kim",
                "role": "wijkagent",
                "team_id": other["team"],
                "partner_id": own["partner"],
            },
        ),
        (
            "/invitations",
            lambda own, other: {
                "wave_id": own["wave"],
                "form": "jongere",
                "professional_id": other["professional"],
            },
        ),
        (
            "/invitations",
            lambda own, other: {
                "wave_id": other["wave"],
                "form": "jongere",
                "professional_id": own["professional"],
            },
        ),
    ],
    ids=["team", "partner", "wave", "professional"],
)
def test_referring_to_another_municipalitys_object_is_404(client, world, path, body_of):
    response = client.post(f"/api/v1{path}", json=body_of(world.ids, world.other_ids), headers=world.other)
    _problem(response, 404)


def test_moving_a_professional_into_another_municipalitys_team_is_404(client, world):
    response = client.patch(
        f"/api/v1/professionals/{world.other_ids['professional']}",
        json={"team_id": world.ids["team"]},
        headers=world.other,
    )
    _problem(response, 404)
