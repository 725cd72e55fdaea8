"""The structure report: CFA per model as psychometrics.cfa, plain-words verdicts, the minimum, the route."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

import psychometrics
from app.collection.answers import AnswerMatrix
from app.db import utcnow
from app.instrument_versions.service import published_instrument
from app.models import Wave
from app.reports import structure
from app.reports.service import Selection
from tests.app.test_reports import read_cut, report_key, seed

STRUCTURE = "/api/v1/reports/structure"


def selection_of(
    n: int,
    *,
    modules: tuple[str, ...] = (),
    correlation: float = 0.4,
    seed_value: int = 11,
    missing: float = 0.02,
) -> Selection:
    """An in-memory selection of n youth responses: three correlated factors, one per core subscale."""
    instrument = published_instrument()
    form = instrument.form("jongere")
    groups = tuple(form.subscales(modules))
    items = [item.id for item in form.items(modules)]
    rng = np.random.default_rng(seed_value)
    m = len(groups)
    cov = np.full((m, m), correlation) + (1 - correlation) * np.eye(m)
    latent = rng.multivariate_normal(np.zeros(m), cov, size=n)
    values = np.empty((n, len(items)))
    for j, group in enumerate(groups):
        for item in group.item_ids:
            raw = 3 + 0.9 * latent[:, j] + rng.normal(0, 0.7, size=n)
            values[:, items.index(item)] = np.clip(np.rint(raw), 1, 5)
    values[rng.random(values.shape) < missing] = np.nan
    matrix = AnswerMatrix(
        tuple(items), np.asfortranarray(values), np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
    )
    wave = Wave(
        id=1,
        municipality_id=1,
        name="Voorjaar",
        instrument_version=instrument.version,
        modules=",".join(modules),
        opens_at=utcnow() - timedelta(days=1),
    )
    return Selection(wave, instrument, form, modules, groups, matrix, 5)


def test_core_model_equals_psychometrics_cfa():
    selection = selection_of(600)
    report = structure.structure_report(selection)
    assert [model.name for model in report.models] == ["core"]
    model = report.models[0]
    assert list(model.factors) == ["gezien_worden", "erbij_horen", "ertoe_doen"]
    data = pd.DataFrame(selection.matrix.values, columns=list(selection.matrix.item_ids))
    fit = psychometrics.cfa(data, model.factors)
    assert model.fitted and model.fit is not None
    assert model.fit.n == fit.n == model.n_complete
    assert model.fit.chisq == pytest.approx(fit.chisq, rel=1e-12)
    assert model.fit.cfi == pytest.approx(fit.cfi, rel=1e-12)
    assert model.fit.rmsea_ci == pytest.approx([fit.rmsea_ci_low, fit.rmsea_ci_high], rel=1e-12)
    assert model.fit.srmr == pytest.approx(fit.srmr, rel=1e-12)
    loading = next(row for row in model.loadings if row.item == "jg_eh_2")
    assert loading.factor == "erbij_horen"
    assert loading.loading == pytest.approx(fit.loadings.loc["jg_eh_2", "erbij_horen"], rel=1e-12)
    assert model.factor_correlations is not None
    assert model.factor_correlations[0][1] == pytest.approx(
        fit.factor_correlations.loc["gezien_worden", "erbij_horen"], rel=1e-12
    )
    assert model.free_parameters == fit.npar == 27
    assert model.n_needed == 270
    # the data were made with three distinct factors: a good fit, no warning about distinctness
    assert model.cutoffs_met == {"cfi": True, "rmsea": True, "srmr": True}
    assert model.verdict.startswith("Good fit")
    assert "Hu & Bentler 1999" in model.verdict
    assert not any("nauwelijks" in warning for warning in model.warnings)
    assert report.cutoffs == {"cfi": 0.95, "rmsea": 0.06, "srmr": 0.08}


def test_disattenuated_correlations_use_the_instrument_scores_and_alpha():
    selection = selection_of(600)
    model = structure.structure_report(selection).models[0]
    scores = pd.DataFrame({group.subscale: selection.scores(group) for group in selection.groups})
    alphas = {
        group.subscale: psychometrics.cronbach_alpha(selection.items(group)).alpha
        for group in selection.groups
    }
    expected = psychometrics.disattenuated_correlations(scores, alphas)
    assert model.reliabilities == pytest.approx(alphas, rel=1e-12)
    assert model.disattenuated_correlations is not None
    np.testing.assert_allclose(np.array(model.disattenuated_correlations), expected.to_numpy(), rtol=1e-12)


def test_subscales_that_are_one_thing_get_the_dutch_warning():
    model = structure.structure_report(selection_of(600, correlation=0.97)).models[0]
    assert any(
        "gecorrigeerde correlatie" in warning
        and "deze subschalen zijn nauwelijks te onderscheiden" in warning
        for warning in model.warnings
    )
    assert any("factorcorrelatie" in warning for warning in model.warnings)


def test_factor_correlations_beyond_one_are_called_what_they_are():
    """One factor behind three subscales (as in the demo data): estimates reach a correlation above 1."""
    model = structure.structure_report(selection_of(600, correlation=1.0, seed_value=2)).models[0]
    assert model.fit is not None and model.fit.heywood
    assert model.verdict.startswith("The factors cannot be told apart")
    assert "do not interpret the subscales as separate factors" in model.verdict


def test_below_the_minimum_the_report_says_how_many_are_needed():
    model = structure.structure_report(selection_of(150)).models[0]
    assert not model.fitted and model.fit is None
    assert model.n_complete < 270 and model.n_needed == 270
    assert f"{model.n_complete} respondents answered every item" in model.verdict
    assert "needs at least 270" in model.verdict


def test_each_module_is_its_own_model():
    modules = tuple(published_instrument().form("jongere").modules)[:1]
    report = structure.structure_report(selection_of(600, modules=modules))
    assert [model.name for model in report.models] == ["core", modules[0]]
    module_model = report.models[1]
    assert module_model.module == modules[0]
    groups = [group for group in selection_of(10, modules=modules).groups if group.module == modules[0]]
    assert list(module_model.factors) == [group.subscale for group in groups]


def test_language_invariance_when_languages_are_given():
    selection = selection_of(800)
    languages = np.where(np.arange(800) % 2 == 0, "nl", "en").astype(object)
    model = structure.structure_report(selection, languages=languages).models[0]
    assert model.invariance is not None and model.invariance_note is None
    assert [step.step for step in model.invariance.steps] == ["configural", "metric", "scalar"]
    data = pd.DataFrame(selection.matrix.values, columns=list(selection.matrix.item_ids))
    data["language"] = languages
    table = psychometrics.measurement_invariance(data, model.factors, "language")
    assert model.invariance.steps[2].cfi == pytest.approx(table.loc["scalar", "cfi"], rel=1e-12)
    assert model.invariance.steps[1].holds == table.loc["metric", "holds"]
    # one language too small: not tested, and the note says what is needed
    few = np.where(np.arange(800) < 700, "nl", "en").astype(object)
    model = structure.structure_report(selection, languages=few).models[0]
    assert model.invariance is None
    assert model.invariance_note is not None and "at least 270 complete respondents" in model.invariance_note


def test_without_languages_the_invariance_note_says_why():
    model = structure.structure_report(selection_of(600)).models[0]
    assert model.invariance is None
    assert model.invariance_note is not None and "not computed" in model.invariance_note


def test_the_route_needs_reports_aggregate_and_answers_below_the_minimum(client, session):
    seeded = seed(session, {"Noord": {"a": 9, "b": 6}})
    params = {"wave_id": seeded.wave.id, "form": "jongere"}
    only_professional = report_key(session, seeded, "reports:professional")
    assert client.get(STRUCTURE, params=params, headers=only_professional).status_code == 403
    response = client.get(STRUCTURE, params=params, headers=report_key(session, seeded, "reports:aggregate"))
    assert response.status_code == 200
    body = response.json()
    assert body["n_responses"] == sum(read_cut(session, seeded).published)  # the published cut
    model = body["models"][0]
    assert model["fitted"] is False and model["n_needed"] == 270
    assert "needs at least 270" in model["verdict"]


def test_unknown_form_is_a_422(client, session):
    seeded = seed(session, {"Noord": {"a": 2}})
    headers = report_key(session, seeded, "reports:aggregate")
    response = client.get(STRUCTURE, params={"wave_id": seeded.wave.id, "form": "nope"}, headers=headers)
    assert response.status_code == 422


def test_the_html_report_has_a_structure_section(client, session):
    seeded = seed(session, {"Noord": {"a": 9, "b": 6}})
    headers = report_key(session, seeded, "reports:aggregate")
    response = client.get(f"/reports/{seeded.wave.id}", params={"form": "jongere"}, headers=headers)
    assert response.status_code == 200
    html = response.text
    assert "Structuur: meten de items de bedoelde subschalen?" in html
    assert "Hu &amp; Bentler, 1999" in html
    assert "needs at least 270" in html
    english = client.get(
        f"/reports/{seeded.wave.id}", params={"form": "jongere", "lang": "en"}, headers=headers
    )
    assert "Structure: do the items measure the intended subscales?" in english.text
