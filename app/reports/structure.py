"""The structure report: does the instrument measure its subscales as distinct factors, for everyone?

Confirmatory factor analysis (``psychometrics.cfa``, equal to lavaan) of the core subscales as one
model and of each switched-on module as its own model, on the answers the caller may see
(:func:`app.reports.service.select_answers`). Each fit is judged against the usual cut-offs
(CFI ≥ .95, RMSEA ≤ .06, SRMR ≤ .08; Hu & Bentler 1999) in plain words, with the standardised
loadings, the factor correlations and the subscale correlations corrected for unreliability.

Below a minimum number of complete respondents (``RESPONDENTS_PER_PARAMETER`` per free parameter,
and at least ``MIN_RESPONDENTS``) a model is not fitted: the report says how many there are and how
many a factor analysis needs, instead of a fragile fit. Every number is about the whole selection
(at least ``MIN_RESPONDENTS`` people), so disclosure control has nothing to hide here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

import psychometrics
from app.reports.schemas import (
    FactorLoading,
    FitIndices,
    InvarianceStep,
    LanguageInvariance,
    StructureModel,
    StructureReport,
)
from app.reports.service import Selection
from instrument.schema import ScoringGroup

MIN_RESPONDENTS = 100
"""No factor analysis on fewer complete respondents, however small the model."""
RESPONDENTS_PER_PARAMETER = 10
"""The usual rule of thumb (Kline 2016): ten respondents per free parameter."""
CUTOFFS = {"cfi": 0.95, "rmsea": 0.06, "srmr": 0.08}
HU_BENTLER = (
    "Hu, L., & Bentler, P. M. (1999). Cutoff criteria for fit indexes in covariance structure "
    "analysis. Structural Equation Modeling, 6, 1-55."
)
DISTINCT_LIMIT = 0.85
"""A (corrected) correlation above this says two subscales hardly measure different things."""
WEAK_LOADING = 0.40
CORE = "core"


def number(value: object) -> float | None:
    """A float for JSON: NaN and infinities become null."""
    if value is None:
        return None
    result = float(value)  # type: ignore[arg-type]
    return result if math.isfinite(result) else None


def free_parameters(factors: dict[str, list[str]]) -> int:
    """Free parameters of a one-group simple-structure CFA with marker identification.

    Loadings (all but each factor's first), residual variances, factor variances and covariances.
    """
    p = sum(len(items) for items in factors.values())
    m = len(factors)
    return (p - m) + p + m * (m + 1) // 2


def respondents_needed(factors: dict[str, list[str]]) -> int:
    return max(MIN_RESPONDENTS, RESPONDENTS_PER_PARAMETER * free_parameters(factors))


def structure_report(
    selection: Selection, *, languages: Sequence[str] | npt.NDArray[np.object_] | None = None
) -> StructureReport:
    """The structure report of a selection.

    ``languages`` gives each response's language (one per row of the selection's matrix); with it,
    each model is also tested for measurement invariance across the languages that have enough
    respondents. Without it the invariance part says that it was not computed.
    """
    blocks: dict[str | None, list[ScoringGroup]] = {}
    for group in selection.groups:
        blocks.setdefault(group.module, []).append(group)
    models = [
        _model(selection, CORE if module is None else module, module, groups, languages)
        for module, groups in blocks.items()
    ]
    warnings: list[str] = []
    if selection.matrix.n == 0:
        warnings.append("This wave has no responses on this form yet: there is nothing to analyse.")
    return StructureReport(
        wave_id=selection.wave.id or 0,
        form=selection.form.id,
        instrument_version=selection.instrument.version,
        modules=list(selection.modules),
        n_responses=selection.matrix.n,
        min_respondents=MIN_RESPONDENTS,
        respondents_per_parameter=RESPONDENTS_PER_PARAMETER,
        cutoffs=CUTOFFS,
        reference=HU_BENTLER,
        models=models,
        warnings=warnings,
    )


def _recoded(selection: Selection, groups: list[ScoringGroup]) -> pd.DataFrame:
    """The model's items, reverse-keyed items recoded on the nominal scale ends."""
    scale = selection.instrument.scale
    columns: dict[str, npt.NDArray[np.float64]] = {}
    for group in groups:
        values = selection.columns(group)
        for position, item in enumerate(group.item_ids):
            column = values[:, position]
            columns[item] = (scale.min + scale.max - column) if item in group.reverse_ids else column
    return pd.DataFrame(columns)


def _model(
    selection: Selection,
    name: str,
    module: str | None,
    groups: list[ScoringGroup],
    languages: Sequence[str] | npt.NDArray[np.object_] | None,
) -> StructureModel:
    factors = {group.subscale: list(group.item_ids) for group in groups}
    data = _recoded(selection, groups)
    complete = ~np.isnan(data.to_numpy(dtype=np.float64)).any(axis=1)
    n_complete = int(complete.sum())
    needed = respondents_needed(factors)
    parameters = free_parameters(factors)
    base = {
        "name": name,
        "module": module,
        "factors": factors,
        "n_complete": n_complete,
        "n_needed": needed,
        "free_parameters": parameters,
    }
    if n_complete < needed:
        return StructureModel(
            **base,
            fitted=False,
            verdict=(
                f"Not analysed: {n_complete} respondents answered every item of this model, and a "
                f"factor analysis of it needs at least {needed} ({RESPONDENTS_PER_PARAMETER} per "
                f"free parameter, {parameters} parameters, and never fewer than {MIN_RESPONDENTS})."
            ),
        )
    try:
        fit = psychometrics.cfa(data, factors)
    except ValueError as exc:
        return StructureModel(**base, fitted=False, verdict=f"Not analysed: {str(exc).rstrip('.')}.")

    warnings: list[str] = []
    cutoffs_met = {
        "cfi": fit.cfi >= CUTOFFS["cfi"],
        "rmsea": fit.rmsea <= CUTOFFS["rmsea"],
        "srmr": fit.srmr <= CUTOFFS["srmr"],
    }
    loadings = []
    standardized = fit.loadings.to_numpy()
    residuals = fit.residual_variances["std_all"].to_numpy()
    row_of = {item: row for row, item in enumerate(fit.loadings.index)}
    for column, (factor, items) in enumerate(factors.items()):
        for item in items:
            loading = float(standardized[row_of[item], column])
            loadings.append(
                FactorLoading(
                    item=item,
                    factor=factor,
                    loading=number(loading),
                    residual=number(residuals[row_of[item]]),
                )
            )
            if abs(loading) < WEAK_LOADING:
                warnings.append(
                    f"Item {item} loads only {loading:.2f} on {factor} (below {WEAK_LOADING:.2f}): "
                    "it shares little with the other items of its subscale."
                )
    names = list(factors)
    factor_correlations = disattenuated = reliabilities = None
    if len(names) > 1:
        correlations = fit.factor_correlations.loc[names, names].to_numpy()
        factor_correlations = _matrix(correlations)
        disattenuated, reliabilities = _disattenuated(selection, groups, warnings)
        warnings.extend(_distinctness_warnings(names, correlations, disattenuated))
    invariance, note = _language_invariance(data, factors, complete, languages, needed)
    return StructureModel(
        **base,
        fitted=True,
        fit=FitIndices(
            n=fit.n,
            chisq=number(fit.chisq),
            df=fit.df,
            pvalue=number(fit.pvalue),
            cfi=number(fit.cfi),
            tli=number(fit.tli),
            rmsea=number(fit.rmsea),
            rmsea_ci=[number(fit.rmsea_ci_low), number(fit.rmsea_ci_high)],
            srmr=number(fit.srmr),
            converged=fit.converged,
            heywood=fit.heywood,
        ),
        cutoffs_met=cutoffs_met,
        verdict=_verdict(fit, cutoffs_met, len(names)),
        loadings=loadings,
        factor_correlations=factor_correlations,
        disattenuated_correlations=disattenuated,
        reliabilities=reliabilities,
        invariance=invariance,
        invariance_note=note,
        warnings=warnings,
    )


def _verdict(fit: psychometrics.CfaResult, met: dict[str, bool], n_factors: int) -> str:
    indices = f"CFI {fit.cfi:.3f}, RMSEA {fit.rmsea:.3f}, SRMR {fit.srmr:.3f}"
    if not fit.converged:
        return (
            f"The estimation did not converge ({indices}): these numbers are not a fit; "
            "do not interpret them."
        )
    improper_correlations = [
        case for case in fit.heywood_cases if "correlation" in case or "covariance" in case
    ]
    if fit.heywood and len(improper_correlations) == len(fit.heywood_cases):
        return (
            f"The factors cannot be told apart ({'; '.join(fit.heywood_cases)}; {indices}): a factor "
            "correlation of 1 or more means these items measure fewer distinct things than the "
            "subscales assume; do not interpret the subscales as separate factors."
        )
    if fit.heywood:
        return (
            f"Improper solution ({'; '.join(fit.heywood_cases)}): the model cannot describe these "
            "answers as intended; do not interpret the loadings."
        )
    what = f"{n_factors} distinct factors" if n_factors > 1 else "one factor"
    if all(met.values()):
        return (
            f"Good fit ({indices}; all within CFI ≥ .95, RMSEA ≤ .06, SRMR ≤ .08, Hu & Bentler 1999): "
            f"the items measure {what} as the instrument intends."
        )
    missed = [name.upper() for name, ok in met.items() if not ok]
    if len(missed) < len(met):
        return (
            f"Mixed fit ({indices}): {', '.join(missed)} outside the cut-offs of Hu & Bentler (1999). "
            f"The items roughly measure {what}, but some items or pairs of items do not behave as "
            "the model expects; look at the loadings."
        )
    return (
        f"Poor fit ({indices}; none within CFI ≥ .95, RMSEA ≤ .06, SRMR ≤ .08, Hu & Bentler 1999): "
        f"the items do not measure {what} as the instrument intends."
    )


def _matrix(values: npt.NDArray[np.float64]) -> list[list[float | None]]:
    return [[number(value) for value in row] for row in values]


def _disattenuated(
    selection: Selection, groups: list[ScoringGroup], warnings: list[str]
) -> tuple[list[list[float | None]] | None, dict[str, float | None]]:
    """Subscale score correlations corrected by each subscale's alpha; a warning above .85."""
    names = [group.subscale for group in groups]
    reliabilities: dict[str, float | None] = {}
    for group in groups:
        try:
            reliabilities[group.subscale] = number(
                psychometrics.cronbach_alpha(_recoded(selection, [group])).alpha
            )
        except ValueError:
            reliabilities[group.subscale] = None
    usable = {name: value for name, value in reliabilities.items() if value is not None and 0 < value <= 1}
    if len(usable) < len(names):
        warnings.append("The corrected subscale correlations need a positive alpha for every subscale.")
        return None, reliabilities
    scores = pd.DataFrame({group.subscale: selection.scores(group) for group in groups})
    try:
        corrected = psychometrics.disattenuated_correlations(scores, usable)
    except ValueError as exc:
        warnings.append(f"The corrected subscale correlations cannot be computed: {str(exc).rstrip('.')}.")
        return None, reliabilities
    values = corrected.loc[names, names].to_numpy()
    return _matrix(values), reliabilities


def _distinctness_warnings(
    names: list[str], factor_correlations: npt.NDArray[np.float64], corrected: list[list[float | None]] | None
) -> list[str]:
    """One warning per pair of subscales whose factor or corrected correlation exceeds .85."""
    warnings = []
    for i, first in enumerate(names):
        for j in range(i + 1, len(names)):
            factor = float(factor_correlations[i, j])
            score = corrected[i][j] if corrected is not None else None
            if factor > DISTINCT_LIMIT or (score is not None and score > DISTINCT_LIMIT):
                values = f"factorcorrelatie {factor:.2f}"
                if score is not None:
                    values = f"gecorrigeerde correlatie {score:.2f}, {values}"
                warnings.append(
                    f"{first} en {names[j]}: {values} (boven {DISTINCT_LIMIT:.2f}): "
                    "deze subschalen zijn nauwelijks te onderscheiden."
                )
    return warnings


def _language_invariance(
    data: pd.DataFrame,
    factors: dict[str, list[str]],
    complete: npt.NDArray[np.bool_],
    languages: Sequence[str] | npt.NDArray[np.object_] | None,
    needed: int,
) -> tuple[LanguageInvariance | None, str | None]:
    if languages is None:
        return None, "Invariance across languages is not computed: the answers carry no language here."
    labels = np.asarray(languages, dtype=object)
    if labels.shape != (len(data),):
        raise ValueError(f"languages must give one language per response ({len(data)}), got {labels.shape}")
    counts = pd.Series(labels[complete]).value_counts()
    enough = {str(language): int(count) for language, count in counts.items() if count >= needed}
    if len(counts) < 2:
        return None, "Invariance across languages: every complete response is in one language."
    if len(enough) < 2:
        shown = ", ".join(f"{language} {count}" for language, count in counts.items())
        return None, (
            f"Invariance across languages is not tested: it needs at least {needed} complete "
            f"respondents in each of two languages ({shown})."
        )
    keep = np.isin(labels, list(enough))
    subset = data[keep].copy()
    subset["_language"] = labels[keep]
    try:
        table = psychometrics.measurement_invariance(subset, factors, "_language")
    except ValueError as exc:
        return None, f"Invariance across languages cannot be tested: {str(exc).rstrip('.')}."
    steps = [
        InvarianceStep(
            step=step,
            chisq=number(row["chisq"]),
            df=int(row["df"]),
            pvalue=number(row["pvalue"]),
            cfi=number(row["cfi"]),
            tli=number(row["tli"]),
            rmsea=number(row["rmsea"]),
            srmr=number(row["srmr"]),
            delta_chisq=number(row["delta_chisq"]),
            delta_df=None if math.isnan(row["delta_df"]) else int(row["delta_df"]),
            p_delta=number(row["p_delta"]),
            delta_cfi=number(row["delta_cfi"]),
            delta_rmsea=number(row["delta_rmsea"]),
            holds=None if row["holds"] is None else bool(row["holds"]),
            verdict=str(row["verdict"]),
        )
        for step, row in table.iterrows()
    ]
    return LanguageInvariance(languages=enough, steps=steps), None
