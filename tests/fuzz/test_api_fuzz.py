"""Schemathesis against the app's own OpenAPI schema: no 5xx, and every response matches its schema.

The ASGI app runs on a migrated throw-away database (SQLite and PostgreSQL) holding one municipality
with a team, a professional, a wave, an invitation and a response, and a key of that municipality with
every scope, so the generated requests get past 401/403 into the routes. Bounded and derandomized.
Hostile values the schema does not generate by itself (NUL, bidi and zero-width characters, zone-less
and extreme times, oversized bodies) are fuzzed in tests/fuzz/test_hostile_input_fuzz.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance
from sqlmodel import Session

from app.auth import Scope
from app.collection import service
from app.config import Settings
from app.main import create_app
from tests.conftest import BACKENDS, Database, new_database, remove_database
from tests.factories.collection import make_invitation, make_wave
from tests.factories.organisation import (
    make_key,
    make_municipality,
    make_partner,
    make_professional,
    make_team,
)

pytestmark = pytest.mark.slow

CHECKS = [not_a_server_error, response_schema_conformance]


@pytest.fixture(scope="module", params=BACKENDS)
def fuzz_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Database]:
    database = new_database(request.param, tmp_path_factory.mktemp("api-fuzz"))
    yield database
    remove_database(database)


@pytest.fixture(scope="module")
def api_headers(fuzz_database: Database) -> dict[str, str]:
    """A municipality with something in every table the API reads, and a key with every scope."""
    with Session(fuzz_database.engine, expire_on_commit=False) as session:
        municipality = make_municipality(session, "Fuzzdorp")
        team = make_team(session, municipality)
        partner = make_partner(session, municipality)
        professional = make_professional(session, team, partner=partner)
        wave = make_wave(session, municipality)
        invitation = make_invitation(session, wave, professional)
        questionnaire = service.open_questionnaire(session, invitation.token)
        answers = {item_id: 3 for item_id in questionnaire.item_ids}
        service.store_response(session, questionnaire, answers, language="nl", key="fuzz-seed")
        headers = make_key(session, municipality, *(scope.value for scope in Scope))
        session.commit()
    return headers


@pytest.fixture(scope="module")
def fuzz_app(fuzz_database: Database) -> FastAPI:
    return create_app(fuzz_database.settings(api_rate_limit=0, submit_rate_limit=0))


def openapi_document() -> dict[str, Any]:
    """The schema the app serves at /openapi.json (building it touches no database)."""
    return create_app(Settings(database_url="sqlite:///:memory:")).openapi()


# Loaded at import so that every operation is its own test; requests go to ``fuzz_app``.
schema = schemathesis.openapi.from_dict(openapi_document())


@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_api_answers_within_its_schema(
    case: schemathesis.Case, fuzz_app: FastAPI, api_headers: dict[str, str]
) -> None:
    case.call_and_validate(headers=api_headers, checks=CHECKS, app=fuzz_app)


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/reports/reliability?form=jongere&wave_id=9223372036854775808",
        "/api/v1/reports/scores?form=jongere&wave_id=2147483648",
        "/reports/9223372036854775808",
    ],
)
def test_an_id_too_large_for_the_database_is_refused(client, session, url: str) -> None:
    """Found by the fuzzer: such an id reached the driver and failed with a 500 (SQLite and PostgreSQL)."""
    headers = make_key(session, make_municipality(session), *(scope.value for scope in Scope))
    response = client.get(url, headers=headers)
    assert response.status_code == 422
