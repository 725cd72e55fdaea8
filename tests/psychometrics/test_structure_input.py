"""cfa() refuses what cannot be fitted, naming the problem, and flags improper solutions."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import psychometrics as pm
from psychometrics import structure

TWO_FACTORS = {"f": ["x1", "x2", "x3"], "g": ["x4", "x5", "x6"]}


def two_factor_data(n: int = 300, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    latent = rng.multivariate_normal([0, 0], [[1, 0.4], [0.4, 1]], size=n)
    values = np.repeat(latent, 3, axis=1) * 0.8 + rng.normal(0, 0.6, (n, 6))
    frame = pd.DataFrame(values, columns=[f"x{i}" for i in range(1, 7)])
    frame["lang"] = np.where(np.arange(n) % 2 == 0, "nl", "en")
    return frame


def exact_covariance_data(cov: np.ndarray, n: int, seed: int = 1) -> np.ndarray:
    """Rows whose covariance (divided by n) is exactly ``cov``."""
    rng = np.random.default_rng(seed)
    raw = rng.normal(size=(n, cov.shape[0]))
    raw -= raw.mean(axis=0)
    whitened = raw @ np.linalg.inv(np.linalg.cholesky(raw.T @ raw / n)).T
    return whitened @ np.linalg.cholesky(cov).T


@pytest.mark.parametrize(
    ("factors", "message"),
    [
        ({"f": ["x1"], "g": ["x4", "x5", "x6"]}, "factor 'f' has 1 item"),
        ({"f": ["x1", "x2"]}, "one-factor model with 2 items is not identified"),
        ({"f": ["x1", "x2", "x3"], "g": ["x3", "x4", "x5"]}, "item 'x3' is in factors 'f' and 'g'"),
        ({"f": ["x1", "x1", "x2"]}, "item 'x1' is twice in factor 'f'"),
        ({"f": ["x1", "x2", "nope"]}, "unknown column(s) in factors: ['nope']"),
    ],
)
def test_model_errors_name_the_problem(factors: dict[str, list[str]], message: str):
    with pytest.raises(ValueError, match=re.escape(message)):
        pm.cfa(two_factor_data(), factors)


def test_factors_must_be_a_mapping_of_lists():
    with pytest.raises(TypeError, match="mapping"):
        pm.cfa(two_factor_data(), [["x1", "x2", "x3"]])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="list of column names"):
        pm.cfa(two_factor_data(), {"f": "x1"})


def test_fewer_complete_rows_than_parameters():
    data = two_factor_data(n=12)  # 13 free parameters; 12 rows (> 6 items, so S is positive definite)
    with pytest.raises(ValueError, match="12 complete rows for 13 free parameters"):
        pm.cfa(data, TWO_FACTORS)


def test_listwise_deletion_can_leave_too_few_rows():
    data = two_factor_data(n=40)
    data.loc[5:, "x1"] = np.nan
    with pytest.raises(ValueError, match="5 complete row"):
        pm.cfa(data, TWO_FACTORS)


def test_non_positive_definite_sample_matrix():
    data = two_factor_data()
    data["x6"] = data["x4"] + data["x5"]  # a linear combination
    with pytest.raises(ValueError, match="not positive definite"):
        pm.cfa(data, TWO_FACTORS)
    data = two_factor_data()
    data["x2"] = 3.0  # a constant item
    with pytest.raises(ValueError, match="not positive definite"):
        pm.cfa(data, TWO_FACTORS)


def test_per_group_checks_name_the_group():
    data = two_factor_data()
    data.loc[data["lang"] == "en", "x6"] = data["x4"] + data["x5"]
    with pytest.raises(ValueError, match="of group 'en' is not positive definite"):
        pm.cfa(data, TWO_FACTORS, group="lang")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"equal": ["loadings"]}, "equal constraints need a group"),
        ({"group": "lang", "equal": ["slopes"]}, "equal takes any of"),
        ({"group": "lang", "equal": "loadings"}, "as a list"),
        ({"group": "nope"}, "unknown group column 'nope'"),
        ({"group": [1, 2]}, "one label per row"),
        ({"missing": "ml"}, 'missing must be "listwise"'),
    ],
)
def test_option_errors(kwargs: dict[str, object], message: str):
    with pytest.raises(ValueError, match=message):
        pm.cfa(two_factor_data(), TWO_FACTORS, **kwargs)  # type: ignore[arg-type]


def test_one_group_is_not_a_multi_group_model():
    data = two_factor_data()
    data["lang"] = "nl"
    with pytest.raises(ValueError, match="at least 2 groups"):
        pm.measurement_invariance(data, TWO_FACTORS, "lang")


def test_rows_without_a_group_label_are_left_out():
    data = two_factor_data()
    data.loc[:9, "lang"] = None
    fit = pm.cfa(data, TWO_FACTORS, group="lang")
    assert fit.n == 290
    assert list(fit.groups) == ["nl", "en"]  # lavaan's order: first appearance among labelled rows


def test_group_labels_may_be_given_as_an_array():
    data = two_factor_data()
    by_column = pm.cfa(data, TWO_FACTORS, group="lang")
    by_array = pm.cfa(data.drop(columns="lang"), TWO_FACTORS, group=data["lang"].to_numpy())
    assert by_array.chisq == pytest.approx(by_column.chisq, rel=1e-12)


def test_heywood_case_is_flagged_not_hidden():
    """Correlations .8, .8, .5: a one-factor model needs a loading of x1 above 1 (closed form, df = 0)."""
    cov = np.array([[1.0, 0.8, 0.8], [0.8, 1.0, 0.5], [0.8, 0.5, 1.0]])
    data = pd.DataFrame(exact_covariance_data(cov, 200), columns=["x1", "x2", "x3"])
    fit = pm.cfa(data, {"f": ["x1", "x2", "x3"]})
    assert fit.converged
    assert fit.heywood
    assert fit.heywood_cases == ("residual variance of x1 < 0",)
    # just identified: theta_1 = s11 - s12 * s13 / s23 (lavaan gives the same negative estimate)
    assert fit.residual_variances.loc["x1", "estimate"] == pytest.approx(1 - 0.8 * 0.8 / 0.5, abs=1e-8)
    assert fit.loadings.loc["x1", "f"] > 1
    assert fit.df == 0 and fit.chisq == pytest.approx(0, abs=1e-8)


def test_non_convergence_is_a_flag_not_a_crash(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(structure, "_MAX_ITERATIONS", 1)
    monkeypatch.setattr(structure, "_CONVERGED_GRADIENT", 0.0)
    fit = pm.cfa(two_factor_data(), TWO_FACTORS)
    assert fit.converged is False
    assert np.isfinite(fit.chisq)


def test_unnamed_array_columns_work():
    data = two_factor_data()
    values = data[[f"x{i}" for i in range(1, 7)]].to_numpy()
    fit = pm.cfa(values, {"f": [0, 1, 2], "g": [3, 4, 5]})
    assert fit.chisq == pytest.approx(pm.cfa(data, TWO_FACTORS).chisq, rel=1e-10)


def test_disattenuated_correlation_errors():
    scores = pd.DataFrame({"a": [1, 2, 3, 4.0], "b": [2, 1, 4, 3.0]})
    with pytest.raises(ValueError, match=r"no reliability for \['b'\]"):
        pm.disattenuated_correlations(scores, {"a": 0.8})
    with pytest.raises(ValueError, match=r"in \(0, 1\]"):
        pm.disattenuated_correlations(scores, [0.8, 0.0])
    with pytest.raises(ValueError, match="3 reliabilities for 2 score columns"):
        pm.disattenuated_correlations(scores, [0.8, 0.8, 0.8])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    scales=st.lists(st.floats(0.2, 5.0), min_size=6, max_size=6),
    shifts=st.lists(st.floats(-10.0, 10.0), min_size=6, max_size=6),
    seed_value=st.integers(0, 2**16),
)
def test_fit_and_standardised_solution_do_not_depend_on_item_units(
    scales: list[float], shifts: list[float], seed_value: int
):
    """ML is scale-invariant: rescaling or shifting items changes neither the fit nor std.all."""
    data = two_factor_data(n=200, seed=seed_value)
    items = [f"x{i}" for i in range(1, 7)]
    moved = data.copy()
    moved[items] = data[items] * np.array(scales) + np.array(shifts)
    original, rescaled = pm.cfa(data, TWO_FACTORS), pm.cfa(moved, TWO_FACTORS)
    assert rescaled.converged
    assert rescaled.chisq == pytest.approx(original.chisq, rel=1e-6, abs=1e-6)
    assert rescaled.srmr == pytest.approx(original.srmr, rel=1e-6, abs=1e-8)
    np.testing.assert_allclose(rescaled.loadings.to_numpy(), original.loadings.to_numpy(), atol=1e-6)
    np.testing.assert_allclose(
        rescaled.factor_correlations.to_numpy(), original.factor_correlations.to_numpy(), atol=1e-6
    )
