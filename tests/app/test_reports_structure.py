"""The structure report: CFA per model as psychometrics.cfa, plain-words verdicts, the minimum, the route."""

from __future__ import annotations

import csv
import json
import secrets
from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlmodel import col, select

import psychometrics
from app.collection.answers import AnswerMatrix
from app.collection.service import check_answers, open_questionnaire, store_response, submission_key
from app.config import Settings
from app.db import utcnow
from app.instrument_versions.service import instrument_for_version, published_instrument
from app.models import Response, Wave
from app.reports import structure
from app.reports.service import Selection
from tests.app.test_reports import read_cut, report_key, seed
from tests.factories.collection import make_invitation, make_wave
from tests.factories.organisation import make_key, make_municipality, make_professional, make_team

STRUCTURE = "/api/v1/reports/structure"
REFERENCE = Path(__file__).parent / "reference"


@pytest.fixture
def settings(database) -> Settings:
    return database.settings(submit_rate_limit=0)  # hundreds of responses are posted from one address


def selection_of(
    n: int,
    *,
    modules: tuple[str, ...] = (),
    correlation: float = 0.4,
    seed_value: int = 11,
    missing: float = 0.02,
    form_id: str = "jongere",
    wave_id: int = 1,
    shift: dict[str, float] | None = None,
    version: str | None = None,
    closed: bool = False,
) -> Selection:
    """An in-memory selection of n responses: correlated factors, one per subscale.

    ``shift`` adds a constant to an item (an intercept that differs: scalar invariance fails).
    ``closed``: the wave closed yesterday (its languages are compared only then).
    """
    instrument = published_instrument() if version is None else instrument_for_version(version)
    form = instrument.form(form_id)
    groups = tuple(form.subscales(modules))
    items = [item.id for item in form.items(modules)]
    rng = np.random.default_rng(seed_value)
    m = len(groups)
    cov = np.full((m, m), correlation) + (1 - correlation) * np.eye(m)
    latent = rng.multivariate_normal(np.zeros(m), cov, size=n)
    values = np.empty((n, len(items)))
    for j, group in enumerate(groups):
        for item in group.item_ids:
            raw = 3 + (shift or {}).get(item, 0.0) + 0.9 * latent[:, j] + rng.normal(0, 0.7, size=n)
            values[:, items.index(item)] = np.clip(np.rint(raw), 1, 5)
    values[rng.random(values.shape) < missing] = np.nan
    matrix = AnswerMatrix(
        tuple(items), np.asfortranarray(values), np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
    )
    wave = Wave(
        id=wave_id,
        municipality_id=1,
        name=f"Meting {wave_id}",
        instrument_version=instrument.version,
        modules=",".join(modules),
        opens_at=utcnow() - timedelta(days=2),
        closes_at=utcnow() - timedelta(days=1) if closed else None,
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


def steps_equal(comparison, table: pd.DataFrame) -> None:
    assert comparison.tested
    assert [step.step for step in comparison.steps] == ["configural", "metric", "scalar"]
    for step in comparison.steps:
        for column in ("chisq", "cfi", "tli", "rmsea", "srmr"):
            # two runs of an iterative fit (report and direct call) agree to ~1e-10 across machines
            assert getattr(step, column) == pytest.approx(table.loc[step.step, column], rel=1e-9), column
        if step.step != "configural":
            assert step.delta_cfi == pytest.approx(table.loc[step.step, "delta_cfi"], rel=1e-12)
            assert step.holds == table.loc[step.step, "holds"]


def test_language_invariance_when_languages_are_given():
    selection = selection_of(800, closed=True)
    languages = np.where(np.arange(800) % 2 == 0, "nl", "en").astype(object)
    model = structure.structure_report(selection, languages=languages, languages_shown="yes").models[0]
    [comparison] = model.invariance
    assert comparison.across == "language"
    data = pd.DataFrame(selection.matrix.values, columns=list(selection.matrix.item_ids))
    data["language"] = languages
    steps_equal(comparison, psychometrics.measurement_invariance(data, model.factors, "language"))
    complete = data.drop(columns="language").notna().all(axis=1)
    assert {group.label: group.n for group in comparison.groups} == {
        "en": int(complete[languages == "en"].sum()),
        "nl": int(complete[languages == "nl"].sum()),
    }
    assert all(group.compared for group in comparison.groups)


def test_a_language_below_what_a_factor_analysis_needs_is_counted_not_fitted():
    selection = selection_of(800, closed=True)
    few = np.where(np.arange(800) < 700, "nl", "en").astype(object)
    [comparison] = (
        structure.structure_report(selection, languages=few, languages_shown="yes").models[0].invariance
    )
    assert not comparison.tested and comparison.steps == []
    assert comparison.n_needed == 270
    counts = {group.label: (group.n, group.compared) for group in comparison.groups}
    assert counts["en"][0] < 270 and counts["en"][1] is False and counts["nl"][1] is True
    assert comparison.reason == "too_few" and comparison.note is not None
    assert "needs at least 270 complete respondents in each of two languages" in comparison.note
    assert f"en {counts['en'][0]}" in comparison.note


def test_a_language_below_the_minimum_group_size_is_dropped_and_cannot_be_worked_out():
    """Three respondents in German: not shown, not merged, and not the total minus the others."""
    selection = selection_of(800, missing=0.0, closed=True)
    labels = np.where(np.arange(800) % 2 == 0, "nl", "en").astype(object)
    labels[:3] = "de"
    [comparison] = (
        structure.structure_report(selection, languages=labels, languages_shown="yes").models[0].invariance
    )
    shown = {group.label for group in comparison.groups}
    assert "de" not in shown
    assert comparison.note is not None and "de" not in comparison.note.split()
    # the model publishes its total (n = 800): showing nl and en would give de = 800 - nl - en
    assert len(shown) <= 1 and not comparison.tested
    assert all(group.n >= selection.min_group_size for group in comparison.groups)
    # with German above the minimum, the three languages are shown; it is too small to compare
    labels[:20] = "de"
    [comparison] = (
        structure.structure_report(selection, languages=labels, languages_shown="yes").models[0].invariance
    )
    assert {group.label: group.compared for group in comparison.groups} == {
        "de": False,
        "en": True,
        "nl": True,
    }
    assert comparison.tested
    data = pd.DataFrame(selection.matrix.values, columns=list(selection.matrix.item_ids))
    keep = labels != "de"
    table = psychometrics.measurement_invariance(data[keep], comparison.factors, labels[keep])
    steps_equal(comparison, table)


def test_languages_are_compared_only_once_the_wave_has_closed():
    """Before closing: no groups, no counts, no fits, and the reason; the same answers after closing."""
    languages = np.where(np.arange(800) % 2 == 0, "nl", "en").astype(object)
    [before] = structure.structure_report(selection_of(800), languages=languages).models[0].invariance
    assert before.across == "language" and not before.tested and before.reason == "wave_open"
    assert before.groups == [] and before.steps == [] and before.level is None
    assert before.note is not None
    assert "The comparison between languages appears once the wave has closed." in before.note
    assert before.n_needed == 270
    [after] = (
        structure.structure_report(selection_of(800, closed=True), languages=languages, languages_shown="yes")
        .models[0]
        .invariance
    )
    assert after.tested and after.reason is None and {group.label for group in after.groups} == {"en", "nl"}


def test_without_languages_there_is_no_language_table():
    model = structure.structure_report(selection_of(600)).models[0]
    assert model.invariance == []


def test_invariance_across_waves_from_both_cuts():
    current = selection_of(700, seed_value=3, wave_id=2)
    baseline = selection_of(600, seed_value=4, wave_id=1, shift={"jg_gz_1": 0.8})
    report = structure.structure_report(current, baseline=baseline)
    assert report.baseline_wave_id == 1
    [comparison] = report.models[0].invariance
    assert comparison.across == "wave"
    assert [(group.label, group.wave_id) for group in comparison.groups] == [("Meting 1", 1), ("Meting 2", 2)]
    columns = list(current.matrix.item_ids)
    data = pd.concat(
        [
            pd.DataFrame(baseline.matrix.values, columns=columns).assign(wave="1"),
            pd.DataFrame(current.matrix.values, columns=columns).assign(wave="2"),
        ],
        ignore_index=True,
    )
    table = psychometrics.measurement_invariance(data, comparison.factors, "wave")
    steps_equal(comparison, table)
    assert comparison.steps[2].holds is False  # an item's intercept moved between the waves
    assert comparison.level == "metric" and comparison.verdict is not None
    assert "relations (correlations) can be compared" in comparison.verdict


def test_a_baseline_wave_below_the_minimum_group_size_is_dropped():
    current = selection_of(700, wave_id=2)
    baseline = selection_of(4, wave_id=1, missing=0.0)
    [comparison] = structure.structure_report(current, baseline=baseline).models[0].invariance
    assert [group.label for group in comparison.groups] == ["Meting 2"]
    assert not comparison.tested
    assert comparison.note is not None and "Meting 1" not in comparison.note


def test_invariance_between_youth_and_parents_on_the_parallel_items():
    youth = selection_of(700, seed_value=5)
    parents = selection_of(400, seed_value=6, form_id="ouder")
    report = structure.structure_report(youth, parallel=[parents])
    assert report.parallel_forms == ["ouder"]
    [comparison] = report.models[0].invariance
    pairs = published_instrument().parallel_items("jongere", "ouder")
    assert comparison.across == "form"
    assert comparison.factors == {
        subscale: [item for item in items if item in pairs]
        for subscale, items in report.models[0].factors.items()
    }
    assert comparison.counterparts == {
        item: pairs[item] for items in comparison.factors.values() for item in items
    }
    assert comparison.n_needed == 150  # 3 factors of 2 items: 15 free parameters
    items = [item for members in comparison.factors.values() for item in members]
    own = pd.DataFrame(youth.matrix.values, columns=list(youth.matrix.item_ids))[items]
    theirs = pd.DataFrame(parents.matrix.values, columns=list(parents.matrix.item_ids))
    theirs = theirs[[pairs[item] for item in items]].set_axis(items, axis=1)
    data = pd.concat([own.assign(form="jongere"), theirs.assign(form="ouder")], ignore_index=True)
    steps_equal(comparison, psychometrics.measurement_invariance(data, comparison.factors, "form"))
    assert {group.form for group in comparison.groups} == {"jongere", "ouder"}


def test_a_parent_form_below_the_minimum_group_size_is_dropped():
    youth = selection_of(700, seed_value=5)
    parents = selection_of(4, seed_value=6, form_id="ouder", missing=0.0)
    [comparison] = structure.structure_report(youth, parallel=[parents]).models[0].invariance
    assert [group.form for group in comparison.groups] == ["jongere"]
    assert not comparison.tested and comparison.steps == []
    assert comparison.note is not None and "ouder" not in comparison.note


def test_waves_of_two_instrument_versions_compare_the_items_both_asked():
    """Version 1.0 asked jg_do_3 where 1.1 asks jg_do_4: the module is compared on the rest."""
    modules = ("bejegening",)
    current = selection_of(900, modules=modules, seed_value=12, wave_id=2)
    baseline = selection_of(900, modules=modules, seed_value=13, wave_id=1, version="1.0")
    module_model = structure.structure_report(current, baseline=baseline).models[1]
    [comparison] = module_model.invariance
    assert comparison.factors["deur_blijft_open"] == ["jg_do_1", "jg_do_2"]
    assert module_model.factors["deur_blijft_open"] == ["jg_do_1", "jg_do_2", "jg_do_4"]
    assert comparison.tested


def test_the_parallel_comparison_of_a_module_uses_its_own_pairs():
    modules = ("bejegening",)
    youth = selection_of(900, modules=modules, seed_value=8)
    parents = selection_of(500, modules=modules, seed_value=9, form_id="ouder")
    module_model = structure.structure_report(youth, parallel=[parents]).models[1]
    [comparison] = module_model.invariance
    assert comparison.counterparts is not None and comparison.counterparts["jg_bl_3"] == "ou_bl_4"
    assert comparison.tested


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
    assert "heeft er minstens 270 nodig" in html  # the verdict in the report's language
    english = client.get(
        f"/reports/{seeded.wave.id}", params={"form": "jongere", "lang": "en"}, headers=headers
    )
    assert "Structure: do the items measure the intended subscales?" in english.text
    assert "needs at least 270" in english.text


def test_a_baseline_must_be_another_wave_of_the_caller(client, session):
    seeded = seed(session, {"Noord": {"a": 6}})
    headers = report_key(session, seeded, "reports:aggregate")
    same = {"wave_id": seeded.wave.id, "form": "jongere", "baseline_wave_id": seeded.wave.id}
    response = client.get(STRUCTURE, params=same, headers=headers)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    elsewhere = make_wave(session, make_municipality(session))
    other = {"wave_id": seeded.wave.id, "form": "jongere", "baseline_wave_id": elsewhere.id}
    assert client.get(STRUCTURE, params=other, headers=headers).status_code == 404
    bad = {"wave_id": seeded.wave.id, "form": "jongere", "baseline_wave_id": "x"}
    assert client.get(STRUCTURE, params=bad, headers=headers).status_code == 422


ENGLISH_ROWS = 3


def post_reference_data(client, session):
    """The rows of structure_api_data.csv, posted through POST /api/v1/responses (4 professionals a form)."""
    municipality = make_municipality(session)
    team = make_team(session, municipality, name="Noord")
    wave = make_wave(session, municipality)
    professionals = [
        make_professional(session, team, display_name=f"Naam {number}", code=f"C-{number}")
        for number in range(4)
    ]
    tokens = {
        (form, number): make_invitation(session, wave, professional, form=form).token
        for form in ("jongere", "ouder")
        for number, professional in enumerate(professionals)
    }
    write = make_key(session, municipality, "responses:write")
    with (REFERENCE / "structure_api_data.csv").open() as file:
        for number, row in enumerate(csv.DictReader(file)):
            prefix = "jg_" if row["form"] == "jongere" else "ou_"
            answers = {item: int(value) for item, value in row.items() if item.startswith(prefix)}
            token = tokens[(row["form"], int(row["professional"]))]
            language = "en" if number < ENGLISH_ROWS else "nl"  # three young people answer in English
            response = client.post(
                "/api/v1/responses",
                json={"token": token, "answers": answers, "language": language},
                headers=write,
            )
            assert response.status_code == 201, response.text
    return wave, make_key(session, municipality, "reports:aggregate")


def test_the_route_equals_lavaan_on_data_posted_through_the_api(client, session):
    """Youth against parents on the parallel items: every step as lavaan 0.6.14 (R script beside it)."""
    expected = json.loads((REFERENCE / "structure_api_reference.json").read_text())
    wave, headers = post_reference_data(client, session)
    response = client.get(STRUCTURE, params={"wave_id": wave.id, "form": "jongere"}, headers=headers)
    assert response.status_code == 200
    body = response.json()
    assert body["n_responses"] == 280 and body["parallel_forms"] == ["ouder"]
    core = body["models"][0]
    assert core["fitted"] and core["fit"]["n"] == 280
    for name in ("chisq", "pvalue", "cfi", "tli", "rmsea", "srmr"):
        assert core["fit"][name] == pytest.approx(expected["core"][name], abs=1e-4), name
    assert core["fit"]["df"] == expected["core"]["df"]
    assert core["fit"]["rmsea_ci"] == pytest.approx(
        [expected["core"]["rmsea.ci.lower"], expected["core"]["rmsea.ci.upper"]], abs=1e-4
    )
    for row in expected["core_std_all"]:
        found = next(entry for entry in core["loadings"] if entry["item"] == row["rhs"])
        assert found["factor"] == row["lhs"] and found["loading"] == pytest.approx(row["est.std"], abs=1e-4)
    [forms] = [comparison for comparison in core["invariance"] if comparison["across"] == "form"]
    assert forms["tested"]
    assert {group["form"]: group["n"] for group in forms["groups"]} == expected["forms_n"]
    assert forms["counterparts"] == {
        "jg_gz_2": "ou_gz_1", "jg_gz_4": "ou_gz_4", "jg_eh_1": "ou_eh_1",
        "jg_eh_3": "ou_eh_3", "jg_ed_2": "ou_ed_1", "jg_ed_3": "ou_ed_2",
    }  # fmt: skip
    for step in forms["steps"]:
        reference = expected["forms"][step["step"]]
        assert step["df"] == reference["df"]
        for name in ("chisq", "pvalue", "cfi", "tli", "rmsea", "srmr"):
            assert step[name] == pytest.approx(reference[name], abs=1e-4), (step["step"], name)
    metric, scalar = forms["steps"][1:]
    for position, step in enumerate((metric, scalar)):
        assert step["delta_chisq"] == pytest.approx(expected["lrt"]["delta_chisq"][position], abs=1e-4)
        assert step["delta_df"] == expected["lrt"]["delta_df"][position]
        assert step["p_delta"] == pytest.approx(expected["lrt"]["p"][position], abs=1e-6)
    # the parents' ou_ed_1 was shifted on purpose: equal loadings hold, equal intercepts do not
    assert metric["holds"] is True and scalar["holds"] is False
    assert forms["level"] == "metric"
    # three English answers: English is not shown, and neither is Dutch (277 = 280 - 3 would give it away)
    [languages] = [comparison for comparison in core["invariance"] if comparison["across"] == "language"]
    assert not languages["tested"] and languages["groups"] == [] and languages["steps"] == []
    assert "en" not in languages["note"].split() and "277" not in languages["note"]
    assert '"label":"en"' not in response.text
    # the parent form's own report compares with the youth form the other way round
    parent = client.get(STRUCTURE, params={"wave_id": wave.id, "form": "ouder"}, headers=headers).json()
    assert parent["parallel_forms"] == ["jongere"]
    assert parent["models"][0]["fitted"] is False  # 160 parents: too few for the 12-item model
    assert "160 respondents answered every item" in parent["models"][0]["verdict"]
    # and the HTML report shows the comparison
    html = client.get(f"/reports/{wave.id}", params={"form": "jongere"}, headers=headers).text
    assert "Meetinvariantie tussen vragenlijsten (parallelle items)" in html
    assert "jg_ed_2 = ou_ed_1" in html
    assert "Metrische invariantie houdt stand, scalaire niet" in html
    assert "metrisch" in html and "scalair" in html


def test_the_answer_matrix_reads_each_response_with_its_own_language(client, session):
    """Languages line up with the rows they belong to (one query), on both databases."""
    from app.collection.answers import load_answer_matrix

    municipality = make_municipality(session)
    wave = make_wave(session, municipality)
    professional = make_professional(
        session, make_team(session, municipality), display_name="Naam a", code="C-a"
    )
    token = make_invitation(session, wave, professional).token
    write = make_key(session, municipality, "responses:write")
    items = [item.id for item in published_instrument().form("jongere").items(())]
    posted = []
    for number in range(12):
        language = "en" if number % 3 == 0 else "nl"
        value = 1 + number % 5
        response = client.post(
            "/api/v1/responses",
            json={"token": token, "answers": dict.fromkeys(items, value), "language": language},
            headers=write,
        )
        assert response.status_code == 201, response.text
        posted.append((value, language))
    matrix = load_answer_matrix(
        session, wave_id=wave.id, form="jongere", municipality_id=municipality.id, published=False
    )
    with_languages = load_answer_matrix(
        session,
        wave_id=wave.id,
        form="jongere",
        municipality_id=municipality.id,
        published=False,
        with_languages=True,
    )
    assert matrix.languages is None and with_languages.languages is not None
    # the same rows (in whatever order each query returns them)
    assert sorted(map(tuple, with_languages.values.tolist())) == sorted(map(tuple, matrix.values.tolist()))
    read = sorted(zip(with_languages.values[:, 0].tolist(), with_languages.languages.tolist(), strict=True))
    assert read == sorted((float(value), language) for value, language in posted)


# -- the comparison between languages waits for the wave to close ----------------------------------

LANGUAGES_LATER_NL = "De vergelijking tussen talen verschijnt als de meting is afgesloten."
LANGUAGES_LATER_EN = "The comparison between languages appears once the wave has closed."
LANGUAGE_REGION = 'aria-label="Meetinvariantie tussen talen, kernsubschalen"'


def store_youth(session, wave, professional, languages: list[str], rng: np.random.Generator) -> None:
    """One response per language given, with three correlated factors (as ``selection_of``)."""
    groups = published_instrument().form("jongere").subscales(())
    cov = np.full((3, 3), 0.4) + 0.6 * np.eye(3)
    for language in languages:
        latent = rng.multivariate_normal(np.zeros(3), cov)
        answers = {
            item: int(np.clip(np.rint(3 + 0.9 * latent[j] + rng.normal(0, 0.7)), 1, 5))
            for j, group in enumerate(groups)
            for item in group.item_ids
        }
        questionnaire = open_questionnaire(session, make_invitation(session, wave, professional).token)
        store_response(
            session,
            questionnaire,
            check_answers(questionnaire, answers),
            language=language,
            key=submission_key("structure-test", secrets.token_hex(8)),
        )


def languages_wave(session):
    """600 young people, every other one in English, about four professionals: all published."""
    municipality = make_municipality(session)
    team = make_team(session, municipality, name="Noord")
    wave = make_wave(session, municipality, opens_at=utcnow() - timedelta(days=10))
    rng = np.random.default_rng(21)
    for number in range(4):
        professional = make_professional(session, team, display_name=f"Naam {number}", code=f"C-{number}")
        store_youth(session, wave, professional, ["nl", "en"] * 75, rng)
    return wave, team, rng, make_key(session, municipality, "reports:aggregate")


def language_part(body: dict) -> dict:
    [languages] = [entry for entry in body["models"][0]["invariance"] if entry["across"] == "language"]
    return languages


def close(session, wave: Wave) -> None:
    wave.closes_at = utcnow() - timedelta(minutes=1)
    session.add(wave)
    session.flush()


def test_the_route_and_page_show_the_languages_only_once_the_wave_has_closed(client, session):
    wave, _, _, headers = languages_wave(session)
    params = {"wave_id": wave.id, "form": "jongere"}
    response = client.get(STRUCTURE, params=params, headers=headers)
    assert response.status_code == 200
    body = response.json()
    assert body["n_responses"] == 600 and body["models"][0]["fitted"]
    languages = language_part(body)
    assert languages["tested"] is False and languages["reason"] == "wave_open"
    assert languages["groups"] == [] and languages["steps"] == [] and languages["level"] is None
    assert LANGUAGES_LATER_EN in languages["note"]
    assert '"label":"en"' not in response.text and '"label":"nl"' not in response.text
    html = client.get(f"/reports/{wave.id}", params={"form": "jongere"}, headers=headers).text
    assert "Meetinvariantie tussen talen" in html and LANGUAGES_LATER_NL in html
    assert LANGUAGE_REGION not in html and "<td>en</td>" not in html and "<td>nl</td>" not in html
    english = client.get(f"/reports/{wave.id}", params={"form": "jongere", "lang": "en"}, headers=headers)
    assert LANGUAGES_LATER_EN in english.text and "<td>en</td>" not in english.text

    close(session, wave)
    languages = language_part(client.get(STRUCTURE, params=params, headers=headers).json())
    assert languages["tested"] is True and languages["reason"] is None
    assert {group["label"]: group["n"] for group in languages["groups"]} == {"en": 300, "nl": 300}
    assert [step["step"] for step in languages["steps"]] == ["configural", "metric", "scalar"]
    assert all(step["cfi"] is not None for step in languages["steps"])
    html = client.get(f"/reports/{wave.id}", params={"form": "jongere"}, headers=headers).text
    assert LANGUAGE_REGION in html and "<td>en</td>" in html and "<td>300</td>" in html
    assert LANGUAGES_LATER_NL not in html


def test_two_reads_around_one_new_response_publish_the_same_languages(client, session):
    """A batch of five for a new professional holds four Dutch answers and one English one: the cut
    that publishes it adds five to the model, and the language part is the same before and after."""
    wave, team, rng, headers = languages_wave(session)
    params = {"wave_id": wave.id, "form": "jongere"}
    professional = make_professional(session, team, display_name="Naam nieuw", code="C-nieuw")
    store_youth(session, wave, professional, ["nl", "nl", "nl", "nl"], rng)
    before = client.get(STRUCTURE, params=params, headers=headers).json()
    assert before["n_responses"] == 600  # four answers wait for a fifth
    store_youth(session, wave, professional, ["en"], rng)
    after = client.get(STRUCTURE, params=params, headers=headers).json()
    assert after["n_responses"] == 605  # one new response: its batch of five is published
    assert after["models"][0]["fit"] != before["models"][0]["fit"]
    assert language_part(after) == language_part(before)
    assert language_part(after)["groups"] == [] and language_part(after)["steps"] == []


def test_the_languages_are_withdrawn_once_retention_deletes_a_batch_of_the_wave(client, session):
    """Retention deletes whole batches, which can change a language by one person: after its first
    deletion the closed wave's language comparison is no longer published."""
    wave, _, _, headers = languages_wave(session)
    params = {"wave_id": wave.id, "form": "jongere"}
    assert client.get(STRUCTURE, params=params, headers=headers).json()["n_responses"] == 600  # the cut
    close(session, wave)
    assert language_part(client.get(STRUCTURE, params=params, headers=headers).json())["tested"]
    published = session.exec(
        select(Response).where(Response.wave_id == wave.id, col(Response.cut_id).is_not(None)).limit(5)
    ).all()
    for response in published:  # as retention would: published responses go
        session.delete(response)
    session.flush()
    body = client.get(STRUCTURE, params=params, headers=headers).json()
    assert body["n_responses"] == 595 and body["models"][0]["fitted"]
    languages = language_part(body)
    assert languages["tested"] is False and languages["reason"] == "retention"
    assert languages["groups"] == [] and languages["steps"] == []
    html = client.get(f"/reports/{wave.id}", params={"form": "jongere"}, headers=headers).text
    assert "De vergelijking tussen talen wordt niet meer getoond" in html and "<td>en</td>" not in html


def test_a_closed_wave_cannot_be_reopened(client, session):
    """The language comparison relies on it: after closing, no later cut can follow (409)."""
    municipality = make_municipality(session)
    manage = make_key(session, municipality, "manage")
    closed = make_wave(
        session, municipality, opens_at=utcnow() - timedelta(days=30), closes_at=utcnow() - timedelta(days=1)
    )
    url = f"/api/v1/waves/{closed.id}"
    for closes_at in (None, (utcnow() + timedelta(days=30)).isoformat()):
        response = client.patch(url, json={"closes_at": closes_at}, headers=manage)
        assert response.status_code == 409, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
    assert client.patch(url, json={"name": "Najaar"}, headers=manage).status_code == 200
    still_open = make_wave(session, municipality, closes_at=utcnow() + timedelta(days=3))
    later = {"closes_at": (utcnow() + timedelta(days=30)).isoformat()}
    assert client.patch(f"/api/v1/waves/{still_open.id}", json=later, headers=manage).status_code == 200
