"""The fast paths (memory layout, blocks, integer group ids) give the same numbers as the plain ones."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import psychometrics as pm


@pytest.fixture(scope="module")
def many_rows() -> np.ndarray:
    """More rows than one processing block, with missing values, complete blocks and a large offset."""
    rng = np.random.default_rng(5)
    latent = rng.normal(size=(70_000, 1))
    values = np.clip(np.rint(3 + latent + rng.normal(scale=0.9, size=(70_000, 5))), 1, 5)
    holes = rng.random(values.shape) < 0.04
    holes[:30_000] = False  # the first block (26,214 rows of 5 items) is complete, later ones are not
    values[holes] = np.nan
    return values


def test_pairwise_covariance_equals_pandas_across_blocks(many_rows: np.ndarray):
    expected = pd.DataFrame(many_rows).cov().to_numpy()  # pairwise-complete, like R's cov(use="pairwise")
    k = many_rows.shape[1]
    total = expected.sum()
    alpha = k / (k - 1) * (1 - np.trace(expected) / total)
    assert pm.cronbach_alpha(many_rows).alpha == pytest.approx(alpha, rel=1e-12)
    correlations = pd.DataFrame(many_rows).corr().to_numpy()
    np.testing.assert_allclose(pm.inter_item_correlations(many_rows).to_numpy(), correlations, rtol=1e-11)


def test_c_order_fortran_order_and_dataframe_agree(many_rows: np.ndarray):
    c_order = np.ascontiguousarray(many_rows)
    fortran = np.asfortranarray(many_rows)
    frame = pd.DataFrame(many_rows)
    strided = np.repeat(many_rows, 2, axis=1)[:, ::2]  # neither C nor Fortran contiguous
    results = [pm.cronbach_alpha(layout) for layout in (c_order, fortran, frame, strided)]
    for other in results[1:]:
        assert other.alpha == pytest.approx(results[0].alpha, rel=1e-12)
        assert other.alpha_std == pytest.approx(results[0].alpha_std, rel=1e-12)
        assert other.n == results[0].n
    assert pm.omega_total(fortran) == pytest.approx(pm.omega_total(c_order), rel=1e-9)
    pd.testing.assert_frame_equal(pm.item_analysis(fortran), pm.item_analysis(c_order), rtol=1e-12)
    pd.testing.assert_series_equal(pm.score_scale(fortran, [1]), pm.score_scale(c_order, [1]), rtol=1e-12)


def test_complete_case_count_and_omega_use_complete_rows(many_rows: np.ndarray):
    complete = many_rows[~np.isnan(many_rows).any(axis=1)]
    assert pm.cronbach_alpha(many_rows).n == complete.shape[0]
    assert pm.omega_total(many_rows) == pytest.approx(pm.omega_total(complete), rel=1e-9)


def test_large_offsets_keep_precision(many_rows: np.ndarray):
    shifted = many_rows + np.array([1e6, -3e5, 42.0, 7e4, 0.0])
    assert pm.cronbach_alpha(shifted).alpha == pytest.approx(pm.cronbach_alpha(many_rows).alpha, rel=1e-10)


@pytest.mark.parametrize(
    "relabel",
    [
        lambda ids: ids,  # integer ids (bincount coding)
        lambda ids: ids.astype(np.int32) - 500,  # negative integers
        lambda ids: np.char.add("prof-", ids.astype(str)),  # strings (hash coding)
        lambda ids: pd.Categorical(ids),  # categorical codes
        lambda ids: pd.Series(ids * 1_000_003),  # sparse large ids
    ],
)
def test_group_label_types_give_the_same_icc(relabel, many_rows: np.ndarray):
    rng = np.random.default_rng(9)
    ids = rng.integers(0, 300, size=many_rows.shape[0])
    scores = pm.score_scale(many_rows, min_answered=1)
    reference = pm.icc1(scores, ids.astype(str))
    assert pm.icc1(scores, relabel(ids)) == pytest.approx(reference, rel=1e-12)
    reliability = pm.group_reliability(scores, relabel(ids))
    assert len(reliability) == 300
    agreement = pm.rwg_j(many_rows, relabel(ids))
    np.testing.assert_allclose(
        np.sort(agreement.to_numpy()), np.sort(pm.rwg_j(many_rows, ids.astype(str)).to_numpy()), rtol=1e-12
    )


@pytest.mark.parametrize("layout", [np.ascontiguousarray, np.asfortranarray])
def test_centred_data_with_negative_values(layout):
    """Negative values cannot be zero-filled by fmax(x, 0): those blocks take the general path."""
    rng = np.random.default_rng(21)
    values = rng.normal(size=(50_000, 6)) + rng.normal(size=(50_000, 1))
    values[rng.random(values.shape) < 0.1] = np.nan
    values[:, 0] = np.abs(values[:, 0])  # one item never negative
    values = layout(values)
    expected = pd.DataFrame(values).cov().to_numpy()
    alpha = 6 / 5 * (1 - np.trace(expected) / expected.sum())
    assert pm.cronbach_alpha(values).alpha == pytest.approx(alpha, rel=1e-11)
    np.testing.assert_allclose(
        pm.inter_item_correlations(values).to_numpy(), pd.DataFrame(values).corr().to_numpy(), rtol=1e-10
    )
    complete = values[~np.isnan(values).any(axis=1)]
    assert pm.cronbach_alpha(values).n == complete.shape[0]
    assert pm.omega_total(values) == pytest.approx(pm.omega_total(complete), rel=1e-9)
