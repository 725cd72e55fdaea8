"""Input found wrong on held-out data: a clear error or the right number, never a silent guess (#13)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

import psychometrics as pm

# Two items that correlate -1, covariance proportional to [[1, -0.5], [-0.5, 0.25]] (x2 = 3.5 - x1 / 2)
PERFECTLY_OPPOSED = np.array([[1.0, 3.0], [1.0, 3.0], [1.0, 3.0], [3.0, 2.0]])

# 10 respondents, 3 items that all correlate negatively: the one-factor model has no proper
# solution. lavaan 0.6 returns an improper one (R, see tests/psychometrics/reference/make_reference.R):
#   fit <- lavaan::cfa('f =~ x1 + x2 + x3', data = x, std.lv = TRUE)
#   # "some estimated ov variances are negative": x3 ~~ x3 = -2620.778; compRelSEM = 704.783
HEYWOOD = np.array(
    [
        [1, 2, 3],
        [5, 3, 1],
        [2, 4, 5],
        [4, 5, 1],
        [5, 1, 3],
        [2, 2, 4],
        [2, 3, 2],
        [1, 4, 3],
        [4, 4, 5],
        [3, 2, 4],
    ],
    dtype=float,
)


def test_standardized_alpha_is_nan_when_the_correlations_sum_to_zero():
    cov = np.cov(PERFECTLY_OPPOSED.T)
    assert np.allclose(cov / cov[0, 0], [[1, -0.5], [-0.5, 0.25]])
    result = pm.cronbach_alpha(PERFECTLY_OPPOSED)
    assert math.isnan(result.alpha_std)
    assert math.isfinite(result.alpha)  # raw alpha is defined: 1'C1 > 0


def test_item_analysis_refuses_a_scale_end_that_is_not_a_number():
    items = np.array([[1, 2], [2, 3], [3, 3], [4, 5.0]])
    with pytest.raises(TypeError, match="scale_min must be a number"):
        pm.item_analysis(items, scale_min="1")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="scale_min must be below scale_max"):
        pm.item_analysis(items, scale_min=5, scale_max=1)
    with pytest.raises(ValueError, match="finite"):
        pm.item_analysis(items, scale_min=float("nan"), scale_max=5)
    assert pm.item_analysis(items, scale_min=1, scale_max=5)["floor"].tolist() == [0.25, 0.0]


def test_score_scale_refuses_a_scale_end_that_is_not_a_number():
    with pytest.raises(TypeError, match="scale_max must be a number"):
        pm.score_scale(np.array([[1, 2.0]]), scale_max="5")  # type: ignore[arg-type]


def test_icc1_pairs_pandas_series_by_their_index():
    rng = np.random.default_rng(3)
    groups = pd.Series(np.repeat(np.arange(6), 8))
    scores = pd.Series(groups.to_numpy() * 0.5 + rng.normal(size=48))
    expected = pm.icc1(scores, groups)
    shuffled = groups.sample(frac=1.0, random_state=1)  # same labels, another row order
    assert pm.icc1(scores, shuffled) == pytest.approx(expected, rel=1e-12)
    assert pm.icc2(scores, shuffled) == pytest.approx(pm.icc2(scores, groups), rel=1e-12)
    # positional pairing (what the old code did) gives another number
    assert pm.icc1(scores, shuffled.to_numpy()) != pytest.approx(expected)
    with pytest.raises(ValueError, match="different pandas indexes"):
        pm.icc1(scores, groups.set_axis(range(100, 148)))


def test_rwg_and_team_reliability_pair_by_index_too():
    rng = np.random.default_rng(4)
    items = pd.DataFrame(rng.integers(1, 6, size=(40, 3)).astype(float))
    groups = pd.Series(np.repeat(np.arange(8), 5))
    shuffled = groups.sample(frac=1.0, random_state=2)
    pd.testing.assert_series_equal(pm.rwg_j(items, shuffled), pm.rwg_j(items, groups))
    with pytest.raises(ValueError, match="different pandas indexes"):
        pm.team_reliability(items[0], groups.set_axis(range(1, 41)), groups // 2)


def test_an_object_array_of_numeric_strings_is_refused():
    with pytest.raises(TypeError, match="must be numeric, got '1'"):
        pm.cronbach_alpha(np.array([["1", "2"], ["2", "3"], ["3", "5"]], dtype=object))
    with pytest.raises(TypeError, match="must be numeric"):
        pm.icc1(np.array(["1.5", "2", "3", "4"], dtype=object), [0, 0, 1, 1])
    # numbers and missing values in an object array are still fine
    mixed = np.array([[1, 2], [2, None], [3, 3], [4, 5], [2, 2]], dtype=object)
    assert math.isfinite(pm.cronbach_alpha(mixed).alpha)


def test_the_shift_does_not_depend_on_which_rows_come_first():
    """An item with a large mean that nobody answered in the first 1,024 rows kept its digits."""
    rng = np.random.default_rng(0)
    n = 3000
    small = rng.integers(1, 6, (n, 3)).astype(float)
    large = 1e8 + rng.integers(1, 6, n) + small[:, 0]
    values = np.column_stack([small, large])
    values[:1500, 3] = np.nan
    expected = pm.cronbach_alpha(values - [0, 0, 0, 1e8]).alpha
    assert pm.cronbach_alpha(values).alpha == pytest.approx(expected, rel=1e-9)
    assert pm.cronbach_alpha(values[::-1]).alpha == pytest.approx(expected, rel=1e-9)


def test_omega_without_a_proper_solution_is_flagged_not_an_optimiser_message():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(pm.ImproperSolutionError, match="no proper solution") as raised:
            pm.omega_total(HEYWOOD)
    assert isinstance(raised.value, ValueError)
    assert "Maximum number of iterations" not in str(raised.value)


def test_a_heywood_case_that_converges_still_gives_its_omega_with_a_warning():
    rng = np.random.default_rng(1)
    correlations = np.array([[1, 0.9, 0.9], [0.9, 1, 0.7], [0.9, 0.7, 1]])
    values = rng.standard_normal((200, 3)) @ np.linalg.cholesky(correlations).T
    with pytest.warns(RuntimeWarning, match="Heywood"):
        assert 0 < pm.omega_total(values) < 1


@pytest.mark.parametrize("ci", ["0.95", b"0.95", True])
def test_a_ci_that_is_not_a_number_is_named(ci):
    with pytest.raises(TypeError, match="ci must be a number"):
        pm.cronbach_alpha(PERFECTLY_OPPOSED, ci=ci)  # type: ignore[arg-type]


def test_a_target_that_is_not_a_number_is_named():
    with pytest.raises(TypeError, match="target must be a number"):
        pm.respondents_needed(0.1, target="0.7")  # type: ignore[arg-type]


def test_positive_semidefinite_flag():
    assert pm.is_positive_semidefinite(np.eye(3))
    assert pm.is_positive_semidefinite([[1.0, 1.0], [1.0, 1.0]])  # singular is still PSD
    assert not pm.is_positive_semidefinite([[1.0, 0.9, -0.9], [0.9, 1.0, 0.9], [-0.9, 0.9, 1.0]])
    assert not pm.is_positive_semidefinite([[1.0, np.nan], [np.nan, 1.0]])
    with pytest.raises(ValueError, match="square"):
        pm.is_positive_semidefinite(np.ones((2, 3)))


def test_alpha_and_item_analysis_flag_a_pairwise_matrix_that_is_not_positive_semidefinite():
    """Pairwise covariances from patchy answers: each pair is fine alone, the three together are not."""
    nan = np.nan
    # a = b and a = c on their own respondents, while b and c correlate -0.6 on theirs
    rows = [[x, x, nan] for x in (1, 2, 3, 4)] + [[x, nan, x] for x in (1, 2, 3, 4)]
    rows += [[nan, 1, 3], [nan, 2, 4], [nan, 3, 1], [nan, 4, 2]]
    values = np.array(rows, dtype=float)
    result = pm.cronbach_alpha(values)
    table = pm.item_analysis(values)
    assert not result.positive_semidefinite
    assert table.attrs["positive_semidefinite"] is False
    assert table["r_drop"].max() > 1  # the impossible number the flag warns about
    complete = np.array([[1, 2, 2], [2, 3, 3], [4, 4, 5], [5, 5, 4], [3, 3, 3.0]])
    assert pm.cronbach_alpha(complete).positive_semidefinite
    assert pm.item_analysis(complete).attrs["positive_semidefinite"] is True
