"""psychometrics/comparison.py against R (comparison_reference.json) and against scipy.

R calls (reference/make_comparison_reference.R): ``t.test(x, y, var.equal = FALSE)``,
``metafor::escalc(measure = "SMD", vtype = "LS")`` with ``summary()``'s interval, and
``cor.test(x, y)``. Closed forms: agreement to 1e-9.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest
from scipy import stats

from psychometrics.comparison import (
    correlation_ci,
    hedges_g,
    hedges_summary,
    reliable_change,
    welch_difference,
    welch_summary,
)
from tests.psychometrics.conftest import REFERENCE_DIR

CLOSED = {"rel": 1e-9, "abs": 1e-9}


@pytest.fixture(scope="module")
def comparison_reference() -> dict[str, Any]:
    return json.loads((REFERENCE_DIR / "comparison_reference.json").read_text(encoding="utf-8"))


def test_reference_records_r_and_package_versions(comparison_reference):
    assert comparison_reference["meta"]["r_version"].startswith("R version")
    assert "metafor" in comparison_reference["meta"]["packages"]


def test_welch_difference_equals_t_test_var_equal_false(comparison_reference):
    for case in comparison_reference["cases"]:
        result = welch_difference(case["x"], case["y"])
        expected = case["welch"]  # t.test(x, y, var.equal = FALSE)
        assert [result.mean_x, result.mean_y] == pytest.approx(expected["estimate"], **CLOSED)
        assert [result.ci_low, result.ci_high] == pytest.approx(expected["conf_int"], **CLOSED), case["label"]
        assert result.df == pytest.approx(expected["df"], **CLOSED)
        assert result.t == pytest.approx(expected["statistic"], **CLOSED)
        assert result.p_value == pytest.approx(expected["p_value"], **CLOSED)


def test_hedges_g_equals_metafor_escalc_smd(comparison_reference):
    for case in comparison_reference["cases"]:
        result = hedges_g(case["x"], case["y"])
        expected = case["hedges"]  # escalc(measure = "SMD", vtype = "LS"); summary() ci.lb, ci.ub
        assert result.g == pytest.approx(expected["yi"], **CLOSED), case["label"]
        assert result.variance == pytest.approx(expected["vi"], **CLOSED)
        assert [result.ci_low, result.ci_high] == pytest.approx(
            [expected["ci_lb"], expected["ci_ub"]], **CLOSED
        )


def test_correlation_ci_equals_cor_test(comparison_reference):
    for case in comparison_reference["correlations"]:
        result = correlation_ci(case["x"], case["y"], ci=case["conf_level"])
        assert result.r == pytest.approx(case["estimate"], **CLOSED)  # cor.test(x, y)$estimate
        assert [result.ci_low, result.ci_high] == pytest.approx(case["conf_int"], **CLOSED)
        assert result.p_value == pytest.approx(case["p_value"], **CLOSED)


def test_reliable_change_equals_the_closed_form(comparison_reference):
    recorded = comparison_reference["reliable_change"]
    assert reliable_change(recorded["sd"], recorded["rxx"]) == pytest.approx(recorded["value"], **CLOSED)


def test_welch_and_correlation_agree_with_scipy_on_random_data():
    rng = np.random.default_rng(3)
    x, y = rng.normal(3.5, 0.6, 33), rng.normal(3.2, 1.1, 21)
    result = welch_difference(x, y)
    reference = stats.ttest_ind(x, y, equal_var=False)
    interval = reference.confidence_interval(0.95)
    assert [result.ci_low, result.ci_high] == pytest.approx([interval.low, interval.high], **CLOSED)
    assert result.p_value == pytest.approx(reference.pvalue, **CLOSED)
    pearson = stats.pearsonr(x[:21], y)
    found = correlation_ci(x[:21], y)
    bounds = pearson.confidence_interval(0.95)
    assert found.r == pytest.approx(pearson.statistic, **CLOSED)
    assert [found.ci_low, found.ci_high] == pytest.approx([bounds.low, bounds.high], **CLOSED)


def test_missing_scores_are_dropped_and_small_or_constant_samples_are_handled():
    assert welch_difference([1, 2, np.nan, 3], [2, 3]).n_x == 3
    with pytest.raises(ValueError, match="at least two"):
        welch_difference([1, np.nan], [2, 3, 4])
    constant = welch_difference([3, 3, 3], [2, 2])
    assert constant.difference == 1 and math.isnan(constant.ci_low)
    assert math.isnan(hedges_g([3, 3, 3], [2, 2]).g)
    few = correlation_ci([1, 2, 3], [1, 3, 2])
    assert few.n == 3 and math.isnan(few.ci_low)
    assert math.isnan(correlation_ci([1, 1, 1, 1], [1, 2, 3, 4]).r)
    with pytest.raises(ValueError, match="reliability"):
        reliable_change(0.8, 1.2)
    with pytest.raises(ValueError, match="ci"):
        welch_difference([1, 2], [1, 2], ci=95)


def test_the_summary_forms_equal_the_sample_forms_element_by_element(comparison_reference):
    cases = comparison_reference["cases"]
    moments = [
        [np.mean(sample), np.var(sample, ddof=1), len(sample)]
        for case in cases
        for sample in (case["x"], case["y"])
    ]
    first, second = np.array(moments[0::2]).T, np.array(moments[1::2]).T
    welch = welch_summary(*first, *second)
    hedges = hedges_summary(*first, *second)
    for index, case in enumerate(cases):
        assert [welch["ci_low"][index], welch["ci_high"][index]] == pytest.approx(
            case["welch"]["conf_int"], **CLOSED
        )
        assert welch["df"][index] == pytest.approx(case["welch"]["df"], **CLOSED)
        assert hedges["g"][index] == pytest.approx(case["hedges"]["yi"], **CLOSED)
        assert [hedges["ci_low"][index], hedges["ci_high"][index]] == pytest.approx(
            [case["hedges"]["ci_lb"], case["hedges"]["ci_ub"]], **CLOSED
        )
    too_small = welch_summary([3.0], [0.0], [1], [2.0], [0.5], [6])
    assert np.isnan(too_small["ci_low"][0]) and np.isnan(
        hedges_summary([3.0], [0.0], [1], [2.0], [0.5], [6])["g"][0]
    )
