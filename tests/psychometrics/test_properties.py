"""Properties that hold for any data (hypothesis), with bounded example counts to stay fast."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import psychometrics as pm

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def likert_items(draw: st.DrawFn, min_items: int = 2, missing: bool = True) -> np.ndarray:
    """Respondents x items on a 1..5 scale, optionally with NaN for missing answers."""
    n = draw(st.integers(min_value=4, max_value=40))
    k = draw(st.integers(min_value=min_items, max_value=6))
    values = draw(hnp.arrays(np.float64, (n, k), elements=st.integers(1, 5).map(float)))
    if missing:
        # about one answer in eight missing
        holes = draw(hnp.arrays(np.bool_, (n, k), elements=st.sampled_from([False] * 7 + [True])))
        values[holes] = np.nan
    return values


def alpha_or_none(values: np.ndarray) -> float | None:
    try:
        return pm.cronbach_alpha(values).alpha
    except ValueError:
        return None


@FAST
@given(values=likert_items(), order_seed=st.integers(0, 2**32 - 1))
# found by hypothesis in .ci/run: two items that correlate -1 (standardized alpha divided by 0)
@example(values=np.array([[1.0, 3.0], [1.0, 3.0], [1.0, 3.0], [3.0, 2.0]]), order_seed=0)
def test_alpha_does_not_depend_on_item_order(values: np.ndarray, order_seed: int):
    alpha = alpha_or_none(values)
    assume(alpha is not None)
    order = np.random.default_rng(order_seed).permutation(values.shape[1])
    assert pm.cronbach_alpha(values[:, order]).alpha == pytest.approx(alpha, rel=1e-9, abs=1e-9)


@FAST
@given(
    values=likert_items(),
    shift=st.floats(min_value=-1000, max_value=1000, allow_nan=False),
    per_item=st.booleans(),
)
def test_alpha_does_not_change_when_a_constant_is_added(values: np.ndarray, shift: float, per_item: bool):
    alpha = alpha_or_none(values)
    assume(alpha is not None)
    shifts = shift * (np.arange(values.shape[1]) + 1) if per_item else shift
    assert pm.cronbach_alpha(values + shifts).alpha == pytest.approx(alpha, rel=1e-9, abs=1e-9)


@FAST
@given(values=likert_items(), data=st.data())
def test_reversing_an_item_twice_is_the_identity(values: np.ndarray, data: st.DataObject):
    item = data.draw(st.integers(0, values.shape[1] - 1))
    once = values.copy()
    once[:, item] = 1 + 5 - once[:, item]
    # reversing the recoded item again (inside score_scale) gives the scores of the original
    np.testing.assert_allclose(
        pm.score_scale(once, reverse=[item], min_answered=1).to_numpy(),
        pm.score_scale(values, min_answered=1).to_numpy(),
        rtol=1e-12,
    )


@FAST
@given(
    values=likert_items(missing=True),
    reverse=st.lists(st.integers(0, 5), unique=True, max_size=3),
    min_answered=st.integers(1, 2),
)
def test_scores_never_leave_the_scale(values: np.ndarray, reverse: list[int], min_answered: int):
    reverse = [item for item in reverse if item < values.shape[1]]
    scores = pm.score_scale(values, reverse=reverse, scale_min=1, scale_max=5, min_answered=min_answered)
    answered = scores.dropna()
    assert ((answered >= 1) & (answered <= 5)).all()
    assert len(scores) == values.shape[0]


@FAST
@given(values=likert_items(min_items=3, missing=False))
def test_alpha_if_deleted_equals_alpha_of_the_remaining_items(values: np.ndarray):
    try:
        table = pm.item_analysis(values)
    except ValueError:
        assume(False)
        return
    for item in range(values.shape[1]):
        rest = np.delete(values, item, axis=1)
        alpha = alpha_or_none(rest)
        if alpha is not None:
            assert table["alpha_if_deleted"].iloc[item] == pytest.approx(alpha, rel=1e-9, abs=1e-9)


@FAST
@given(
    scores=hnp.arrays(np.float64, st.integers(6, 60), elements=st.floats(1, 5, allow_nan=False)),
    data=st.data(),
)
def test_icc2_and_group_reliability_are_consistent(scores: np.ndarray, data: st.DataObject):
    groups = data.draw(hnp.arrays(np.int64, scores.shape[0], elements=st.integers(0, 3)))
    try:
        icc = pm.icc1(scores, groups)
    except ValueError:
        assume(False)
        return
    reliability = pm.group_reliability(scores, groups)
    sizes = np.bincount(groups)[np.bincount(groups) > 0]
    np.testing.assert_allclose(reliability.to_numpy(), sizes * icc / (1 + (sizes - 1) * icc), rtol=1e-12)
