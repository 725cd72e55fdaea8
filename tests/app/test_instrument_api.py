"""The public instrument payload and the refusal to start on a changed published version."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.instrument_versions.service import InstrumentChanged, published_instrument
from app.main import create_app
from app.migrate import upgrade
from app.models import InstrumentVersion
from tests.conftest import BACKENDS, Database


def test_instrument_is_public_and_complete(client):
    response = client.get("/api/v1/instrument")
    assert response.status_code == 200
    payload = response.json()
    assert set(payload["forms"]) == {"jongere", "ouder", "professional"}
    jongere = payload["forms"]["jongere"]
    assert set(jongere["subscales"]) == {"gezien_worden", "erbij_horen", "ertoe_doen"}
    item = jongere["subscales"]["gezien_worden"]["items"][0]
    assert set(item) == {"id", "text", "reverse"}
    assert set(item["text"]) == {"nl", "en"}
    assert payload["scale"]["min"] == 1 and payload["scale"]["max"] == 5
    assert payload["content_hash"] == published_instrument().content_hash


@pytest.mark.parametrize("fresh_database", BACKENDS, indirect=True)
def test_service_refuses_to_start_when_a_recorded_version_changed(fresh_database: Database):
    upgrade(fresh_database.url)
    version = published_instrument().version
    with Session(fresh_database.engine) as session:
        session.add(InstrumentVersion(version=version, content_hash="0" * 64))
        session.commit()
    with pytest.raises(InstrumentChanged, match=version), TestClient(create_app(fresh_database.settings())):
        pass


@pytest.mark.parametrize("fresh_database", BACKENDS, indirect=True)
def test_service_starts_when_recorded_versions_are_unchanged(fresh_database: Database):
    upgrade(fresh_database.url)
    instrument = published_instrument()
    with Session(fresh_database.engine) as session:
        session.add(InstrumentVersion(version=instrument.version, content_hash=instrument.content_hash))
        session.commit()
    with TestClient(create_app(fresh_database.settings())) as client:
        assert client.get("/readyz").status_code == 200
