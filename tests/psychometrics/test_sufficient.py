"""The statistics from sufficient statistics equal the raw-data functions (hypothesis, to 1e-9).

The sums are taken over random parts of the rows and added up, as the service adds the sums of
published batches: so additivity is tested with every equality.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import psychometrics as pm
from psychometrics import sufficient

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TOLERANCE = 1e-9


@st.composite
def likert(draw: st.DrawFn, min_items: int = 2, max_rows: int = 40) -> np.ndarray:
    n = draw(st.integers(min_value=1, max_value=max_rows))
    k = draw(st.integers(min_value=min_items, max_value=6))
    values = draw(hnp.arrays(np.float64, (n, k), elements=st.integers(1, 5).map(float)))
    holes = draw(hnp.arrays(np.bool_, (n, k), elements=st.sampled_from([False] * 5 + [True])))
    values[holes] = np.nan
    return values


def summed_in_parts(values: np.ndarray, seed: int) -> sufficient.ItemSums:
    rng = np.random.default_rng(seed)
    parts = rng.integers(0, 3, values.shape[0])
    total = sufficient.item_sums(values[parts == 0])
    for part in (1, 2):
        total = total + sufficient.item_sums(values[parts == part])
    # through the stored form as well
    return sufficient.ItemSums.from_vector(total.to_vector(), values.shape[1])


def outcome(function: Callable[[], Any]) -> Any:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return function()
    except ValueError as exc:
        return ("error", type(exc).__name__, str(exc))


def assert_same(found: Any, expected: Any) -> None:
    if isinstance(expected, tuple):
        assert found == expected
        return
    if isinstance(expected, pd.DataFrame | pd.Series):
        pd.testing.assert_index_equal(found.index, expected.index)
        np.testing.assert_allclose(
            np.asarray(found, dtype=float), np.asarray(expected, dtype=float), rtol=TOLERANCE, atol=TOLERANCE
        )
        return
    if isinstance(expected, float):
        assert (math.isnan(found) and math.isnan(expected)) or found == pytest.approx(
            expected, rel=TOLERANCE, abs=TOLERANCE
        )
        return
    for name in ("alpha", "alpha_std", "ci_low", "ci_high"):
        assert_same(getattr(found, name), getattr(expected, name))
    assert (found.n, found.n_rows, found.k, found.positive_semidefinite) == (
        expected.n,
        expected.n_rows,
        expected.k,
        expected.positive_semidefinite,
    )


@FAST
@given(values=likert(), seed=st.integers(0, 2**32 - 1))
def test_alpha_from_sums_equals_alpha(values: np.ndarray, seed: int) -> None:
    sums = summed_in_parts(values, seed)
    assert_same(
        outcome(lambda: sufficient.cronbach_alpha_from_sums(sums)), outcome(lambda: pm.cronbach_alpha(values))
    )


@FAST
@given(values=likert(min_items=3, max_rows=60), seed=st.integers(0, 2**32 - 1))
def test_omega_from_sums_equals_omega(values: np.ndarray, seed: int) -> None:
    sums = summed_in_parts(values, seed)
    expected = outcome(lambda: pm.omega_total(values))
    found = outcome(lambda: sufficient.omega_total_from_sums(sums))
    if isinstance(expected, float) and isinstance(found, float):
        assert found == pytest.approx(expected, rel=1e-7, abs=1e-7)  # an ML fit: as close as it converges
    else:
        assert type(found) is type(expected)


@FAST
@given(values=likert(), seed=st.integers(0, 2**32 - 1))
def test_item_analysis_from_sums_equals_item_analysis(values: np.ndarray, seed: int) -> None:
    sums = summed_in_parts(values, seed)
    at_floor = (values == 1).sum(axis=0)
    at_ceiling = (values == 5).sum(axis=0)
    expected = outcome(lambda: pm.item_analysis(values, scale_min=1, scale_max=5))
    found = outcome(lambda: sufficient.item_analysis_from_sums(sums, at_floor, at_ceiling))
    assert_same(found, expected)
    if isinstance(expected, pd.DataFrame):
        assert found.attrs == expected.attrs


@FAST
@given(values=likert(min_items=1), seed=st.integers(0, 2**32 - 1))
def test_inter_item_correlations_from_sums_equal_theirs(values: np.ndarray, seed: int) -> None:
    sums = summed_in_parts(values, seed)
    assert_same(
        outcome(lambda: sufficient.inter_item_correlations_from_sums(sums)),
        outcome(lambda: pm.inter_item_correlations(values)),
    )


@st.composite
def grouped_scores(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    n = draw(st.integers(min_value=1, max_value=60))
    groups = draw(hnp.arrays(np.int64, n, elements=st.integers(0, 6)))
    # scores as the instrument makes them: means of 3 or 4 answers on 1..5, some missing
    totals = draw(hnp.arrays(np.float64, n, elements=st.integers(3, 20).map(float)))
    answered = draw(hnp.arrays(np.float64, n, elements=st.sampled_from([3.0, 4.0])))
    scores = np.clip(totals / answered, 1, 5)
    scores[draw(hnp.arrays(np.bool_, n, elements=st.sampled_from([False] * 6 + [True])))] = np.nan
    return scores, groups


def group_sums(scores: np.ndarray, groups: np.ndarray, size: int) -> tuple[np.ndarray, ...]:
    valid = ~np.isnan(scores)
    codes, values = groups[valid], scores[valid]
    return (
        np.bincount(codes, minlength=size).astype(float),
        np.bincount(codes, weights=values, minlength=size),
        np.bincount(codes, weights=values * values, minlength=size),
    )


@FAST
@given(data=grouped_scores())
def test_icc_summary_from_sums_equals_icc_summary(data: tuple[np.ndarray, np.ndarray]) -> None:
    scores, groups = data
    labels = np.unique(groups)
    codes = np.searchsorted(labels, groups)
    n_j, s_j, q_j = group_sums(scores, codes, len(labels))
    expected = outcome(lambda: pm.icc_summary(scores, groups))
    found = outcome(lambda: sufficient.icc_summary_from_sums(n_j, s_j, q_j, labels))
    if isinstance(expected, tuple):
        assert found == expected
        return
    for attribute in ("icc1", "icc2", "group_reliability"):
        want = outcome(lambda attribute=attribute: getattr(expected, attribute))
        got = outcome(lambda attribute=attribute: getattr(found, attribute))
        if isinstance(want, pd.Series):
            np.testing.assert_array_equal(got.index.to_numpy(), want.index.to_numpy())
            np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), rtol=1e-9, atol=1e-9)
        else:
            assert_same(got, want)


@FAST
@given(values=likert(min_items=1), groups_seed=st.integers(0, 2**32 - 1))
def test_rwg_j_from_sums_equals_rwg_j(values: np.ndarray, groups_seed: int) -> None:
    groups = np.random.default_rng(groups_seed).integers(0, 5, values.shape[0])
    labels = np.unique(groups)
    codes = np.searchsorted(labels, groups)
    answered = ~np.isnan(values)
    filled = np.where(answered, values, 0.0)
    size = len(labels)

    def per_group(columns: np.ndarray) -> np.ndarray:
        return np.stack([np.bincount(codes, weights=column, minlength=size) for column in columns.T], 1)

    counts, sums, squares = per_group(answered.astype(float)), per_group(filled), per_group(filled**2)
    present = np.bincount(codes, minlength=size) > 0
    expected = pm.rwg_j(values, groups, n_options=5)
    found = sufficient.rwg_j_from_sums(counts, sums, squares, 5, labels, present)
    np.testing.assert_array_equal(found.index.to_numpy(), expected.index.to_numpy())
    np.testing.assert_allclose(found.to_numpy(), expected.to_numpy(), rtol=1e-9, atol=1e-9)


def test_sums_of_a_real_sized_wave_equal_the_raw_functions() -> None:
    """Many rows, parts added in any order: the whole-number sums stay exact."""
    rng = np.random.default_rng(7)
    level = rng.normal(3.6, 0.5, (20_000, 1))
    values = np.clip(np.rint(level + rng.normal(0, 0.8, (20_000, 4))), 1, 5)
    values[rng.random(values.shape) < 0.05] = np.nan
    sums = summed_in_parts(values, 3)
    assert_same(sufficient.cronbach_alpha_from_sums(sums), pm.cronbach_alpha(values))
    assert sufficient.omega_total_from_sums(sums) == pytest.approx(pm.omega_total(values), rel=1e-9)
    assert_same(
        sufficient.item_analysis_from_sums(sums, (values == 1).sum(0), (values == 5).sum(0)),
        pm.item_analysis(values, scale_min=1, scale_max=5),
    )


def test_sums_of_different_item_counts_do_not_add() -> None:
    with pytest.raises(ValueError, match="cannot add"):
        sufficient.item_sums(np.ones((3, 2))) + sufficient.item_sums(np.ones((3, 3)))
    with pytest.raises(ValueError, match="numbers"):
        sufficient.ItemSums.from_vector(np.zeros(5), 2)
