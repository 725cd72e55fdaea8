"""Reliability, item analysis, scoring, multilevel aggregation and factor structure that equal R.

Pure functions on pandas DataFrames or numpy arrays (rows = respondents, columns = items,
NaN = missing), checked against psych, lavaan/semTools, multilevel and lme4 (CFA and invariance: lavaan).
Nothing here knows about HTTP, SQL or the instrument files.
"""

from psychometrics.comparison import (
    Correlation,
    EffectSize,
    WelchDifference,
    correlation_ci,
    hedges_g,
    reliable_change,
    welch_difference,
)
from psychometrics.multilevel import (
    IccSummary,
    group_reliability,
    icc1,
    icc2,
    icc_summary,
    respondents_needed,
    rwg_j,
)
from psychometrics.nested import TeamReliability, team_reliability
from psychometrics.reliability import (
    AlphaResult,
    ImproperSolutionError,
    cronbach_alpha,
    inter_item_correlations,
    is_positive_semidefinite,
    item_analysis,
    omega_total,
)
from psychometrics.scoring import score_scale
from psychometrics.structure import (
    CfaGroupResult,
    CfaResult,
    cfa,
    disattenuated_correlations,
    measurement_invariance,
)
from psychometrics.sufficient import (
    ItemSums,
    cronbach_alpha_from_sums,
    icc_summary_from_sums,
    inter_item_correlations_from_sums,
    item_analysis_from_sums,
    item_sums,
    omega_total_from_sums,
    rwg_j_from_sums,
)

__all__ = [
    "AlphaResult",
    "CfaGroupResult",
    "CfaResult",
    "Correlation",
    "EffectSize",
    "IccSummary",
    "ImproperSolutionError",
    "ItemSums",
    "TeamReliability",
    "WelchDifference",
    "cfa",
    "correlation_ci",
    "cronbach_alpha",
    "cronbach_alpha_from_sums",
    "disattenuated_correlations",
    "group_reliability",
    "hedges_g",
    "icc1",
    "icc2",
    "icc_summary",
    "icc_summary_from_sums",
    "inter_item_correlations",
    "inter_item_correlations_from_sums",
    "is_positive_semidefinite",
    "item_analysis",
    "item_analysis_from_sums",
    "item_sums",
    "measurement_invariance",
    "omega_total",
    "omega_total_from_sums",
    "reliable_change",
    "respondents_needed",
    "rwg_j",
    "rwg_j_from_sums",
    "score_scale",
    "team_reliability",
    "welch_difference",
]
