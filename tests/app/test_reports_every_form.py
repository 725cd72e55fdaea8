"""Every report endpoint on every form (jongere, ouder and the professional self-report), both databases.

Realistic data: several teams and professionals, answers that hang together, some "weet ik niet",
a deleted team. Only status codes and the shape are asserted: which numbers show is disclosure's
business (tests/app/test_reports_disclosure.py).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from sqlmodel import Session

from app.collection.service import check_answers, open_questionnaire, store_response, submission_key
from app.instrument_versions.service import published_instrument
from app.models import Wave
from app.reports import service
from app.reports.views import render_report
from tests.factories.collection import make_invitation, make_wave
from tests.factories.organisation import make_key, make_municipality, make_professional, make_team

FORMS = ("jongere", "ouder", "professional")
_keys = itertools.count()


def seed_every_form(session: Session) -> tuple[Wave, dict[str, str]]:
    """A wave with responses on all three forms: 3 teams x 3 professionals, 4 to 9 responses each."""
    municipality = make_municipality(session)
    wave = make_wave(session, municipality)
    rng = np.random.default_rng(13)
    instrument = published_instrument()
    for team_number in range(3):
        team = make_team(session, municipality, name=f"Team {team_number}")
        for member in range(3):
            professional = make_professional(session, team, display_name=f"Naam {team_number}{member}")
            level = 2.5 + rng.random() * 2
            for form in FORMS:
                items = [item.id for item in instrument.form(form).items(())]
                # each professional answers the self-report (three times here, so that a team of three
                # fills a batch of five), young people and parents rate them
                count = 3 if form == "professional" else int(rng.integers(7, 12))
                for _ in range(count):
                    person = rng.normal(0, 0.8)
                    answers: dict[str, int | None] = {
                        item: None
                        if rng.random() < 0.05
                        else int(np.clip(np.rint(level + person + rng.normal(0, 0.7)), 1, 5))
                        for item in items
                    }
                    invitation = make_invitation(session, wave, professional, form=form)
                    questionnaire = open_questionnaire(session, invitation.token)
                    store_response(
                        session,
                        questionnaire,
                        check_answers(questionnaire, answers),
                        language="nl",
                        key=submission_key("every-form", str(next(_keys))),
                    )
    session.flush()
    return wave, make_key(session, municipality, "reports:aggregate", "reports:professional")


@pytest.fixture
def every_form(session: Session) -> tuple[Wave, dict[str, str]]:
    return seed_every_form(session)


@pytest.mark.parametrize("form", FORMS)
def test_the_reliability_report_of_every_form(client, every_form, form):
    wave, headers = every_form
    params = {"wave_id": wave.id, "form": form}
    response = client.get("/api/v1/reports/reliability", params=params, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["n_responses"] > 0
    subscales = [entry["subscale"] for entry in body["subscales"]]
    assert subscales == ["gezien_worden", "erbij_horen", "ertoe_doen"]
    for entry in body["subscales"]:
        assert {"subscale", "n", "alpha", "alpha_ci", "omega_total"} <= set(entry)


@pytest.mark.parametrize("form", FORMS)
def test_team_scores_of_every_form(client, every_form, form):
    wave, headers = every_form
    response = client.get(
        "/api/v1/reports/scores", params={"wave_id": wave.id, "form": form, "level": "team"}, headers=headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["level"] == "team"
    assert 1 <= len(body["groups"]) <= 3  # the teams with published batches
    for group in body["groups"]:
        for cell in group["scores"].values():
            assert {"n", "mean", "sd", "ci", "suppressed"} <= set(cell)
            assert cell["suppressed"] or cell["n"] >= 5


@pytest.mark.parametrize("form", ["jongere", "ouder"])
def test_professional_scores_of_the_forms_about_a_professional(client, every_form, form):
    wave, headers = every_form
    params = {"wave_id": wave.id, "form": form, "level": "professional"}
    response = client.get("/api/v1/reports/scores", params=params, headers=headers)
    assert response.status_code == 200, response.text
    assert 1 <= len(response.json()["groups"]) <= 9  # the professionals with published batches


def test_professional_scores_of_the_self_report_form_are_refused(client, every_form):
    wave, headers = every_form
    response = client.get(
        "/api/v1/reports/scores",
        params={"wave_id": wave.id, "form": "professional", "level": "professional"},
        headers=headers,
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert "self-report" in response.json()["detail"]
    assert response.json()["errors"][0]["loc"] == ["query", "level"]


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_html_report_of_every_form(client, every_form, form, lang):
    wave, headers = every_form
    response = client.get(f"/reports/{wave.id}", params={"form": form, "lang": lang}, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert "</html>" in response.text


@pytest.mark.parametrize("form", FORMS)
def test_the_command_line_report_of_every_form(session, every_form, form):
    """What ``verbonden report --form F`` prints, in both formats (the CLI calls these functions)."""
    wave, _headers = every_form
    selection = service.select_answers(session, wave=wave, form=form, municipality_id=None, min_group_size=5)
    assert "</html>" in render_report(session, selection, professionals=True, lang="nl")
    service.reliability_report(selection)
    service.scores_report(session, selection, "team")
    if form == "professional":
        assert not selection.about_professional
    else:
        assert 1 <= len(service.scores_report(session, selection, "professional").groups) <= 9


def test_a_response_of_only_dont_know_is_stored_but_answers_nothing(session):
    """README: an all-"weet ik niet" response is kept, and marked as answering no item."""
    from app.collection.answers import load_answer_matrix

    municipality = make_municipality(session)
    wave = make_wave(session, municipality)
    professional = make_professional(session, make_team(session, municipality))
    items = [item.id for item in published_instrument().form("jongere").items(())]
    for answers in ({item: None for item in items}, {item: 3 for item in items}):
        questionnaire = open_questionnaire(session, make_invitation(session, wave, professional).token)
        checked = check_answers(questionnaire, answers)
        assert store_response(
            session, questionnaire, checked, language="nl", key=submission_key("dk", str(answers))
        )
    matrix = load_answer_matrix(
        session, wave_id=wave.id, form="jongere", municipality_id=municipality.id, published=False
    )
    assert matrix.n == 2
    assert sorted(matrix.answered_rows().tolist()) == [False, True]
