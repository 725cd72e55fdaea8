"""What a user or an attacker may send (#13): NUL, invisible characters, zone-less and extreme times,
oversized bodies and reused idempotency keys are a 4xx that names the problem, never a 500, and
nothing is stored. Both databases (PostgreSQL is where NUL used to fail)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import TypeAdapter, ValidationError
from sqlmodel import Session, func, select

from app.instrument_versions.service import published_instrument
from app.models import ApiKey, Response, Team
from app.validation import EndMoment, StartMoment, could_be_token, refused_character
from tests.factories.collection import make_invitation, make_wave
from tests.factories.organisation import make_key, make_municipality, make_professional, make_team

PROBLEM = "application/problem+json"


@pytest.fixture
def setting(session: Session):
    municipality = make_municipality(session)
    team = make_team(session, municipality)
    professional = make_professional(session, team)
    wave = make_wave(session, municipality)
    invitation = make_invitation(session, wave, professional)
    headers = make_key(session, municipality, "manage", "responses:write", "admin")
    return municipality, professional, wave, invitation, headers


def count(session: Session, model: type) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def answers_for(client, token: str, value: int | None = 3) -> dict[str, int | None]:
    return {item.id: value for item in published_instrument().form("jongere").items(())}


# -- NUL ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/s/ab%00cd", "/f/ab%00cd", "/s/%00"])
def test_a_nul_in_a_path_token_is_an_unknown_link(client, path):
    response = client.get(path)
    assert response.status_code == 404


def test_a_nul_posted_to_the_form_is_an_unknown_link(client, session):
    response = client.post("/s/ab%00cd", data={"jg_gz_1": "3"})
    assert response.status_code == 404
    assert count(session, Response) == 0


@pytest.mark.parametrize(
    ("url", "body", "loc"),
    [
        ("/api/v1/teams", {"name": "Noord\u0000"}, ["body", "name"]),
        ("/api/v1/partners", {"name": "x", "kind": "police\u0000"}, ["body", "kind"]),
        ("/api/v1/responses", {"token": "ab\u0000cd", "answers": {}}, ["body", "token"]),
        (
            "/api/v1/responses",
            {"token": "abcd", "answers": {"jg\u0000": 1}},
            ["body", "answers", "jg\\u0000"],
        ),
    ],
)
def test_a_nul_in_a_json_string_is_a_422_naming_the_field(client, session, setting, url, body, loc):
    *_, headers = setting
    teams = count(session, Team)
    response = client.post(url, json=body, headers=headers)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["errors"][0]["loc"] == loc
    assert count(session, Team) == teams and count(session, Response) == 0


def test_a_nul_in_a_query_parameter_is_a_422_naming_it(client, setting):
    *_, headers = setting
    response = client.get("/api/v1/audit", params={"action": "team.create\u0000"}, headers=headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["query", "action"]


def test_tokens_we_never_issue_are_not_looked_up():
    assert could_be_token("Zm9v-YmFy_123")
    for token in ("", "a\u0000b", "a b", "a/b", "x" * 65, "é"):
        assert not could_be_token(token)


# -- names --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "Noord\u202e",  # right-to-left override
        "No\u200bord",  # zero-width space
        "\u2066Noord\u2069",  # bidi isolate
        "Noord\u001b[31m",  # an escape sequence
        "Noord\nZuid",
        "\ufeffNoord",  # byte-order mark
    ],
)
def test_names_refuse_control_zero_width_and_bidi_characters(client, session, setting, name):
    *_, headers = setting
    teams = count(session, Team)
    response = client.post("/api/v1/teams", json={"name": name}, headers=headers)
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert error["loc"] == ["body", "name"]
    assert "U+" in error["msg"]
    assert count(session, Team) == teams


@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        ("/api/v1/partners", {"name": "Politie\u200d", "kind": "police"}, "name"),
        ("/api/v1/apikeys", {"name": "sleutel\u202e", "scopes": ["manage"]}, "name"),
    ],
)
def test_every_name_field_refuses_them(client, setting, url, body, field):
    *_, headers = setting
    response = client.post(url, json=body, headers=headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", field]


def test_ordinary_names_in_any_script_are_kept(client, setting):
    *_, headers = setting
    for name in ("Team Zuid-Oost (Ĳsselmonde)", "فريق الشمال", "Équipe «Nord»", "Team 🌍"):
        response = client.post("/api/v1/teams", json={"name": name}, headers=headers)
        assert response.status_code == 201, name
        assert response.json()["name"] == name
    assert refused_character("Zo\u00adë") == "U+00AD"  # a soft hyphen is invisible too


# -- times --------------------------------------------------------------------------------------------


def test_a_date_alone_is_that_day_in_amsterdam():
    start, end = TypeAdapter(StartMoment), TypeAdapter(EndMoment)
    assert start.validate_python("2026-12-01") == datetime(2026, 11, 30, 23, 0, tzinfo=UTC)  # CET
    assert end.validate_python("2026-12-01") == datetime(2026, 12, 1, 23, 0, tzinfo=UTC)
    assert start.validate_python("2026-07-01") == datetime(2026, 6, 30, 22, 0, tzinfo=UTC)  # CEST
    assert start.validate_python("2026-07-01T10:00:00+02:00") == datetime(2026, 7, 1, 8, 0, tzinfo=UTC)
    for refused in ("2026-07-01T10:00:00", "9999-12-31T23:59:59-05:00", "0001-01-01T00:30:00+01:00"):
        with pytest.raises(ValidationError):
            start.validate_python(refused)
    with pytest.raises(ValidationError, match="9999-12-31"):
        end.validate_python("9999-12-31")


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"since": "2026-01-01"}, 200),
        ({"until": "2026-12-01"}, 200),
        ({"since": "2026-01-01", "until": "2026-01-31"}, 200),
        ({"until": "9999-12-31T23:59:59-05:00"}, 422),
        ({"since": "0001-01-01T00:00:00+01:00"}, 422),
        ({"until": "9999-12-31"}, 422),
        ({"since": "2026-02-30"}, 422),
        ({"since": "2026-01-01T10:00:00"}, 422),
    ],
)
def test_audit_times(client, setting, params, status):
    *_, headers = setting
    response = client.get("/api/v1/audit", params=params, headers=headers)
    assert response.status_code == status, response.text
    if status == 422:
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["errors"][0]["loc"][:2] == ["query", next(iter(params))]


def test_an_api_key_until_a_date_works_through_that_day(client, session, setting):
    *_, headers = setting
    body = {"name": "koppeling", "scopes": ["manage"], "expires_at": "2099-12-01"}
    response = client.post("/api/v1/apikeys", json=body, headers=headers)
    assert response.status_code == 201, response.text
    assert response.json()["expires_at"].startswith("2099-12-01T23:00:00")


def test_an_api_key_expiry_out_of_range_is_a_422(client, session, setting):
    *_, headers = setting
    keys = count(session, ApiKey)
    body = {"name": "koppeling", "scopes": ["manage"], "expires_at": "9999-12-31T23:59:59-05:00"}
    response = client.post("/api/v1/apikeys", json=body, headers=headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"][:2] == ["body", "expires_at"]
    assert count(session, ApiKey) == keys


# -- bodies -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [64 * 1024 + 1, 5 * 1024 * 1024])
def test_a_json_body_over_64_kb_is_a_413(client, session, setting, size):
    *_, headers = setting
    body = b'{"name": "' + b"x" * size + b'"}'
    response = client.post(
        "/api/v1/teams", content=body, headers={**headers, "content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM
    assert "64 KB" in response.json()["detail"]


def test_a_streamed_body_without_a_length_is_cut_off_at_64_kb(client, setting):
    *_, headers = setting

    def chunks():
        yield b'{"name": "'
        for _ in range(100):
            yield b"x" * 1024
        yield b'"}'

    response = client.post(
        "/api/v1/teams", content=chunks(), headers={**headers, "content-type": "application/json"}
    )
    assert response.status_code == 413


def test_a_body_under_the_limit_is_read_as_before(client, setting):
    *_, headers = setting
    response = client.post("/api/v1/teams", json={"name": "x" * 200}, headers=headers)
    assert response.status_code == 201


# -- idempotency --------------------------------------------------------------------------------------


def test_an_idempotency_key_reused_for_other_answers_is_a_409(client, session, setting):
    *_, invitation, headers = setting
    headers = {**headers, "Idempotency-Key": "retry-1"}
    first = answers_for(client, invitation.token, 3)
    other = answers_for(client, invitation.token, 4)
    assert (
        client.post(
            "/api/v1/responses", json={"token": invitation.token, "answers": first}, headers=headers
        ).status_code
        == 201
    )
    again = client.post(
        "/api/v1/responses", json={"token": invitation.token, "answers": first}, headers=headers
    )
    assert again.status_code == 200 and again.json()["stored"] is False
    reused = client.post(
        "/api/v1/responses", json={"token": invitation.token, "answers": other}, headers=headers
    )
    assert reused.status_code == 409
    assert reused.headers["content-type"] == PROBLEM
    assert "other answers" in reused.json()["detail"]
    assert count(session, Response) == 1


def test_a_reused_key_on_a_used_up_personal_link_is_a_409_too(client, session, setting):
    _, professional, wave, _, headers = setting
    personal = make_invitation(session, wave, professional, kind="personal")
    headers = {**headers, "Idempotency-Key": "retry-2"}
    first = answers_for(client, personal.token, 2)
    post = {"token": personal.token, "answers": first}
    assert client.post("/api/v1/responses", json=post, headers=headers).status_code == 201
    assert client.post("/api/v1/responses", json=post, headers=headers).status_code == 200
    other = {"token": personal.token, "answers": answers_for(client, personal.token, 5)}
    assert client.post("/api/v1/responses", json=other, headers=headers).status_code == 409
    assert count(session, Response) == 1


def test_a_form_field_over_4_kb_is_refused_even_when_the_form_ignores_it(client, session, setting):
    """Found by the form fuzz: a 60 KB ``lang`` beside a valid answer was thanked and stored."""
    *_, invitation, _headers = setting
    response = client.post(
        f"/s/{invitation.token}", data={"jg_gz_1": "1", "lang": "4" * 60_000}, follow_redirects=False
    )
    assert response.status_code == 413
    assert count(session, Response) == 0
