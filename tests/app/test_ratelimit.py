"""Rate limits: the respondent form (per link, per address) and the API (per verified key, else per
address), counted in memory and in Redis, on both databases; Redis going away is not an error."""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import timedelta

import pytest
import redis
from fastapi.testclient import TestClient
from sqlmodel import Session, col, func, select

from app.collection.views import texts
from app.config import Settings
from app.db import utcnow
from app.models import ApiKey, Response
from app.ratelimit import MemoryCounters, MovingWindowCounter, RateLimits, RedisCounters
from tests.app.test_collection import form_fields, item_ids
from tests.app.test_security import client_with
from tests.factories.collection import make_invitation, make_wave
from tests.factories.organisation import make_key, make_municipality, make_professional, make_team
from tests.load.proxy import CuttableProxy
from tests.load.server import free_port


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_window_moves_with_every_request_and_says_how_long_to_wait():
    clock = Clock()
    counter = MovingWindowCounter(window_seconds=60, clock=clock)
    assert counter.hit(b"k", 2) is None
    clock.now += 20
    assert counter.hit(b"k", 2) is None
    clock.now += 10
    assert counter.hit(b"k", 2) == 30  # the first request leaves the window at 1060
    assert counter.hit(b"other", 2) is None
    clock.now = 1060.5
    assert counter.hit(b"k", 2) is None  # one place free again: the window moved past 1000
    assert counter.hit(b"k", 2) == 20  # the next leaves at 1080


def test_no_burst_across_a_boundary_gets_twice_the_limit_through():
    clock = Clock()
    counter = MovingWindowCounter(window_seconds=60, clock=clock)
    clock.now = 1059.0
    assert [counter.hit(b"k", 3) for _ in range(3)] == [None, None, None]
    clock.now = 1061.0  # a fixed one-minute window would start afresh at 1060
    assert counter.hit(b"k", 3) == 58


def test_refused_requests_are_not_counted_again_so_the_limit_is_what_gets_through():
    clock = Clock()
    counter = MovingWindowCounter(window_seconds=60, clock=clock)
    passed = 0
    for _ in range(600):  # ten minutes of one request a second
        passed += counter.hit(b"k", 30) is None
        clock.now += 1
    assert passed == 300


def test_counter_memory_is_bounded_and_forgets_finished_windows():
    clock = Clock()
    counter = MovingWindowCounter(window_seconds=60, max_tracked=100, clock=clock)
    for number in range(1000):
        counter.hit(str(number).encode(), 5)
    assert len(counter) <= 100
    clock.now += 61
    counter.hit(b"fresh", 5)
    assert len(counter) == 1


@pytest.fixture(params=["memory", "redis"])
def limiter(request) -> dict[str, object]:
    """The settings that put the counters in memory or in the tests' Redis database."""
    if request.param == "memory":
        return {"redis_url": None}
    return {"redis_url": request.getfixturevalue("redis_url"), "secret_key": secrets.token_urlsafe(32)}


@pytest.fixture
def open_client(database, session) -> Iterator[Callable[..., TestClient]]:
    """Open an application client on these settings; each runs its own event loop until the test ends
    (as a server's worker does), and is closed afterwards."""
    with ExitStack() as opened:
        yield lambda **settings: opened.enter_context(client_with(database, session, **settings))


@pytest.fixture
def invitations(session: Session):
    municipality = make_municipality(session, "Bars-A")
    wave = make_wave(session, municipality)
    professional = make_professional(session, make_team(session, municipality))
    return make_invitation(session, wave, professional), make_invitation(session, wave, professional)


def stored(session: Session) -> int:
    return session.exec(select(func.count()).select_from(Response)).one()


def test_over_the_limit_the_form_comes_back_calmly_with_every_answer(
    open_client, session, invitations, limiter
):
    client = open_client(submit_rate_limit=2, **limiter)
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


def test_the_busy_form_speaks_the_respondents_language(open_client, invitations):
    client = open_client(submit_rate_limit=1)
    invitation, _ = invitations
    html = client.get(f"/s/{invitation.token}?lang=en").text
    client.post(f"/s/{invitation.token}", data=form_fields(html))
    response = client.post(f"/s/{invitation.token}", data=form_fields(html))
    assert response.status_code == 429
    assert texts("en", "je")["busy_body"] in response.text


def test_the_link_limit_holds_per_link_and_the_address_limit_across_links(open_client, invitations, limiter):
    client = open_client(submit_rate_limit=2, submit_address_rate_limit=3, **limiter)
    first, second = invitations
    html = client.get(f"/s/{first.token}").text
    other = client.get(f"/s/{second.token}").text
    assert [client.post(f"/s/{first.token}", data=form_fields(html)).status_code for _ in range(3)] == [
        422,
        422,
        429,  # the link's limit; the address has counted 3
    ]
    assert client.post(f"/s/{second.token}", data=form_fields(other)).status_code == 429  # the address's


def test_a_school_class_behind_one_address_gets_through_on_the_default_limits(
    open_client, session, invitations
):
    """30 pupils scan one QR code within a minute, from one NAT address; some tap twice, some send
    an empty form first. Every pupil's answers are stored, on the default settings."""
    client = open_client()
    invitation, other = invitations
    html = client.get(f"/s/{invitation.token}").text
    ids = item_ids(html)
    statuses = []
    for pupil in range(30):
        data = {"submission_id": secrets.token_urlsafe(18), "lang": "nl", **{item: "4" for item in ids}}
        if pupil % 5 == 0:  # an empty form first: refused, counted all the same
            statuses.append(client.post(f"/s/{invitation.token}", data=form_fields(html)).status_code)
        sends = 2 if pupil % 3 == 0 else 1  # a double tap
        for _ in range(sends):
            statuses.append(
                client.post(f"/s/{invitation.token}", data=data, follow_redirects=False).status_code
            )
    assert 429 not in statuses
    assert stored(session) == 30
    # The class's teacher then rates another professional from the same address: still room.
    other_html = client.get(f"/s/{other.token}").text
    data = {**form_fields(other_html), **{item: "5" for item in item_ids(other_html)}}
    assert client.post(f"/s/{other.token}", data=data, follow_redirects=False).status_code == 303


def test_unknown_links_and_garbage_bodies_count_too(open_client, limiter):
    client = open_client(submit_rate_limit=2, **limiter)
    assert client.post("/s/nope", content=b"\xff" * 10).status_code in {400, 404, 422}
    assert client.post("/s/nope", data={"a": "1"}).status_code == 404
    response = client.post("/s/nope", data={"a": "1"})
    assert response.status_code == 429
    assert "retry-after" in response.headers
    assert response.headers["content-type"].startswith("text/html")


def test_a_valid_submission_under_the_limit_is_stored(open_client, session, invitations):
    client = open_client(submit_rate_limit=2)
    invitation, _ = invitations
    html = client.get(f"/s/{invitation.token}").text
    data = {**form_fields(html), **{item: "4" for item in item_ids(html)}}
    assert client.post(f"/s/{invitation.token}", data=data, follow_redirects=False).status_code == 303
    assert stored(session) == 1


def test_a_verified_key_is_counted_against_itself_valid_requests_or_not(open_client, session, limiter):
    client = open_client(api_rate_limit=3, **limiter)
    municipality = make_municipality(session)
    key = make_key(session, municipality, "manage")
    # The key's first request is counted against the address: the key is not verified yet.
    assert client.get("/api/v1/teams", headers=key).status_code == 200
    assert client.get("/api/v1/no-such-route", headers=key).status_code == 404
    assert client.post("/api/v1/teams", headers=key, content=b"{not json").status_code == 422
    assert client.get("/api/v1/teams", headers=key).status_code == 200
    response = client.get("/api/v1/teams", headers=key)
    assert response.status_code == 429
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["status"] == 429
    assert int(response.headers["retry-after"]) in range(1, 61)
    other = make_key(session, municipality, "manage")
    assert client.get("/api/v1/teams", headers=other).status_code == 200  # the address: 2 of 3
    assert client.get("/api/v1/instrument").status_code == 200  # 3 of 3
    assert client.get("/api/v1/instrument").status_code == 429


def test_made_up_keys_are_counted_against_the_address(open_client, limiter):
    client = open_client(api_rate_limit=3, **limiter)
    statuses = [
        client.get(
            "/api/v1/teams", headers={"Authorization": f"Bearer vb_{secrets.token_urlsafe(32)}"}
        ).status_code
        for _ in range(10)
    ]
    assert statuses == [401] * 3 + [429] * 7
    assert client.get("/api/v1/instrument").status_code == 429  # the same address


def test_a_revoked_key_is_forgotten_and_counted_against_the_address_again(open_client, session):
    client = open_client(api_rate_limit=3)
    municipality = make_municipality(session)
    key = make_key(session, municipality, "manage")
    assert client.get("/api/v1/teams", headers=key).status_code == 200  # address 1, then verified
    assert client.get("/api/v1/teams", headers=key).status_code == 200  # key 1
    row = session.exec(select(ApiKey).order_by(col(ApiKey.id).desc())).first()
    row.revoked_at = utcnow() - timedelta(seconds=1)
    session.add(row)
    session.flush()
    assert client.get("/api/v1/teams", headers=key).status_code == 401  # key 2, then forgotten
    assert client.get("/api/v1/teams", headers=key).status_code == 401  # address 2
    assert client.get("/api/v1/teams", headers=key).status_code == 401  # address 3
    assert client.get("/api/v1/teams", headers=key).status_code == 429


def test_wrong_keys_and_missing_keys_are_limited_too(open_client):
    client = open_client(api_rate_limit=2)
    wrong = {"Authorization": "Bearer vb_wrong"}
    assert [client.get("/api/v1/teams", headers=wrong).status_code for _ in range(3)] == [401, 401, 429]
    assert client.get("/api/v1/instrument").status_code == 429


def test_forwarded_headers_do_not_change_the_address_in_the_app(open_client):
    client = open_client(api_rate_limit=2)
    statuses = [
        client.get("/api/v1/instrument", headers={"X-Forwarded-For": f"10.0.0.{number}"}).status_code
        for number in range(3)
    ]
    assert statuses == [200, 200, 429]


def test_zero_switches_the_limits_off(open_client, invitations):
    client = open_client(api_rate_limit=0, submit_rate_limit=0, submit_address_rate_limit=0)
    invitation, _ = invitations
    html = client.get(f"/s/{invitation.token}").text
    for _ in range(40):
        assert client.post(f"/s/{invitation.token}", data=form_fields(html)).status_code == 422
    for _ in range(40):
        assert client.get("/api/v1/teams").status_code == 401


def test_in_memory_each_app_counts_alone(open_client):
    assert open_client(api_rate_limit=1).get("/api/v1/instrument").status_code == 200
    assert open_client(api_rate_limit=1).get("/api/v1/instrument").status_code == 200


def test_in_redis_apps_with_the_same_secret_share_one_count(open_client, redis_url):
    shared = {"api_rate_limit": 1, "redis_url": redis_url, "secret_key": secrets.token_urlsafe(32)}
    assert open_client(**shared).get("/api/v1/instrument").status_code == 200
    assert open_client(**shared).get("/api/v1/instrument").status_code == 429
    other_deployment = {**shared, "secret_key": secrets.token_urlsafe(32)}
    assert open_client(**other_deployment).get("/api/v1/instrument").status_code == 200


def test_addresses_and_tokens_are_held_only_as_digests_and_never_logged(open_client, invitations, caplog):
    client = open_client(submit_rate_limit=1)
    invitation, _ = invitations
    html = client.get(f"/s/{invitation.token}").text
    with caplog.at_level(logging.DEBUG):
        client.post(f"/s/{invitation.token}", data=form_fields(html))
        assert client.post(f"/s/{invitation.token}", data=form_fields(html)).status_code == 429
    counters = client.app.state.rate_limits.counters  # type: ignore[attr-defined]
    assert set(counters.by_kind) == {"submit_link", "submit_address"}
    for counter in counters.by_kind.values():
        for key in counter.digests():
            assert len(key) == 16
            assert invitation.token.encode() not in key and b"testclient" not in key
    ours = [record.getMessage() for record in caplog.records if record.name.startswith("verbonden")]
    assert any(" 429 " in line for line in ours)
    assert not any(invitation.token in line or "testclient" in line for line in ours)


def test_redis_holds_only_digests_that_expire_with_their_window(open_client, invitations, redis_url):
    client = open_client(redis_url=redis_url, secret_key=secrets.token_urlsafe(32))
    invitation, _ = invitations
    html = client.get(f"/s/{invitation.token}").text
    client.post(f"/s/{invitation.token}", data=form_fields(html))
    client.get("/api/v1/teams", headers={"Authorization": "Bearer vb_not-a-key"})
    store = redis.Redis.from_url(redis_url)
    keys = [key.decode() for key in store.scan_iter("verbonden:*")]
    assert len(keys) == 3  # the link's, and the address's for submissions and for the API
    for key in keys:
        assert invitation.token not in key and "testclient" not in key and "not-a-key" not in key
        assert re.fullmatch(
            r"verbonden:[0-9a-f]{12}:(submit_link|submit_address|api)/[0-9a-f]{32}/\d+/1/minute", key
        )
        assert 0 < store.ttl(key) <= 60
    store.close()


def unreachable_redis() -> str:
    return f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there


def test_without_redis_the_limits_hold_in_memory_and_nothing_fails(open_client, invitations, caplog):
    client = open_client(submit_rate_limit=2, api_rate_limit=3, redis_url=unreachable_redis())
    invitation, _ = invitations
    with caplog.at_level(logging.WARNING, logger="verbonden"):
        html = client.get(f"/s/{invitation.token}").text
        statuses = [
            client.post(f"/s/{invitation.token}", data=form_fields(html)).status_code for _ in range(3)
        ]
        assert statuses == [422, 422, 429]
        assert [client.get("/api/v1/instrument").status_code for _ in range(4)] == [200] * 3 + [429]
        assert client.get("/readyz").status_code == 200
    warnings = [record.getMessage() for record in caplog.records if record.name == "verbonden.ratelimit"]
    assert len(warnings) == 1
    assert "VERBONDEN_REDIS_URL" in warnings[0] and "memory" in warnings[0]
    assert "127.0.0.1" not in warnings[0]


def test_when_redis_goes_away_and_comes_back_the_counting_follows(redis_url, caplog, monkeypatch):
    monkeypatch.setattr("app.ratelimit.REDIS_RETRY_SECONDS", 0.0)
    target = redis.connection.parse_url(redis_url)
    proxy = CuttableProxy((target.get("host", "127.0.0.1"), int(target.get("port", 6379))))
    proxy.start()
    through_proxy = f"redis://127.0.0.1:{proxy.port}/{target.get('db', 0)}"
    limits = RateLimits(Settings(redis_url=through_proxy, secret_key=secrets.token_urlsafe(32)))
    counters = limits.counters
    assert isinstance(counters, RedisCounters)
    key = limits.blind("address", "192.0.2.1")

    async def scenario() -> list[int | None]:
        await limits.start()
        waits = [await counters.hit("api", key, 3)]  # in Redis: 1 of 3
        proxy.drop_connections()  # a connection gone stale while idle is retried on a new one
        waits += [await counters.hit("api", key, 3)]  # in Redis: 2 of 3
        assert not counters.down
        proxy.cut()
        waits += [await counters.hit("api", key, 3) for _ in range(4)]  # in memory: 3 pass, then 1 refused
        assert counters.down
        proxy.start()
        waits += [await counters.hit("api", key, 3)]  # Redis again: its 3rd
        waits += [await counters.hit("api", key, 3)]  # and refused there
        assert not counters.down
        await limits.aclose()
        return waits

    with caplog.at_level(logging.INFO, logger="verbonden"):
        waits = asyncio.run(scenario())
    proxy.cut()
    assert [wait is None for wait in waits] == [True, True, True, True, True, False, True, False]
    messages_ = [record.getMessage() for record in caplog.records if record.name == "verbonden.ratelimit"]
    assert len([line for line in messages_ if "does not answer" in line]) == 1
    assert len([line for line in messages_ if "answers again" in line]) == 1


def test_memory_counters_count_kinds_apart():
    counters = MemoryCounters()

    async def hits() -> list[int | None]:
        return [await counters.hit(kind, b"same", 1) for kind in ("api", "submit_link", "api")]

    waits = asyncio.run(hits())
    assert waits[0] is None and waits[1] is None and waits[2] is not None
