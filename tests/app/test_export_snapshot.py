"""The CSV export is planned and streamed in one snapshot (#13): a response in a new layout that is
committed between the plan and the rows cannot cut the file short after its 200 was sent."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.collection.service import check_answers, open_questionnaire, store_response, submission_key
from app.exports import csv_file
from app.main import create_app
from tests.app.test_reports import seed
from tests.conftest import BACKENDS, Database, new_database, remove_database
from tests.factories.collection import make_invitation
from tests.factories.organisation import make_key


@pytest.fixture(params=BACKENDS)
def own_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    database = new_database(request.param, tmp_path)
    yield database
    remove_database(database)


def test_a_response_committed_while_the_export_streams_does_not_break_it(own_database, monkeypatch):
    with Session(own_database.engine) as session:
        seeded = seed(session, {"Noord": {"a": 4}})
        headers = make_key(session, None, "responses:read")  # research: every row, published or not
        ouder = make_invitation(session, seeded.wave, seeded.professionals["a"], form="ouder")
        session.commit()
        wave_id, ouder_token = seeded.wave.id, ouder.token

    real_iter_csv = csv_file.iter_csv

    def iter_csv_after_a_new_layout(stream_session, export, **options):
        # between the plan and the first row: another request stores the wave's first ouder answer
        with Session(own_database.engine) as other:
            questionnaire = open_questionnaire(other, ouder_token)
            answers = {item_id: 4 for item_id in questionnaire.item_ids}
            store_response(
                other,
                questionnaire,
                check_answers(questionnaire, answers),
                language="nl",
                key=submission_key("race", "1"),
            )
            other.commit()
        yield from real_iter_csv(stream_session, export, **options)

    monkeypatch.setattr(csv_file, "iter_csv", iter_csv_after_a_new_layout)
    app = create_app(own_database.settings(api_rate_limit=0))
    with TestClient(app) as client:
        response = client.get(f"/api/v1/exports/responses?wave_id={wave_id}&format=csv", headers=headers)
        assert response.status_code == 200
        rows = list(csv.DictReader(io.StringIO(response.text)))
        assert len(rows) == 4  # the snapshot of the plan: the ouder answer comes with the next export
        again = client.get(f"/api/v1/exports/responses?wave_id={wave_id}&format=csv", headers=headers)
        assert len(list(csv.DictReader(io.StringIO(again.text)))) == 5
