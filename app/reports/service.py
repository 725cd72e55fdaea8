"""The report rules: reliability per subscale and scores per professional or team, with disclosure control.

Everything is computed live from the wave's answer matrix by ``psychometrics/``. Degenerate data
(no responses, one respondent, an item nobody varied on) gives null numbers and a warning in plain
words, never an error. Which group cells may show numbers is decided by
:mod:`app.reports.disclosure` alone.
"""

from __future__ import annotations

import gc
import math
import threading
import warnings as python_warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats
from sqlmodel import Session

import psychometrics
from app.collection.answers import NO_TEAM, AnswerMatrix, load_answer_matrix
from app.errors import InvalidInput
from app.models import PublicationCut, Wave
from app.organisation.service import wave_is_closed
from app.publication import service as publication
from app.reports import repository
from app.reports.disclosure import suppressed_groups
from app.reports.schemas import (
    GroupScore,
    GroupScores,
    ItemStatistics,
    Level,
    ReliabilityReport,
    ScoresReport,
    SubscaleAggregation,
    SubscaleCorrelations,
    SubscaleReliability,
    VarianceComponents,
)
from instrument.schema import Form, Instrument, ScoringGroup

ALPHA_TARGET = 0.70
FLOOR_CEILING_LIMIT = 0.15
STABLE_N = 30
"""Fewer complete cases than this give a wide alpha interval and an unstable omega."""
RAISE_MARGIN = 0.005
"""Alpha-if-deleted must exceed alpha by this much before we call the item a weak one."""
CI_LEVEL = 0.95
WAVE_TOTAL = "wave"


@dataclass(frozen=True)
class Selection:
    """One wave and form: its definition and the published answers the caller may read."""

    wave: Wave
    instrument: Instrument
    form: Form
    modules: tuple[str, ...]
    groups: tuple[ScoringGroup, ...]
    matrix: AnswerMatrix
    min_group_size: int
    cut: PublicationCut | None = None
    """The wave's newest publication cut (None: nothing published yet)."""

    @property
    def published_at(self) -> datetime | None:
        return self.cut.made_at if self.cut is not None else None

    @property
    def about_professional(self) -> bool:
        """Whether the form rates a professional; the self-report form does not (no professional level)."""
        return any(item.names_professional for item in self.form.items(self.modules))

    @property
    def scale_points(self) -> list[int]:
        return list(self.instrument.scale.points)

    def columns(self, group: ScoringGroup) -> npt.NDArray[np.float64]:
        """The answers to the subscale's items (a read-only view of the matrix)."""
        return self.matrix.columns(group.item_ids)

    def items(self, group: ScoringGroup) -> pd.DataFrame:
        return pd.DataFrame(self.columns(group), columns=list(group.item_ids))

    def scores(self, group: ScoringGroup) -> npt.NDArray[np.float64]:
        """Person scores by the instrument's rule (mean of answered items, at least k - 1 answered)."""
        if self.matrix.n == 0:
            return np.empty(0)
        reverse = [group.item_ids.index(item) for item in group.reverse_ids]
        scale = self.instrument.scale
        score = psychometrics.score_scale(
            self.columns(group),
            reverse=reverse,
            scale_min=scale.min,
            scale_max=scale.max,
            min_answered=group.min_answered,
        )
        return score.to_numpy(dtype=np.float64)


def select_answers(
    session: Session,
    *,
    wave: Wave,
    form: str,
    municipality_id: int | None,
    min_group_size: int,
    with_languages: bool = False,
) -> Selection:
    """The published answers of a wave (already checked to be the caller's) and form.

    Publishes first what is due (:func:`app.publication.service.publish_due`), then reads the
    wave's cut only: every output is computed from published batches. 422 for an unknown form.
    ``with_languages``: the matrix carries each response's language (the structure report).
    """
    scoring = publication.form_scoring(wave, form)
    publication.publish_due(session, wave, min_group_size=min_group_size)
    assert wave.id is not None
    matrix = load_answer_matrix(
        session,
        wave_id=wave.id,
        form=form,
        municipality_id=municipality_id,
        item_order=scoring.item_order,
        with_languages=with_languages,
    )
    return Selection(
        wave,
        scoring.instrument,
        scoring.form,
        scoring.modules,
        scoring.groups,
        matrix,
        min_group_size,
        publication.latest_cut(session, wave),
    )


def report_version(
    session: Session,
    *,
    wave: Wave,
    form: str,
    municipality_id: int | None,
    min_group_size: int,
    baseline_wave: Wave | None = None,
) -> tuple[object, ...]:
    """What a report of ``wave`` and ``form`` is computed from, as a key: two reads with equal
    versions show the same numbers, so the report may be reused (``app.reports.views``).

    Publishes first what is due, as :func:`select_answers` does. The version holds the wave's row
    (its name, days and modules), its newest cut and the count of its published responses still
    stored (retention deletes whole batches), whether it has closed (the languages are compared
    only then), the names and codes a report shows, and the same of the baseline wave. It holds
    no answer: a new response changes it only once a cut publishes it.
    """

    def of(version_wave: Wave) -> tuple[object, ...]:
        assert version_wave.id is not None
        publication.publish_due(session, version_wave, min_group_size=min_group_size)
        cut = publication.latest_cut(session, version_wave)
        row = tuple(version_wave.model_dump().items())
        return (
            row,
            cut.id if cut is not None else None,
            publication.published_in_store(session, version_wave),
            wave_is_closed(version_wave),
        )

    names = repository.team_names(session, wave.municipality_id)
    codes = repository.professional_codes(session, wave.municipality_id)
    return (
        form,
        municipality_id,
        min_group_size,
        of(wave),
        of(baseline_wave) if baseline_wave is not None else None,
        tuple(sorted(names.items())),
        tuple(sorted(codes.items())),
    )


def number(value: Any) -> float | None:
    """A float for JSON: NaN and infinities become null."""
    if value is None:
        return None
    result = float(value)
    return result if math.isfinite(result) else None


def _reason(exc: Exception) -> str:
    return str(exc).rstrip(".")


# -- reliability ------------------------------------------------------------------------------------


def reliability_report(selection: Selection) -> ReliabilityReport:
    subscales = [_subscale_reliability(selection, group) for group in selection.groups]
    warnings: list[str] = []
    if selection.matrix.n == 0:
        warnings.append("This wave has no responses on this form yet: there is nothing to compute.")
    elif selection.matrix.n < selection.min_group_size:
        warnings.append(
            f"Only {selection.matrix.n} responses: item statistics are withheld below "
            f"{selection.min_group_size} respondents, and scale statistics are very uncertain."
        )
    return ReliabilityReport(
        wave_id=selection.wave.id or 0,
        form=selection.form.id,
        instrument_version=selection.instrument.version,
        modules=list(selection.modules),
        scale_points=selection.scale_points,
        n_responses=selection.matrix.n,
        published_at=selection.published_at,
        professional_feedback=selection.wave.professional_feedback,
        min_group_size=selection.min_group_size,
        subscales=subscales,
        subscale_correlations=_subscale_correlations(selection),
        warnings=warnings,
    )


def _subscale_reliability(selection: Selection, group: ScoringGroup) -> SubscaleReliability:
    items = selection.items(group)
    answered = items.notna()
    items = items[answered.any(axis=1).to_numpy()]
    n_respondents = len(items)
    n_complete = int(answered.all(axis=1).sum())
    warnings: list[str] = []
    name = group.subscale

    alpha = alpha_std = None
    alpha_ci: list[float | None] | None = None
    try:
        result = psychometrics.cronbach_alpha(items, ci=CI_LEVEL)
        alpha, alpha_std = number(result.alpha), number(result.alpha_std)
        alpha_ci = [number(result.ci_low), number(result.ci_high)]
        if alpha_ci == [None, None]:
            alpha_ci = None
    except ValueError as exc:
        warnings.append(f"Alpha of {name} cannot be computed: {_reason(exc)}.")
    omega = None
    try:
        with python_warnings.catch_warnings(record=True) as caught:
            python_warnings.simplefilter("always")
            omega = number(psychometrics.omega_total(items))
        warnings.extend(f"Omega of {name}: {str(w.message).rstrip('.')}." for w in caught)
    except ValueError as exc:
        warnings.append(f"Omega of {name} cannot be computed: {_reason(exc)}.")

    if alpha is not None and alpha < ALPHA_TARGET:
        warnings.append(
            f"Alpha of {name} is {alpha:.2f}, below .70: the items do not yet measure one thing "
            "reliably enough to compare people or groups on this subscale."
        )
    if 0 < n_complete < STABLE_N:
        warnings.append(
            f"Only {n_complete} respondents answered every item of {name}; alpha and omega are "
            f"unstable below {STABLE_N} (see the width of the interval)."
        )

    suppressed = n_respondents < selection.min_group_size
    if suppressed:
        rows = [ItemStatistics(item=item, suppressed=True) for item in group.item_ids]
        correlations = None
    else:
        rows = _item_rows(selection, group, items, alpha, warnings)
        correlations = _inter_item(items, warnings, name)
    return SubscaleReliability(
        subscale=name,
        module=group.module,
        items=list(group.item_ids),
        k=len(group.item_ids),
        n=n_complete,
        n_respondents=n_respondents,
        alpha=alpha,
        alpha_ci=alpha_ci,
        alpha_std=alpha_std,
        omega_total=omega,
        item_statistics_suppressed=suppressed,
        item_analysis=rows,
        inter_item_correlations=correlations,
        warnings=warnings,
    )


def _item_rows(
    selection: Selection, group: ScoringGroup, items: pd.DataFrame, alpha: float | None, warnings: list[str]
) -> list[ItemStatistics]:
    scale = selection.instrument.scale
    try:
        table = psychometrics.item_analysis(items, scale_min=scale.min, scale_max=scale.max)
    except ValueError as exc:
        warnings.append(f"Item analysis of {group.subscale} cannot be computed: {_reason(exc)}.")
        table = pd.DataFrame(index=list(group.item_ids))
    values = items.to_numpy()
    dont_know = _dont_know_shares(selection, group)
    rows = []
    for position, item in enumerate(group.item_ids):
        column = values[:, position]
        answers = column[~np.isnan(column)]
        distribution = (
            [float(np.count_nonzero(answers == point)) / len(answers) for point in selection.scale_points]
            if len(answers)
            else None
        )
        found = table.loc[item] if item in table.index else pd.Series(dtype=float)
        row = ItemStatistics(
            item=item,
            suppressed=False,
            n=len(answers),
            mean=number(found.get("mean")),
            sd=number(found.get("sd")),
            missing=number(found.get("missing")),
            floor=number(found.get("floor")),
            ceiling=number(found.get("ceiling")),
            r_drop=_correlation(found.get("r_drop")),
            alpha_if_deleted=number(found.get("alpha_if_deleted")),
            distribution=distribution,
            dont_know=dont_know[position] if dont_know is not None else None,
        )
        rows.append(row)
        if row.r_drop is None and number(found.get("r_drop")) is not None:
            warnings.append(
                f"The item-rest correlation of {item} cannot be determined (niet te bepalen): the "
                "pairwise covariances of so few respondents do not fit together."
            )
        if row.sd == 0:
            warnings.append(f"Item {item} has no variance: everyone gave the same answer.")
        if (
            alpha is not None
            and row.alpha_if_deleted is not None
            and row.alpha_if_deleted > alpha + RAISE_MARGIN
        ):
            warnings.append(
                f"Removing item {item} would raise alpha of {group.subscale} from {alpha:.2f} to "
                f"{row.alpha_if_deleted:.2f}: check its wording and how respondents read it."
            )
        for share, end in ((row.floor, "lowest"), (row.ceiling, "highest")):
            if share is not None and share > FLOOR_CEILING_LIMIT:
                warnings.append(
                    f"{share:.0%} of the answers to item {item} are at the {end} point "
                    f"(more than {FLOOR_CEILING_LIMIT:.0%}): the item tells little apart at that end."
                )
    return rows


def _dont_know_shares(selection: Selection, group: ScoringGroup) -> list[float] | None:
    """Per item, the share of the subscale's respondents (anyone who answered one of its items)
    who chose "weet ik niet" for it; None when the answers were read without that distinction."""
    matrix = selection.matrix
    if matrix.dont_know is None:
        return None
    respondents = ~np.isnan(selection.columns(group)).all(axis=1)
    if not respondents.any():
        return None
    positions = [matrix.item_ids.index(item) for item in group.item_ids]
    chosen = matrix.dont_know[respondents][:, positions]
    return [float(share) for share in chosen.mean(axis=0)]


def _correlation(value: Any) -> float | None:
    """A correlation for display: a value outside [-1, 1] (pairwise covariances that do not fit
    together) is not estimable, so it is shown as missing, never as an impossible number."""
    result = number(value)
    return result if result is not None and -1.0 <= result <= 1.0 else None


def _reliabilities(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Reliabilities for display: outside [0, 1] they are not estimable (NaN), never printed."""
    values = np.array(values, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        values[(values < 0) | (values > 1)] = np.nan
    return values


def _inter_item(
    items: pd.DataFrame, warnings: list[str], name: str
) -> dict[str, dict[str, float | None]] | None:
    try:
        matrix = psychometrics.inter_item_correlations(items)
    except ValueError as exc:
        warnings.append(f"Inter-item correlations of {name} cannot be computed: {_reason(exc)}.")
        return None
    return {
        str(row): {str(col): number(matrix.loc[row, col]) for col in matrix.columns} for row in matrix.index
    }


def _subscale_correlations(selection: Selection) -> SubscaleCorrelations | None:
    if len(selection.groups) < 2:
        return None
    names = [group.subscale for group in selection.groups]
    scores = pd.DataFrame(
        {group.subscale: selection.scores(group) for group in selection.groups}, columns=names
    )
    matrix = scores.corr(method="pearson", min_periods=3)
    return SubscaleCorrelations(
        subscales=names,
        matrix=[[number(matrix.loc[row, col]) for col in names] for row in names],
        n=int(scores.notna().all(axis=1).sum()),
    )


# -- scores -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Grouping:
    """Respondents' group codes 0..G-1 and what each group is."""

    codes: npt.NDArray[np.int64]
    team_ids: npt.NDArray[np.int64]
    professional_ids: npt.NDArray[np.int64] | None
    partner_ids: npt.NDArray[np.int64] | None = None
    """Partner level: each group's partner (``NO_PARTNER`` for professionals without one)."""

    @property
    def size(self) -> int:
        return len(self.team_ids)


NO_PARTNER = -1


def _grouping(
    matrix: AnswerMatrix, level: Level, partner_of: Mapping[int, int | None] | None = None
) -> Grouping:
    if level == "team":
        teams, codes = _dense_codes(matrix.team_ids)
        return Grouping(codes, teams, None)
    if level == "partner":
        # A partner is a function of the professional, so a partner cell is a union of professional
        # leaves (and so of published batches), like a team.
        known = partner_of or {}
        professionals, positions = _dense_codes(matrix.professional_ids)
        partner_of_professional = np.fromiter(
            (
                NO_PARTNER if (partner := known.get(professional)) is None else partner
                for professional in professionals.tolist()
            ),
            dtype=np.int64,
            count=len(professionals),
        )
        partners, codes = _dense_codes(partner_of_professional[positions])
        return Grouping(codes, np.full(len(partners), NO_TEAM, dtype=np.int64), None, partners)
    # A professional is grouped within the team they were in when answered about (as the nested
    # model does), so a team total is exactly the sum of its professionals.
    professionals, codes = _dense_codes(matrix.professional_ids)
    team_of = np.empty(len(professionals), dtype=np.int64)
    team_of[codes] = matrix.team_ids
    if np.array_equal(team_of[codes], matrix.team_ids):  # the usual case: one team per professional
        return Grouping(codes, team_of, professionals)
    key = matrix.professional_ids * (1 << 32) + (matrix.team_ids - NO_TEAM)
    keys, codes = _dense_codes(key)
    return Grouping(codes, (keys % (1 << 32)) + NO_TEAM, keys >> 32)


def _dense_codes(labels: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """The sorted distinct labels and each row's position among them, as ``np.unique`` gives.

    Ids are small integers, so a count per possible id replaces sorting a million of them.
    """
    if labels.size:
        lowest = int(labels.min())
        span = int(labels.max()) - lowest + 1
        if span <= 4 * labels.size + 1_000_000:
            offsets = labels - lowest
            present = np.bincount(offsets, minlength=span) > 0
            code_of_offset = np.cumsum(present) - 1
            return np.flatnonzero(present) + lowest, code_of_offset[offsets]
    distinct, codes = np.unique(labels, return_inverse=True)
    return distinct.astype(np.int64), codes.astype(np.int64).reshape(-1)


def scores_report(session: Session, selection: Selection, level: Level) -> ScoresReport:
    """Scores per group of ``level``; 422 per professional or partner on a form that rates no
    professional (the self-report) and for a wave that publishes no numbers per professional."""
    if level in ("professional", "partner") and not selection.about_professional:
        detail = (
            f"The form {selection.form.id} is a self-report: it has no scores per {level}; use level=team."
        )
        raise InvalidInput(detail, errors=[{"loc": ["query", "level"], "msg": detail}])
    if level in ("professional", "partner") and not selection.wave.professional_feedback:
        # Without numbers per professional the team is the leaf: a partner is then no union of leaves.
        message = (
            f"wave {selection.wave.id} publishes no numbers per professional (professional_feedback "
            f"is off), so none per {level} either: ask for level=team"
        )
        raise InvalidInput(message, errors=[{"loc": ["query", "level"], "msg": message}])
    with _collector_paused():
        return _scores_report(session, selection, level)


_paused_lock = threading.Lock()
_paused_reports = 0


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a report builds its group cells.

    A wave has tens of thousands of groups, each a few small container objects; while they are
    built, the allocations set off full collections of the whole process again and again (a
    third of the scores report's time at 20,000 professionals). The cells hold no reference
    cycles. The collector is process-wide, so concurrent reports share one pause: it ends when
    the last of them is done (and is left alone if something else had switched it off).
    """
    global _paused_reports
    with _paused_lock:
        if _paused_reports == 0 and not gc.isenabled():
            owner = False
        else:
            owner = True
            _paused_reports += 1
            gc.disable()
    try:
        yield
    finally:
        if owner:
            with _paused_lock:
                _paused_reports -= 1
                if _paused_reports == 0:
                    gc.enable()


def _scores_report(session: Session, selection: Selection, level: Level) -> ScoresReport:
    matrix = selection.matrix
    municipality_id = selection.wave.municipality_id
    partner_of = repository.professional_partners(session, municipality_id) if level == "partner" else None
    grouping = _grouping(matrix, level, partner_of)
    teams = repository.team_names(session, municipality_id)
    codes = repository.professional_codes(session, municipality_id) if level == "professional" else {}
    team_ids = [None if team_id == NO_TEAM else team_id for team_id in grouping.team_ids.tolist()]
    if grouping.professional_ids is not None:
        professional_codes = [codes.get(professional) for professional in grouping.professional_ids.tolist()]
    else:
        professional_codes = [None] * grouping.size
    group_rows = [
        GroupScores(
            team_id=team,
            team_name=teams.get(team) if team is not None else None,
            code=code,
            scores={},
        )
        for team, code in zip(team_ids, professional_codes, strict=True)
    ]
    if grouping.partner_ids is not None:
        partners = repository.partner_names(session, municipality_id)
        for row, partner in zip(group_rows, grouping.partner_ids.tolist(), strict=True):
            row.partner_id = None if partner == NO_PARTNER else partner
            row.partner_name = partners.get(partner)
    aggregations = []
    for group in selection.groups:
        aggregation, cells = _subscale_scores(selection, group, grouping, level)
        aggregations.append(aggregation)
        for row, cell in zip(group_rows, cells, strict=True):
            row.scores[group.subscale] = cell
    # Constructed without validation: the groups are already typed dataclasses (see schemas).
    return ScoresReport.model_construct(
        wave_id=selection.wave.id or 0,
        form=selection.form.id,
        level=level,
        instrument_version=selection.instrument.version,
        modules=list(selection.modules),
        n_responses=matrix.n,
        published_at=selection.published_at,
        professional_feedback=selection.wave.professional_feedback,
        min_group_size=selection.min_group_size,
        subscales=aggregations,
        groups=group_rows,
    )


def _subscale_scores(
    selection: Selection, group: ScoringGroup, grouping: Grouping, level: Level
) -> tuple[SubscaleAggregation, list[GroupScore]]:
    scores = selection.scores(group)
    codes = grouping.codes
    size = grouping.size
    valid = ~np.isnan(scores)
    valid_codes = codes[valid]
    valid_scores = scores[valid]
    counts = np.bincount(valid_codes, minlength=size)
    with np.errstate(divide="ignore", invalid="ignore"):
        means = np.bincount(valid_codes, weights=valid_scores, minlength=size) / counts
        squares = np.bincount(valid_codes, weights=(valid_scores - means[valid_codes]) ** 2, minlength=size)
        sds = np.sqrt(squares / (counts - 1))
        half = _t_quantiles(counts - 1) * sds / np.sqrt(counts)
    sds[counts < 2] = np.nan
    half[counts < 2] = np.nan

    warnings: list[str] = []
    name = group.subscale
    unit = level
    icc_1 = icc_2 = None
    needed = None
    reliabilities = np.full(size, np.nan)
    labels = codes
    try:
        summary = psychometrics.icc_summary(scores, labels)  # one ANOVA for all three
        icc_1 = number(summary.icc1)
        icc_2 = number(_reliabilities(np.asarray([summary.icc2], dtype=np.float64))[0])
        if icc_2 is None and number(summary.icc2) is not None:
            warnings.append(
                f"ICC(2) of {name} per {unit} cannot be determined (niet te bepalen): {unit}s differ "
                "less than chance, so their means are not yet reliable."
            )
        reliability = summary.group_reliability
        reliabilities[reliability.index.to_numpy(dtype=np.int64)] = _reliabilities(reliability.to_numpy())
    except ValueError as exc:
        warnings.append(f"ICC of {name} per {unit} cannot be computed: {_reason(exc)}.")
    if icc_1 is not None:
        try:
            needed = psychometrics.respondents_needed(icc_1)
        except ValueError:
            warnings.append(
                f"ICC(1) of {name} is {icc_1:.3f}: {unit}s do not differ more than chance, so no number "
                f"of respondents makes a {unit}'s mean reliable."
            )
    agreement = np.full(size, np.nan)
    if selection.matrix.n:
        try:
            found = psychometrics.rwg_j(
                selection.columns(group), labels, n_options=len(selection.scale_points)
            )
            agreement[found.index.to_numpy(dtype=np.int64)] = found.to_numpy()
        except ValueError as exc:
            warnings.append(f"rwg(j) of {name} cannot be computed: {_reason(exc)}.")

    components = None
    team_rel = np.full(size, np.nan)
    if level == "team":
        components, team_rel = _team_components(selection, scores, grouping, warnings, name)

    sizes = dict(enumerate(counts.tolist()))
    if level == "professional":
        parents: dict[int, Any] = dict(enumerate(grouping.team_ids.tolist()))
    else:
        parents = dict.fromkeys(range(size), WAVE_TOTAL)
    hidden = suppressed_groups(sizes, selection.min_group_size, parents=parents)
    # Cells from whole columns (NaN and infinities as None), not number() per value: 20,000 groups.
    lows, highs = means - half, means + half
    shown_ci = np.isfinite(means) & np.isfinite(half)
    column_lists = zip(
        counts.tolist(),
        _numbers(means),
        _numbers(sds),
        _numbers(lows),
        _numbers(highs),
        shown_ci.tolist(),
        _numbers(reliabilities),
        _numbers(agreement),
        _numbers(team_rel) if level == "team" else [None] * size,
        strict=True,
    )
    cells = [
        GroupScore(
            n=count,
            mean=mean,
            sd=sd,
            ci=[low, high] if with_ci else None,
            suppressed=False,
            group_reliability=reliability_value,
            rwg_j=agreement_value,
            team_reliability=team_value,
        )
        for count, mean, sd, low, high, with_ci, reliability_value, agreement_value, team_value in (
            column_lists
        )
    ]
    for index in hidden:
        cells[index] = GroupScore(
            n=None, mean=None, sd=None, ci=None, suppressed=True, group_reliability=None, rwg_j=None
        )
    if hidden and level == "professional":
        warnings.append(
            f"{len(hidden)} of {size} {unit}s are hidden on {name}: fewer than "
            f"{selection.min_group_size} respondents (or hidden so a hidden one cannot be worked out)."
        )
    aggregation = SubscaleAggregation(
        subscale=name,
        module=group.module,
        n=int(valid.sum()),
        n_groups=int(np.count_nonzero(counts)),
        icc1=icc_1,
        icc2=icc_2,
        respondents_needed=needed,
        variance_components=components,
        warnings=warnings,
    )
    return aggregation, cells


def _t_quantiles(degrees: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    """The t quantile of the CI for each group's degrees of freedom (NaN below 1), computed once
    per distinct value: groups share a handful of sizes."""
    distinct, position = np.unique(degrees, return_inverse=True)
    with np.errstate(invalid="ignore"):
        quantiles = np.asarray(stats.t.ppf(0.5 + CI_LEVEL / 2, distinct), dtype=np.float64)
    return quantiles[position.reshape(-1)]


def _numbers(values: npt.NDArray[np.float64]) -> list[float | None]:
    """:func:`number` of every value of an array, at once."""
    boxed = values.astype(object)
    boxed[~np.isfinite(values)] = None
    return boxed.tolist()  # type: ignore[no-any-return]


def _team_components(
    selection: Selection,
    scores: npt.NDArray[np.float64],
    grouping: Grouping,
    warnings: list[str],
    name: str,
) -> tuple[VarianceComponents | None, npt.NDArray[np.float64]]:
    reliability = np.full(grouping.size, np.nan)
    teams = selection.matrix.team_ids.astype(np.float64)
    teams[selection.matrix.team_ids == NO_TEAM] = np.nan
    try:
        fit = psychometrics.team_reliability(scores, selection.matrix.professional_ids, teams)
    except ValueError as exc:
        warnings.append(f"Team reliability of {name} cannot be computed: {_reason(exc)}.")
        return None, reliability
    position = {int(team): index for index, team in enumerate(grouping.team_ids)}
    found = fit.teams["reliability"]
    for team, value in zip(
        found.index.to_numpy(dtype=np.float64), _reliabilities(found.to_numpy()), strict=True
    ):
        reliability[position[int(team)]] = value
    components = VarianceComponents(
        var_team=float(fit.var_team),
        var_professional=float(fit.var_professional),
        var_residual=float(fit.var_residual),
        n_respondents=int(fit.n_respondents),
        n_professionals=int(fit.n_professionals),
        n_teams=int(fit.n_teams),
    )
    return components, reliability
