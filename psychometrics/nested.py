"""Variance components and team-mean reliability for respondents nested in professionals nested in teams."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import optimize

from psychometrics._input import FloatArray, IntArray, align_labels, as_group_codes, as_score_vector


@dataclass(frozen=True)
class TeamReliability:
    """Variance components of ``score ~ 1 + (1 | team/professional)`` and team-mean reliability.

    Attributes
    ----------
    var_team, var_professional, var_residual : float
        Variance between teams (tau_team), between professionals within a team (tau_prof) and
        between respondents of one professional (sigma^2).
    mean : float
        Estimated grand mean (the fixed intercept).
    method : {"REML", "ML"}
        Estimation method.
    log_likelihood : float
        Maximised (restricted) log-likelihood, on lme4's scale (``logLik(fit)``).
    n_respondents, n_professionals, n_teams : int
        Numbers used (rows with a score and both labels).
    teams : DataFrame
        Per team (index: sorted team labels): ``n_professionals``, ``n_respondents``, ``reliability``.
    """

    var_team: float
    var_professional: float
    var_residual: float
    mean: float
    method: str
    log_likelihood: float
    n_respondents: int
    n_professionals: int
    n_teams: int
    teams: pd.DataFrame

    @property
    def icc_team(self) -> float:
        """Share of the total variance between teams."""
        return self.var_team / (self.var_team + self.var_professional + self.var_residual)

    @property
    def icc_professional(self) -> float:
        """Share of the total variance between professionals within teams."""
        return self.var_professional / (self.var_team + self.var_professional + self.var_residual)


@dataclass(frozen=True)
class _NestedSummary:
    """Per-professional sufficient statistics: the likelihood depends on nothing else."""

    sizes: FloatArray  # respondents per professional
    means: FloatArray  # mean score per professional
    team_of: IntArray  # team code per professional
    n_teams: int
    ss_within: float  # sum of squared deviations from the professional means
    n: int


def team_reliability(
    scores: ArrayLike,
    professionals: ArrayLike,
    teams: ArrayLike,
    *,
    method: Literal["REML", "ML"] = "REML",
) -> TeamReliability:
    r"""Variance components of a three-level random-intercept model and the reliability of team means.

    Model: :math:`y_{tpi} = \mu + u_t + v_{tp} + e_{tpi}` with
    :math:`u_t \sim N(0, \tau_{team})`, :math:`v_{tp} \sim N(0, \tau_{prof})`,
    :math:`e \sim N(0, \sigma^2)` -- respondents i nested in professionals p nested in teams t.
    The variance components are (restricted) maximum-likelihood estimates, computed exactly from
    per-professional sums: within a team the covariance matrix is
    :math:`\sigma^2 I + \tau_{prof}\,\mathrm{blockdiag}(J) + \tau_{team} J`, whose inverse and
    determinant have closed forms (Sherman-Morrison twice). The profiled deviance in the relative
    standard deviations (as lme4's theta) is minimised with bounds at 0, so a component can be
    estimated as exactly 0 (a singular fit in lme4). The reliability of team t's mean is

    .. math::

        \rho_t = \frac{\tau_{team}}{\tau_{team} + \tau_{prof}/P_t + \sigma^2/N_t}

    with :math:`P_t` professionals and :math:`N_t` respondents in team t.

    Professional labels are nested in their team as lme4's ``team/professional`` does: the same
    professional label in two teams means two different professionals.

    Missing data: respondents with a missing score or label are dropped (**listwise**, as
    ``lmer``'s default ``na.omit``).

    Parameters
    ----------
    scores : 1-D array or Series
        One score per respondent.
    professionals, teams : 1-D array or Series
        Professional and team label per respondent.
    method : {"REML", "ML"}, default "REML"
        Restricted (lme4's default) or full maximum likelihood.

    Returns
    -------
    TeamReliability

    Raises
    ------
    ValueError
        Fewer than 2 teams, no professional with 2 or more respondents, scores without variance,
        lengths that differ, an unknown method.

    References
    ----------
    Bates, D., Maechler, M., Bolker, B., & Walker, S. (2015). Fitting linear mixed-effects models
    using lme4. *Journal of Statistical Software*, 67(1), 1-48.
    Snijders, T. A. B., & Bosker, R. J. (2012). *Multilevel analysis* (2nd ed.), ch. 3.5. Sage.

    Examples
    --------
    Matches R (lme4)::

        fit <- lme4::lmer(score ~ 1 + (1 | team/professional), data = d, REML = TRUE)
        as.data.frame(lme4::VarCorr(fit))$vcov  # professional:team, team, residual
    """
    if method not in ("REML", "ML"):
        raise ValueError(f"method must be 'REML' or 'ML', got {method!r}")
    summary, team_labels = _summarise(scores, professionals, teams)
    reml = method == "REML"

    def deviance(theta: FloatArray) -> float:
        return _profiled_deviance(summary, float(theta[0]) ** 2, float(theta[1]) ** 2, reml)[0]

    # minimise over theta = relative standard deviations (lme4's parametrisation); squaring keeps
    # the variances non-negative without bounds, and a zero component is reached smoothly
    best: optimize.OptimizeResult | None = None
    for start in ((1.0, 1.0), (0.3, 0.3)):
        result = optimize.minimize(
            deviance, np.array(start), method="BFGS", options={"gtol": 1e-9, "maxiter": 500}
        )
        if best is None or result.fun < best.fun:
            best = result
    if best is None or not np.all(np.isfinite(best.x)) or not math.isfinite(best.fun):
        raise ValueError("the variance components could not be estimated")
    theta = np.abs(best.x)
    # a component at the boundary: compare with the fit that fixes it at exactly 0
    for fixed in (0, 1):
        if theta[fixed] < 1e-4:
            free = 1 - fixed

            def deviance_on_edge(value: FloatArray, free: int = free) -> float:
                point = np.zeros(2)
                point[free] = value[0]
                return deviance(point)

            edge = optimize.minimize(
                deviance_on_edge, np.array([theta[free]]), method="BFGS", options={"gtol": 1e-10}
            )
            if edge.fun <= deviance(theta) + 1e-9:
                theta = np.zeros(2)
                theta[free] = abs(float(edge.x[0]))
    ratio_prof = float(theta[0]) ** 2
    ratio_team = float(theta[1]) ** 2
    value, sigma2, mean = _profiled_deviance(summary, ratio_prof, ratio_team, reml)
    var_prof = ratio_prof * sigma2
    var_team = ratio_team * sigma2
    prof_per_team = np.bincount(summary.team_of, minlength=summary.n_teams).astype(np.float64)
    resp_per_team = np.bincount(summary.team_of, weights=summary.sizes, minlength=summary.n_teams)
    with np.errstate(divide="ignore", invalid="ignore"):
        reliability = var_team / (var_team + var_prof / prof_per_team + sigma2 / resp_per_team)
    team_table = pd.DataFrame(
        {
            "n_professionals": prof_per_team.astype(np.int64),
            "n_respondents": resp_per_team.astype(np.int64),
            "reliability": reliability,
        },
        index=team_labels.rename("team"),
    )
    return TeamReliability(
        var_team=var_team,
        var_professional=var_prof,
        var_residual=sigma2,
        mean=mean,
        method=method,
        log_likelihood=-value / 2.0,
        n_respondents=summary.n,
        n_professionals=int(summary.sizes.shape[0]),
        n_teams=summary.n_teams,
        teams=team_table,
    )


def _summarise(
    scores: ArrayLike, professionals: ArrayLike, teams: ArrayLike
) -> tuple[_NestedSummary, pd.Index]:
    values = as_score_vector(scores)
    n_rows = values.shape[0]
    team_codes = as_group_codes(align_labels(scores, teams, "teams"), n_rows, what="teams")
    prof_codes = as_group_codes(
        align_labels(scores, professionals, "professionals"), n_rows, what="professionals"
    )
    keep = ~np.isnan(values) & (team_codes.codes >= 0) & (prof_codes.codes >= 0)
    values = values[keep]
    team_code = team_codes.codes[keep]
    # lme4's team/professional: a professional is the (team, professional) pair
    prof_code = prof_codes.codes[keep]
    n_labels = max(len(prof_codes.labels), 1)
    present = np.bincount(prof_code, minlength=n_labels) > 0
    pair_code = (np.cumsum(present) - 1)[prof_code]
    n_prof = int(np.count_nonzero(present))
    prof_team = np.zeros(n_prof, dtype=np.intp)
    prof_team[pair_code] = team_code
    if not np.array_equal(prof_team[pair_code], team_code):
        # some professional label occurs in several teams: code the (team, professional) pairs
        pair = team_code.astype(np.int64) * n_labels + prof_code
        pair_ids, pair_code = np.unique(pair, return_inverse=True)
        n_prof = pair_ids.shape[0]
        prof_team = (pair_ids // n_labels).astype(np.intp)
    used_teams, team_of = np.unique(prof_team, return_inverse=True)
    n_teams = used_teams.shape[0]
    if n_teams < 2:
        raise ValueError(f"team variance needs at least 2 teams with a score, got {n_teams}")
    n = int(values.shape[0])
    if n - n_prof < 1:
        raise ValueError("no professional has 2 or more respondents: the residual variance is undefined")
    sizes = np.bincount(pair_code, minlength=n_prof).astype(np.float64)
    means = np.bincount(pair_code, weights=values, minlength=n_prof) / sizes
    deviations = values - means[pair_code]
    ss_within = float(np.dot(deviations, deviations))
    centred = means - float(values.mean())
    if ss_within <= 0.0 and not np.any(centred != 0.0):
        raise ValueError("the scores have no variance")
    summary = _NestedSummary(
        sizes=sizes,
        means=means,
        team_of=np.asarray(team_of, dtype=np.intp),
        n_teams=int(n_teams),
        ss_within=ss_within,
        n=n,
    )
    return summary, team_codes.labels[used_teams]


def _profiled_deviance(
    summary: _NestedSummary, ratio_prof: float, ratio_team: float, reml: bool
) -> tuple[float, float, float]:
    """-2 log-likelihood with sigma^2 and the mean profiled out, for tau = ratio * sigma^2.

    Returns (deviance, sigma^2, mean). With V = sigma^2 V0 and per professional
    w_p = n_p / (1 + n_p a) (a = ratio_prof), per team W_t = sum w_p and
    1'V0^-1 1 = sum_t W_t / (1 + b W_t) (b = ratio_team), the GLS mean and the quadratic form
    follow from the professional means alone.
    """
    sizes = summary.sizes
    weights = sizes / (1.0 + sizes * ratio_prof)
    team_weight = np.bincount(summary.team_of, weights=weights, minlength=summary.n_teams)
    team_sum = np.bincount(summary.team_of, weights=weights * summary.means, minlength=summary.n_teams)
    shrink = 1.0 / (1.0 + ratio_team * team_weight)
    information = float(np.sum(team_weight * shrink))
    mean = float(np.sum(team_sum * shrink)) / information
    deviations = summary.means - mean
    team_dev = np.bincount(summary.team_of, weights=weights * deviations, minlength=summary.n_teams)
    quadratic = (
        summary.ss_within
        + float(np.sum(weights * deviations**2))
        - ratio_team * float(np.sum(team_dev**2 * shrink))
    )
    log_det = float(np.sum(np.log1p(sizes * ratio_prof))) + float(np.sum(np.log1p(ratio_team * team_weight)))
    n = summary.n
    dof = n - 1 if reml else n
    sigma2 = quadratic / dof
    if not sigma2 > 0.0:
        return math.inf, math.nan, mean
    deviance = log_det + dof * (1.0 + math.log(2.0 * math.pi * sigma2))
    if reml:
        deviance += math.log(information)
    return deviance, sigma2, mean
