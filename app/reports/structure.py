"""The structure report: does the instrument measure its subscales as distinct factors, for everyone?

Confirmatory factor analysis (``psychometrics.cfa``, equal to lavaan) of the core subscales as one
model and of each switched-on module as its own model, on the answers the caller may see
(:func:`app.reports.service.select_answers`). Each fit is judged against the usual cut-offs
(CFI ≥ .95, RMSEA ≤ .06, SRMR ≤ .08; Hu & Bentler 1999) in plain words, with the standardised
loadings, the factor correlations and the subscale correlations corrected for unreliability.

Below a minimum number of complete respondents (``RESPONDENTS_PER_PARAMETER`` per free parameter,
and at least ``MIN_RESPONDENTS``) a model is not fitted: the report says how many there are and how
many a factor analysis needs, instead of a fragile fit. Every fit is about the whole selection
(at least ``MIN_RESPONDENTS`` people).

Measurement invariance (configural, metric, scalar; ``psychometrics.measurement_invariance``) of
each model is tested across three kinds of group, each read from a published cut only:

- the **languages** of this form (the responses' ``language``), within this wave's cut, and only
  once the wave has closed (:func:`app.organisation.service.wave_is_closed`);
- the **waves**: this wave against a baseline wave of the same municipality and form, on the items
  both asked, each wave from its own cut;
- the **forms**: this form against the form the instrument declares parallel items with
  (``parallel`` in the definition file: youth and parent items that ask the same thing), each
  form from this wave's cut, on those items only.

Disclosure: waves and forms are built from whole publication batches, so two reads around a new
cut differ by at least a batch. A language is not: a batch of five may hold four Dutch and one
English response, so the English group could grow by one person between two cuts. The comparison
between languages (its counts and its fits) is therefore published only once the wave has closed,
when no response can come in and so no later cut can change a language group; before that it is
an untested comparison with ``reason`` ``wave_open`` and no groups. Retention deletes whole
batches too, so once it has deleted some of a closed wave's batches the language comparison is
withdrawn again (``reason`` ``retention``): it is published for one state of the wave only.

A group's count is shown only when :func:`app.reports.disclosure.suppressed_groups`
allows it (at least ``min_group_size`` respondents, and for languages, which split one published
total, never a set of shown groups whose difference from the total reveals a smaller one). A hidden
group is left out of the table and of the model, never merged with another group. A group needs
``n_needed`` complete respondents (as many as the one-group model needs) to be compared.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from sqlmodel import Session

import psychometrics
from app.auth import Principal
from app.errors import InvalidInput
from app.models import Wave
from app.organisation.service import wave_is_closed
from app.publication import service as publication
from app.reports.disclosure import suppressed_groups
from app.reports.schemas import (
    FactorLoading,
    FitIndices,
    InvarianceComparison,
    InvarianceGroup,
    InvarianceStep,
    StructureModel,
    StructureReport,
)
from app.reports.service import Selection, select_answers
from app.tenancy import get_owned
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


def structure_for(
    session: Session,
    principal: Principal,
    *,
    wave_id: int,
    form: str,
    min_group_size: int,
    baseline_wave_id: int | None = None,
) -> StructureReport:
    """The structure report of the caller's wave (404 for another's) and form, with its invariance
    tables; ``baseline_wave_id`` adds the comparison with that wave (the caller's, same municipality)."""
    wave = get_owned(session, Wave, wave_id, principal)
    baseline = get_owned(session, Wave, baseline_wave_id, principal) if baseline_wave_id is not None else None
    return structure_of_waves(
        session,
        wave=wave,
        form=form,
        municipality_id=principal.municipality_id,
        min_group_size=min_group_size,
        baseline_wave=baseline,
    )


def structure_of_waves(
    session: Session,
    *,
    wave: Wave,
    form: str,
    municipality_id: int | None,
    min_group_size: int,
    baseline_wave: Wave | None = None,
) -> StructureReport:
    """The structure report of ``wave`` (already checked to be the caller's) and ``form``.

    Reads this wave's published cut with each response's language, the baseline wave's cut of the
    same form, and this wave's cut of every form the instrument declares parallel items with.
    422 for a baseline that is this wave or another municipality's.
    """
    if baseline_wave is not None:
        problem = None
        if baseline_wave.id == wave.id:
            problem = "baseline_wave_id must be another wave than wave_id"
        elif baseline_wave.municipality_id != wave.municipality_id:
            problem = "baseline_wave_id must be a wave of the same municipality as wave_id"
        if problem is not None:
            raise InvalidInput(problem, errors=[{"loc": ["query", "baseline_wave_id"], "msg": problem}])

    def select(of: Wave, form_id: str, *, with_languages: bool = False) -> Selection:
        return select_answers(
            session,
            wave=of,
            form=form_id,
            municipality_id=municipality_id,
            min_group_size=min_group_size,
            with_languages=with_languages,
        )

    selection = select(wave, form, with_languages=True)
    baseline = select(baseline_wave, form) if baseline_wave is not None else None
    others = [select(wave, other) for other in selection.instrument.parallel_forms(form)]
    languages_shown: LanguagesShown = "wave_open"
    if wave_is_closed(wave):
        languages_shown = "yes" if publication.cuts_intact(session, wave) else "retention"
    return structure_report(selection, baseline=baseline, parallel=others, languages_shown=languages_shown)


LanguagesShown = Literal["yes", "wave_open", "retention"]
"""Whether the comparison between languages is published, or why not."""


def structure_report(
    selection: Selection,
    *,
    languages: Sequence[str] | npt.NDArray[np.object_] | None = None,
    baseline: Selection | None = None,
    parallel: Sequence[Selection] = (),
    languages_shown: LanguagesShown = "wave_open",
) -> StructureReport:
    """The structure report of a selection (all from published cuts).

    ``languages`` gives each response's language (one per row of the selection's matrix; default
    the matrix's own, when it was read with them): each model is then tested for measurement
    invariance across the languages when ``languages_shown`` is ``"yes"``, which the caller decides
    (default ``"wave_open"``: not shown; :func:`structure_of_waves` shows them once the wave has
    closed, and withdraws them once retention has deleted some of the wave's batches). Otherwise
    the comparison says why, without groups or numbers. ``baseline``: the same form in a baseline
    wave, for invariance across waves. ``parallel``: other forms of the same wave, for invariance
    across forms on the items the instrument declares parallel.
    """
    if languages is None:
        languages = selection.matrix.languages
    blocks: dict[str | None, list[ScoringGroup]] = {}
    for group in selection.groups:
        blocks.setdefault(group.module, []).append(group)
    models = [
        _model(
            selection,
            CORE if module is None else module,
            module,
            groups,
            languages,
            languages_shown,
            baseline,
            parallel,
        )
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
        min_group_size=selection.min_group_size,
        baseline_wave_id=baseline.wave.id if baseline is not None else None,
        parallel_forms=[other.form.id for other in parallel],
        models=models,
        warnings=warnings,
    )


def _recoded(selection: Selection, groups: Sequence[ScoringGroup]) -> pd.DataFrame:
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
    languages_shown: LanguagesShown,
    baseline: Selection | None,
    parallel: Sequence[Selection],
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
    invariance = _invariance_tables(
        selection, groups, factors, data, languages, languages_shown, baseline, parallel
    )
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


# -- measurement invariance across languages, waves and forms ------------------------------------

Across = Literal["language", "wave", "form"]
WHAT = {"language": ("language", "languages"), "wave": ("wave", "waves"), "form": ("form", "forms")}


def _invariance_tables(
    selection: Selection,
    groups: list[ScoringGroup],
    factors: dict[str, list[str]],
    data: pd.DataFrame,
    languages: Sequence[str] | npt.NDArray[np.object_] | None,
    languages_shown: LanguagesShown,
    baseline: Selection | None,
    parallel: Sequence[Selection],
) -> list[InvarianceComparison]:
    """The invariance comparisons of one (fitted) model; only the kinds of group that were asked."""
    tables = []
    if languages is not None and languages_shown != "yes":
        tables.append(_languages_withheld(factors, languages_shown))
    elif languages is not None:
        labels = np.asarray(languages, dtype=object)
        if labels.shape != (len(data),):
            raise ValueError(
                f"languages must give one language per response ({len(data)}), got {labels.shape}"
            )
        frames = [
            (InvarianceGroup(label=str(language), n=0, compared=False), data[labels == language])
            for language in sorted({str(label) for label in labels})
        ]
        # The languages split one published total (the model's n): hiding one must not leave it
        # recoverable as the total minus the others.
        tables.append(_comparison("language", factors, frames, selection.min_group_size, split_total=True))
    if baseline is not None:
        tables.append(_wave_comparison(selection, groups, factors, data, baseline))
    for other in parallel:
        tables.append(_form_comparison(selection, groups, factors, data, other))
    return tables


LANGUAGES_WITHHELD = {
    "wave_open": "Not tested yet. The comparison between languages appears once the wave has closed. "
    "A language is not a publication batch: between two cuts a language group can grow by one "
    "person, so its numbers are published only when no cut can follow.",
    "retention": "No longer shown: retention has begun to delete this wave's answers (by whole "
    "batches, which can change a language group by one person), so the comparison between "
    "languages is withdrawn.",
}


def _languages_withheld(
    factors: dict[str, list[str]], why: Literal["wave_open", "retention"]
) -> InvarianceComparison:
    """The language comparison while it may not be published: no groups, no counts, no fits."""
    usable = {factor: items for factor, items in factors.items() if len(items) >= 2}
    return InvarianceComparison(
        across="language",
        factors=usable,
        n_needed=respondents_needed(usable) if usable else MIN_RESPONDENTS,
        groups=[],
        tested=False,
        reason=why,
        note=LANGUAGES_WITHHELD[why],
    )


def _wave_comparison(
    selection: Selection,
    groups: list[ScoringGroup],
    factors: dict[str, list[str]],
    data: pd.DataFrame,
    baseline: Selection,
) -> InvarianceComparison:
    """This wave against the baseline wave, on the model's items that the baseline also asked."""
    subscales = {group.subscale for group in groups}
    baseline_groups = [group for group in baseline.groups if group.subscale in subscales]
    then = _recoded(baseline, baseline_groups)
    asked = {item for item in then.columns if then[item].notna().any()}
    common = {factor: [item for item in items if item in asked] for factor, items in factors.items()}
    labels = _wave_labels(selection.wave, baseline.wave)
    frames = [
        (InvarianceGroup(label=labels[1], n=0, compared=False, wave_id=baseline.wave.id), then),
        (InvarianceGroup(label=labels[0], n=0, compared=False, wave_id=selection.wave.id), data),
    ]
    return _comparison("wave", common, frames, selection.min_group_size, split_total=False)


def _wave_labels(current: Wave, baseline: Wave) -> tuple[str, str]:
    if current.name != baseline.name:
        return current.name, baseline.name
    return f"{current.name} (#{current.id})", f"{baseline.name} (#{baseline.id})"


def _form_comparison(
    selection: Selection,
    groups: list[ScoringGroup],
    factors: dict[str, list[str]],
    data: pd.DataFrame,
    other: Selection,
) -> InvarianceComparison:
    """This form against ``other`` on the items the instrument declares parallel (named as here)."""
    pairs = selection.instrument.parallel_items(selection.form.id, other.form.id)
    subscales = {group.subscale for group in groups}
    other_groups = [group for group in other.groups if group.subscale in subscales]
    theirs = _recoded(other, other_groups)
    counterparts = {item: pairs[item] for items in factors.values() for item in items if item in pairs}
    available = {item for item, counterpart in counterparts.items() if counterpart in theirs.columns}
    shared = {factor: [item for item in items if item in available] for factor, items in factors.items()}
    renamed = theirs[[counterparts[item] for item in available]].rename(
        columns={counterparts[item]: item for item in available}
    )
    frames = [
        (InvarianceGroup(label=selection.form.id, n=0, compared=False, form=selection.form.id), data),
        (InvarianceGroup(label=other.form.id, n=0, compared=False, form=other.form.id), renamed),
    ]
    table = _comparison("form", shared, frames, selection.min_group_size, split_total=False)
    table.counterparts = {item: counterparts[item] for items in table.factors.values() for item in items}
    return table


def _comparison(
    across: Across,
    factors: dict[str, list[str]],
    frames: list[tuple[InvarianceGroup, pd.DataFrame]],
    min_group_size: int,
    *,
    split_total: bool,
) -> InvarianceComparison:
    """Configural, metric and scalar models across the groups of ``frames`` that may be shown.

    ``split_total``: the groups split one published total (the languages of one cut), so a hidden
    group's count must not follow from the total minus the shown ones (secondary suppression).
    """
    one, many = WHAT[across]
    usable = {factor: items for factor, items in factors.items() if len(items) >= 2}
    dropped = [factor for factor in factors if factor not in usable]
    needed = respondents_needed(usable) if usable else MIN_RESPONDENTS
    items = [item for members in usable.values() for item in members]
    counts: dict[int, int] = {}
    complete_rows: list[npt.NDArray[np.bool_]] = []
    for index, (_, frame) in enumerate(frames):
        present = all(item in frame.columns for item in items)
        complete: npt.NDArray[np.bool_] = np.zeros(len(frame), dtype=np.bool_)
        if present and items:
            complete = np.asarray(frame[items].notna().to_numpy().all(axis=1), dtype=np.bool_)
        complete_rows.append(complete)
        counts[index] = int(complete.sum())
    parents: dict[int, Hashable] | None = dict.fromkeys(counts, "total") if split_total else None
    hidden = suppressed_groups(counts, min_group_size, parents=parents)
    shown = [index for index in counts if index not in hidden]
    groups = []
    for index in shown:
        group = frames[index][0].model_copy(update={"n": counts[index], "compared": counts[index] >= needed})
        groups.append(group)
    compared = [index for index, group in zip(shown, groups, strict=True) if group.compared]
    notes = [
        f"Groups with fewer than {min_group_size} complete respondents are left out (never merged "
        "with another group)."
    ]
    if dropped:
        notes.insert(
            0,
            f"Left out of the comparison: {', '.join(dropped)} "
            f"(fewer than 2 items to compare across {many}).",
        )
    base = {"across": across, "factors": usable, "n_needed": needed, "groups": groups}
    if not usable:
        return InvarianceComparison(
            **base,
            tested=False,
            reason="no_items",
            note=f"Not tested: no subscale has 2 items to compare across {many}.",
        )
    if len(compared) < 2:
        shown_counts = ", ".join(f"{group.label} {group.n}" for group in groups) or f"no {one} to show"
        notes.insert(
            0,
            f"Not tested: invariance across {many} needs at least {needed} complete respondents in "
            f"each of two {many} ({shown_counts}).",
        )
        return InvarianceComparison(**base, tested=False, reason="too_few", note=" ".join(notes))
    subset = pd.concat(
        [frames[index][1].loc[complete_rows[index], items] for index in compared], ignore_index=True
    )
    subset["_group"] = np.concatenate(
        [np.full(counts[index], frames[index][0].label, dtype=object) for index in compared]
    )
    try:
        table = psychometrics.measurement_invariance(subset, usable, "_group")
    except ValueError as exc:
        notes.insert(0, f"Invariance across {many} cannot be tested: {str(exc).rstrip('.')}.")
        return InvarianceComparison(**base, tested=False, reason="not_estimable", note=" ".join(notes))
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
    level = "configural"
    for step in steps[1:]:
        if not step.holds:
            break
        level = step.step
    return InvarianceComparison(
        **base,
        tested=True,
        level=level,
        verdict=LEVEL_VERDICTS[level].format(many=many),
        note=" ".join(notes),
        steps=steps,
    )


LEVEL_VERDICTS = {
    "scalar": "Scalar invariance holds: the items measure the subscales alike across {many}, so their "
    "means can be compared.",
    "metric": "Metric invariance holds, scalar does not: the loadings are alike across {many}, so "
    "relations (correlations) can be compared, but a difference in means may lie in the items, not "
    "in the people.",
    "configural": "Only configural invariance: the same subscales appear across {many}, but the items "
    "weigh differently; compare neither means nor correlations.",
}
