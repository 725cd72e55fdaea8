"""Walk every ``/app/`` route of the application (``app.routes``), so a page added later is covered:

- signed out, every page and form answers 303 to the sign-in;
- another municipality's ids give 404 (pages and forms), and its lists never show this one's;
- a role without the page's scopes (:class:`app.users.sessions.PageScopeCheck`) gets 403, a role
  with them does not;
- every POST form on every page carries the hidden ``csrf_token``, and every POST route refuses a
  session without it;
- no page shows an unpublished statistic (no decimal number while nothing is published).

A route whose path or required query parameter the walk cannot fill fails here until it is taught
the parameter in :func:`world` (``ids``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.audit import service as audit
from app.users.schemas import ROLE_SCOPES, Role, role_scopes
from app.users.sessions import PageScopeCheck
from tests.app.test_reports import random_answers, store
from tests.factories.collection import make_invitation, make_wave
from tests.factories.organisation import (
    make_feedback_link,
    make_key,
    make_municipality,
    make_partner,
    make_professional,
    make_team,
)
from tests.factories.users import make_user, signed_in_headers

MARKER = "ALLEEN-VAN-A"
FORM = re.compile(r"<form\b[^>]*>.*?</form>", re.DOTALL | re.IGNORECASE)
DECIMAL = re.compile(r"\d[.,]\d")
# Fixed texts with a decimal in them, never a statistic of the data.
CONSTANT_DECIMALS = ("0,70", "0.70", "0,95", "0,06", "0,08", "0.95", "0.06", "0.08")  # cut-offs in the text
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
# Form fields the walk fills with something other than "1" (a form that refuses "1" for a field
# with 422 before it looks up its object is taught its field here).
FORM_VALUES = {
    "role": "coordinator",
    "format": "csv",
    "opens_at": "2026-01-01",
    "closes_at": "2026-12-31",
    "first_day": "2026-01-01",
    "last_day": "2026-12-31",
}


@pytest.fixture
def client(settings, session, app):  # without rate limits in the way
    app.state.settings = settings.model_copy(update={"api_rate_limit": 0, "submit_rate_limit": 0})
    with TestClient(app) as test_client:
        yield test_client


@dataclass(frozen=True)
class Page:
    method: str
    path: str
    route: RouteContext

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"


def app_pages(app: FastAPI) -> list[Page]:
    pages = [
        Page(method, route.path, route)
        for route in iter_route_contexts(app.routes)
        if isinstance(route.original_route, APIRoute) and route.path.startswith("/app/")
        for method in sorted((route.methods or set()) - {"HEAD"})
    ]
    assert len(pages) >= 10, [page.label for page in pages]
    return pages


def _dependants(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for sub in dependant.dependencies:
        yield from _dependants(sub)


def page_scopes(page: Page) -> tuple[frozenset[str], bool] | None:
    """The scopes the page needs (and whether all of them), or None: any signed-in person."""
    for dependant in _dependants(page.route.dependant):
        if isinstance(dependant.call, PageScopeCheck):
            return dependant.call.scopes, dependant.call.require_all
    return None


def allowed(scopes: frozenset[str], needed: tuple[frozenset[str], bool] | None) -> bool:
    if needed is None:
        return True
    wanted, require_all = needed
    return wanted <= scopes if require_all else bool(wanted & scopes)


def _required_ids(page: Page) -> list[tuple[str, str]]:
    """(name, where) of the path parameters and required query parameters."""
    dependant = page.route.dependant
    found = [(param.name, "path") for param in dependant.path_params]
    found += [(param.name, "query") for param in dependant.query_params if param.field_info.is_required()]
    return found


def takes_object(page: Page) -> bool:
    return bool(_required_ids(page))


def fill(page: Page, ids: dict[str, int]) -> tuple[str, dict[str, Any]]:
    path, params = page.path, {}
    for name, where in _required_ids(page):
        if name not in ids:
            raise AssertionError(f"{page.label}: teach this walk the parameter {name!r}")
        if where == "path":
            path = path.replace("{" + name + "}", str(ids[name]))
        else:
            params[name] = ids[name]
    return path, params


def form_body(page: Page, ids: dict[str, int], token: str | None) -> dict[str, Any]:
    """The POST form's fields, filled plainly (ids with A's), with the CSRF token when given."""
    body: dict[str, Any] = {}
    for param in page.route.dependant.body_params:
        name = param.alias or param.name
        if name == "csrf_token":
            continue
        body[name] = str(ids[name]) if name in ids else FORM_VALUES.get(name, "1")
    if token is not None:
        body["csrf_token"] = token
    return body


def call(
    client: TestClient, page: Page, ids: dict[str, int], headers: dict[str, str], token: str | None = None
):
    path, params = fill(page, ids)
    if page.method == "GET":
        return client.get(path, params=params, headers=headers, follow_redirects=False)
    data = form_body(page, ids, token)
    return client.request(
        page.method, path, params=params, data=data, headers=headers, follow_redirects=False
    )


@dataclass
class World:
    a: Any
    b: Any
    ids: dict[str, int]


@pytest.fixture
def world(session: Session) -> World:
    """Municipality A with one object of every kind (names carry the marker), and municipality B.

    A's wave has three answers about one professional: fewer than the minimum, so nothing of it is
    published.
    """
    a = make_municipality(session, f"Gemeente {MARKER}")
    b = make_municipality(session, "Gemeente B")
    partner = make_partner(session, a, name=f"{MARKER} partner")
    team = make_team(session, a, f"{MARKER} team")
    professional = make_professional(session, team, display_name=MARKER, partner=partner, code="C-A")
    wave = make_wave(session, a, name=f"{MARKER} wave")
    invitation = make_invitation(session, wave, professional)
    import numpy as np

    from tests.app.test_reports import item_ids

    rng = np.random.default_rng(3)
    for _ in range(3):
        store(session, wave, professional, random_answers(rng, 3.3, item_ids(), 0.0))
    link = make_feedback_link(session, professional)
    colleague = make_user(session, a, "coordinator", name=f"{MARKER} collega")
    make_key(session, a, "manage")
    from app.apikeys import service as apikey_service

    keys, _ = apikey_service.list_keys(session, _admin_principal(a), limit=10, offset=0)
    event = audit.record(session, None, "walk.marker", municipality_id=a.id)
    ids = {
        "wave_id": wave.id,
        "team_id": team.id,
        "professional_id": professional.id,
        "partner_id": partner.id,
        "invitation_id": invitation.id,
        "link_id": link.id,
        "user_id": colleague.id,
        "key_id": keys[0].id,
        "event_id": event.id,
    }
    return World(a, b, ids)


def _admin_principal(municipality: Any) -> Any:
    from app.auth import Principal

    return Principal(
        api_key_id=None, municipality_id=municipality.id, scopes=ROLE_SCOPES[Role.admin], user_id=0
    )


def person(client: TestClient, session: Session, settings: Any, municipality: Any, role: str):
    """(headers with the cookie only, the session's CSRF token) of a new account."""
    user = make_user(session, municipality, role)
    headers = {"Cookie": signed_in_headers(session, settings, user)["Cookie"]}
    token = CSRF.search(client.get("/app/", headers=headers).text)
    assert token
    return headers, token.group(1)


# -- the walks ----------------------------------------------------------------------------------------


def test_signed_out_every_app_route_goes_to_the_sign_in(client, app, world):
    for page in app_pages(app):
        response = call(client, page, world.ids, headers={})
        assert response.status_code == 303, (page.label, response.status_code)
        assert response.headers["location"] == "/login", page.label


def test_another_municipalitys_ids_are_not_found_and_its_lists_never_show(
    client, session, settings, app, world
):
    headers, token = person(client, session, settings, world.b, "admin")
    checked = 0
    for page in app_pages(app):
        if takes_object(page):
            response = call(client, page, world.ids, headers, token)
            assert response.status_code == 404, (page.label, response.status_code, response.text[:300])
            assert "text/html" in response.headers["content-type"], page.label
            checked += 1
        elif page.method == "GET":
            response = call(client, page, world.ids, headers, token)
            assert response.status_code == 200, (page.label, response.status_code)
            assert MARKER not in response.text, page.label
            checked += 1
    assert checked >= 10


ROLES = [(role.value, False) for role in Role] + [(Role.admin.value, True), (Role.researcher.value, True)]


@pytest.mark.parametrize(
    ("role", "research"), ROLES, ids=[f"{r}{'-research' if x else ''}" for r, x in ROLES]
)
def test_a_role_without_the_right_gets_403_and_one_with_it_does_not(
    client, session, settings, app, world, role, research
):
    headers, token = person(client, session, settings, None if research else world.a, role)
    scopes = role_scopes(role, research=research)
    for page in app_pages(app):
        response = call(client, page, world.ids, headers, token)
        if allowed(scopes, page_scopes(page)):
            assert response.status_code not in (403, 500), (page.label, role, response.status_code)
        else:
            assert response.status_code == 403, (page.label, role, response.status_code)
            assert "text/html" in response.headers["content-type"], page.label


def test_every_page_hides_the_links_its_role_may_not_follow(client, session, settings, app, world):
    """What a role may not do it does not see: no link or form on any of its pages leads to a route
    that would answer it 403."""
    pages = app_pages(app)
    patterns = [(re.compile("^" + re.sub(r"\{[^}]+\}", "[^/?#]+", page.path) + "$"), page) for page in pages]
    for role in ("coordinator", "researcher"):
        headers, token = person(client, session, settings, world.a, role)
        scopes = role_scopes(role, research=False)
        for page in pages:
            if page.method != "GET" or not allowed(scopes, page_scopes(page)):
                continue
            response = call(client, page, world.ids, headers, token)
            if "text/html" not in response.headers.get("content-type", ""):
                continue
            for target in re.findall(r'(?:href|action)="(/app/[^"?#]*)', response.text):
                for pattern, other in patterns:
                    forbidden = pattern.match(target) and not allowed(scopes, page_scopes(other))
                    if forbidden and (other.method == "GET" or f'action="{target}"' in response.text):
                        raise AssertionError(f"{page.label} as {role} shows {target} ({other.label})")


def test_every_post_form_carries_the_csrf_token_and_every_post_needs_it(
    client, session, settings, app, world
):
    headers, token = person(client, session, settings, world.a, "admin")
    forms = 0
    for page in app_pages(app):
        if page.method != "GET":
            continue
        response = call(client, page, world.ids, headers, token)
        if "text/html" not in response.headers.get("content-type", ""):
            continue
        for form in FORM.findall(response.text):
            if re.search(r'method="post"', form, re.IGNORECASE):
                forms += 1
                assert re.search(r'<input type="hidden" name="csrf_token" value="[^"]+">', form), (
                    page.label,
                    form[:300],
                )
    assert forms >= 5
    for page in app_pages(app):
        if page.method == "GET":
            continue
        response = call(client, page, world.ids, headers, token=None)
        assert response.status_code == 403, (page.label, response.status_code)


def test_no_page_shows_an_unpublished_statistic(client, session, settings, app, world):
    from app.models import Professional, Wave

    headers, token = person(client, session, settings, world.a, "admin")
    wave = session.get(Wave, world.ids["wave_id"])
    wave_version = wave.instrument_version  # "Instrumentversie 1.1" is no statistic
    shown = 0
    for page in app_pages(app):
        if page.method != "GET":
            continue
        response = call(client, page, world.ids, headers, token)
        assert response.status_code < 500, page.label
        if "text/html" not in response.headers.get("content-type", ""):
            continue
        text = re.sub(r"<svg\b.*?</svg>", " ", response.text, flags=re.DOTALL)
        text = re.sub(r"<style\b.*?</style>", " ", text, flags=re.DOTALL)
        # The methods section is fixed text (cut-offs, 1,96, r = 0,2-0,3), the same for every wave.
        text = re.sub(r'<section class="methods">.*?</section>', " ", text, flags=re.DOTALL)
        words = re.sub(r"https?://\S+", " ", re.sub(r"<[^>]+>", " ", text))  # links: no statistics
        words = re.sub(r"\b\d{1,2}[.:]\d{2} uur\b", " ", words)  # a time of day ("om 9.30 uur")
        for constant in (*CONSTANT_DECIMALS, wave_version):
            words = words.replace(constant, "")
        found = [words[max(0, m.start() - 60) : m.end() + 20] for m in DECIMAL.finditer(words)]
        assert not found, (page.label, found)
        shown += 1
    assert shown >= 5
    # The check can fail: once nine answers are published, the report shows their numbers.
    import numpy as np

    from tests.app.test_reports import item_ids

    professional_id, wave_id = world.ids["professional_id"], world.ids["wave_id"]
    professional = session.get(Professional, professional_id)
    rng = np.random.default_rng(5)
    for _ in range(6):
        store(session, wave, professional, random_answers(rng, 3.3, item_ids(), 0.0))
    report = client.get(f"/app/waves/{wave_id}/report?form=jongere", headers=headers).text
    assert DECIMAL.search(
        re.sub(r"<[^>]+>", " ", re.sub(r"<(svg|style)\b.*?</\1>", " ", report, flags=re.DOTALL))
    )
