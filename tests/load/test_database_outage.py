"""A database outage: /readyz turns 503, a submission gets 503 with Retry-After and keeps its
answers, and the same submission succeeds exactly once when the database is back.

The shared PostgreSQL keeps running: the app reaches it through a proxy the test cuts.
"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url
from sqlmodel import Session, func, select

from app.main import create_app
from app.models import Response
from tests.conftest import new_database, remove_database
from tests.factories.collection import make_invitation, make_wave
from tests.factories.organisation import make_municipality, make_professional, make_team
from tests.load.proxy import CuttableProxy


@pytest.fixture
def postgres(tmp_path):
    database = new_database("postgresql", tmp_path)
    yield database
    remove_database(database)


def stored(database) -> int:
    with Session(database.engine) as session:
        return session.exec(select(func.count()).select_from(Response)).one()


def test_outage_keeps_the_answers_and_the_retry_stores_once(postgres):
    with Session(postgres.engine) as session:
        municipality = make_municipality(session, "Storingstad")
        wave = make_wave(session, municipality)
        professional = make_professional(session, make_team(session, municipality))
        token = make_invitation(session, wave, professional).token
        session.commit()

    url = make_url(postgres.url)
    proxy = CuttableProxy((url.host or "127.0.0.1", url.port or 5432))
    proxy.start()
    through_proxy = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    try:
        with TestClient(
            create_app(postgres.settings().model_copy(update={"database_url": through_proxy}))
        ) as client:
            form = client.get(f"/s/{token}").text
            items = list(dict.fromkeys(re.findall(r'<input type="radio" name="([^"]+)"', form)))
            submission_id = re.search(r'name="submission_id" value="([^"]+)"', form).group(1)
            data = {"submission_id": submission_id, "lang": "nl", **{item: "4" for item in items}}
            assert client.get("/readyz").status_code == 200

            proxy.cut()
            ready = client.get("/readyz")
            assert ready.status_code == 503
            down = client.post(f"/s/{token}", data=data, follow_redirects=False)
            assert down.status_code == 503
            assert down.headers["retry-after"]
            assert set(re.findall(r'name="([^"]+)" value="4" checked', down.text)) == set(items)
            assert f'value="{submission_id}"' in down.text
            assert stored(postgres) == 0

            proxy.start()
            assert client.get("/readyz").status_code == 200
            back = client.post(f"/s/{token}", data=data, follow_redirects=False)
            again = client.post(f"/s/{token}", data=data, follow_redirects=False)
            assert back.status_code == again.status_code == 303
            assert stored(postgres) == 1
    finally:
        proxy.cut()
