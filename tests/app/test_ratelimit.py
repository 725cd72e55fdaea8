"""Rate limits: the respondent form (per token, per address) and the API (per key), both databases."""

from __future__ import annotations

import logging
import re

import pytest
from sqlmodel import Session, func, select

from app.collection.views import texts
from app.models import Response
from app.ratelimit import FixedWindowCounter
from tests.app.test_collection import form_fields, item_ids
from tests.app.test_security import client_with
from tests.factories.collection import make_invitation, make_wave
from tests.factories.organisation import make_key, make_municipality, make_professional, make_team


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_counter_counts_every_hit_and_says_how_long_to_wait():
    clock = Clock()
    counter = FixedWindowCounter(window_seconds=60, clock=clock)
    assert counter.hit(b"k", 2) is None
    assert counter.hit(b"k", 2) is None
    clock.now += 20
    assert counter.hit(b"k", 2) == 40
    assert counter.hit(b"k", 2) == 40  # refused hits count too
    assert counter.hit(b"other", 2) is None
    clock.now += 40
    assert counter.hit(b"k", 2) is None  # a new window


def test_counter_memory_is_bounded_and_forgets_finished_windows():
    clock = Clock()
    counter = FixedWindowCounter(window_seconds=60, max_tracked=100, clock=clock)
    for number in range(1000):
        counter.hit(str(number).encode(), 5)
    assert len(counter) <= 100
    clock.now += 61
    counter.hit(b"fresh", 5)
    assert len(counter) == 1


@pytest.fixture
def invitations(session: Session):
    municipality = make_municipality(session, "Bars-A")
    wave = make_wave(session, municipality)
    professional = make_professional(session, make_team(session, municipality))
    return make_invitation(session, wave, professional), make_invitation(session, wave, professional)


def stored(session: Session) -> int:
    return session.exec(select(func.count()).select_from(Response)).one()


def test_over_the_limit_the_form_comes_back_calmly_with_every_answer(database, session, invitations):
    client = client_with(database, session, submit_rate_limit=2)
    invitation, _ = invitations
    html = client.get(f"/s/{invitation.token}").text
    ids = item_ids(html)
    # Two refused (invalid) submissions use up the limit: every request counts.
    for _ in range(2):
        assert client.post(f"/s/{invitation.token}", data=form_fields(html)).status_code == 422
    data = {**form_fields(html), **{item: "3" for item in ids}, ids[0]: "x"}
    response = client.post(f"/s/{invitation.token}", data=data, follow_redirects=False)
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) in range(1, 61)
    page = response.text
    assert texts("nl", "je")["busy_body"] in page
    assert set(re.findall(r'name="([^"]+)" value="3" checked', page)) == set(ids) - {ids[0]}
    assert f'name="{ids[0]}" value="x" checked' in page
    assert form_fields(page)["submission_id"] == data["submission_id"]
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "no-store"
    assert stored(session) == 0


def test_the_busy_form_speaks_the_respondents_language(database, session, invitations):
    client = client_with(database, session, submit_rate_limit=1)
    invitation, _ = invitations
    html = client.get(f"/s/{invitation.token}?lang=en").text
    client.post(f"/s/{invitation.token}", data=form_fields(html))
    response = client.post(f"/s/{invitation.token}", data=form_fields(html))
    assert response.status_code == 429
    assert texts("en", "je")["busy_body"] in response.text


def test_the_limit_holds_per_address_across_links(database, session, invitations):
    client = client_with(database, session, submit_rate_limit=2)
    first, second = invitations
    html = client.get(f"/s/{first.token}").text
    client.post(f"/s/{first.token}", data=form_fields(html))
    client.post(f"/s/{first.token}", data=form_fields(html))
    other = client.get(f"/s/{second.token}").text
    assert client.post(f"/s/{second.token}", data=form_fields(other)).status_code == 429


def test_unknown_links_and_garbage_bodies_count_too(database, session):
    client = client_with(database, session, submit_rate_limit=2)
    assert client.post("/s/nope", content=b"\xff" * 10).status_code in {400, 404, 422}
    assert client.post("/s/nope", data={"a": "1"}).status_code == 404
    response = client.post("/s/nope", data={"a": "1"})
    assert response.status_code == 429
    assert "retry-after" in response.headers
    assert response.headers["content-type"].startswith("text/html")


def test_a_valid_submission_under_the_limit_is_stored(database, session, invitations):
    client = client_with(database, session, submit_rate_limit=2)
    invitation, _ = invitations
    html = client.get(f"/s/{invitation.token}").text
    data = {**form_fields(html), **{item: "4" for item in item_ids(html)}}
    assert client.post(f"/s/{invitation.token}", data=data, follow_redirects=False).status_code == 303
    assert stored(session) == 1


def test_the_api_limit_counts_per_key_valid_or_not(database, session):
    client = client_with(database, session, api_rate_limit=3)
    municipality = make_municipality(session)
    key = make_key(session, municipality, "manage")
    assert client.get("/api/v1/teams", headers=key).status_code == 200
    assert client.get("/api/v1/no-such-route", headers=key).status_code == 404
    assert client.post("/api/v1/teams", headers=key, content=b"{not json").status_code == 422
    response = client.get("/api/v1/teams", headers=key)
    assert response.status_code == 429
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["status"] == 429
    assert int(response.headers["retry-after"]) in range(1, 61)
    other = make_key(session, municipality, "manage")
    assert client.get("/api/v1/teams", headers=other).status_code == 200


def test_wrong_keys_and_missing_keys_are_limited_too(database, session):
    client = client_with(database, session, api_rate_limit=2)
    wrong = {"Authorization": "Bearer vb_wrong"}
    assert [client.get("/api/v1/teams", headers=wrong).status_code for _ in range(3)] == [401, 401, 429]
    assert [client.get("/api/v1/instrument").status_code for _ in range(3)] == [200, 200, 429]


def test_zero_switches_the_limits_off(database, session, invitations):
    client = client_with(database, session, api_rate_limit=0, submit_rate_limit=0)
    invitation, _ = invitations
    html = client.get(f"/s/{invitation.token}").text
    for _ in range(40):
        assert client.post(f"/s/{invitation.token}", data=form_fields(html)).status_code == 422
    for _ in range(40):
        assert client.get("/api/v1/teams").status_code == 401


def test_limits_are_read_per_app_so_each_app_counts_alone(database, session):
    assert client_with(database, session, api_rate_limit=1).get("/api/v1/instrument").status_code == 200
    assert client_with(database, session, api_rate_limit=1).get("/api/v1/instrument").status_code == 200


def test_addresses_and_tokens_are_held_only_as_digests_and_never_logged(
    database, session, invitations, caplog
):
    client = client_with(database, session, submit_rate_limit=1)
    invitation, _ = invitations
    html = client.get(f"/s/{invitation.token}").text
    with caplog.at_level(logging.DEBUG):
        client.post(f"/s/{invitation.token}", data=form_fields(html))
        assert client.post(f"/s/{invitation.token}", data=form_fields(html)).status_code == 429
    limits = client.app.state.rate_limits  # type: ignore[attr-defined]
    for counter in (limits.submit_by_token, limits.submit_by_address):
        for key in counter._windows:
            assert len(key) == 16
            assert invitation.token.encode() not in key and b"testclient" not in key
    ours = [record.getMessage() for record in caplog.records if record.name.startswith("verbonden")]
    assert any(" 429 " in line for line in ours)
    assert not any(invitation.token in line or "testclient" in line for line in ours)
