"""The real per-request session (no test override): it commits before the response is sent."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, func, select

from app.main import create_app
from app.migrate import upgrade
from app.models import Response
from tests.conftest import BACKENDS, Database
from tests.factories.collection import make_invitation, make_wave
from tests.factories.organisation import make_municipality, make_professional, make_team


def seeded_token(database: Database) -> str:
    upgrade(database.url)
    with Session(database.engine) as session:
        municipality = make_municipality(session)
        wave = make_wave(session, municipality)
        token = make_invitation(
            session, wave, make_professional(session, make_team(session, municipality))
        ).token
        session.commit()
    return token


def post_form(client: TestClient, token: str):
    form = client.get(f"/s/{token}").text
    items = set(re.findall(r'<input type="radio" name="([^"]+)"', form))
    submission_id = re.search(r'name="submission_id" value="([^"]+)"', form).group(1)
    return client.post(
        f"/s/{token}",
        data={"submission_id": submission_id, **dict.fromkeys(items, "3")},
        follow_redirects=False,
    )


def stored(database: Database) -> int:
    with Session(database.engine) as session:
        return session.exec(select(func.count()).select_from(Response)).one()


@pytest.mark.parametrize("fresh_database", BACKENDS, indirect=True)
def test_a_thank_you_means_the_response_is_stored(fresh_database: Database):
    token = seeded_token(fresh_database)
    with TestClient(create_app(fresh_database.settings())) as client:
        assert post_form(client, token).status_code == 303
    assert stored(fresh_database) == 1


@pytest.mark.parametrize("fresh_database", BACKENDS, indirect=True)
def test_a_failed_commit_is_never_answered_with_thanks(fresh_database: Database, monkeypatch):
    token = seeded_token(fresh_database)

    def failing_commit(session: Session) -> None:
        session.rollback()
        raise OperationalError("COMMIT", None, Exception("the database went away"))

    # Every commit, wherever the request makes it (the session dependency, or a hot route's
    # unit of work).
    monkeypatch.setattr(Session, "commit", failing_commit)
    with TestClient(create_app(fresh_database.settings()), raise_server_exceptions=False) as client:
        response = post_form(client, token)
    assert response.status_code == 503
    assert response.headers["retry-after"]
    assert stored(fresh_database) == 0
