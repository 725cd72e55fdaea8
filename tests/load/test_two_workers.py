"""Two real uvicorn workers (``verbonden serve``, 2 workers) on PostgreSQL and Redis.

Each test holds keep-alive connections to *both* workers (told apart by the kernel's socket table,
see ``tests/load/workers.py``) and sends its requests to them in turn. Proven here:

- the limits are global: a limit of N lets N through across both workers, not 2N, for the API (by
  address and by verified key), for a link and for an address; forwarded headers from a client
  that is no trusted proxy change nothing;
- a revoked key and a closed or revoked link are refused by both workers at once;
- nothing is lost or stored twice when the same submission reaches both workers at the same time;
- with Redis gone, both workers keep answering (no 5xx, ``/readyz`` 200) and count in their own
  memory, each saying so once; when Redis is back they share the count again. A trusted proxy's
  ``X-Forwarded-For`` then names the client address.

Every test uses its own loopback client address (127.0.0.N), so its counters are its own. The tests
use their own Redis database (``tests.conftest.redis_url``) and delete what they wrote.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from sqlmodel import Session, func, select

from app.apikeys.service import create_api_key
from app.db import utcnow
from app.models import Response
from app.ratelimit import REDIS_RETRY_SECONDS
from tests.conftest import Database, new_database, remove_database, tests_redis
from tests.factories.collection import make_invitation, make_wave
from tests.factories.organisation import make_municipality, make_professional, make_team
from tests.load.proxy import CuttableProxy
from tests.load.server import running_server
from tests.load.workers import WorkerConnection, connections_per_worker, one_connection_per_worker

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

WORKERS = 2
API_LIMIT = 20
LINK_LIMIT = 10
ADDRESS_LIMIT = 15


@dataclass
class Seeded:
    """What a server's database holds for the tests: links, keys (secrets and ids), waves."""

    links: list[str] = field(default_factory=list)
    closing_wave_id: int = 0
    closing_link: str = ""
    revocable_link_id: int = 0
    revocable_link: str = ""
    manage_key: str = ""
    admin_key: str = ""
    keys: list[tuple[int, str]] = field(default_factory=list)  # (id, secret) of spare manage keys
    items: list[str] = field(default_factory=list)


def seed(database: Database, name: str, links: int = 4) -> Seeded:
    seeded = Seeded()
    with Session(database.engine) as session:
        municipality = make_municipality(session, name)
        team = make_team(session, municipality)
        professional = make_professional(session, team)
        wave = make_wave(session, municipality)
        seeded.links = [make_invitation(session, wave, professional).token for _ in range(links)]
        closing = make_wave(session, municipality, name="Sluitend")
        seeded.closing_wave_id = closing.id or 0
        seeded.closing_link = make_invitation(session, closing, professional).token
        revocable = make_invitation(session, wave, professional)
        seeded.revocable_link_id, seeded.revocable_link = revocable.id or 0, revocable.token
        seeded.manage_key = create_api_key(
            session, municipality_id=municipality.id, name="beheer", scopes=["manage"]
        )[1]
        seeded.admin_key = create_api_key(
            session, municipality_id=municipality.id, name="admin", scopes=["admin", "manage"]
        )[1]
        for number in range(3):
            row, secret = create_api_key(
                session, municipality_id=municipality.id, name=f"reserve {number}", scopes=["manage"]
            )
            seeded.keys.append((row.id or 0, secret))
        session.commit()
    return seeded


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def answers(items: list[str], submission_id: str | None = None) -> dict[str, str]:
    return {
        "submission_id": submission_id or secrets.token_urlsafe(18),
        "lang": "nl",
        **{item: str(1 + position % 5) for position, item in enumerate(items)},
    }


def stored(database: Database) -> int:
    with Session(database.engine) as session:
        return session.exec(select(func.count()).select_from(Response)).one()


def server_log(path: Path) -> str:
    """What the server logged, without the access lines."""
    lines = path.read_text().splitlines()
    return "\n".join(line for line in lines if "verbonden.access" not in line)[-4000:]


def in_turn(connections: list[WorkerConnection], count: int, method: str, path: str, **options) -> list[int]:
    """Send the same request ``count`` times, to each worker in turn; the statuses in order."""
    return [connections[number % len(connections)].status(method, path, **options) for number in range(count)]


@pytest.fixture(scope="module")
def postgres(tmp_path_factory) -> Iterator[Database]:
    database = new_database("postgresql", tmp_path_factory.mktemp("two-workers"))
    yield database
    remove_database(database)


@pytest.fixture(scope="module")
def shared_redis() -> Iterator[str]:
    """The tests' Redis database, for the module's servers (see ``tests.conftest.tests_redis``)."""
    with tests_redis() as url:
        yield url


@pytest.fixture(scope="module")
def redis_behind_proxy(shared_redis) -> Iterator[CuttableProxy]:
    """The tests' Redis, reached through a proxy a test can cut (Redis itself keeps running)."""
    target = redis.connection.parse_url(shared_redis)
    proxy = CuttableProxy((target.get("host", "127.0.0.1"), int(target.get("port", 6379))))
    proxy.start()
    yield proxy
    proxy.cut()


@dataclass
class Server:
    base_url: str
    seeded: Seeded
    database: Database
    log_path: Path


@pytest.fixture(scope="module")
def limited(postgres, shared_redis, redis_behind_proxy, tmp_path_factory) -> Iterator[Server]:
    """Two workers on PostgreSQL and Redis with small limits; 127.0.0.1 is the one trusted proxy."""
    seeded = seed(postgres, "Tweewerk")
    database_number = redis.connection.parse_url(shared_redis).get("db", 0)
    log_path = tmp_path_factory.mktemp("limited") / "server.log"
    with running_server(
        postgres.url,
        workers=WORKERS,
        log_path=log_path,
        redis_url=f"redis://127.0.0.1:{redis_behind_proxy.port}/{database_number}",
        secret_key=secrets.token_urlsafe(32),
        api_rate_limit=str(API_LIMIT),
        submit_rate_limit=str(LINK_LIMIT),
        submit_address_rate_limit=str(ADDRESS_LIMIT),
        trusted_proxies="127.0.0.1",
    ) as base_url:
        form = WorkerConnection(base_url).request("GET", f"/s/{seeded.links[0]}")[2].decode()
        seeded.items = list(dict.fromkeys(re.findall(r'name="([a-z]{2}_[a-z]{2}_\d+)"', form)))
        assert seeded.items
        yield Server(base_url, seeded, postgres, log_path)


def test_the_api_limit_by_address_is_one_count_for_both_workers(limited):
    base_url = limited.base_url
    workers = one_connection_per_worker(base_url, WORKERS, source="127.0.0.2")
    statuses = in_turn(workers, API_LIMIT + 10, "GET", "/api/v1/instrument")
    assert statuses == [200] * API_LIMIT + [429] * 10  # not 2 x API_LIMIT


def test_a_verified_key_has_one_count_for_both_workers(limited):
    base_url, seeded = limited.base_url, limited.seeded
    workers = one_connection_per_worker(base_url, WORKERS, source="127.0.0.3")
    statuses = in_turn(workers, API_LIMIT + 10, "GET", "/api/v1/teams", headers=bearer(seeded.manage_key))
    # Each worker counts the key's first request against the address (it has not seen the key
    # verified yet), and every later one against the key, in one count for both.
    assert statuses == [200] * (WORKERS + API_LIMIT) + [429] * (10 - WORKERS)


def test_made_up_keys_and_forwarded_headers_gain_nothing(limited):
    base_url = limited.base_url
    workers = one_connection_per_worker(base_url, WORKERS, source="127.0.0.4")
    statuses = [
        workers[number % WORKERS].status(
            "GET",
            "/api/v1/teams",
            headers={
                "Authorization": f"Bearer vb_{secrets.token_urlsafe(32)}",
                "X-Forwarded-For": f"198.51.100.{number}",  # not from a trusted proxy: ignored
            },
        )
        for number in range(API_LIMIT + 10)
    ]
    assert statuses == [401] * API_LIMIT + [429] * 10


def test_the_link_and_address_limits_are_one_count_for_both_workers(limited):
    base_url, seeded, database = limited.base_url, limited.seeded, limited.database
    workers = one_connection_per_worker(base_url, WORKERS, source="127.0.0.5")
    before = stored(database)
    link, other = seeded.links[1], seeded.links[2]
    # Empty forms: refused (422) and counted, like every request.
    on_link = in_turn(workers, LINK_LIMIT + 4, "POST", f"/s/{link}", form={"lang": "nl"})
    assert on_link == [422] * LINK_LIMIT + [429] * 4
    # The address has counted all of them; one more fits, on another link, then none.
    on_other = in_turn(workers, 2, "POST", f"/s/{other}", form={"lang": "nl"})
    assert on_other == [422, 429]
    assert stored(database) == before


def test_a_revoked_key_is_refused_by_both_workers_at_once(limited):
    base_url, seeded = limited.base_url, limited.seeded
    workers = one_connection_per_worker(base_url, WORKERS, source="127.0.0.6")
    key_id, secret = seeded.keys[0]
    assert [worker.status("GET", "/api/v1/teams", headers=bearer(secret)) for worker in workers] == [200, 200]
    revoked = workers[0].status("DELETE", f"/api/v1/apikeys/{key_id}", headers=bearer(seeded.admin_key))
    assert revoked == 204
    assert [
        worker.status("GET", "/api/v1/teams", headers=bearer(secret)) for worker in reversed(workers)
    ] == [
        401,
        401,
    ]


def test_a_closed_or_revoked_link_is_refused_by_both_workers_at_once(limited):
    base_url, seeded, database = limited.base_url, limited.seeded, limited.database
    workers = one_connection_per_worker(base_url, WORKERS, source="127.0.0.7")
    manage = bearer(seeded.keys[1][1])
    for link in (seeded.closing_link, seeded.revocable_link):
        # Both workers have the link in memory now (the submission's hot path).
        assert [worker.status("POST", f"/s/{link}", form=answers(seeded.items)) for worker in workers] == [
            303,
            303,
        ]
    before = stored(database)
    closes_at = (utcnow() - timedelta(seconds=1)).isoformat()
    closed = workers[0].request(
        "PATCH", f"/api/v1/waves/{seeded.closing_wave_id}", headers=manage, json_body={"closes_at": closes_at}
    )
    assert closed[0] == 200, closed[2]
    revoked = workers[1].request(
        "POST", f"/api/v1/invitations/{seeded.revocable_link_id}/revoke", headers=manage
    )
    assert revoked[0] == 200, revoked[2]
    for link in (seeded.closing_link, seeded.revocable_link):
        refused = [worker.status("POST", f"/s/{link}", form=answers(seeded.items)) for worker in workers]
        assert refused == [410, 410]
    assert stored(database) == before


PAIRS = 8  # connections per worker, each sending its share
SUBMISSIONS_PER_PAIR = 40


@pytest.fixture(scope="module")
def unlimited(postgres, shared_redis) -> Iterator[Server]:
    """Two workers on PostgreSQL and Redis, limits off: for volume."""
    seeded = seed(postgres, "Volumestad", links=5)
    with running_server(
        postgres.url, workers=WORKERS, redis_url=shared_redis, submit_rate_limit="0", api_rate_limit="0"
    ) as base_url:
        form = WorkerConnection(base_url).request("GET", f"/s/{seeded.links[0]}")[2].decode()
        seeded.items = list(dict.fromkeys(re.findall(r'name="([a-z]{2}_[a-z]{2}_\d+)"', form)))
        yield Server(base_url, seeded, postgres, Path())


def test_the_same_submission_on_both_workers_at_once_is_stored_once(unlimited):
    """Every submission goes to both workers at (nearly) the same moment, as a double tap whose two
    requests two workers take: each is answered 303 by both, and stored exactly once."""
    base_url, seeded, database = unlimited.base_url, unlimited.seeded, unlimited.database
    before = stored(database)
    first, second = connections_per_worker(base_url, WORKERS, each=PAIRS, source="127.0.0.8")
    plan = [
        [
            (seeded.links[(pair + number) % len(seeded.links)], secrets.token_urlsafe(18))
            for number in range(SUBMISSIONS_PER_PAIR)
        ]
        for pair in range(PAIRS)
    ]
    outcomes: Counter[int] = Counter()
    answered: Counter[str] = Counter()
    lock = threading.Lock()
    start = threading.Barrier(2 * PAIRS)

    def send(connection: WorkerConnection, submissions: list[tuple[str, str]]) -> None:
        start.wait()
        for link, submission_id in submissions:
            status = connection.status("POST", f"/s/{link}", form=answers(seeded.items, submission_id))
            with lock:
                outcomes[status] += 1
                if status == 303:
                    answered[submission_id] += 1

    with ThreadPoolExecutor(max_workers=2 * PAIRS) as pool:
        jobs = [
            pool.submit(send, worker[pair], plan[pair]) for pair in range(PAIRS) for worker in (first, second)
        ]
        for job in jobs:
            job.result(timeout=600)
    total = PAIRS * SUBMISSIONS_PER_PAIR
    assert outcomes == {303: 2 * total}
    assert len(answered) == total and set(answered.values()) == {2}
    assert stored(database) - before == total


def test_without_redis_both_workers_answer_and_count_alone_then_share_again(limited, redis_behind_proxy):
    base_url, log_path = limited.base_url, limited.log_path
    workers = one_connection_per_worker(base_url, WORKERS, source="127.0.0.9")
    statuses = in_turn(workers, API_LIMIT + 2, "GET", "/api/v1/instrument")
    assert statuses == [200] * API_LIMIT + [429] * 2, (statuses, server_log(log_path))

    redis_behind_proxy.cut()
    try:
        workers = one_connection_per_worker(base_url, WORKERS, source="127.0.0.10")
        statuses = in_turn(workers, 2 * API_LIMIT + 4, "GET", "/api/v1/instrument")
        # Each worker counts in its own memory now: the limit holds per worker, and nothing fails.
        assert Counter(statuses) == {200: 2 * API_LIMIT, 429: 4}, (statuses, server_log(log_path))
        assert [worker.status("GET", "/readyz") for worker in workers] == [200, 200]
        log = log_path.read_text()
        assert log.count("Redis (VERBONDEN_REDIS_URL) does not answer") == WORKERS  # once per worker
    finally:
        redis_behind_proxy.start()
    time.sleep(REDIS_RETRY_SECONDS + 0.5)
    workers = one_connection_per_worker(base_url, WORKERS, source="127.0.0.11")
    statuses = in_turn(workers, API_LIMIT + 2, "GET", "/api/v1/instrument")
    assert statuses == [200] * API_LIMIT + [429] * 2, (statuses, server_log(log_path))
    assert log_path.read_text().count("Redis answers again") == WORKERS
    assert "Traceback" not in log_path.read_text()


def test_a_trusted_proxy_names_the_client_address(limited):
    base_url = limited.base_url
    (worker,) = one_connection_per_worker(base_url, 1, source="127.0.0.1")  # the trusted proxy

    def through_proxy(client: str, count: int) -> list[int]:
        headers = {"X-Forwarded-For": client}
        return [worker.status("GET", "/api/v1/instrument", headers=headers) for _ in range(count)]

    assert through_proxy("203.0.113.7", API_LIMIT + 1) == [200] * API_LIMIT + [429]
    assert through_proxy("203.0.113.8", 1) == [200]  # another client behind the same proxy
    # A client that put an address of its own in front: the proxy appended the real one, which counts.
    assert through_proxy("192.0.2.1, 203.0.113.7", 1) == [429]
