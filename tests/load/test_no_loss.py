"""No loss under load: 50 concurrent clients, 5,000 submissions, some sent twice on purpose.

Stored rows must equal accepted submissions exactly, every duplicate is stored once, and no
request gets a 5xx. Loopback only; bounded in count and time. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
import secrets
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx2
import pytest
from sqlmodel import Session, func, select

from app.models import Response
from tests.conftest import BACKENDS, Database, new_database, remove_database
from tests.factories.collection import make_invitation, make_wave
from tests.factories.organisation import make_municipality, make_professional, make_team
from tests.load.server import running_server

CLIENTS = 50
SUBMISSIONS = 5_000
DUPLICATE_EVERY = 10  # every tenth submission is sent a second time, as a double tap would
TIME_LIMIT_SECONDS = 300

pytestmark = pytest.mark.slow


@pytest.fixture(params=BACKENDS)
def loaded_database(request, tmp_path):
    database = new_database(request.param, tmp_path)
    yield database
    remove_database(database)


def seed(database: Database) -> list[str]:
    with Session(database.engine) as session:
        municipality = make_municipality(session, "Loadstad")
        team = make_team(session, municipality)
        wave = make_wave(session, municipality)
        tokens = [
            make_invitation(session, wave, make_professional(session, team, display_name=f"P{i}")).token
            for i in range(5)
        ]
        session.commit()
    return tokens


def test_every_accepted_submission_is_stored_exactly_once(loaded_database: Database):
    tokens = seed(loaded_database)
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()
    with running_server(loaded_database.url, submit_rate_limit="0", api_rate_limit="0") as base_url:
        form = httpx2.get(f"{base_url}/s/{tokens[0]}").text
        items = list(dict.fromkeys(re.findall(r'name="([a-z]{2}_[a-z]{2}_\d+)"', form)))
        assert items

        # One client for all threads (it is thread-safe): a new client per submission would spend
        # more time building its TLS context than the server spends storing the response.
        client = httpx2.Client(base_url=base_url, timeout=60, limits=httpx2.Limits(max_connections=CLIENTS))

        def submit(number: int) -> None:
            token = tokens[number % len(tokens)]
            data = {
                "submission_id": secrets.token_urlsafe(18),
                "lang": "nl",
                **{item: str(1 + (number + position) % 5) for position, item in enumerate(items)},
            }
            sends = 2 if number % DUPLICATE_EVERY == 0 else 1
            for _ in range(sends):
                status = client.post(f"/s/{token}", data=data).status_code
                with lock:
                    outcomes[str(status)] += 1

        with client, ThreadPoolExecutor(max_workers=CLIENTS) as pool:
            list(pool.map(submit, range(SUBMISSIONS), timeout=TIME_LIMIT_SECONDS))

    with Session(loaded_database.engine) as session:
        stored = session.exec(select(func.count()).select_from(Response)).one()
    duplicates = SUBMISSIONS // DUPLICATE_EVERY
    assert not [status for status in outcomes if status.startswith("5")], outcomes
    assert outcomes["303"] == SUBMISSIONS + duplicates, outcomes
    assert stored == SUBMISSIONS
