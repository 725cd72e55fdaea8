"""The demo data (``verbonden demo``): idempotent, seeded, and with the structure real data have.

The structure is checked with the psychometrics functions a researcher would use on it: reliable
core subscales (alpha .75-.88) that measure three distinct things (correlations corrected for
unreliability clearly below .85), missing answers of both kinds, professionals below the minimum
beside ones with many responses, self-reports, and a second wave in which the scores change.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from sqlmodel import Session, select

import psychometrics
from app.collection.answers import NO_PROFESSIONAL, AnswerMatrix, load_answer_matrix
from app.demo import (
    CURRENT_WAVE,
    DEMO_SLUG,
    IMPROVING_TEAMS,
    NAMES,
    SEED,
    WAVES,
    _form_model,
    load_demo,
    phone_hint,
)
from app.instrument_versions.service import published_instrument
from app.models import Invitation, Municipality, Response, Team, Wave

BASE_URL = "http://127.0.0.1:8000"
RATED = ("jongere", "ouder")


@pytest.fixture
def demo(session: Session) -> Municipality:
    result = load_demo(session, base_url=BASE_URL)
    assert result.created
    return result.municipality


def waves(session: Session, municipality: Municipality) -> dict[str, Wave]:
    found = session.exec(select(Wave).where(Wave.municipality_id == municipality.id)).all()
    return {wave.name: wave for wave in found}


def answers(session: Session, wave: Wave, form: str) -> tuple[AnswerMatrix, list]:
    definition = published_instrument().form(form)
    modules = tuple(module for module in wave.module_ids if module in definition.modules)
    assert wave.id is not None
    matrix = load_answer_matrix(
        session,
        wave_id=wave.id,
        form=form,
        municipality_id=wave.municipality_id,
        item_order=tuple(item.id for item in definition.items(modules)),
        published=False,  # the simulated answers as stored (nothing is published before a report)
    )
    return matrix, definition.subscales(modules)


def core_scores(matrix: AnswerMatrix, groups: list) -> tuple[dict[str, float], pd.DataFrame]:
    """Alpha and person scores (the instrument's k - 1 rule) of each core subscale."""
    alphas, scores = {}, {}
    for group in groups:
        if group.module is not None:
            continue
        items = pd.DataFrame(matrix.columns(group.item_ids), columns=list(group.item_ids))
        alphas[group.subscale] = psychometrics.cronbach_alpha(items).alpha
        scores[group.subscale] = psychometrics.score_scale(items, min_answered=group.min_answered)
    return alphas, pd.DataFrame(scores)


def test_running_it_again_changes_nothing_but_the_key(session: Session, demo: Municipality):
    count = len(session.exec(select(Response.id).where(Response.municipality_id == demo.id)).all())
    again = load_demo(session, base_url=BASE_URL)
    assert not again.created and again.responses == count
    assert len(session.exec(select(Response.id).where(Response.municipality_id == demo.id)).all()) == count
    assert len(session.exec(select(Municipality).where(Municipality.slug == DEMO_SLUG)).all()) == 1
    # The form link belongs to the open wave.
    token = again.form_url.rsplit("/", 1)[1]
    invitation = session.exec(select(Invitation).where(Invitation.token == token)).one()
    assert invitation.form == "jongere"
    assert waves(session, demo)[CURRENT_WAVE].id == invitation.wave_id


def test_the_simulation_is_seeded():
    first = _form_model(np.random.default_rng(SEED), "jongere", ("bejegening",))
    second = _form_model(np.random.default_rng(SEED), "jongere", ("bejegening",))
    shift = np.zeros(first.factors)
    assert first.answers(np.random.default_rng(1), shift, 50) == second.answers(
        np.random.default_rng(1), shift, 50
    )


def test_three_reliable_but_distinct_factors(session: Session, demo: Municipality):
    for wave, form in itertools.product(waves(session, demo).values(), RATED):
        matrix, groups = answers(session, wave, form)
        alphas, scores = core_scores(matrix, groups)
        assert set(alphas) == {"gezien_worden", "erbij_horen", "ertoe_doen"}
        for subscale, alpha in alphas.items():
            assert 0.75 <= alpha <= 0.88, (wave.name, form, subscale, alpha)
        observed = scores.corr()
        for one, other in itertools.combinations(alphas, 2):
            corrected = observed.loc[one, other] / np.sqrt(alphas[one] * alphas[other])
            # Correlated (one construct, three sides of it) but clearly not one factor.
            assert 0.25 <= corrected <= 0.75, (wave.name, form, one, other, corrected)
        # The modules are reliable too.
        for group in groups:
            if group.module is not None:
                items = pd.DataFrame(matrix.columns(group.item_ids), columns=list(group.item_ids))
                assert 0.70 <= psychometrics.cronbach_alpha(items).alpha <= 0.88, group.subscale


def test_missing_answers_professionals_self_reports_and_change(session: Session, demo: Municipality):
    by_name = waves(session, demo)
    assert set(by_name) == {wave.name for wave in WAVES}
    current, first = by_name[CURRENT_WAVE], by_name[WAVES[0].name]

    matrix, groups = answers(session, current, "jongere")
    missing = np.isnan(matrix.values)
    # "weet ik niet" and skipped questions: a few per cent of all answers, on every item.
    assert 0.02 <= missing.mean() <= 0.15
    assert missing.any(axis=0).all()
    assert 0.20 <= missing.any(axis=1).mean() <= 0.65
    # Some respondents stopped halfway: their last questions are all open.
    assert (missing[:, -3:].all(axis=1)).sum() >= 5

    per_professional = pd.Series(matrix.professional_ids).value_counts()
    assert len(per_professional) == len(NAMES)
    assert per_professional.between(2, 4).sum() >= 3  # below any minimum group size
    assert (per_professional >= 40).sum() >= 5
    assert per_professional.min() >= 2

    # One self-report per professional and wave, linked to no professional.
    for wave in (current, first):
        self_reports = session.exec(
            select(Response).where(Response.wave_id == wave.id, Response.form == "professional")
        ).all()
        assert len(self_reports) == len(NAMES)
        assert all(response.professional_id is None and response.team_id for response in self_reports)
        submitted = [response.submitted_at.replace(tzinfo=None) for response in self_reports]
        assert min(submitted) >= wave.opens_at.replace(tzinfo=None)
        # The reports read them (on SQLite too, where no professional used to be a crash).
        self_matrix, _ = answers(session, wave, "professional")
        assert self_matrix.n == len(NAMES) and (self_matrix.professional_ids == NO_PROFESSIONAL).all()

    # The second wave: every core score a little higher, the improving teams clearly.
    teams = {team.id: team.name for team in session.exec(select(Team).where(Team.municipality_id == demo.id))}
    change = {}
    for wave in (first, current):
        matrix, groups = answers(session, wave, "jongere")
        _, scores = core_scores(matrix, groups)
        scores["team"] = [teams[int(team_id)] for team_id in matrix.team_ids]
        change[wave.name] = scores.groupby("team").mean().mean(axis=1)
    difference = change[current.name] - change[first.name]
    others = difference.drop(list(IMPROVING_TEAMS))
    assert (others > -0.15).all() and others.mean() > 0
    for team in IMPROVING_TEAMS:
        assert difference[team] > others.mean() + 0.1, difference


def test_the_phone_hint_when_the_link_or_the_server_is_loopback_only():
    hint = "\n".join(
        phone_hint(base_url=BASE_URL, host="127.0.0.1", port=8000, network_address="192.168.1.23")
    )
    assert "127.0.0.1" in hint
    assert "VERBONDEN_HOST=0.0.0.0 VERBONDEN_BASE_URL=http://192.168.1.23:8000 make run" in hint
    unknown = "\n".join(phone_hint(base_url=BASE_URL, host="127.0.0.1", port=8080, network_address=None))
    assert "VERBONDEN_BASE_URL=http://<this computer's address>:8080" in unknown
    listening = "\n".join(
        phone_hint(base_url="http://192.168.1.23:8000", host="localhost", port=8000, network_address=None)
    )
    assert "VERBONDEN_HOST=0.0.0.0 VERBONDEN_BASE_URL=http://192.168.1.23:8000" in listening
    assert (
        phone_hint(base_url="http://192.168.1.23:8000", host="0.0.0.0", port=8000, network_address=None) == []
    )
    assert (
        phone_hint(base_url="https://verbonden.example.nl", host="::", port=8000, network_address=None) == []
    )
