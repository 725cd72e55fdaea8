"""Reliability, item analysis, scoring and multilevel aggregation that equal R.

Pure functions on pandas DataFrames or numpy arrays (rows = respondents, columns = items,
NaN = missing), checked against psych, lavaan/semTools, multilevel and lme4.
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
    cronbach_alpha,
    inter_item_correlations,
    item_analysis,
    omega_total,
)
from psychometrics.scoring import score_scale

__all__ = [
    "AlphaResult",
    "Correlation",
    "EffectSize",
    "IccSummary",
    "TeamReliability",
    "WelchDifference",
    "correlation_ci",
    "cronbach_alpha",
    "group_reliability",
    "hedges_g",
    "icc1",
    "icc2",
    "icc_summary",
    "inter_item_correlations",
    "item_analysis",
    "omega_total",
    "reliable_change",
    "respondents_needed",
    "rwg_j",
    "score_scale",
    "team_reliability",
    "welch_difference",
]
