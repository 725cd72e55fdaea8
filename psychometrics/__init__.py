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

__all__ = [
    "AlphaResult",
    "CfaGroupResult",
    "CfaResult",
    "Correlation",
    "EffectSize",
    "IccSummary",
    "ImproperSolutionError",
    "TeamReliability",
    "WelchDifference",
    "cfa",
    "correlation_ci",
    "cronbach_alpha",
    "disattenuated_correlations",
    "group_reliability",
    "hedges_g",
    "icc1",
    "icc2",
    "icc_summary",
    "inter_item_correlations",
    "is_positive_semidefinite",
    "item_analysis",
    "measurement_invariance",
    "omega_total",
    "reliable_change",
    "respondents_needed",
    "rwg_j",
    "score_scale",
    "team_reliability",
    "welch_difference",
]
