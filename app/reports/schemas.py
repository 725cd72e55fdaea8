"""Response models of the report routes (the HTML report and the CLI render the same objects)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from pydantic import BaseModel

Level = Literal["professional", "team", "partner"]


class ItemStatistics(BaseModel):
    """One item of a subscale; every number is null when the selection is below the minimum size."""

    item: str
    suppressed: bool
    n: int | None = None
    mean: float | None = None
    sd: float | None = None
    missing: float | None = None
    floor: float | None = None
    ceiling: float | None = None
    r_drop: float | None = None
    alpha_if_deleted: float | None = None
    distribution: list[float] | None = None
    """Share of the answers at each scale point, lowest first (of the answered ones)."""
    dont_know: float | None = None
    """Share of the subscale's respondents who chose "weet ik niet" for this item (part of
    ``missing``, which also counts the ones who skipped it)."""


class SubscaleReliability(BaseModel):
    subscale: str
    module: str | None
    items: list[str]
    k: int
    n: int
    """Complete cases: respondents who answered every item (the n of the Feldt interval)."""
    n_respondents: int
    """Respondents who answered at least one item of the subscale."""
    alpha: float | None
    alpha_ci: list[float | None] | None
    alpha_std: float | None
    omega_total: float | None
    item_statistics_suppressed: bool
    item_analysis: list[ItemStatistics]
    inter_item_correlations: dict[str, dict[str, float | None]] | None
    warnings: list[str]


class SubscaleCorrelations(BaseModel):
    subscales: list[str]
    matrix: list[list[float | None]]
    n: int
    """Respondents with a valid score on every subscale."""


class ReliabilityReport(BaseModel):
    wave_id: int
    form: str
    instrument_version: str
    modules: list[str]
    scale_points: list[int]
    n_responses: int
    """Responses in the wave's publication cut: every number below is computed from them."""
    published_at: datetime | None = None
    """When the cut was made (None: nothing published yet). Numbers change only by whole batches."""
    professional_feedback: bool = True
    """Whether the wave publishes numbers per professional (else a team is the smallest cell)."""
    min_group_size: int
    subscales: list[SubscaleReliability]
    subscale_correlations: SubscaleCorrelations | None
    warnings: list[str]


# Groups are plain slotted dataclasses, not models: a wave has up to tens of thousands of cells,
# and pydantic serialises dataclasses in Rust while building models one by one costs more than the
# statistics themselves.
@dataclass(slots=True)
class GroupScore:
    """A group's score on one subscale; all numbers null when ``suppressed``."""

    n: int | None
    mean: float | None
    sd: float | None
    ci: list[float | None] | None
    suppressed: bool
    group_reliability: float | None
    rwg_j: float | None
    team_reliability: float | None = None
    """Team level only: reliability of the team mean from the nested variance components."""


@dataclass(slots=True)
class GroupScores:
    team_id: int | None
    team_name: str | None
    code: str | None = None
    """Professional level: the professional's pseudonymous code."""
    scores: dict[str, GroupScore] = field(default_factory=dict)
    partner_id: int | None = None
    """Partner level: the partner organisation (null: professionals without a partner)."""
    partner_name: str | None = None


class VarianceComponents(BaseModel):
    var_team: float
    var_professional: float
    var_residual: float
    n_respondents: int
    n_professionals: int
    n_teams: int


class SubscaleAggregation(BaseModel):
    subscale: str
    module: str | None
    n: int
    """Respondents with a valid score."""
    n_groups: int
    icc1: float | None
    icc2: float | None
    respondents_needed: int | None
    variance_components: VarianceComponents | None = None
    warnings: list[str]


class ScoresReport(BaseModel):
    wave_id: int
    form: str
    level: Level
    instrument_version: str
    modules: list[str]
    n_responses: int
    published_at: datetime | None = None
    professional_feedback: bool = True
    min_group_size: int
    subscales: list[SubscaleAggregation]
    groups: list[GroupScores]


# -- structure (confirmatory factor analysis) ---------------------------------------------------


class FitIndices(BaseModel):
    """lavaan ``fitMeasures()`` of one model (ML, listwise)."""

    n: int
    chisq: float | None
    df: int
    pvalue: float | None
    cfi: float | None
    tli: float | None
    rmsea: float | None
    rmsea_ci: list[float | None]
    """90% interval."""
    srmr: float | None
    converged: bool
    heywood: bool
    """An improper solution (negative variance, correlation beyond 1): do not interpret it."""


class FactorLoading(BaseModel):
    item: str
    factor: str
    loading: float | None
    """Standardised (lavaan ``std.all``)."""
    residual: float | None
    """Unexplained share of the item's variance (standardised residual variance)."""


class InvarianceStep(BaseModel):
    step: Literal["configural", "metric", "scalar"]
    chisq: float | None
    df: int
    pvalue: float | None
    cfi: float | None
    tli: float | None
    rmsea: float | None
    srmr: float | None
    delta_chisq: float | None
    delta_df: int | None
    p_delta: float | None
    delta_cfi: float | None
    delta_rmsea: float | None
    holds: bool | None
    """ΔCFI ≥ -.01 (Cheung & Rensvold 2002) and ΔRMSEA ≤ .015 (Chen 2007); null on the configural row."""
    verdict: str


InvarianceAcross = Literal["language", "wave", "form"]
InvarianceUntested = Literal["wave_open", "retention", "no_items", "too_few", "not_estimable"]


class InvarianceGroup(BaseModel):
    """One group of an invariance comparison: a language, a wave or a form, from its published cut."""

    label: str
    """The language code, the wave's name or the form id."""
    n: int
    """Respondents who answered every item compared (at least ``min_group_size``: smaller groups
    are left out of the table, never merged into another)."""
    compared: bool
    """Whether the group has enough respondents to be in the multi-group model (``n_needed``)."""
    wave_id: int | None = None
    form: str | None = None


class InvarianceComparison(BaseModel):
    """Configural, metric and scalar invariance of one model across languages, waves or forms."""

    across: InvarianceAcross
    factors: dict[str, list[str]]
    """The factors and items compared, by this form's item ids (waves: the items both waves asked;
    forms: the items the instrument declares parallel)."""
    counterparts: dict[str, str] | None = None
    """Forms: each item's parallel item in the other form."""
    n_needed: int
    """Complete respondents a group needs to be compared."""
    groups: list[InvarianceGroup]
    tested: bool
    reason: InvarianceUntested | None = None
    """Why it was not tested (null when tested): ``wave_open`` (languages: published only once the
    wave has closed, see :mod:`app.reports.structure`), ``retention`` (languages: no longer
    published once retention has begun to delete the wave's batches), ``no_items`` (no subscale has 2 items to
    compare), ``too_few`` (fewer than two groups have ``n_needed`` complete respondents),
    ``not_estimable`` (the multi-group model cannot be estimated on these answers)."""
    level: Literal["configural", "metric", "scalar"] | None = None
    """The strictest step that holds along the sequence (null when not tested)."""
    verdict: str | None = None
    """What the level allows in plain words (null when not tested)."""
    note: str | None = None
    steps: list[InvarianceStep] = []


class StructureModel(BaseModel):
    """One factor model: the core subscales together, or one module."""

    name: str
    module: str | None
    factors: dict[str, list[str]]
    """Factor (subscale) -> its items."""
    n_complete: int
    """Respondents who answered every item of the model (listwise: "weet ik niet" counts as missing)."""
    n_needed: int
    free_parameters: int
    fitted: bool
    fit: FitIndices | None = None
    cutoffs_met: dict[str, bool] | None = None
    verdict: str
    loadings: list[FactorLoading] = []
    factor_correlations: list[list[float | None]] | None = None
    disattenuated_correlations: list[list[float | None]] | None = None
    """Subscale score correlations / sqrt(alpha_x alpha_y), in the order of ``factors``."""
    reliabilities: dict[str, float | None] | None = None
    """Alpha per subscale, used for the disattenuated correlations."""
    invariance: list[InvarianceComparison] = []
    """Across the languages of this form, against the baseline wave, against the parallel form."""
    warnings: list[str] = []


class StructureReport(BaseModel):
    wave_id: int
    form: str
    instrument_version: str
    modules: list[str]
    n_responses: int
    min_respondents: int
    respondents_per_parameter: int
    cutoffs: dict[str, float]
    reference: str
    min_group_size: int
    baseline_wave_id: int | None = None
    """The wave the invariance across waves compares against (none asked: null)."""
    parallel_forms: list[str] = []
    """The forms compared with this one on the items the instrument declares parallel."""
    models: list[StructureModel]
    warnings: list[str] = []


# -- comparisons (issue #19): computed from published cuts only, by app.reports.comparison ----------
# Cells and groups are slotted dataclasses for the reason given above GroupScore.

ChangeLevel = Literal["wave", "team", "professional", "partner"]
InformantLevel = Literal["professional", "team"]


@dataclass(slots=True)
class GroupCell:
    """One published group on one subscale: respondents with a valid score, their mean and SD."""

    n: int
    mean: float | None
    sd: float | None


@dataclass(slots=True)
class ChangeCell:
    """A group on one subscale in both waves: ``difference`` = this wave - the baseline."""

    baseline: GroupCell
    current: GroupCell
    difference: float | None
    ci: list[float | None] | None
    """95% Welch interval of the difference (independent samples: respondents cannot be paired)."""
    df: float | None
    hedges_g: float | None
    hedges_g_ci: list[float | None] | None
    ci_excludes_zero: bool | None
    exceeds_detectable_change: bool | None
    """|difference| above the subscale's ``detectable_change`` (None when that is unknown)."""


class ChangeSubscale(BaseModel):
    subscale: str
    module: str | None
    baseline_alpha: float | None
    """Cronbach's alpha of the subscale in the baseline wave (as its reliability report)."""
    baseline_sd: float | None
    """SD of the person scores of the whole baseline wave."""
    sem: float | None
    """Standard error of measurement: baseline_sd * sqrt(1 - baseline_alpha)."""
    detectable_change: float | None
    """Reliable change (Jacobson & Truax 1991): 1.96 * sqrt(2) * sem."""
    n_groups_compared: int
    warnings: list[str]


@dataclass(slots=True)
class ChangeGroup:
    team_id: int | None
    team_name: str | None
    code: str | None
    scores: dict[str, ChangeCell | None]
    """Per subscale; null where the group is not published on it in both waves."""
    partner_id: int | None = None
    partner_name: str | None = None


class ChangeReport(BaseModel):
    wave_id: int
    baseline_wave_id: int
    form: str
    level: ChangeLevel
    min_group_size: int
    ci_level: float
    published_at: datetime | None
    baseline_published_at: datetime | None
    method: str
    subscales: list[ChangeSubscale]
    groups: list[ChangeGroup]
    """Only groups published in both waves, ordered by team name and code (never by score)."""
    warnings: list[str]


@dataclass(slots=True)
class InformantCell:
    youth: GroupCell | None
    """The jongere form's group, null where it is not published on its own."""
    parent: GroupCell | None
    """The ouder form's group, null where it is not published on its own."""
    difference: float | None
    """youth - parent, where both are published."""
    ci: list[float | None] | None


@dataclass(slots=True)
class InformantGroup:
    team_id: int | None
    team_name: str | None
    code: str | None
    scores: dict[str, InformantCell]


class InformantAgreement(BaseModel):
    """Across groups where both informants are published: r of the youth and the parent means."""

    subscale: str
    n_groups: int
    r: float | None
    ci: list[float | None] | None
    """Fisher-z 95% interval (needs four groups)."""
    warnings: list[str]


class InformantsReport(BaseModel):
    wave_id: int
    level: InformantLevel
    youth_form: str
    parent_form: str
    min_group_size: int
    ci_level: float
    published_at: datetime | None
    agreement: list[InformantAgreement]
    expected_agreement: list[float]
    """The cross-informant correlation usually found, as a range of r (see ``reference``)."""
    reference: str
    groups: list[InformantGroup]
    warnings: list[str]
