"""Internal consistency of a scale: Cronbach's alpha, McDonald's omega, item analysis."""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Hashable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import linalg, optimize, special

from psychometrics._input import FloatArray, ItemData, as_item_matrix, check_number, check_scale_ends
from psychometrics._moments import ItemMoments, item_moments


class ImproperSolutionError(ValueError):
    """The one-factor model has no proper ML solution: omega is not estimable on these data.

    A Heywood case: the fit runs off towards a negative residual variance (or a loading without
    bound) instead of reaching an optimum, typically when items correlate negatively or from few
    respondents. lavaan then reports "some estimated ov variances are negative" and returns an
    improper solution whose omega is an arbitrary number (e.g. 704.8); we refuse it instead.
    A ``ValueError``, so callers that treat omega as not estimable on a ``ValueError`` need no change.
    """


@dataclass(frozen=True)
class AlphaResult:
    """Cronbach's alpha of one scale.

    Attributes
    ----------
    alpha : float
        Raw alpha from the pairwise-complete covariance matrix (``psych::alpha(x)$total$raw_alpha``).
    alpha_std : float
        Standardized alpha from the pairwise correlations (``$total$std.alpha``); NaN when an item
        has zero variance, or when the correlations sum to 0 (mean correlation -1/(k-1), e.g. two
        items that correlate -1): the formula divides by that sum, so it is undefined there.
    ci_low, ci_high : float
        Feldt confidence interval for ``alpha`` on the number of complete cases ``n``; NaN when
        ``n < 2`` or when no interval was asked for.
    ci_level : float
        Coverage of the interval (0.95 by default); NaN when no interval was asked for.
    n : int
        Number of complete cases (respondents who answered every item): the n of the Feldt interval.
    n_rows : int
        Number of rows given, answered or not (the n that psych and pingouin use for the interval).
    k : int
        Number of items.
    positive_semidefinite : bool
        Whether the pairwise covariance matrix is positive semi-definite
        (:func:`is_positive_semidefinite`). A pairwise matrix from few or patchy respondents may
        not be: then it is no covariance matrix of any data, and the statistics computed from it
        (alpha, ``r_drop`` above 1, alpha if deleted) can be impossible numbers; show them as not
        estimable.
    """

    alpha: float
    alpha_std: float
    ci_low: float
    ci_high: float
    ci_level: float
    n: int
    n_rows: int
    k: int
    positive_semidefinite: bool


def cronbach_alpha(items: ItemData, ci: float | None = 0.95) -> AlphaResult:
    r"""Cronbach's alpha (raw and standardized) with a Feldt confidence interval.

    .. math::

        \alpha = \frac{k}{k-1}\left(1 - \frac{\operatorname{tr} C}{\mathbf 1' C \mathbf 1}\right),
        \qquad
        \alpha_{std} = \frac{k \bar r}{1 + (k-1)\bar r}

    with :math:`C` the pairwise-complete covariance matrix of the k items and :math:`\bar r` the
    mean off-diagonal element of the correlation matrix ``cov2cor(C)``. The Feldt interval is

    .. math::

        1 - (1-\alpha) F_{1-p/2}(n-1, (n-1)(k-1)) \;\le\; \alpha \;\le\;
        1 - (1-\alpha) F_{p/2}(n-1, (n-1)(k-1)),\quad p = 1 - \text{ci}.

    Missing data: **pairwise** for ``alpha`` and ``alpha_std`` (as psych and pingouin); the Feldt
    interval uses the number of **complete cases** as n. This is a deliberate improvement on
    psych and pingouin, which use the total row count even when rows are incomplete (an interval
    that is too narrow); on complete data the two agree exactly.

    Parameters
    ----------
    items : DataFrame or 2-D array
        Rows are respondents, columns are items (reverse-keyed items already recoded), NaN is a
        missing answer.
    ci : float or None, default 0.95
        Coverage of the Feldt interval; None gives NaN bounds.

    Returns
    -------
    AlphaResult

    Raises
    ------
    ValueError
        Fewer than 2 items or rows, a pair of items answered together by fewer than 2 respondents,
        all values missing, a total score without variance, infinite values, ``ci`` outside (0, 1).
    TypeError
        Non-numeric items.

    Notes
    -----
    An item without variance keeps its place in ``alpha`` (psych would silently drop it with a
    warning), while ``alpha_std`` is NaN because its correlations are undefined.

    References
    ----------
    Cronbach, L. J. (1951). Coefficient alpha and the internal structure of tests.
    *Psychometrika*, 16, 297-334.
    Feldt, L. S., Woodruff, D. J., & Salih, F. A. (1987). Statistical inference for coefficient
    alpha. *Applied Psychological Measurement*, 11, 93-103.

    Examples
    --------
    Matches R ``a <- psych::alpha(x); a$total$raw_alpha; a$total$std.alpha; a$feldt`` (on complete
    data); R gives 0.9416058394 for this x, and a Feldt interval of 0.7049557829 to 0.9934970057.

    >>> import numpy as np
    >>> x = np.array([[1, 2, 2], [2, 3, 3], [4, 4, 5], [5, 5, 4], [3, 3, 3.0]])
    >>> result = cronbach_alpha(x)
    >>> round(result.alpha, 10), round(result.ci_low, 10), round(result.ci_high, 10)
    (0.9416058394, 0.7049557829, 0.9934970057)
    """
    if ci is not None and not (0.0 < check_number(ci, "ci") < 1.0):
        raise ValueError(f"ci must be between 0 and 1 (e.g. 0.95), got {ci}")
    matrix = as_item_matrix(items, min_items=2)
    return alpha_of_moments(item_moments(matrix.values), matrix.names, ci)


def alpha_of_moments(moments: ItemMoments, names: list[Hashable], ci: float | None) -> AlphaResult:
    """:func:`cronbach_alpha` of already computed moments (raw data or sufficient statistics)."""
    cov = _checked_pairwise_cov(moments, names)
    alpha = _alpha_from_cov(cov)
    alpha_std = _alpha_std_from_cov(cov)
    ci_low = ci_high = level = math.nan
    if ci is not None:
        level = float(ci)
        ci_low, ci_high = feldt_interval(alpha, moments.n_complete, cov.shape[0], level)
    return AlphaResult(
        alpha=alpha,
        alpha_std=alpha_std,
        ci_low=ci_low,
        ci_high=ci_high,
        ci_level=level,
        n=moments.n_complete,
        n_rows=moments.n_rows,
        k=cov.shape[0],
        positive_semidefinite=is_positive_semidefinite(cov),
    )


def feldt_interval(alpha: float, n: int, k: int, level: float = 0.95) -> tuple[float, float]:
    """Feldt interval for alpha with n respondents and k items; (NaN, NaN) when n < 2."""
    if n < 2 or k < 2 or not math.isfinite(alpha):
        return math.nan, math.nan
    tail = (1.0 - level) / 2.0
    df1 = n - 1.0
    df2 = (n - 1.0) * (k - 1.0)
    # special.fdtri is the F quantile of stats.f.ppf without the distribution-object overhead
    low = 1.0 - (1.0 - alpha) * float(special.fdtri(df1, df2, 1.0 - tail))
    high = 1.0 - (1.0 - alpha) * float(special.fdtri(df1, df2, tail))
    return low, high


def is_positive_semidefinite(matrix: npt.ArrayLike, *, tolerance: float = 1e-10) -> bool:
    r"""Whether a symmetric matrix (a pairwise covariance or correlation matrix) is positive semi-definite.

    A matrix is positive semi-definite when no eigenvalue is negative:
    :math:`\lambda_{min} \ge -\text{tolerance}\cdot\max(1, \lambda_{max})` (relative, so rounding
    in a matrix of large variances does not count). A complete-case covariance matrix always is;
    a **pairwise** one (each entry on the rows that answered both items) need not be, and then
    statistics derived from it can leave their range (an ``r_drop`` above 1, an alpha-if-deleted
    above 1): treat those as not estimable.

    Missing data: a NaN entry (a pair of items answered together by fewer than 2 respondents)
    gives False: no matrix with a hole in it is a covariance matrix.

    Parameters
    ----------
    matrix : 2-D array
        Square and symmetric (only the lower triangle is read, as ``numpy.linalg.eigvalsh`` does).
    tolerance : float, default 1e-10
        Relative tolerance for eigenvalues below zero.

    Returns
    -------
    bool

    Examples
    --------
    Matches R ``min(eigen(C, symmetric = TRUE, only.values = TRUE)$values) >= -1e-10``.

    >>> is_positive_semidefinite([[1.0, 0.9], [0.9, 1.0]])
    True
    >>> is_positive_semidefinite([[1.0, 1.2], [1.2, 1.0]])
    False
    """
    values = np.asarray(matrix, dtype=np.float64)
    if values.ndim != 2 or values.shape[0] != values.shape[1]:
        raise ValueError(f"matrix must be square, got shape {values.shape}")
    if values.size == 0:
        return True
    if not np.all(np.isfinite(values)):
        return False
    eigenvalues = np.linalg.eigvalsh(values)
    return bool(eigenvalues[0] >= -tolerance * max(1.0, float(abs(eigenvalues[-1]))))


def _checked_pairwise_cov(moments: ItemMoments, names: list[Hashable]) -> FloatArray:
    cov = moments.pair_cov
    counts = moments.pair_counts
    if not np.any(np.diagonal(counts)):
        raise ValueError("all values are missing")
    short = np.argwhere(np.triu(counts < 2))
    if short.size:
        i, j = short[0]
        if i == j:
            raise ValueError(f"item {names[i]!r} has fewer than 2 answers")
        raise ValueError(
            f"items {names[i]!r} and {names[j]!r} are answered together by fewer than 2 respondents; "
            "their covariance is undefined"
        )
    return cov


def _alpha_from_cov(cov: FloatArray) -> float:
    k = cov.shape[0]
    total = float(cov.sum())
    if not total > 0.0:
        raise ValueError("the total score has no variance (sum of the covariance matrix <= 0)")
    return float(k / (k - 1.0) * (1.0 - float(np.trace(cov)) / total))


def _alpha_std_from_cov(cov: FloatArray) -> float:
    k = cov.shape[0]
    variances = np.diagonal(cov)
    if np.any(variances <= 0.0):
        return math.nan
    scale = 1.0 / np.sqrt(variances)
    cor = cov * np.outer(scale, scale)
    np.fill_diagonal(cor, 1.0)
    total = float(cor.sum())
    # 1'R1 = k + k(k-1)·r̄ is 0 when r̄ = -1/(k-1): k·r̄ / (1 + (k-1)·r̄) divides by zero there
    if abs(total) <= 1e-12 * k * k:
        return math.nan
    return float((1.0 - k / total) * k / (k - 1.0))


def omega_total(items: ItemData) -> float:
    r"""McDonald's omega total from a one-factor maximum-likelihood model.

    .. math::

        \omega_t = \frac{(\sum_i \lambda_i)^2}{(\sum_i \lambda_i)^2 + \sum_i \theta_i}

    where :math:`\lambda` (loadings) and :math:`\theta` (residual variances) minimise the ML
    discrepancy :math:`\log|\Sigma| + \operatorname{tr}(S\Sigma^{-1})`,
    :math:`\Sigma = \lambda\lambda' + \operatorname{diag}\theta`, on the covariance matrix S of
    the complete cases. The denominator is the model-implied variance of the sum score. Residual
    variances are not bounded at zero (as in lavaan), so a Heywood case shows as a negative
    :math:`\theta` rather than being hidden.

    Missing data: **listwise** (complete cases only). Nothing is imputed: tools that fill in item
    medians (factor_analyzer's default) report a different, too-optimistic omega.

    Parameters
    ----------
    items : DataFrame or 2-D array
        Rows are respondents, columns are at least 3 items (reverse-keyed items recoded).

    Returns
    -------
    float

    Raises
    ------
    ImproperSolutionError
        (a ``ValueError``) The model has no proper solution: a Heywood case where the fit runs
        towards a negative residual variance without reaching an optimum (lavaan returns an
        improper solution there). A Heywood case that does reach an optimum returns its omega
        with a ``RuntimeWarning``.
    ValueError
        Fewer than 3 items, a singular covariance matrix of the complete cases (too few complete
        rows, a constant item, a perfectly collinear item), or an optimisation that did not
        converge.

    References
    ----------
    McDonald, R. P. (1999). *Test theory: A unified treatment*. Erlbaum.

    Examples
    --------
    Matches R (complete cases)::

        fit <- lavaan::cfa('f =~ x1 + x2 + x3 + x4', data = na.omit(x), std.lv = TRUE)
        semTools::compRelSEM(fit, obs.var = FALSE)
    """
    matrix = as_item_matrix(items, min_items=3)
    return omega_of_moments(item_moments(matrix.values, complete_cases=True), matrix.names)


def omega_of_moments(moments: ItemMoments, names: list[Hashable]) -> float:
    """:func:`omega_total` of already computed moments (with the complete-case covariance)."""
    k = len(names)
    if k < 3:
        raise ValueError(f"items needs at least 3 item column(s), got {k}")
    if moments.n_complete < 2 or moments.complete_cov is None:
        raise ValueError(f"omega needs at least 2 complete rows, got {moments.n_complete}")
    cov = moments.complete_cov
    variances = np.diagonal(cov)
    constant = [names[i] for i in np.flatnonzero(~(variances > 0.0))]
    if constant:
        raise ValueError(f"item(s) without variance among the complete cases: {constant}")
    if moments.n_complete <= k:
        raise ValueError(
            f"omega needs more complete rows than items ({moments.n_complete} complete rows, {k} items)"
        )
    loadings, residuals = one_factor_ml(cov)
    common = float(loadings.sum()) ** 2
    return common / (common + float(residuals.sum()))


def one_factor_ml(cov: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Loadings and residual variances of a one-factor ML model (factor variance 1) for ``cov``.

    The model is fitted to the correlation matrix (better conditioned) and scaled back: ML
    estimates are scale-equivariant, so this equals fitting ``cov`` itself.
    """
    sd = np.sqrt(np.diagonal(cov))
    cor = cov / np.outer(sd, sd)
    k = cor.shape[0]
    if not np.all(np.isfinite(cor)) or float(np.linalg.eigvalsh(cor)[0]) < 1e-10:
        raise ValueError(
            "the covariance matrix of the complete cases is singular "
            "(an item is a linear combination of others, or too few complete rows)"
        )
    inverse = linalg.inv(cor)
    smc = 1.0 - 1.0 / np.diagonal(inverse)
    start_loadings = np.sqrt(np.clip(smc, 0.05, 0.95))
    start = np.concatenate([start_loadings, 1.0 - start_loadings**2])
    _, logdet_s = np.linalg.slogdet(cor)

    def discrepancy(params: FloatArray) -> tuple[float, FloatArray]:
        loadings = params[:k]
        residuals = params[k:]
        implied = np.outer(loadings, loadings)
        implied[np.diag_indices(k)] += residuals
        try:
            factor = linalg.cho_factor(implied, lower=True, check_finite=False)
        except linalg.LinAlgError:
            return 1e10, np.zeros_like(params)
        implied_inv = linalg.cho_solve(factor, np.eye(k), check_finite=False)
        logdet = 2.0 * float(np.log(np.diagonal(factor[0])).sum())
        value = logdet + float(np.sum(cor * implied_inv)) - logdet_s - k
        gradient_sigma = implied_inv - implied_inv @ cor @ implied_inv
        gradient = np.concatenate([2.0 * gradient_sigma @ loadings, np.diagonal(gradient_sigma)])
        return value, gradient

    # Fisher scoring converges in a few steps from the SMC start; BFGS is the fallback
    params = _fisher_scoring(cor, start, discrepancy)
    _, gradient = discrepancy(params)
    if not np.all(np.isfinite(params)) or float(np.max(np.abs(gradient))) > 1e-8:
        result = optimize.minimize(
            discrepancy, start, jac=True, method="BFGS", options={"gtol": 1e-9, "maxiter": 2000}
        )
        params = _fisher_scoring(cor, result.x, discrepancy)
        _, gradient = discrepancy(params)
        if not np.all(np.isfinite(params)) or float(np.max(np.abs(gradient))) > 1e-8:
            if not np.all(np.isfinite(params)) or np.any(params[k:] < 0.0):
                raise ImproperSolutionError(
                    "the one-factor model has no proper solution (Heywood case: a residual variance "
                    "runs negative, as lavaan's 'some estimated ov variances are negative'); "
                    "omega is not estimable on these data"
                )
            raise ValueError(f"the one-factor model did not converge: {result.message}")
    residuals = params[k:]
    if np.any(residuals < 0.0):
        warnings.warn(
            "one-factor model has a negative residual variance (Heywood case); omega is unreliable",
            RuntimeWarning,
            stacklevel=3,
        )
    return params[:k] * sd, residuals * sd**2


def _fisher_scoring(
    cor: FloatArray,
    params: FloatArray,
    discrepancy: Callable[[FloatArray], tuple[float, FloatArray]],
    max_steps: int = 50,
) -> FloatArray:
    """Polish the BFGS solution with Fisher scoring steps until the gradient vanishes.

    The expected Hessian of the ML discrepancy is ``tr(inv(S) D_a inv(S) D_b)`` with
    ``D_a = dSigma/dparam_a``, so a few steps reach machine precision near the optimum.
    """
    k = cor.shape[0]
    eye = np.eye(k)
    value, gradient = discrepancy(params)
    for _ in range(max_steps):
        if float(np.max(np.abs(gradient))) < 1e-13:
            break
        loadings = params[:k]
        derivatives = np.empty((2 * k, k, k))
        for i in range(k):
            derivatives[i] = np.outer(eye[i], loadings) + np.outer(loadings, eye[i])
            derivatives[k + i] = np.outer(eye[i], eye[i])
        implied = np.outer(loadings, loadings) + np.diag(params[k:])
        products = np.linalg.solve(implied, derivatives)
        information = np.einsum("aij,bji->ab", products, products)
        try:
            step = np.linalg.solve(information, gradient)
        except np.linalg.LinAlgError:
            break
        improved = False
        for fraction in (1.0, 0.5, 0.25, 0.125):
            candidate = params - fraction * step
            candidate_value, candidate_gradient = discrepancy(candidate)
            if candidate_value <= value + 1e-15:
                params, value, gradient = candidate, candidate_value, candidate_gradient
                improved = True
                break
        if not improved:
            break
    return params


def item_analysis(
    items: ItemData, *, scale_min: float | None = None, scale_max: float | None = None
) -> pd.DataFrame:
    r"""Item statistics of one scale: n, mean, sd, missing share, r_drop, alpha if deleted, floor, ceiling.

    Columns (one row per item, indexed by the item names or positions 0..k-1):

    - ``n``: number of answers; ``missing``: share of rows without an answer;
    - ``mean``, ``sd``: over the item's answered values (n - 1 denominator);
    - ``r_drop``: corrected item-total correlation
      :math:`\sum_{j\ne i} C_{ij} / \sqrt{C_{ii}\,\mathbf 1'C_{-i}\mathbf 1}`;
    - ``alpha_if_deleted``: raw alpha of :math:`C_{-i}` (C without item i); NaN for a 2-item scale;
    - ``floor``, ``ceiling``: share of the answers at ``scale_min`` / ``scale_max`` (the observed
      minimum / maximum of the item when not given).

    Missing data: **pairwise** -- C is the pairwise-complete covariance matrix, as in psych, so
    alpha-if-deleted is well defined with missing values (JASP once crashed here). ``r_drop`` of an
    item without variance is NaN. ``table.attrs["positive_semidefinite"]`` says whether C is
    positive semi-definite (:func:`is_positive_semidefinite`); when it is not, ``r_drop`` can
    exceed 1 and the row statistics are not estimable.

    Parameters
    ----------
    items : DataFrame or 2-D array
        Rows are respondents, columns are at least 2 items (reverse-keyed items recoded).
    scale_min, scale_max : float, optional
        Nominal ends of the response scale for the floor and ceiling shares (numbers, with
        ``scale_min < scale_max``).

    Returns
    -------
    DataFrame

    Raises
    ------
    ValueError
        As :func:`cronbach_alpha`; a non-finite scale end, or ``scale_min >= scale_max``.
    TypeError
        Non-numeric items, or a scale end that is not a number (e.g. the string ``"1"``).

    References
    ----------
    Revelle, W. (2022). *psych: Procedures for Psychological, Psychometric, and Personality
    Research* (R package 2.2.9), ``alpha``.

    Examples
    --------
    Matches R ``a <- psych::alpha(x)``: ``a$item.stats$n``, ``$mean``, ``$sd``, ``$r.drop``,
    ``a$alpha.drop$raw_alpha``.
    """
    scale_min, scale_max = check_scale_ends(scale_min, scale_max)
    matrix = as_item_matrix(items, min_items=2)
    moments = item_moments(matrix.values)
    _checked_pairwise_cov(moments, matrix.names)
    at_floor, at_ceiling = _floor_ceiling_counts(matrix.values, scale_min, scale_max)
    return item_table_of_moments(moments, matrix.names, at_floor, at_ceiling)


def item_table_of_moments(
    moments: ItemMoments, names: list[Hashable], at_floor: FloatArray, at_ceiling: FloatArray
) -> pd.DataFrame:
    """:func:`item_analysis` of already computed moments and the answers at each scale end."""
    cov = _checked_pairwise_cov(moments, names)
    k = cov.shape[0]
    col_sums = cov.sum(axis=0)
    variances = np.diagonal(cov).copy()
    total = float(cov.sum())
    rest_total = total - 2.0 * col_sums + variances
    with np.errstate(divide="ignore", invalid="ignore"):
        r_drop = (col_sums - variances) / np.sqrt(variances * rest_total)
        if k > 2:
            rest_trace = float(np.trace(cov)) - variances
            alpha_if_deleted = (k - 1.0) / (k - 2.0) * (1.0 - rest_trace / rest_total)
        else:
            alpha_if_deleted = np.full(k, np.nan)
    r_drop = np.where(variances > 0.0, r_drop, np.nan)
    n = np.diagonal(moments.pair_counts).copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        floor, ceiling = np.asarray(at_floor) / n, np.asarray(at_ceiling) / n
    table = pd.DataFrame(
        {
            "n": n.astype(np.int64),
            "mean": moments.means,
            "sd": np.sqrt(variances),
            "missing": 1.0 - n / moments.n_rows,
            "r_drop": r_drop,
            "alpha_if_deleted": alpha_if_deleted,
            "floor": floor,
            "ceiling": ceiling,
        },
        index=pd.Index(names, name="item"),
    )
    table.attrs["positive_semidefinite"] = is_positive_semidefinite(cov)
    return table


def _floor_ceiling_counts(
    values: FloatArray, scale_min: float | None, scale_max: float | None
) -> tuple[FloatArray, FloatArray]:
    k = values.shape[1]
    at_floor = np.zeros(k)
    at_ceiling = np.zeros(k)
    # column by column: reductions over axis 0 of a (rows, k) array with small k are slow in numpy
    for item in range(k):
        column = values[:, item]
        low = np.fmin.reduce(column) if scale_min is None else scale_min
        high = np.fmax.reduce(column) if scale_max is None else scale_max
        at_floor[item] = np.count_nonzero(column == low)
        at_ceiling[item] = np.count_nonzero(column == high)
    return at_floor, at_ceiling


def inter_item_correlations(items: ItemData) -> pd.DataFrame:
    """Pairwise-complete Pearson correlations between items.

    Each entry uses the rows where both items are answered, with the means and standard
    deviations of those rows: R ``cor(x, use = "pairwise.complete.obs")``. (Standardized alpha
    instead uses ``cov2cor`` of the pairwise covariance matrix, as psych does; on complete data the
    two are equal.)

    Missing data: **pairwise**. A pair answered together by fewer than 2 respondents, or an item
    without variance, gives NaN.

    Parameters
    ----------
    items : DataFrame or 2-D array
        Rows are respondents, columns are items.

    Returns
    -------
    DataFrame
        Square, indexed and labelled by item.
    """
    matrix = as_item_matrix(items, min_items=1)
    return correlations_of_moments(item_moments(matrix.values, correlations=True), matrix.names)


def correlations_of_moments(moments: ItemMoments, names: list[Hashable]) -> pd.DataFrame:
    """:func:`inter_item_correlations` of already computed moments (with the correlations)."""
    if not np.any(np.diagonal(moments.pair_counts)):
        raise ValueError("all values are missing")
    correlations = moments.pair_cor
    if correlations is None:  # pragma: no cover - item_moments always fills it when asked
        raise RuntimeError("pairwise correlations were not computed")
    labels = pd.Index(names, name="item")
    return pd.DataFrame(correlations, index=labels, columns=labels.rename(None))
