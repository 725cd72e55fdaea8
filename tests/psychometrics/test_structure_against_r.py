"""cfa(), measurement_invariance() and disattenuated_correlations() against lavaan (structure_reference.json).

Every expected value was computed by lavaan 0.6.14 with its defaults (``cfa(model, data, group=,
group.equal=)``, ML, marker-variable identification, likelihood "normal", listwise deletion); the
script is reference/make_structure_reference.R. Fit measures and estimates must agree to 1e-4.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest

import psychometrics as pm
from tests.psychometrics.conftest import REFERENCE_DIR

ML = {"rel": 1e-4, "abs": 1e-4}
#: fitMeasures() names and the CfaResult attribute that must equal each
MEASURES = {
    "npar": "npar",
    "chisq": "chisq",
    "df": "df",
    "pvalue": "pvalue",
    "baseline.chisq": "baseline_chisq",
    "baseline.df": "baseline_df",
    "cfi": "cfi",
    "tli": "tli",
    "rmsea": "rmsea",
    "rmsea.ci.lower": "rmsea_ci_low",
    "rmsea.ci.upper": "rmsea_ci_high",
    "srmr": "srmr",
    "logl": "loglik",
    "aic": "aic",
    "bic": "bic",
    "ntotal": "n",
}
STEPS = {
    "configural": (),
    "metric": ("loadings",),
    "scalar": ("loadings", "intercepts"),
    "strict": ("loadings", "intercepts", "residuals"),
}


@pytest.fixture(scope="module")
def structure() -> dict[str, Any]:
    return json.loads((REFERENCE_DIR / "structure_reference.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def hs() -> pd.DataFrame:
    """lavaan::HolzingerSwineford1939 as make_structure_reference.R exported it."""
    return pd.read_csv(REFERENCE_DIR / "hs.csv")


@pytest.fixture(scope="module")
def bfi_structure(structure: dict[str, Any]) -> pd.DataFrame:
    """psychTools::bfi with A1, C4, C5, E1, E2 recoded as 7 - x (R: bfi[reverse] <- 7 - bfi[reverse])."""
    data = pd.read_csv(REFERENCE_DIR / "bfi.csv")
    reverse = structure["bfi"]["reverse"]
    data[reverse] = 7 - data[reverse]
    return data


@pytest.fixture(scope="module")
def simulated() -> pd.DataFrame:
    return pd.read_csv(REFERENCE_DIR / "invariance_data.csv")


def _data(name: str, hs: pd.DataFrame, bfi: pd.DataFrame, sim: pd.DataFrame) -> pd.DataFrame:
    return {"hs": hs, "bfi": bfi, "simulated": sim}[name]


def assert_equals_lavaan(fit: pm.CfaResult, expected: dict[str, Any]) -> None:
    assert fit.converged and expected["converged"]
    for name, attribute in MEASURES.items():
        # R: fitMeasures(fit, name)
        assert getattr(fit, attribute) == pytest.approx(expected["fit"][name], **ML), name
    assert fit.fit_measures()["chisq"] == fit.chisq
    nobs = expected["nobs"] if isinstance(expected["nobs"], list) else [expected["nobs"]]
    assert [group.n for group in fit.groups.values()] == nobs  # R: lavInspect(fit, "nobs")
    if expected["ngroups"] > 1:
        assert [str(label) for label in fit.groups] == expected["group_labels"]
    mine = fit.parameters.set_index(["lhs", "op", "rhs", "group"])
    estimates = (
        pd.DataFrame(expected["estimates"]).fillna({"rhs": ""}).set_index(["lhs", "op", "rhs", "group"])
    )
    standardized = (
        pd.DataFrame(expected["standardized"]).fillna({"rhs": ""}).set_index(["lhs", "op", "rhs", "group"])
    )
    # R: parameterEstimates(fit)$est -- every loading, (co)variance, intercept and mean, free or fixed
    np.testing.assert_allclose(mine["est"].reindex(estimates.index), estimates["est"], rtol=1e-4, atol=1e-4)
    # R: standardizedSolution(fit)$est.std (std.all)
    np.testing.assert_allclose(
        mine["std_all"].reindex(standardized.index), standardized["est_std"], rtol=1e-4, atol=1e-4
    )


def test_reference_records_r_and_lavaan_versions(structure: dict[str, Any]):
    meta = structure["meta"]
    assert meta["r_version"].startswith("R version")
    assert meta["packages"]["lavaan"] == "0.6.14"


def test_invariance_csv_is_what_the_seeded_generator_writes(simulated: pd.DataFrame):
    from tests.psychometrics.reference.make_invariance_data import ITEMS, make_invariance_data

    regenerated = make_invariance_data()
    assert regenerated["group"].tolist() == simulated["group"].tolist()
    np.testing.assert_allclose(regenerated[ITEMS].to_numpy(), simulated[ITEMS].to_numpy(), atol=1e-12)


@pytest.mark.parametrize("name", ["hs", "bfi", "simulated"])
def test_single_group_cfa_equals_lavaan(
    name: str,
    structure: dict[str, Any],
    hs: pd.DataFrame,
    bfi_structure: pd.DataFrame,
    simulated: pd.DataFrame,
):
    expected = structure[name]
    data = _data(name, hs, bfi_structure, simulated)
    # R: fit <- cfa(model, data = data); fitMeasures(fit); standardizedSolution(fit)
    fit = pm.cfa(data, expected["factors"])
    assert_equals_lavaan(fit, expected["single"])
    assert fit.n_groups == 1 and not fit.heywood
    first_factor = next(iter(expected["factors"]))
    assert fit.loadings.loc[expected["factors"][first_factor][0], first_factor] == pytest.approx(
        fit.parameters.query("op == '=~'").iloc[0]["std_all"]
    )


def test_bfi_uses_complete_cases_only(structure: dict[str, Any], bfi_structure: pd.DataFrame):
    items = [item for members in structure["bfi"]["factors"].values() for item in members]
    assert bfi_structure[items].isna().any(axis=1).sum() > 200, "bfi has incomplete rows: the listwise case"
    fit = pm.cfa(bfi_structure, structure["bfi"]["factors"])
    assert fit.n == structure["bfi"]["n_complete"] == 2563  # R: sum(complete.cases(bfi[, items]))


@pytest.mark.parametrize("step", list(STEPS))
@pytest.mark.parametrize(("name", "group"), [("hs", "school"), ("bfi", "gender"), ("simulated", "group")])
def test_multi_group_cfa_equals_lavaan(
    name: str,
    group: str,
    step: str,
    structure: dict[str, Any],
    hs: pd.DataFrame,
    bfi_structure: pd.DataFrame,
    simulated: pd.DataFrame,
):
    expected = structure[name]
    data = _data(name, hs, bfi_structure, simulated)
    # R: cfa(model, data = data, group = group, group.equal = STEPS[step])
    fit = pm.cfa(data, expected["factors"], group=group, equal=STEPS[step])
    assert_equals_lavaan(fit, expected[group][step])
    assert fit.equal == STEPS[step]


@pytest.mark.parametrize(("name", "group"), [("hs", "school"), ("bfi", "gender"), ("simulated", "group")])
def test_measurement_invariance_equals_lavaan(
    name: str,
    group: str,
    structure: dict[str, Any],
    hs: pd.DataFrame,
    bfi_structure: pd.DataFrame,
    simulated: pd.DataFrame,
):
    expected = structure[name][group]
    table = pm.measurement_invariance(
        _data(name, hs, bfi_structure, simulated), structure[name]["factors"], group
    )
    assert list(table.index) == ["configural", "metric", "scalar"]
    for step in table.index:
        for column in ("chisq", "df", "pvalue", "cfi", "tli", "rmsea", "srmr"):
            # R: fitMeasures(configural / metric / scalar)
            assert table.loc[step, column] == pytest.approx(expected[step]["fit"][column], **ML), (
                step,
                column,
            )
    # R: lavTestLRT(configural, metric, scalar)
    lrt = expected["lrt"]
    assert np.isnan(table.loc["configural", "delta_chisq"])
    np.testing.assert_allclose(table["delta_chisq"].iloc[1:], lrt["chisq_diff"][1:], rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(table["delta_df"].iloc[1:], lrt["df_diff"][1:])
    np.testing.assert_allclose(table["p_delta"].iloc[1:], lrt["p"][1:], rtol=1e-4, atol=1e-10)
    for step, before in (("metric", "configural"), ("scalar", "metric")):
        delta_cfi = expected[step]["fit"]["cfi"] - expected[before]["fit"]["cfi"]
        delta_rmsea = expected[step]["fit"]["rmsea"] - expected[before]["fit"]["rmsea"]
        assert table.loc[step, "delta_cfi"] == pytest.approx(delta_cfi, abs=1e-4)
        assert table.loc[step, "delta_rmsea"] == pytest.approx(delta_rmsea, abs=1e-4)
        assert table.loc[step, "holds"] == (delta_cfi >= -0.01 and delta_rmsea <= 0.015)


def test_scalar_invariance_fails_where_it_was_made_to_fail(
    structure: dict[str, Any], simulated: pd.DataFrame
):
    """Two intercepts shifted by 0.9 in group C: metric holds, scalar does not (ΔCFI, ΔRMSEA, LRT)."""
    table = pm.measurement_invariance(simulated, structure["simulated"]["factors"], "group")
    assert table.loc["metric", "holds"]
    assert not table.loc["scalar", "holds"]
    assert not table.loc["scalar", "cfi_ok"] and not table.loc["scalar", "rmsea_ok"]
    assert table.loc["scalar", "p_delta"] < 1e-10
    assert table.loc["metric", "verdict"].startswith("metric invariance holds")
    assert table.loc["scalar", "verdict"].startswith("scalar invariance does not hold")
    assert "Cheung & Rensvold 2002" in table.loc["scalar", "verdict"]
    assert "Chen 2007" in table.loc["scalar", "verdict"]


def test_disattenuated_correlations_equal_r(structure: dict[str, Any], bfi_structure: pd.DataFrame):
    factors = structure["bfi"]["factors"]
    scores = pd.DataFrame({name: bfi_structure[items].mean(axis=1) for name, items in factors.items()})
    # R: cor(scores, use = "pairwise.complete.obs") / sqrt(outer(alphas, alphas)), alphas from psych::alpha
    corrected = pm.disattenuated_correlations(scores, structure["bfi"]["alphas"])
    expected = np.array(structure["bfi"]["disattenuated"])
    np.fill_diagonal(expected, 1.0)
    np.testing.assert_allclose(corrected.to_numpy(), expected, rtol=1e-9, atol=1e-12)
    assert list(corrected.index) == list(factors)
    alphas = [pm.cronbach_alpha(bfi_structure[items]).alpha for items in factors.values()]
    np.testing.assert_allclose(alphas, list(structure["bfi"]["alphas"].values()), rtol=1e-9)


def test_one_factor_model_equals_lavaan(structure: dict[str, Any], simulated: pd.DataFrame):
    # R: cfa("f =~ a1 + a2 + a3 + b1 + b2 + b3", data = sim[sim$group == "A", ])
    group_a = simulated[simulated["group"] == "A"]
    fit = pm.cfa(group_a, {"f": ["a1", "a2", "a3", "b1", "b2", "b3"]})
    assert_equals_lavaan(fit, structure["simulated"]["one_factor"])
    assert fit.cfi < 0.9  # two factors forced into one: a poor fit, reported as such
