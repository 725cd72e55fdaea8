"""Hostile values in every kind of input, on SQLite and PostgreSQL (#13): never a 5xx, nothing stored.

Schemathesis generates values from the schema, which knows nothing of NUL (PostgreSQL cannot store
it), bidi and zero-width characters (names refuse them), dates without a zone or beyond the year
9999, or bodies over 64 KB. Here hypothesis puts exactly those into JSON fields, query parameters
and respondent links; each request must be refused with a 4xx and leave no row behind.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, func, select

from app.config import Settings
from app.models import ApiKey, Invitation, Partner, Professional, Response, Team, Wave
from tests.conftest import Database
from tests.factories.collection import make_invitation, make_wave
from tests.factories.organisation import make_key, make_municipality, make_professional, make_team

pytestmark = pytest.mark.slow

HOSTILE_SETTINGS = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
HOSTILE = [
    "\x00",
    "\u202e",
    "\u202d",
    "\u2066",
    "\u2069",
    "\u200b",
    "\u200d",
    "\u2060",
    "\ufeff",
    "\x1b",
    "\x07",
]
TABLES = (Team, Partner, Professional, Wave, Invitation, ApiKey, Response)

ordinary = st.text(
    st.characters(exclude_categories=("Cs",), exclude_characters="".join(HOSTILE)), max_size=30
)


@st.composite
def hostile_text(draw: st.DrawFn) -> str:
    """Ordinary text with at least one hostile character somewhere in it."""
    text = draw(ordinary)
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from(HOSTILE)) + text[at:]
    return text


extreme_times = st.sampled_from(
    [
        "9999-12-31T23:59:59-05:00",
        "9999-12-31T23:59:59.999999-23:59",
        "0001-01-01T00:00:00+01:00",
        "0001-01-01T00:30:00+14:00",
        "2026-13-01",
        "2026-02-30",
        "2026-01-01T10:00:00",  # a time of day without a zone
        "2026-01-01T25:00:00Z",
        "99999-01-01T00:00:00Z",
        "2026-01-01T00:00:00\x00Z",
        "\u202e2026-01-01",
    ]
)


@pytest.fixture
def settings(database: Database) -> Settings:
    """Without rate limits: these requests come fast from one address on purpose."""
    return database.settings(submit_rate_limit=0, api_rate_limit=0)


@pytest.fixture
def world(session: Session):
    municipality = make_municipality(session)
    team = make_team(session, municipality)
    professional = make_professional(session, team)
    wave = make_wave(session, municipality)
    invitation = make_invitation(session, wave, professional)
    headers = make_key(session, municipality, "manage", "responses:write", "admin", "reports:aggregate")
    return {
        "team": team,
        "professional": professional,
        "wave": wave,
        "invitation": invitation,
        "headers": headers,
    }


def row_counts(session: Session) -> dict[str, int]:
    return {model.__name__: session.exec(select(func.count()).select_from(model)).one() for model in TABLES}


def json_requests(world, text: str, moment: str) -> list[tuple[str, str, dict]]:
    wave_id, professional_id, team_id = world["wave"].id, world["professional"].id, world["team"].id
    return [
        ("POST", "/api/v1/teams", {"name": text}),
        ("POST", "/api/v1/partners", {"name": text, "kind": "police"}),
        ("POST", "/api/v1/professionals", {"display_name": text, "role": "wijkagent", "team_id": team_id}),
        ("POST", "/api/v1/professionals", {"display_name": "Sam", "role": text, "team_id": team_id}),
        ("POST", "/api/v1/waves", {"name": text, "opens_at": "2026-01-01"}),
        ("POST", "/api/v1/waves", {"name": "Najaar", "opens_at": moment}),
        ("POST", "/api/v1/waves", {"name": "Najaar", "opens_at": "2026-01-01", "closes_at": moment}),
        (
            "POST",
            "/api/v1/invitations",
            {"wave_id": wave_id, "form": "jongere", "professional_id": professional_id, "expires_at": moment},
        ),
        ("POST", "/api/v1/apikeys", {"name": text, "scopes": ["manage"]}),
        ("POST", "/api/v1/apikeys", {"name": "koppeling", "scopes": ["manage"], "expires_at": moment}),
        ("POST", "/api/v1/responses", {"token": text, "answers": {}}),
        ("POST", "/api/v1/responses", {"token": world["invitation"].token, "answers": {text: 3}}),
        ("PATCH", f"/api/v1/teams/{team_id}", {"name": text}),
        ("PATCH", f"/api/v1/waves/{wave_id}", {"closes_at": moment}),
    ]


@HOSTILE_SETTINGS
@given(text=hostile_text(), moment=extreme_times, which=st.integers(0, 13))
def test_hostile_json_fields_are_refused_and_nothing_is_stored(client, session, world, text, moment, which):
    method, url, body = json_requests(world, text, moment)[which]
    before = row_counts(session)
    response = client.request(method, url, json=body, headers=world["headers"])
    assert 400 <= response.status_code < 500, (url, body, response.status_code, response.text[:300])
    assert response.headers["content-type"] == "application/problem+json"
    assert row_counts(session) == before
    assert session.get(Team, world["team"].id).name == world["team"].name


@HOSTILE_SETTINGS
@given(
    name=st.sampled_from(["action", "since", "until", "api_key_id", "wave_id", "limit"]),
    value=st.one_of(hostile_text(), extreme_times),
)
def test_hostile_query_parameters_are_refused(client, session, world, name, value):
    before = row_counts(session)
    response = client.get(f"/api/v1/audit?{name}={quote(value)}", headers=world["headers"])
    assert response.status_code < 500
    # an action filter may hold any text but NUL (it then matches nothing); the others are typed
    if "\x00" in value or name != "action":
        assert response.status_code == 422, (name, value, response.text[:300])
    assert row_counts(session) == before


@HOSTILE_SETTINGS
@given(token=st.one_of(hostile_text(), st.text(min_size=65, max_size=200)))
def test_hostile_tokens_in_respondent_links_are_unknown(client, session, world, token):
    before = row_counts(session)
    path = quote(token, safe="")
    assert client.get(f"/s/{path}").status_code in (404, 405)
    posted = client.post(f"/s/{path}", data={"jg_gz_1": "3"}, follow_redirects=False)
    assert posted.status_code in (404, 405, 422), posted.status_code
    assert client.get(f"/f/{path}").status_code in (404, 405)
    assert row_counts(session) == before


@HOSTILE_SETTINGS
@given(
    size=st.integers(64 * 1024 + 1, 3 * 1024 * 1024),
    url=st.sampled_from(["/api/v1/teams", "/api/v1/responses", "/api/v1/waves", "/api/v1/apikeys"]),
    declared=st.booleans(),
)
def test_oversized_bodies_are_a_413_and_nothing_is_stored(client, session, world, size, url, declared):
    before = row_counts(session)
    body = b'{"name": "' + b"x" * size + b'"}'
    content = body if declared else iter([body[i : i + 65536] for i in range(0, len(body), 65536)])
    response = client.post(
        url, content=content, headers={**world["headers"], "content-type": "application/json"}
    )
    assert response.status_code == 413
    assert row_counts(session) == before
