"""Every number of psychometrics/ against the value R computed on the same data (reference.json).

Closed forms must agree to 1e-9, maximum-likelihood estimates (omega, variance components) to
1e-4. The R call that produced each expected value is in the comment beside the comparison; the
script is reference/make_reference.R.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import psychometrics as pm
from tests.psychometrics.conftest import REFERENCE_DIR, as_float_array

CLOSED = {"rel": 1e-9, "abs": 1e-9}
ML = {"rel": 1e-4, "abs": 1e-4}
BFI_SCALES = ["A", "C", "E", "N", "O"]


def test_reference_records_r_and_package_versions(reference: dict[str, Any]):
    meta = reference["meta"]
    assert meta["r_version"].startswith("R version")
    assert set(meta["packages"]) >= {"psych", "lavaan", "semTools", "multilevel", "lme4", "psychTools"}


def test_nested_csv_is_what_the_seeded_generator_writes(nested: pd.DataFrame):
    from tests.psychometrics.reference.make_nested_data import make_nested_data

    regenerated = make_nested_data()
    items = ["item1", "item2", "item3_rev", "item4"]
    assert list(regenerated.columns) == list(nested.columns)
    pd.testing.assert_frame_equal(regenerated[items].astype(float), nested[items].astype(float))
    for labels in ("team", "professional", "team_random"):
        assert regenerated[labels].tolist() == nested[labels].tolist()


# --------------------------------------------------------------------------------------------
# bfi: real data with missing values, reverse-keyed items, six-point scale
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("scale", BFI_SCALES)
def test_bfi_alpha_equals_psych(scale: str, reference: dict[str, Any], bfi_recoded: pd.DataFrame):
    expected = reference["bfi"]["scales"][scale]
    items = bfi_recoded[expected["items"]]
    assert items.isna().any().any(), "bfi has missing values: this is the pairwise case"
    result = pm.cronbach_alpha(items)
    # R: a <- psych::alpha(x); a$total$raw_alpha  (pairwise covariances)
    assert result.alpha == pytest.approx(expected["alpha"]["raw_alpha"], **CLOSED)
    # R: a$total$std.alpha
    assert result.alpha_std == pytest.approx(expected["alpha"]["std_alpha"], **CLOSED)
    assert result.n == expected["alpha"]["n_complete"]  # R: sum(complete.cases(x))
    assert result.n_rows == expected["alpha"]["n_rows"] == 2800
    assert result.k == 5


@pytest.mark.parametrize("scale", BFI_SCALES)
def test_bfi_feldt_interval_uses_complete_cases(
    scale: str, reference: dict[str, Any], bfi_recoded: pd.DataFrame
):
    """The deliberate deviation: n = complete cases, where psych uses nrow(x)."""
    expected = reference["bfi"]["scales"][scale]["alpha"]
    result = pm.cronbach_alpha(bfi_recoded[reference["bfi"]["scales"][scale]["items"]])
    n, k, alpha = expected["n_complete"], 5, result.alpha
    # the Feldt formula with scipy's F quantiles on the complete-case n
    df1, df2 = n - 1, (n - 1) * (k - 1)
    assert result.ci_low == pytest.approx(1 - (1 - alpha) * stats.f.ppf(0.975, df1, df2), **CLOSED)
    assert result.ci_high == pytest.approx(1 - (1 - alpha) * stats.f.ppf(0.025, df1, df2), **CLOSED)
    # R: psych::alpha.ci(raw_alpha, sum(complete.cases(x)), ncol(x))
    assert result.ci_low == pytest.approx(expected["feldt_complete_n_lower"], **CLOSED)
    assert result.ci_high == pytest.approx(expected["feldt_complete_n_upper"], **CLOSED)
    # psych's own interval (n = 2800 rows) is narrower: ours must not reproduce it
    assert result.ci_low < expected["feldt_lower"]
    assert result.ci_high > expected["feldt_upper"]


@pytest.mark.parametrize("scale", BFI_SCALES)
def test_bfi_feldt_interval_equals_psych_on_complete_data(
    scale: str, reference: dict[str, Any], bfi_recoded: pd.DataFrame
):
    expected = reference["bfi"]["scales"][scale]["alpha_complete"]
    complete = bfi_recoded[reference["bfi"]["scales"][scale]["items"]].dropna()
    result = pm.cronbach_alpha(complete)
    # R: a <- psych::alpha(na.omit(x)); a$total$raw_alpha; a$feldt$lower.ci; a$feldt$upper.ci
    assert result.alpha == pytest.approx(expected["raw_alpha"], **CLOSED)
    assert result.ci_low == pytest.approx(expected["feldt_lower"], **CLOSED)
    assert result.ci_high == pytest.approx(expected["feldt_upper"], **CLOSED)
    assert result.n == result.n_rows == expected["n_rows"]


@pytest.mark.parametrize("scale", BFI_SCALES)
def test_bfi_item_analysis_equals_psych_with_pairwise_missing(
    scale: str, reference: dict[str, Any], bfi_recoded: pd.DataFrame
):
    """alpha-if-deleted with pairwise missing data (JASP crashed here, jasp-issues#3411)."""
    expected = reference["bfi"]["scales"][scale]["alpha"]
    table = pm.item_analysis(
        bfi_recoded[reference["bfi"]["scales"][scale]["items"]], scale_min=1, scale_max=6
    )
    assert list(table.index) == reference["bfi"]["scales"][scale]["items"]
    # R: a$item.stats$n, $mean, $sd
    np.testing.assert_array_equal(table["n"], expected["item_n"])
    np.testing.assert_allclose(table["mean"], expected["item_mean"], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(table["sd"], expected["item_sd"], rtol=1e-9, atol=1e-9)
    # R: a$item.stats$r.drop
    np.testing.assert_allclose(table["r_drop"], expected["r_drop"], rtol=1e-9, atol=1e-9)
    # R: a$alpha.drop$raw_alpha
    np.testing.assert_allclose(table["alpha_if_deleted"], expected["alpha_drop"], rtol=1e-9, atol=1e-9)
    assert np.isfinite(table.to_numpy()).all()
    np.testing.assert_allclose(table["missing"], 1 - np.array(expected["item_n"]) / 2800, rtol=1e-12)


def test_bfi_floor_and_ceiling_shares(bfi_recoded: pd.DataFrame):
    items = bfi_recoded[["A1", "A2"]]
    table = pm.item_analysis(items, scale_min=1, scale_max=6)
    for item in ["A1", "A2"]:
        answered = items[item].dropna()
        assert table.loc[item, "floor"] == pytest.approx((answered == 1).mean(), rel=1e-12)
        assert table.loc[item, "ceiling"] == pytest.approx((answered == 6).mean(), rel=1e-12)


@pytest.mark.parametrize("scale", BFI_SCALES)
def test_bfi_omega_equals_lavaan_on_complete_cases(
    scale: str, reference: dict[str, Any], bfi_recoded: pd.DataFrame
):
    expected = reference["bfi"]["scales"][scale]
    omega = pm.omega_total(bfi_recoded[expected["items"]])
    # R: fit <- lavaan::cfa('f =~ ...', data = na.omit(x), std.lv = TRUE)
    #    semTools::compRelSEM(fit, obs.var = FALSE)
    assert omega == pytest.approx(expected["omega"], **ML)


@pytest.mark.parametrize("scale", BFI_SCALES)
def test_bfi_omega_does_not_impute_medians(scale: str, reference: dict[str, Any], bfi_recoded: pd.DataFrame):
    """factor_analyzer silently imputes item medians; we use complete cases, never imputation."""
    expected = reference["bfi"]["scales"][scale]
    omega = pm.omega_total(bfi_recoded[expected["items"]])
    # R: the same lavaan model on the median-imputed data
    assert abs(omega - expected["omega_median_imputed"]) > 1e-3
    assert omega == pytest.approx(pm.omega_total(bfi_recoded[expected["items"]].dropna()), rel=1e-9)


@pytest.mark.parametrize("scale", BFI_SCALES)
def test_bfi_inter_item_correlations_equal_r(
    scale: str, reference: dict[str, Any], bfi_recoded: pd.DataFrame
):
    expected = reference["bfi"]["scales"][scale]
    correlations = pm.inter_item_correlations(bfi_recoded[expected["items"]])
    # R: cor(x, use = "pairwise.complete.obs")
    np.testing.assert_allclose(
        correlations.to_numpy(), np.array(expected["cor_pairwise"]), rtol=1e-9, atol=1e-9
    )
    assert list(correlations.columns) == expected["items"]


@pytest.mark.parametrize("scale", BFI_SCALES)
def test_bfi_scores_with_reverse_keying_on_nominal_ends(
    scale: str, reference: dict[str, Any], bfi: pd.DataFrame
):
    expected = reference["bfi"]["scales"][scale]
    reverse = [item for item in reference["bfi"]["reverse"] if item in expected["items"]]
    scores = pm.score_scale(bfi[expected["items"]], reverse=reverse, scale_min=1, scale_max=6, min_answered=4)
    # R: x[rev] <- 1 + 6 - x[rev]; s <- rowMeans(x, na.rm = TRUE); s[rowSums(!is.na(x)) < 4] <- NA
    np.testing.assert_allclose(scores.to_numpy(), as_float_array(expected["scores"]), rtol=1e-12, atol=1e-12)
    # default rule k - 1 of k is the same here (k = 5)
    pd.testing.assert_series_equal(pm.score_scale(bfi[expected["items"]], reverse, 1, 6), scores)


@pytest.mark.parametrize("grouping", ["education", "gender"])
def test_bfi_icc_with_unbalanced_groups_equals_multilevel(
    grouping: str, reference: dict[str, Any], bfi: pd.DataFrame
):
    """Unbalanced groups (and NA group labels): pingouin's ICC fails here (pingouin#231)."""
    expected = reference["bfi"][f"icc_{grouping}"]
    assert len(set(expected["group_sizes"])) > 1, "groups must be unbalanced"
    scores = pm.score_scale(bfi[reference["bfi"]["scales"]["A"]["items"]], ["A1"], 1, 6, 4)
    # R: fit <- aov(score ~ factor(group)); multilevel::ICC1(fit); multilevel::ICC2(fit)
    assert pm.icc1(scores, bfi[grouping]) == pytest.approx(expected["icc1"], **CLOSED)
    assert pm.icc2(scores, bfi[grouping]) == pytest.approx(expected["icc2"], **CLOSED)
    reliability = pm.group_reliability(scores, bfi[grouping])
    # R: n_j * icc / (1 + (n_j - 1) * icc), n_j <- table(group) of the rows aov used
    np.testing.assert_allclose(reliability.to_numpy(), expected["group_reliability"], rtol=1e-9, atol=1e-9)
    assert [str(int(label)) for label in reliability.index] == expected["groups"]


def test_bfi_rwg_j_equals_multilevel(reference: dict[str, Any], bfi_recoded: pd.DataFrame):
    items = reference["bfi"]["scales"]["A"]["items"]
    complete = bfi_recoded[[*items, "education"]].dropna()
    # R: multilevel::rwg.j(x, education, ranvar = (6^2 - 1) / 12)  (2.7 drops incomplete rows)
    agreement = pm.rwg_j(complete[items], complete["education"], n_options=6)
    np.testing.assert_allclose(
        agreement.to_numpy(), reference["bfi"]["rwg_education"]["rwg_j"], rtol=1e-9, atol=1e-9
    )
    # with missing values: each item's answered values (R: mean(apply(Q, 2, var, na.rm = TRUE)))
    answered = pm.rwg_j(bfi_recoded[items], bfi_recoded["education"], n_options=6)
    np.testing.assert_allclose(
        answered.to_numpy(), reference["bfi"]["rwg_education_answered"]["rwg_j"], rtol=1e-9, atol=1e-9
    )


# --------------------------------------------------------------------------------------------
# simulated nested data: respondents in professionals in teams
# --------------------------------------------------------------------------------------------


def test_nested_alpha_item_analysis_and_omega(reference: dict[str, Any], nested_recoded: pd.DataFrame):
    expected = reference["nested"]
    items = nested_recoded[expected["items"]]
    result = pm.cronbach_alpha(items)
    # R: psych::alpha(x)$total$raw_alpha, $std.alpha
    assert result.alpha == pytest.approx(expected["alpha"]["raw_alpha"], **CLOSED)
    assert result.alpha_std == pytest.approx(expected["alpha"]["std_alpha"], **CLOSED)
    # R: psych::alpha.ci(raw_alpha, sum(complete.cases(x)), 4)
    assert result.ci_low == pytest.approx(expected["alpha"]["feldt_complete_n_lower"], **CLOSED)
    assert result.ci_high == pytest.approx(expected["alpha"]["feldt_complete_n_upper"], **CLOSED)
    # R: psych::alpha(na.omit(x))$feldt
    complete = pm.cronbach_alpha(items.dropna())
    assert complete.ci_low == pytest.approx(expected["alpha_complete"]["feldt_lower"], **CLOSED)
    assert complete.ci_high == pytest.approx(expected["alpha_complete"]["feldt_upper"], **CLOSED)
    table = pm.item_analysis(items)
    # R: a$item.stats$r.drop; a$alpha.drop$raw_alpha
    np.testing.assert_allclose(table["r_drop"], expected["alpha"]["r_drop"], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(
        table["alpha_if_deleted"], expected["alpha"]["alpha_drop"], rtol=1e-9, atol=1e-9
    )
    # R: semTools::compRelSEM(lavaan::cfa('f =~ ...', na.omit(x), std.lv = TRUE), obs.var = FALSE)
    assert pm.omega_total(items) == pytest.approx(expected["omega"], **ML)
    # R: cor(x, use = "pairwise.complete.obs")
    np.testing.assert_allclose(
        pm.inter_item_correlations(items).to_numpy(), np.array(expected["cor_pairwise"]), rtol=1e-9, atol=1e-9
    )


def test_nested_scores_with_the_instrument_rule(reference: dict[str, Any], nested: pd.DataFrame):
    items = reference["nested"]["items"]
    scores = pm.score_scale(nested[items], reverse=["item3_rev"])  # default: 3 of 4 answered
    # R: x$item3_rev <- 6 - x$item3_rev; rowMeans(x, na.rm = TRUE), NA when fewer than 3 answered
    np.testing.assert_allclose(scores.to_numpy(), as_float_array(reference["nested"]["scores"]), rtol=1e-12)
    assert scores.isna().sum() >= 2


def test_nested_icc_and_group_reliability(reference: dict[str, Any], nested: pd.DataFrame):
    expected = reference["nested"]["icc_professional"]
    scores = as_float_array(reference["nested"]["scores"])
    assert 1 in expected["group_sizes"], "the data must contain a professional with one respondent"
    # R: multilevel::ICC1(aov(score ~ factor(professional), data = d)); ICC2(...)
    assert pm.icc1(scores, nested["professional"]) == pytest.approx(expected["icc1"], **CLOSED)
    assert pm.icc2(scores, nested["professional"]) == pytest.approx(expected["icc2"], **CLOSED)
    reliability = pm.group_reliability(scores, nested["professional"])
    # R: n_j * icc / (1 + (n_j - 1) * icc)
    np.testing.assert_allclose(reliability.to_numpy(), expected["group_reliability"], rtol=1e-9, atol=1e-9)
    assert list(reliability.index) == expected["groups"]


def test_nested_rwg_j(reference: dict[str, Any], nested_recoded: pd.DataFrame):
    expected = reference["nested"]
    items = nested_recoded[expected["items"]]
    complete = nested_recoded[[*expected["items"], "professional"]].dropna()
    # R: multilevel::rwg.j(x[complete, ], professional[complete], ranvar = 2)
    on_complete = pm.rwg_j(complete[expected["items"]], complete["professional"], n_options=5)
    np.testing.assert_allclose(
        on_complete.to_numpy(),
        as_float_array(expected["rwg_professional_complete"]["rwg_j"]),
        rtol=1e-9,
        atol=1e-9,
    )
    # R: per group mean(apply(Q, 2, var, na.rm = TRUE)) -- each item's answered values
    answered = pm.rwg_j(items, nested_recoded["professional"])
    np.testing.assert_allclose(
        answered.to_numpy(),
        as_float_array(expected["rwg_professional_answered"]["rwg_j"]),
        rtol=1e-9,
        atol=1e-9,
    )
    # groups of one are NaN in both
    assert answered.isna().any()
    assert list(answered.index) == expected["rwg_professional_answered"]["groups"]


@pytest.mark.parametrize(("method", "key"), [("REML", "lmer_reml"), ("ML", "lmer_ml")])
def test_nested_variance_components_equal_lme4(
    method: str, key: str, reference: dict[str, Any], nested: pd.DataFrame
):
    expected = reference["nested"][key]
    scores = as_float_array(reference["nested"]["scores"])
    result = pm.team_reliability(scores, nested["professional"], nested["team"], method=method)  # type: ignore[arg-type]
    # R: fit <- lme4::lmer(score ~ 1 + (1 | team/professional), data = d, REML = ...)
    #    as.data.frame(lme4::VarCorr(fit))$vcov
    assert result.var_team == pytest.approx(expected["var_team"], **ML)
    assert result.var_professional == pytest.approx(expected["var_professional"], **ML)
    assert result.var_residual == pytest.approx(expected["var_residual"], **ML)
    # R: lme4::fixef(fit); logLik(fit)
    assert result.mean == pytest.approx(expected["intercept"], **ML)
    assert result.log_likelihood == pytest.approx(expected["log_likelihood"], rel=1e-7)
    # R: var_team / (var_team + var_prof / n_prof + var_res / n_resp) per team
    assert list(result.teams.index) == expected["teams"]
    np.testing.assert_array_equal(result.teams["n_professionals"], expected["team_n_professionals"])
    np.testing.assert_array_equal(result.teams["n_respondents"], expected["team_n_respondents"])
    np.testing.assert_allclose(
        result.teams["reliability"], expected["team_reliability"], rtol=1e-4, atol=1e-4
    )


def test_respondents_needed_equals_spearman_brown(reference: dict[str, Any]):
    cases = reference["respondents_needed"]
    for icc, target, needed_in_r in zip(cases["icc"], cases["target"], cases["needed"], strict=True):
        needed = pm.respondents_needed(icc, target)
        exact = target * (1 - icc) / (icc * (1 - target))
        if abs(exact - round(exact)) < 1e-9:
            # a whole number in exact arithmetic (0.8 * 0.8 / (0.2 * 0.2) = 16): R's
            # ceiling(16.000000000000004) says 17, one respondent more than Spearman-Brown needs
            assert needed == round(exact) <= needed_in_r
        else:
            # R: ceiling(target * (1 - icc) / (icc * (1 - target)))
            assert needed == needed_in_r
        reached = needed * icc / (1 + (needed - 1) * icc)
        assert reached >= target - 1e-12
        if needed > 1:
            assert (needed - 1) * icc / (1 + (needed - 2) * icc) < target - 1e-12


def test_reference_folder_holds_the_scripts():
    assert (REFERENCE_DIR / "make_reference.R").is_file()
    assert (REFERENCE_DIR / "make_nested_data.py").is_file()


def test_nested_team_variance_on_its_boundary_equals_lme4(reference: dict[str, Any], nested: pd.DataFrame):
    """Professionals put in teams at random: REML puts the team variance at 0 (lme4: singular fit)."""
    expected = reference["nested"]["lmer_reml_random_teams"]
    scores = as_float_array(reference["nested"]["scores"])
    result = pm.team_reliability(scores, nested["professional"], nested["team_random"])
    # R: lme4::lmer(score ~ 1 + (1 | team/professional), data = transform(d, team = team_random))
    #    -> "boundary (singular) fit"; as.data.frame(VarCorr(fit))$vcov
    assert expected["var_team"] < 1e-8
    assert result.var_team == pytest.approx(0.0, abs=1e-8)
    assert result.var_professional == pytest.approx(expected["var_professional"], **ML)
    assert result.var_residual == pytest.approx(expected["var_residual"], **ML)
    assert result.log_likelihood == pytest.approx(expected["log_likelihood"], rel=1e-7)
    np.testing.assert_allclose(result.teams["reliability"], 0.0, atol=1e-6)


def test_icc_summary_gives_all_three_from_one_anova(reference: dict[str, Any], nested: pd.DataFrame):
    expected = reference["nested"]["icc_professional"]
    summary = pm.icc_summary(as_float_array(reference["nested"]["scores"]), nested["professional"])
    # R: multilevel::ICC1(aov(...)), ICC2(aov(...)), n_j * icc / (1 + (n_j - 1) * icc)
    assert summary.icc1 == pytest.approx(expected["icc1"], **CLOSED)
    assert summary.icc2 == pytest.approx(expected["icc2"], **CLOSED)
    np.testing.assert_allclose(summary.group_reliability.to_numpy(), expected["group_reliability"], rtol=1e-9)
