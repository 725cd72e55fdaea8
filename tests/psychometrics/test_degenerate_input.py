"""Degenerate and invalid input: a clear ValueError/TypeError or a documented NaN, never a crash."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pingouin
import pytest

import psychometrics as pm

NAN = np.nan


@pytest.fixture
def items() -> np.ndarray:
    rng = np.random.default_rng(7)
    latent = rng.normal(size=(60, 1))
    return np.clip(np.rint(3 + latent + rng.normal(scale=0.8, size=(60, 4))), 1, 5)


# --- input forms --------------------------------------------------------------------------------


def test_array_dataframe_and_nullable_integers_give_the_same_alpha(items: np.ndarray):
    frame = pd.DataFrame(items, columns=list("abcd"))
    nullable = frame.astype("Int64")
    nullable.iloc[0, 1] = pd.NA
    with_nan = items.copy()
    with_nan[0, 1] = NAN
    assert pm.cronbach_alpha(items) == pm.cronbach_alpha(frame)
    assert pm.cronbach_alpha(nullable).alpha == pytest.approx(pm.cronbach_alpha(with_nan).alpha, rel=1e-12)
    assert pm.cronbach_alpha(items.tolist()).alpha == pytest.approx(pm.cronbach_alpha(items).alpha, rel=1e-12)


def test_alpha_equals_pingouin_on_complete_data(items: np.ndarray):
    expected, _ = pingouin.cronbach_alpha(pd.DataFrame(items))
    assert pm.cronbach_alpha(items).alpha == pytest.approx(expected, rel=1e-12)


def test_array_items_are_labelled_by_position(items: np.ndarray):
    assert list(pm.item_analysis(items).index) == [0, 1, 2, 3]
    assert list(pm.score_scale(items, reverse=[2]).index) == list(range(60))


@pytest.mark.parametrize(
    "bad",
    [
        pd.DataFrame({"a": ["x", "y", "z"], "b": [1, 2, 3]}),
        np.array([["1", "2"], ["3", "4"]]),
        pd.Series([1.0, 2.0, 3.0]),
    ],
)
def test_non_numeric_or_one_dimensional_tables_raise_type_error(bad: object):
    with pytest.raises(TypeError):
        pm.cronbach_alpha(bad)  # type: ignore[arg-type]


def test_one_dimensional_array_raises(items: np.ndarray):
    with pytest.raises(ValueError, match="2-D"):
        pm.cronbach_alpha(items[:, 0])


def test_infinite_values_raise(items: np.ndarray):
    broken = items.copy()
    broken[3, 2] = np.inf
    for function in (pm.cronbach_alpha, pm.omega_total, pm.item_analysis, pm.score_scale):
        with pytest.raises(ValueError, match="infinite"):
            function(broken)
    broken[3, 2] = NAN
    broken[5, 1] = -np.inf
    with pytest.raises(ValueError, match="infinite"):
        pm.cronbach_alpha(broken)


# --- alpha --------------------------------------------------------------------------------------


def test_alpha_needs_two_items(items: np.ndarray):
    with pytest.raises(ValueError, match="at least 2 item"):
        pm.cronbach_alpha(items[:, :1])


def test_alpha_all_missing_raises():
    with pytest.raises(ValueError, match="all values are missing"):
        pm.cronbach_alpha(np.full((10, 3), NAN))


def test_alpha_with_fewer_than_two_rows_raises(items: np.ndarray):
    with pytest.raises(ValueError, match="fewer than 2"):
        pm.cronbach_alpha(items[:1])


def test_alpha_pair_never_answered_together_names_the_items():
    x = np.array([[1, 2, NAN], [2, 3, NAN], [3, 3, NAN], [NAN, 4, 4], [NAN, 5, 5], [NAN, 1, 2]])
    with pytest.raises(ValueError, match=r"items 0 and 2 are answered together by fewer than 2"):
        pm.cronbach_alpha(x)


def test_alpha_without_complete_rows_has_nan_interval():
    """A planned-missing design: every pair is observed, no row is complete."""
    x = np.array(
        [
            [1, 2, NAN],
            [2, 3, NAN],
            [4, 4, NAN],
            [1, NAN, 2],
            [3, NAN, 3],
            [5, NAN, 4],
            [NAN, 1, 1],
            [NAN, 4, 5],
            [NAN, 2, 3],
        ]
    )
    result = pm.cronbach_alpha(x)
    assert math.isfinite(result.alpha)
    assert result.n == 0
    assert math.isnan(result.ci_low) and math.isnan(result.ci_high)


def test_alpha_with_a_constant_item_keeps_it_and_has_nan_std_alpha(items: np.ndarray):
    """psych silently drops a zero-variance item (and warns); we keep it and say std alpha is undefined."""
    x = items.copy()
    x[:, 3] = 4.0
    result = pm.cronbach_alpha(x)
    cov = np.cov(x, rowvar=False)
    assert result.alpha == pytest.approx(4 / 3 * (1 - np.trace(cov) / cov.sum()), rel=1e-12)
    assert math.isnan(result.alpha_std)
    table = pm.item_analysis(x)
    assert math.isnan(table.loc[3, "r_drop"])
    assert table.loc[3, "sd"] == 0.0
    assert np.isfinite(table.loc[[0, 1, 2], "r_drop"]).all()


def test_alpha_of_only_constant_items_raises():
    with pytest.raises(ValueError, match="no variance"):
        pm.cronbach_alpha(np.full((10, 3), 2.0))


@pytest.mark.parametrize("level", [0.0, 1.0, 95.0, -0.5])
def test_alpha_rejects_a_ci_level_outside_0_1(items: np.ndarray, level: float):
    with pytest.raises(ValueError, match="ci must be"):
        pm.cronbach_alpha(items, ci=level)


def test_alpha_without_interval(items: np.ndarray):
    result = pm.cronbach_alpha(items, ci=None)
    assert math.isnan(result.ci_low) and math.isnan(result.ci_level)


def test_wider_level_gives_wider_interval(items: np.ndarray):
    narrow, wide = pm.cronbach_alpha(items, ci=0.8), pm.cronbach_alpha(items, ci=0.99)
    assert wide.ci_low < narrow.ci_low < narrow.alpha < narrow.ci_high < wide.ci_high


def test_item_analysis_of_two_items_has_nan_alpha_if_deleted(items: np.ndarray):
    table = pm.item_analysis(items[:, :2])
    assert table["alpha_if_deleted"].isna().all()
    # with two items r_drop is their correlation
    assert table["r_drop"].iloc[0] == pytest.approx(np.corrcoef(items[:, 0], items[:, 1])[0, 1], rel=1e-12)


# --- omega --------------------------------------------------------------------------------------


def test_omega_needs_three_items(items: np.ndarray):
    with pytest.raises(ValueError, match="at least 3 item"):
        pm.omega_total(items[:, :2])


def test_omega_with_a_constant_item_raises(items: np.ndarray):
    x = items.copy()
    x[:, 0] = 3.0
    with pytest.raises(ValueError, match="without variance"):
        pm.omega_total(x)


def test_omega_with_too_few_complete_rows_raises(items: np.ndarray):
    x = items.copy()
    x[3:, 0] = NAN
    with pytest.raises(ValueError, match="complete rows"):
        pm.omega_total(x)
    with pytest.raises(ValueError, match="complete rows"):
        pm.omega_total(np.full((5, 4), NAN))


def test_omega_with_collinear_items_raises(items: np.ndarray):
    x = np.column_stack([items[:, :3], items[:, 0] + items[:, 1]])
    with pytest.raises(ValueError, match="singular"):
        pm.omega_total(x)


def test_omega_of_parallel_items_is_high():
    rng = np.random.default_rng(3)
    latent = rng.normal(size=(5000, 1))
    x = latent + rng.normal(scale=0.3, size=(5000, 5))
    # population omega: 25 / (25 + 5 * 0.09) = 0.982
    assert pm.omega_total(x) == pytest.approx(25 / (25 + 5 * 0.09), abs=0.005)


# --- scoring ------------------------------------------------------------------------------------


def test_score_scale_rules():
    x = pd.DataFrame({"a": [1, 5, NAN, NAN], "b": [2, 4, NAN, 3], "c": [5, 1, 2, NAN], "d": [1, 1, 4, NAN]})
    scores = pm.score_scale(x, reverse=["c"])  # default: 3 of 4 answered
    assert scores.tolist()[:2] == [(1 + 2 + 1 + 1) / 4, (5 + 4 + 5 + 1) / 4]
    assert np.isnan(scores.iloc[2]) and np.isnan(scores.iloc[3])
    lenient = pm.score_scale(x, reverse=["c"], min_answered=1)
    assert lenient.iloc[2] == pytest.approx((4 + 4) / 2)
    assert lenient.iloc[3] == 3.0


def test_score_scale_reverses_on_nominal_ends_not_observed_extremes():
    # nobody chose 1 or 5: psych's observed-extremes recode would map 2 -> 4 on a 2..4 range too,
    # but on a 1..7 scale the nominal recode maps 2 -> 6
    x = np.array([[2.0, 3.0], [4.0, 3.0], [3.0, 3.0]])
    scores = pm.score_scale(x, reverse=[0], scale_min=1, scale_max=7, min_answered=2)
    assert scores.tolist() == [(6 + 3) / 2, (4 + 3) / 2, (5 + 3) / 2]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"reverse": ["z"]}, "unknown item"),
        ({"min_answered": 0}, "min_answered"),
        ({"min_answered": 5}, "min_answered"),
        ({"scale_min": 5, "scale_max": 1}, "scale_min"),
        ({"scale_max": 4}, "within the scale"),
        ({"reverse": ["a", "a"]}, "twice"),
    ],
)
def test_score_scale_validation(kwargs: dict[str, object], message: str):
    x = pd.DataFrame({"a": [1, 5], "b": [2, 4], "c": [5, 1], "d": [1, 1]})
    with pytest.raises(ValueError, match=message):
        pm.score_scale(x, **kwargs)  # type: ignore[arg-type]


def test_score_scale_reverse_must_be_a_sequence_of_names():
    x = pd.DataFrame({"ab": [1, 5], "b": [2, 4]})
    with pytest.raises(TypeError, match="sequence"):
        pm.score_scale(x, reverse="ab")


# --- ICC, group reliability, rwg ----------------------------------------------------------------


def test_icc_needs_two_groups():
    with pytest.raises(ValueError, match="at least 2 groups"):
        pm.icc1([1.0, 2.0, 3.0], ["a", "a", "a"])


def test_icc_with_only_groups_of_one_raises():
    with pytest.raises(ValueError, match="single respondent"):
        pm.icc1([1.0, 2.0, 3.0], ["a", "b", "c"])


def test_icc_lengths_must_match():
    with pytest.raises(ValueError, match="labels but there are"):
        pm.icc2([1.0, 2.0, 3.0], ["a", "b"])


def test_icc_of_constant_scores_raises():
    with pytest.raises(ValueError, match="no variance"):
        pm.icc1([2.0, 2.0, 2.0, 2.0], ["a", "a", "b", "b"])
    with pytest.raises(ValueError, match="MSB = 0"):
        pm.icc2([2.0, 2.0, 2.0, 2.0], ["a", "a", "b", "b"])


def test_icc_drops_missing_scores_and_labels():
    scores = [1.0, 2.0, NAN, 4.0, 5.0, 6.0, 3.0]
    groups = ["a", "a", "a", "b", "b", None, "b"]
    assert pm.icc1(scores, groups) == pytest.approx(
        pm.icc1([1.0, 2.0, 4.0, 5.0, 3.0], list("aabbb")), rel=1e-12
    )


def test_icc_can_be_negative_and_group_of_one_gets_icc1():
    scores = [1.0, 5.0, 1.0, 5.0, 3.0]
    groups = ["a", "a", "b", "b", "c"]
    icc = pm.icc1(scores, groups)
    assert icc < 0
    reliability = pm.group_reliability(scores, groups)
    assert reliability["c"] == pytest.approx(icc)
    assert reliability["a"] == pytest.approx(2 * icc / (1 + icc))


def test_rwg_group_of_one_is_nan_and_disagreement_is_zero():
    x = np.array([[1, 1], [5, 5], [3, 3], [3, 3], [4, 2.0]])
    agreement = pm.rwg_j(x, ["split", "split", "same", "same", "alone"])
    assert agreement["same"] == 1.0
    assert agreement["split"] == 0.0  # s^2 = 8 > sigma_E^2 = 2
    assert np.isnan(agreement["alone"])


@pytest.mark.parametrize("options", [1, 0, 2.5, True])
def test_rwg_rejects_bad_number_of_options(options: object):
    with pytest.raises(ValueError, match="n_options"):
        pm.rwg_j(np.ones((4, 2)), [1, 1, 2, 2], n_options=options)  # type: ignore[arg-type]


def test_respondents_needed_validation_and_edges():
    assert pm.respondents_needed(1.0) == 1
    assert pm.respondents_needed(0.7, 0.7) == 1
    with pytest.raises(ValueError, match="no number of respondents"):
        pm.respondents_needed(0.0)
    with pytest.raises(ValueError, match="no number of respondents"):
        pm.respondents_needed(-0.1)
    with pytest.raises(ValueError, match="target"):
        pm.respondents_needed(0.2, 1.0)
    with pytest.raises(ValueError, match="exceed"):
        pm.respondents_needed(1.2)
    with pytest.raises(ValueError, match="finite"):
        pm.respondents_needed(float("nan"))


# --- team reliability ---------------------------------------------------------------------------


def test_team_reliability_needs_two_teams_and_within_variance():
    with pytest.raises(ValueError, match="at least 2 teams"):
        pm.team_reliability([1.0, 2.0, 3.0], ["p", "p", "q"], ["t", "t", "t"])
    with pytest.raises(ValueError, match="2 or more respondents"):
        pm.team_reliability([1.0, 2.0, 3.0], ["p", "q", "r"], ["t", "t", "u"])
    with pytest.raises(ValueError, match="method"):
        pm.team_reliability([1.0, 2.0, 3.0, 4.0], list("ppqq"), list("ttuu"), method="OLS")  # type: ignore[arg-type]


def test_team_reliability_nests_professional_labels_in_teams():
    """lme4's team/professional: the same professional code in two teams is two professionals."""
    rng = np.random.default_rng(11)
    teams = np.repeat(["t1", "t2", "t3", "t4"], 30)
    local = np.tile(np.repeat(["p1", "p2", "p3"], 10), 4)
    scores = rng.normal(size=120) + np.repeat(rng.normal(size=12), 10) + np.repeat(rng.normal(size=4), 30)
    reused = pm.team_reliability(scores, local, teams)
    unique = pm.team_reliability(scores, np.char.add(teams, local), teams)
    assert reused.n_professionals == 12
    assert reused.var_professional == pytest.approx(unique.var_professional, rel=1e-12)
    assert (reused.teams["n_professionals"] == 3).all()
    assert 0.0 <= reused.icc_team <= 1.0 and 0.0 <= reused.icc_professional <= 1.0


def test_icc_summary_raises_when_a_value_is_read():
    summary = pm.icc_summary([2.0, 2.0, 2.0, 2.0], ["a", "a", "b", "b"])
    with pytest.raises(ValueError, match="no variance"):
        _ = summary.icc1
    with pytest.raises(ValueError, match="MSB = 0"):
        _ = summary.icc2
    with pytest.raises(ValueError, match="at least 2 groups"):
        pm.icc_summary([1.0, 2.0], ["a", "a"])
