"""Comparing two groups of independent respondents: mean difference, effect size, reliable change, r.

Respondents are anonymous, so two waves (or youth and parents) are independent samples, never
pairs. Each function takes the two samples' person scores (NaN = no valid score) and returns plain
numbers; no rounding.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import special, stats

from psychometrics._input import FloatArray


def _sample(values: ArrayLike, name: str) -> FloatArray:
    array = np.asarray(values, dtype=np.float64).reshape(-1)
    if np.isinf(array).any():
        raise ValueError(f"{name} holds an infinite value")
    return array[~np.isnan(array)]


def _check_level(ci: float) -> None:
    if not 0 < ci < 1:
        raise ValueError(f"ci must lie between 0 and 1, not {ci}")


def welch_summary(
    mean_x: ArrayLike,
    var_x: ArrayLike,
    n_x: ArrayLike,
    mean_y: ArrayLike,
    var_y: ArrayLike,
    n_y: ArrayLike,
    ci: float = 0.95,
) -> dict[str, FloatArray]:
    """:func:`welch_difference` from each sample's mean, variance (n - 1) and size, for many pairs.

    Element-wise over arrays (one pair of groups per element): ``difference``, ``se``, ``df``,
    ``ci_low``, ``ci_high``; NaN where SE = 0 or a sample has fewer than two scores.
    """
    _check_level(ci)
    arrays = [np.asarray(value, dtype=np.float64) for value in (mean_x, var_x, n_x, mean_y, var_y, n_y)]
    m_x, v_x, size_x, m_y, v_y, size_y = np.broadcast_arrays(*arrays)
    with np.errstate(divide="ignore", invalid="ignore"):
        share_x, share_y = v_x / size_x, v_y / size_y
        se = np.sqrt(share_x + share_y)
        df = se**4 / (share_x**2 / (size_x - 1) + share_y**2 / (size_y - 1))
        usable = (size_x >= 2) & (size_y >= 2) & (se > 0) & np.isfinite(df)
        df = np.where(usable, df, np.nan)
        quantile = np.full(df.shape, np.nan)
        quantile[usable] = stats.t.ppf(0.5 + ci / 2, df[usable])
        difference = m_x - m_y
        half = quantile * se
    return {
        "difference": difference,
        "se": se,
        "df": df,
        "ci_low": difference - half,
        "ci_high": difference + half,
    }


def hedges_summary(
    mean_x: ArrayLike,
    var_x: ArrayLike,
    n_x: ArrayLike,
    mean_y: ArrayLike,
    var_y: ArrayLike,
    n_y: ArrayLike,
    ci: float = 0.95,
) -> dict[str, FloatArray]:
    """:func:`hedges_g` from each sample's mean, variance (n - 1) and size, for many pairs.

    Element-wise: ``g``, ``d``, ``correction``, ``variance``, ``ci_low``, ``ci_high``; NaN where
    the pooled SD is 0 or a sample has fewer than two scores.
    """
    _check_level(ci)
    arrays = [np.asarray(value, dtype=np.float64) for value in (mean_x, var_x, n_x, mean_y, var_y, n_y)]
    m_x, v_x, size_x, m_y, v_y, size_y = np.broadcast_arrays(*arrays)
    with np.errstate(divide="ignore", invalid="ignore"):
        m = size_x + size_y - 2
        pooled = np.sqrt(((size_x - 1) * v_x + (size_y - 1) * v_y) / m)
        usable = (size_x >= 2) & (size_y >= 2) & (pooled > 0)
        correction = np.exp(special.gammaln(m / 2) - 0.5 * np.log(m / 2) - special.gammaln((m - 1) / 2))
        d = np.where(usable, (m_x - m_y) / pooled, np.nan)
        g = correction * d
        variance = 1 / size_x + 1 / size_y + g**2 / (2 * (size_x + size_y))
        half = float(stats.norm.ppf(0.5 + ci / 2)) * np.sqrt(variance)
    return {
        "g": g,
        "d": d,
        "correction": correction,
        "variance": variance,
        "ci_low": g - half,
        "ci_high": g + half,
    }


@dataclass(frozen=True)
class WelchDifference:
    """The difference of two means, ``mean_x - mean_y``, with its Welch interval."""

    mean_x: float
    mean_y: float
    sd_x: float
    sd_y: float
    n_x: int
    n_y: int
    difference: float
    se: float
    df: float
    """Welch-Satterthwaite degrees of freedom (NaN when both samples are constant)."""
    t: float
    p_value: float
    ci_low: float
    ci_high: float


def welch_difference(x: ArrayLike, y: ArrayLike, ci: float = 0.95) -> WelchDifference:
    """Difference of the means of two independent samples with Welch's confidence interval.

    .. math::

        \\bar x - \\bar y \\pm t_{1-(1-c)/2;\\,\\nu}\\,SE,\\quad
        SE = \\sqrt{s_x^2/n_x + s_y^2/n_y},\\quad
        \\nu = \\frac{SE^4}{(s_x^2/n_x)^2/(n_x-1) + (s_y^2/n_y)^2/(n_y-1)}

    (Welch 1947; Satterthwaite 1946). The variances need not be equal, which is why it is the
    default for two waves of different size and spread.

    Matches R ``t.test(x, y, var.equal = FALSE, conf.level = ci)``: ``$estimate`` (the means),
    ``$conf.int``, ``$parameter`` (df), ``$statistic`` and ``$p.value``.

    Parameters
    ----------
    x, y
        Person scores of the two samples (e.g. this wave and the baseline wave).
    ci
        Confidence level of the interval.

    Returns
    -------
    WelchDifference
        When both samples are constant (SE = 0) the difference is exact: ``df``, ``t``, the
        p value and the interval are NaN (R stops with "data are essentially constant").

    Missing data
    ------------
    NaN values are dropped from each sample; each needs at least two scores.

    Examples
    --------
    >>> result = welch_difference([3, 4, 5, 4], [2, 3, 3, 2, 2])
    >>> round(result.difference, 2), round(result.ci_low, 3), round(result.ci_high, 3)
    (1.6, 0.38, 2.82)
    """
    _check_level(ci)
    first, second = _sample(x, "x"), _sample(y, "y")
    if first.size < 2 or second.size < 2:
        raise ValueError("each sample needs at least two scores")
    n_x, n_y = int(first.size), int(second.size)
    var_x, var_y = float(np.var(first, ddof=1)), float(np.var(second, ddof=1))
    share_x, share_y = var_x / n_x, var_y / n_y
    se = math.sqrt(share_x + share_y)
    difference = float(first.mean() - second.mean())
    if se == 0:
        df = t = p_value = low = high = math.nan
    else:
        df = se**4 / (share_x**2 / (n_x - 1) + share_y**2 / (n_y - 1))
        t = difference / se
        p_value = float(2 * stats.t.sf(abs(t), df))
        half = float(stats.t.ppf(0.5 + ci / 2, df)) * se
        low, high = difference - half, difference + half
    return WelchDifference(
        mean_x=float(first.mean()),
        mean_y=float(second.mean()),
        sd_x=math.sqrt(var_x),
        sd_y=math.sqrt(var_y),
        n_x=n_x,
        n_y=n_y,
        difference=difference,
        se=se,
        df=df,
        t=t,
        p_value=p_value,
        ci_low=low,
        ci_high=high,
    )


@dataclass(frozen=True)
class EffectSize:
    """Hedges' g of ``x`` against ``y`` with its large-sample interval."""

    g: float
    d: float
    """Cohen's d (pooled SD), before the small-sample correction."""
    correction: float
    """Hedges' J."""
    variance: float
    ci_low: float
    ci_high: float


def hedges_g(x: ArrayLike, y: ArrayLike, ci: float = 0.95) -> EffectSize:
    """Standardised mean difference with Hedges' small-sample correction, and its interval.

    .. math::

        d = \\frac{\\bar x - \\bar y}{s_p},\\quad
        s_p^2 = \\frac{(n_x-1)s_x^2 + (n_y-1)s_y^2}{n_x+n_y-2},\\quad
        g = J\\,d,\\quad J = \\frac{\\Gamma(m/2)}{\\sqrt{m/2}\\,\\Gamma((m-1)/2)},\\ m = n_x+n_y-2

    (the exact correction of Hedges 1981; ``1 - 3/(4m - 1)`` is its approximation), with the
    large-sample variance ``v = 1/n_x + 1/n_y + g^2 / (2(n_x+n_y))`` and the interval
    ``g ± z_{1-(1-c)/2} √v`` (Hedges & Olkin 1985, ch. 5).

    Matches R ``metafor::escalc(measure = "SMD", m1i, sd1i, n1i, m2i, sd2i, n2i, vtype = "LS")``
    (``yi``, ``vi``) and its interval ``summary(...)$ci.lb``/``$ci.ub`` (metafor 3.8).
    (``effsize::cohen.d(hedges.correction = TRUE)`` differs in the interval: it is not packaged
    for Debian, so metafor is the reference.)

    Parameters
    ----------
    x, y
        Person scores of the two samples.
    ci
        Confidence level of the interval.

    Returns
    -------
    EffectSize
        NaN throughout when the pooled SD is 0 (both samples constant).

    Missing data
    ------------
    NaN values are dropped from each sample; each needs at least two scores.

    Examples
    --------
    >>> result = hedges_g([3, 4, 5, 4], [2, 3, 3, 2, 2])
    >>> round(result.g, 3), round(result.ci_low, 3), round(result.ci_high, 3)
    (2.102, 0.467, 3.736)
    """
    _check_level(ci)
    first, second = _sample(x, "x"), _sample(y, "y")
    if first.size < 2 or second.size < 2:
        raise ValueError("each sample needs at least two scores")
    n_x, n_y = int(first.size), int(second.size)
    m = n_x + n_y - 2
    pooled = math.sqrt(
        ((n_x - 1) * float(np.var(first, ddof=1)) + (n_y - 1) * float(np.var(second, ddof=1))) / m
    )
    correction = math.exp(special.gammaln(m / 2) - 0.5 * math.log(m / 2) - special.gammaln((m - 1) / 2))
    if pooled == 0:
        nan = math.nan
        return EffectSize(g=nan, d=nan, correction=correction, variance=nan, ci_low=nan, ci_high=nan)
    d = float(first.mean() - second.mean()) / pooled
    g = correction * d
    variance = 1 / n_x + 1 / n_y + g**2 / (2 * (n_x + n_y))
    half = float(stats.norm.ppf(0.5 + ci / 2)) * math.sqrt(variance)
    return EffectSize(g=g, d=d, correction=correction, variance=variance, ci_low=g - half, ci_high=g + half)


def reliable_change(sd: float, reliability: float, ci: float = 0.95) -> float:
    """The smallest change a scale of this reliability tells apart from measurement error.

    .. math::

        RC = z_{1-(1-c)/2}\\,\\sqrt{2}\\,SEM,\\quad SEM = s\\sqrt{1 - r_{xx}}

    the reliable change criterion of Jacobson & Truax (1991), also called the minimal detectable
    change (MDC95). ``s`` is the SD of the scores at baseline and ``r_xx`` the scale's
    reliability (we pass the baseline's Cronbach's alpha). It is the threshold for one person's
    change; for a group mean it is a strict one (measurement error partly averages out), which is
    why reports show it beside the confidence interval rather than instead of it.

    Matches R ``qnorm(1 - (1 - ci) / 2) * sqrt(2) * sd * sqrt(1 - rxx)`` (closed form; there is
    no package function).

    Parameters
    ----------
    sd
        Standard deviation of the person scores at baseline.
    reliability
        Reliability of the scale, between 0 and 1.
    ci
        Confidence level.

    Missing data
    ------------
    Not applicable: it takes two summary numbers (NaN gives NaN).

    Examples
    --------
    >>> round(reliable_change(0.8, 0.84), 4)
    0.887
    """
    _check_level(ci)
    if math.isnan(sd) or math.isnan(reliability):
        return math.nan
    if sd < 0:
        raise ValueError(f"sd must not be negative, not {sd}")
    if not 0 <= reliability <= 1:
        raise ValueError(f"reliability must lie between 0 and 1, not {reliability}")
    return float(stats.norm.ppf(0.5 + ci / 2)) * math.sqrt(2) * sd * math.sqrt(1 - reliability)


@dataclass(frozen=True)
class Correlation:
    """Pearson's r with its Fisher-z interval."""

    r: float
    n: int
    ci_low: float
    ci_high: float
    p_value: float


def correlation_ci(x: ArrayLike, y: ArrayLike, ci: float = 0.95) -> Correlation:
    """Pearson correlation with the confidence interval from Fisher's z transformation.

    .. math::

        \\tanh\\big(\\operatorname{atanh} r \\pm z_{1-(1-c)/2} / \\sqrt{n - 3}\\big)

    (Fisher 1921). The p value is that of ``t = r √(n-2) / √(1-r²)`` on ``n - 2`` df.

    Matches R ``cor.test(x, y, method = "pearson", conf.level = ci)``: ``$estimate``,
    ``$conf.int`` and ``$p.value``.

    Parameters
    ----------
    x, y
        Paired values (e.g. the youth and the parent mean of each professional).
    ci
        Confidence level.

    Returns
    -------
    Correlation
        The interval is NaN below four pairs (R gives none either); r is NaN when either
        variable is constant.

    Missing data
    ------------
    Pairs with a NaN in either value are dropped (complete pairs, as ``cor.test``); at least
    three pairs are needed.

    Examples
    --------
    >>> result = correlation_ci([1, 2, 3, 4, 5], [2, 1, 4, 3, 5])
    >>> round(result.r, 2), round(result.ci_low, 4), round(result.ci_high, 4)
    (0.8, -0.2796, 0.9862)
    """
    _check_level(ci)
    first = np.asarray(x, dtype=np.float64).reshape(-1)
    second = np.asarray(y, dtype=np.float64).reshape(-1)
    if first.shape != second.shape:
        raise ValueError("x and y must have the same length")
    if np.isinf(first).any() or np.isinf(second).any():
        raise ValueError("x and y must not hold infinite values")
    complete = ~(np.isnan(first) | np.isnan(second))
    first, second = first[complete], second[complete]
    n = int(first.size)
    if n < 3:
        raise ValueError("a correlation needs at least three complete pairs")
    if np.ptp(first) == 0 or np.ptp(second) == 0:
        return Correlation(r=math.nan, n=n, ci_low=math.nan, ci_high=math.nan, p_value=math.nan)
    r = float(np.corrcoef(first, second)[0, 1])
    r = min(1.0, max(-1.0, r))
    if abs(r) < 1:
        t = r * math.sqrt(n - 2) / math.sqrt(1 - r**2)
        p_value = float(2 * stats.t.sf(abs(t), n - 2))
    else:
        p_value = 0.0
    low = high = math.nan
    if n > 3:
        z = math.atanh(r) if abs(r) < 1 else math.copysign(math.inf, r)
        half = float(stats.norm.ppf(0.5 + ci / 2)) / math.sqrt(n - 3)
        low, high = math.tanh(z - half), math.tanh(z + half)
    return Correlation(r=r, n=n, ci_low=low, ci_high=high, p_value=p_value)
