"""Aggregating respondent scores to groups (professionals): ICC(1), ICC(2), group reliability, rwg(j)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from psychometrics._input import (
    FloatArray,
    IntArray,
    ItemData,
    align_labels,
    as_group_codes,
    as_item_matrix,
    as_score_vector,
    check_finite_or_missing,
    check_number,
)


@dataclass(frozen=True)
class OneWayAnova:
    """Mean squares of a one-way ANOVA of scores on group (rows with a missing score dropped)."""

    msb: float
    msw: float
    n: int
    n_groups: int
    group_sizes: FloatArray
    labels: pd.Index

    @property
    def mean_group_size(self) -> float:
        """N / J, the plain mean group size that multilevel::ICC1 uses."""
        return self.n / self.n_groups


def one_way_anova(scores: ArrayLike, groups: ArrayLike) -> OneWayAnova:
    """Between- and within-group mean squares of ``aov(score ~ factor(group))``.

    Rows with a missing score or a missing group label are dropped (listwise), as ``aov`` does.
    """
    values = as_score_vector(scores)
    grouping = as_group_codes(align_labels(scores, groups, "groups"), values.shape[0])
    codes = grouping.codes
    if grouping.any_missing:
        labelled = codes >= 0
        values = values[labelled]
        codes = codes[labelled]
    n_labels = len(grouping.labels)
    # Missing scores are usually few: zero them and correct the counts instead of compacting.
    missing_rows = np.flatnonzero(np.isnan(values))
    sizes = np.bincount(codes, minlength=n_labels).astype(np.float64)
    filled = values
    if missing_rows.size:
        sizes -= np.bincount(codes[missing_rows], minlength=n_labels)
        filled = values.copy()
        filled[missing_rows] = 0.0
    present = sizes > 0
    n_groups = int(np.count_nonzero(present))
    n = int(values.shape[0] - missing_rows.size)
    if n_groups < 2:
        raise ValueError(f"an ICC needs at least 2 groups with a score, got {n_groups}")
    if n - n_groups < 1:
        raise ValueError("every group has a single respondent: the within-group variance is undefined")
    sums = np.bincount(codes, weights=filled, minlength=n_labels)
    with np.errstate(divide="ignore", invalid="ignore"):
        means = sums / sizes
    grand = float(sums.sum()) / n
    # two passes (deviations from the group means) keep full precision, as R's aov does;
    # in place, because every fresh 8 MB temporary costs page faults
    deviations = np.take(means, codes, mode="clip")  # codes are valid indices
    np.subtract(filled, deviations, out=deviations)
    if missing_rows.size:
        deviations[missing_rows] = 0.0
    ssw = float(np.dot(deviations, deviations))
    ssb = float(np.sum(sizes[present] * (means[present] - grand) ** 2))
    msb = ssb / (n_groups - 1)
    msw = ssw / (n - n_groups)
    return OneWayAnova(
        msb=msb,
        msw=msw,
        n=n,
        n_groups=n_groups,
        group_sizes=sizes[present],
        labels=grouping.labels[present],
    )


def _icc1_from_anova(anova: OneWayAnova) -> float:
    denominator = anova.msb + (anova.mean_group_size - 1.0) * anova.msw
    if not denominator > 0.0:
        raise ValueError("the scores have no variance: ICC(1) is undefined")
    return (anova.msb - anova.msw) / denominator


@dataclass(frozen=True)
class IccSummary:
    """ICC(1), ICC(2) and the group reliabilities of one score, from a single one-way ANOVA.

    Each attribute equals the function of the same name (:func:`icc1`, :func:`icc2`,
    :func:`group_reliability`) on the same data, and raises the same ``ValueError`` when that
    function would, at the moment it is read: the ANOVA is done once, in :func:`icc_summary`.
    """

    anova: OneWayAnova

    @property
    def icc1(self) -> float:
        """ICC(1), as :func:`icc1`."""
        return _icc1_from_anova(self.anova)

    @property
    def icc2(self) -> float:
        """ICC(2), as :func:`icc2`."""
        anova = self.anova
        if not anova.msb > 0.0:
            raise ValueError("the group means do not differ (MSB = 0): ICC(2) is undefined")
        return (anova.msb - anova.msw) / anova.msb

    @property
    def group_reliability(self) -> pd.Series:
        """Reliability of each group's mean, as :func:`group_reliability`."""
        icc = _icc1_from_anova(self.anova)
        sizes = self.anova.group_sizes
        reliability = sizes * icc / (1.0 + (sizes - 1.0) * icc)
        return pd.Series(reliability, index=self.anova.labels.rename("group"), name="reliability")


def icc_summary(scores: ArrayLike, groups: ArrayLike) -> IccSummary:
    """ICC(1), ICC(2) and group reliabilities of one score from a single one-way ANOVA.

    For a report that needs all three: :func:`icc1`, :func:`icc2` and :func:`group_reliability`
    each run the ANOVA of ``aov(score ~ factor(group))`` again.

    Missing data: respondents with a missing score or group label are dropped (**listwise**).

    Parameters
    ----------
    scores : 1-D array or Series
        One score per respondent.
    groups : 1-D array or Series
        Group label per respondent.

    Returns
    -------
    IccSummary
        ``.icc1``, ``.icc2`` and ``.group_reliability``, each equal to its function.

    Raises
    ------
    ValueError
        Fewer than 2 groups with a score, only groups of one, lengths that differ; reading an
        attribute raises what its function raises (no score variance, MSB = 0).

    Examples
    --------
    Matches R ``multilevel::ICC1(aov(score ~ factor(group), data = d))`` (``.icc1``), ``ICC2``
    (``.icc2``) and ``n_j * icc / (1 + (n_j - 1) * icc)`` (``.group_reliability``), as the
    functions of those names do; ``icc_summary(scores, groups).icc1 == icc1(scores, groups)``.
    """
    return IccSummary(one_way_anova(scores, groups))


def icc1(scores: ArrayLike, groups: ArrayLike) -> float:
    r"""ICC(1): the share of score variance that lies between groups (one-way ANOVA estimator).

    .. math::

        \text{ICC}(1) = \frac{MSB - MSW}{MSB + (\bar n - 1)\,MSW},\qquad \bar n = N / J

    with N respondents in J groups; :math:`\bar n` is the plain mean group size, as in
    ``multilevel::ICC1`` (correct for unbalanced groups, where pingouin's ICC fails, pingouin#231).
    Can be negative when groups differ less than chance.

    Missing data: respondents with a missing score or group label are dropped (**listwise**).

    Parameters
    ----------
    scores : 1-D array or Series
        One score per respondent (e.g. from :func:`score_scale`).
    groups : 1-D array or Series
        Group label (professional) per respondent.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        Fewer than 2 groups, only groups of one, scores without variance, lengths that differ.

    References
    ----------
    Bliese, P. D. (2000). Within-group agreement, non-independence, and reliability. In Klein &
    Kozlowski (Eds.), *Multilevel theory, research, and methods in organizations*, 349-381.

    Examples
    --------
    Matches R ``multilevel::ICC1(aov(score ~ factor(group), data = d))``.
    """
    return icc_summary(scores, groups).icc1


def icc2(scores: ArrayLike, groups: ArrayLike) -> float:
    r"""ICC(2): the reliability of the group means (one-way ANOVA estimator).

    .. math::

        \text{ICC}(2) = \frac{MSB - MSW}{MSB}

    Missing data: respondents with a missing score or group label are dropped (**listwise**).

    Parameters
    ----------
    scores : 1-D array or Series
        One score per respondent.
    groups : 1-D array or Series
        Group label per respondent.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        As :func:`icc1`.

    Examples
    --------
    Matches R ``multilevel::ICC2(aov(score ~ factor(group), data = d))``.
    """
    return icc_summary(scores, groups).icc2


def group_reliability(scores: ArrayLike, groups: ArrayLike) -> pd.Series:
    r"""Reliability of each group's mean score: Spearman-Brown on ICC(1).

    .. math::

        \rho_j = \frac{n_j\,\text{ICC}(1)}{1 + (n_j - 1)\,\text{ICC}(1)}

    with :math:`n_j` the number of respondents with a score in group j and ICC(1) from
    :func:`icc1`. This is the formula of ``multilevel::gmeanrel``, which takes its ICC from an
    ``nlme::lme`` model; here the ANOVA ICC(1) is used. A group of one gets ICC(1) itself.

    Missing data: respondents with a missing score or group label are dropped (**listwise**).

    Parameters
    ----------
    scores : 1-D array or Series
        One score per respondent.
    groups : 1-D array or Series
        Group label per respondent.

    Returns
    -------
    Series
        Indexed by the sorted group labels, named ``"reliability"``.

    References
    ----------
    Bliese, P. D. (2000), as for :func:`icc1`; Spearman-Brown prophecy formula.

    Examples
    --------
    Matches R ``n_j * icc / (1 + (n_j - 1) * icc)`` with ``icc <- multilevel::ICC1(aov(...))`` and
    ``n_j <- table(d$group)``.
    """
    return icc_summary(scores, groups).group_reliability


def rwg_j(items: ItemData, groups: ArrayLike, n_options: int = 5) -> pd.Series:
    r"""Within-group agreement rwg(j) of each group on a J-item scale (uniform null distribution).

    .. math::

        r_{wg(J)} = \frac{J\,(1 - \bar s^2/\sigma_E^2)}{J\,(1 - \bar s^2/\sigma_E^2) + \bar s^2/\sigma_E^2},
        \qquad \sigma_E^2 = \frac{A^2 - 1}{12}

    with :math:`\bar s^2` the mean over items of the within-group item variances (n - 1
    denominator) and A the number of response options. When :math:`\bar s^2 > \sigma_E^2` the
    value is 0 (as multilevel truncates it).

    Missing data: each item's variance uses that item's **answered** values in the group (so a
    respondent who skipped one item still counts for the others). A group where some item has
    fewer than 2 answers -- in particular a group of one -- gets NaN. multilevel 2.7 (the version
    the reference was made with) drops incomplete rows first, so the two agree on complete data;
    with missing values we equal the R expression
    ``mean(apply(Q, 2, var, na.rm = TRUE))`` per group.

    Parameters
    ----------
    items : DataFrame or 2-D array
        Rows are respondents, columns are the J items of one scale.
    groups : 1-D array or Series
        Group label per respondent; rows without a label are dropped.
    n_options : int, default 5
        Number of response options A.

    Returns
    -------
    Series
        Indexed by the sorted group labels, named ``"rwg_j"``.

    References
    ----------
    James, L. R., Demaree, R. G., & Wolf, G. (1984). Estimating within-group interrater
    reliability with and without response bias. *Journal of Applied Psychology*, 69, 85-98.

    Examples
    --------
    Matches R ``multilevel::rwg.j(x, grp, ranvar = (A^2 - 1) / 12)$rwg.j`` (complete data).
    """
    if isinstance(n_options, bool) or not isinstance(n_options, int | np.integer) or n_options < 2:
        raise ValueError(f"n_options must be an integer of at least 2, got {n_options!r}")
    matrix = as_item_matrix(items, min_items=1)
    check_finite_or_missing(matrix.values)
    values = matrix.values
    grouping = as_group_codes(align_labels(items, groups, "groups"), values.shape[0])
    codes = grouping.codes
    if grouping.any_missing:
        keep = codes >= 0
        values = values[keep]
        codes = codes[keep]
    n_labels = len(grouping.labels)
    if n_labels == 0 or codes.size == 0:
        raise ValueError("no respondent has a group label")
    null_variance = (n_options**2 - 1) / 12.0
    n_items = values.shape[1]
    group_sizes = np.bincount(codes, minlength=n_labels).astype(np.float64)
    variance_sum = np.zeros(n_labels)
    # scratch columns reused for every item: fresh 8 MB temporaries cost page faults
    answers, work = np.empty(values.shape[0]), np.empty(values.shape[0])
    for item in range(n_items):
        np.copyto(answers, values[:, item])  # contiguous, whatever the layout of the table
        variance_sum += _group_variances(answers, codes, n_labels, group_sizes, work)
    mean_variance = variance_sum / n_items
    ratio = np.minimum(mean_variance / null_variance, 1.0)
    agreement = n_items * (1.0 - ratio) / (n_items * (1.0 - ratio) + ratio)
    present = group_sizes > 0
    return pd.Series(agreement[present], index=grouping.labels[present].rename("group"), name="rwg_j")


def _group_variances(
    column: FloatArray, codes: IntArray, n_labels: int, group_sizes: FloatArray, work: FloatArray
) -> FloatArray:
    """Variance (n - 1) of one item within each group over its answered values; NaN below 2 answers.

    ``column`` is a contiguous scratch copy of the item (its missing values are set to 0 here) and
    ``work`` a scratch array of the same length.
    """
    missing_rows = np.flatnonzero(np.isnan(column))
    counts = group_sizes
    if missing_rows.size:
        # answers are mostly present: correct the group sizes and zero the few gaps
        counts = group_sizes - np.bincount(codes[missing_rows], minlength=n_labels)
        column[missing_rows] = 0.0
    sums = np.bincount(codes, weights=column, minlength=n_labels)
    with np.errstate(divide="ignore", invalid="ignore"):
        means = sums / counts
    # deviations from the group means (two passes keep full precision); codes are valid indices
    np.take(means, codes, out=work, mode="clip")
    np.subtract(column, work, out=work)
    if missing_rows.size:
        work[missing_rows] = 0.0
    np.multiply(work, work, out=work)
    squares = np.bincount(codes, weights=work, minlength=n_labels)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(counts >= 2, squares / (counts - 1.0), np.nan)


def respondents_needed(icc1: float, target: float = 0.70) -> int:
    r"""Respondents a group needs before its mean reaches a target reliability (Spearman-Brown).

    .. math::

        n = \left\lceil \frac{t\,(1 - \text{ICC}(1))}{\text{ICC}(1)\,(1 - t)} \right\rceil,
        \quad t = \text{target}

    the smallest n with :math:`n\,\text{ICC}(1)/(1 + (n-1)\,\text{ICC}(1)) \ge` target. (A
    quotient that lands a rounding error above a whole number is not rounded up.)

    Parameters
    ----------
    icc1 : float
        ICC(1) of the score, in (0, 1].
    target : float, default 0.70
        Wanted reliability of the group mean, in (0, 1).

    Returns
    -------
    int
        At least 1.

    Raises
    ------
    ValueError
        ``icc1 <= 0`` (no group size reaches the target) or outside the ranges above.

    Examples
    --------
    Matches R ``ceiling(target * (1 - icc) / (icc * (1 - target)))``.

    >>> respondents_needed(0.1, 0.7)
    21
    """
    if not isinstance(icc1, int | float | np.floating) or not math.isfinite(icc1):
        raise ValueError(f"icc1 must be a finite number, got {icc1!r}")
    if not 0.0 < check_number(target, "target") < 1.0:
        raise ValueError(f"target must be between 0 and 1, got {target}")
    if icc1 <= 0.0:
        raise ValueError(f"icc1 is {icc1}: with no between-group variance no number of respondents suffices")
    if icc1 > 1.0:
        raise ValueError(f"icc1 cannot exceed 1, got {icc1}")
    exact = target * (1.0 - icc1) / (icc1 * (1.0 - target))
    needed = max(math.ceil(exact), 1)
    if needed > 1 and math.isclose(exact, needed - 1, rel_tol=1e-12, abs_tol=0.0):
        needed -= 1
    return needed
