"""Liveness and readiness."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.migrate import upgrade
from tests.conftest import BACKENDS, Database


def test_healthz_answers_without_a_database(tmp_path):
    from app.config import Settings

    settings = Settings(database_url=f"sqlite:///{tmp_path / 'missing' / 'x.sqlite3'}")
    with TestClient(create_app(settings)) as client:
        assert client.get("/healthz").json() == {"status": "ok"}


@pytest.mark.parametrize("fresh_database", BACKENDS, indirect=True)
def test_readyz_is_503_until_migrated(fresh_database: Database):
    with TestClient(create_app(fresh_database.settings())) as client:
        before = client.get("/readyz")
        assert before.status_code == 503
        assert before.headers["content-type"].startswith("application/problem+json")
        assert "verbonden db upgrade" in before.json()["detail"]

        upgrade(fresh_database.url)

        after = client.get("/readyz")
        assert after.status_code == 200, after.text
        assert after.json()["status"] == "ready"


def test_readyz_is_503_when_the_database_is_unreachable():
    from app.config import Settings

    settings = Settings(database_url="postgresql+psycopg://nobody@127.0.0.1:1/none")
    with TestClient(create_app(settings)) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert "not reachable" in response.json()["detail"]
    assert response.headers["retry-after"]
