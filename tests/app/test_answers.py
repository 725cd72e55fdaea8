"""Stored answer strings read back as the numbers the respondents gave."""

from __future__ import annotations

import numpy as np

from app.collection.answers import decode, load_answer_matrix
from app.collection.service import check_answers, open_questionnaire, store_response, submission_key
from tests.factories.collection import make_invitation, make_wave
from tests.factories.organisation import make_municipality, make_professional, make_team


def test_decode_turns_dots_into_nan():
    values = decode(["12.45", "5...1"], 5)
    expected = np.array([[1, 2, np.nan, 4, 5], [5, np.nan, np.nan, np.nan, 1]])
    np.testing.assert_array_equal(values, expected)


def test_dont_know_and_skipped_both_decode_to_nan_for_the_psychometrics():
    np.testing.assert_array_equal(decode(["1?.5"], 4), np.array([[1, np.nan, np.nan, 5]]))


def test_the_matrix_tells_dont_know_from_skipped(session):
    municipality = make_municipality(session)
    team = make_team(session, municipality)
    wave = make_wave(session, municipality)
    shares = []
    for number, first in enumerate([None, None, 3, "skip"]):
        questionnaire = open_questionnaire(
            session, make_invitation(session, wave, make_professional(session, team)).token
        )
        answers: dict[str, int | None] = {item: 4 for item in questionnaire.item_ids}
        if first == "skip":
            del answers[questionnaire.item_ids[0]]
        else:
            answers[questionnaire.item_ids[0]] = first  # type: ignore[assignment]
        store_response(
            session,
            questionnaire,
            check_answers(questionnaire, answers),
            language="nl",
            key=submission_key("test", f"dk-{number}"),
        )
    matrix = load_answer_matrix(
        session, wave_id=wave.id, form="jongere", municipality_id=municipality.id, published=False
    )
    first_item = matrix.item_ids[0]
    shares.append(matrix.dont_know_share(first_item))
    assert shares == [0.5]  # two of four chose "weet ik niet"; the skipped one does not count
    assert int(np.isnan(matrix.values[:, 0]).sum()) == 3


def test_matrix_holds_each_response_with_its_professional_and_team(session):
    municipality = make_municipality(session)
    other = make_municipality(session)
    team = make_team(session, municipality)
    sam = make_professional(session, team, display_name="Sam")
    noor = make_professional(session, team, display_name="Noor")
    wave = make_wave(session, municipality)
    for number, (professional, value) in enumerate([(sam, 1), (sam, 2), (noor, 5)]):
        questionnaire = open_questionnaire(session, make_invitation(session, wave, professional).token)
        answers = {item: value for item in questionnaire.item_ids}
        answers[questionnaire.item_ids[0]] = None
        store_response(
            session,
            questionnaire,
            check_answers(questionnaire, answers),
            language="nl",
            key=submission_key("test", str(number)),
        )
    published = load_answer_matrix(session, wave_id=wave.id, form="jongere", municipality_id=municipality.id)
    assert published.n == 0  # nothing is published before a cut: outputs read published answers only
    matrix = load_answer_matrix(
        session, wave_id=wave.id, form="jongere", municipality_id=municipality.id, published=False
    )
    assert matrix.n == 3
    assert matrix.item_ids == questionnaire.item_ids
    order = np.argsort(matrix.values[:, 1])
    np.testing.assert_array_equal(matrix.values[order, 1], [1, 2, 5])
    assert np.isnan(matrix.values[:, 0]).all()
    assert matrix.dont_know is not None and matrix.dont_know[:, 0].all() and not matrix.dont_know[:, 1:].any()
    assert matrix.dont_know_share(questionnaire.item_ids[0]) == 1.0
    assert matrix.dont_know_share(questionnaire.item_ids[1]) == 0.0
    assert list(matrix.professional_ids[order]) == [sam.id, sam.id, noor.id]
    assert set(matrix.team_ids) == {team.id}
    elsewhere = load_answer_matrix(
        session, wave_id=wave.id, form="jongere", municipality_id=other.id, published=False
    )
    assert elsewhere.n == 0
