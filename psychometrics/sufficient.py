"""The reliability and aggregation statistics from sufficient statistics (counts, sums, cross-products).

What the reliability report and the group scores need reduces to sums that can be added up over
any partition of the respondents (per batch, per professional, per database shard): item counts,
sums and cross-products over the rows where both items of a pair are answered, the same over the
complete rows, and per group the count, sum and sum of squares of a score or an item. Each
function here equals its raw-data counterpart on the rows the sums were taken over:

========================================  ==========================================
from sums                                 raw data
========================================  ==========================================
``cronbach_alpha_from_sums``              :func:`psychometrics.cronbach_alpha`
``omega_total_from_sums``                 :func:`psychometrics.omega_total`
``item_analysis_from_sums``               :func:`psychometrics.item_analysis`
``inter_item_correlations_from_sums``     :func:`psychometrics.inter_item_correlations`
``icc_summary_from_sums``                 :func:`psychometrics.icc_summary`
``rwg_j_from_sums``                       :func:`psychometrics.rwg_j`
========================================  ==========================================

Precision: for answers on a response scale (small whole numbers) every sum is a whole number
below 2**53, so it is exact in float64 whatever order it was added in, and the statistics equal
the raw functions to rounding (1e-12 and better). Nothing here needs the raw rows, so a median or
a bootstrap cannot be computed this way.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from psychometrics._input import FloatArray
from psychometrics._moments import ItemMoments
from psychometrics.multilevel import IccSummary, OneWayAnova
from psychometrics.reliability import (
    AlphaResult,
    alpha_of_moments,
    correlations_of_moments,
    item_table_of_moments,
    omega_of_moments,
)


@dataclass(frozen=True)
class ItemSums:
    r"""Sufficient statistics of k items over a set of rows; add two with ``+``.

    With :math:`a_{ri}` = 1 where row r answers item i (else 0) and :math:`x_{ri}` the answer
    (0 where missing):

    Attributes
    ----------
    n_rows : float
        Rows (answered or not).
    n_complete : float
        Rows with every item answered.
    counts : (k, k) array
        :math:`N_{ij} = \sum_r a_{ri} a_{rj}` (the diagonal: each item's answers).
    cross : (k, k) array
        :math:`P_{ij} = \sum_r x_{ri} x_{rj}`.
    sums : (k, k) array
        :math:`S_{ij} = \sum_r x_{ri} a_{rj}` (item i over the rows where j is answered).
    squares : (k, k) array
        :math:`Q_{ij} = \sum_r x_{ri}^2 a_{rj}`.
    complete_cross : (k, k) array
        :math:`\sum_{r \in C} x_{ri} x_{rj}` over the complete rows C.
    complete_sums : (k,) array
        :math:`\sum_{r \in C} x_{ri}`.
    """

    n_rows: float
    n_complete: float
    counts: FloatArray
    cross: FloatArray
    sums: FloatArray
    squares: FloatArray
    complete_cross: FloatArray
    complete_sums: FloatArray

    @property
    def k(self) -> int:
        return int(self.counts.shape[0])

    def __add__(self, other: ItemSums) -> ItemSums:
        if not isinstance(other, ItemSums):
            return NotImplemented
        if other.k != self.k:
            raise ValueError(f"cannot add the sums of {self.k} items to those of {other.k}")
        return ItemSums(
            n_rows=self.n_rows + other.n_rows,
            n_complete=self.n_complete + other.n_complete,
            counts=self.counts + other.counts,
            cross=self.cross + other.cross,
            sums=self.sums + other.sums,
            squares=self.squares + other.squares,
            complete_cross=self.complete_cross + other.complete_cross,
            complete_sums=self.complete_sums + other.complete_sums,
        )

    def to_vector(self) -> FloatArray:
        """All sums in one flat vector (:meth:`from_vector` reads it back)."""
        return np.concatenate(
            [
                [self.n_rows, self.n_complete],
                self.counts.ravel(),
                self.cross.ravel(),
                self.sums.ravel(),
                self.squares.ravel(),
                self.complete_cross.ravel(),
                self.complete_sums,
            ]
        )

    @staticmethod
    def vector_length(k: int) -> int:
        return 2 + 5 * k * k + k

    @classmethod
    def from_vector(cls, vector: ArrayLike, k: int) -> ItemSums:
        values = np.asarray(vector, dtype=np.float64)
        if values.shape != (cls.vector_length(k),):
            raise ValueError(f"the sums of {k} items are {cls.vector_length(k)} numbers, got {values.shape}")
        square = k * k
        blocks = [values[2 + index * square : 2 + (index + 1) * square].reshape(k, k) for index in range(5)]
        counts, cross, sums, squares, complete_cross = blocks
        return cls(
            float(values[0]),
            float(values[1]),
            counts,
            cross,
            sums,
            squares,
            complete_cross,
            values[2 + 5 * square :].copy(),
        )


def item_sums(values: ArrayLike) -> ItemSums:
    """The :class:`ItemSums` of a respondents x items matrix (NaN = missing).

    Missing data: a NaN answer adds nothing to any sum; its row still counts in ``n_rows``.
    Matches R ``crossprod(x0)`` with ``x0 <- x; x0[is.na(x0)] <- 0`` (``cross``) and
    ``crossprod(!is.na(x))`` (``counts``).
    """
    matrix = np.asarray(values, dtype=np.float64)
    if matrix.ndim != 2:
        raise ValueError(f"items must be 2-D (respondents x items), got {matrix.ndim} dimension(s)")
    answered = ~np.isnan(matrix)
    filled = np.where(answered, matrix, 0.0)
    present = answered.astype(np.float64)
    complete = answered.all(axis=1)
    complete_rows = filled[complete]
    return ItemSums(
        n_rows=float(matrix.shape[0]),
        n_complete=float(np.count_nonzero(complete)),
        counts=present.T @ present,
        cross=filled.T @ filled,
        sums=filled.T @ present,
        squares=(filled * filled).T @ present,
        complete_cross=complete_rows.T @ complete_rows,
        complete_sums=complete_rows.sum(axis=0),
    )


def moments_from_sums(
    sums: ItemSums, *, complete_cases: bool = False, correlations: bool = False
) -> ItemMoments:
    """The pairwise (and complete-case) moments of :func:`psychometrics._moments.item_moments`."""
    counts, cross, totals = sums.counts, sums.cross, sums.sums
    with np.errstate(divide="ignore", invalid="ignore"):
        pair_cov = (cross - totals * totals.T / counts) / (counts - 1.0)
        pair_cov[counts < 2] = np.nan
        means = np.diagonal(totals) / np.diagonal(counts)
        pair_cor = None
        if correlations:
            var_i = sums.squares - totals * totals / counts
            pair_cor = (cross - totals * totals.T / counts) / np.sqrt(var_i * var_i.T)
            pair_cor[counts < 2] = np.nan
            np.fill_diagonal(pair_cor, np.where(np.diagonal(pair_cov) > 0, 1.0, np.nan))
    n_complete = round(sums.n_complete)
    complete_cov = None
    if complete_cases and n_complete >= 2:
        outer = np.outer(sums.complete_sums, sums.complete_sums)
        complete_cov = (sums.complete_cross - outer / n_complete) / (n_complete - 1.0)
    pair_cov = (pair_cov + pair_cov.T) / 2.0
    return ItemMoments(
        n_rows=round(sums.n_rows),
        n_complete=n_complete,
        pair_counts=counts.copy(),
        pair_cov=pair_cov,
        means=means,
        pair_cor=pair_cor,
        complete_cov=complete_cov,
    )


def _names(sums: ItemSums, names: Sequence[Hashable] | None) -> list[Hashable]:
    if names is None:
        return list(range(sums.k))
    if len(names) != sums.k:
        raise ValueError(f"{len(names)} names for {sums.k} items")
    return list(names)


def _no_rows(sums: ItemSums, what: str = "items") -> None:
    if sums.n_rows < 1:
        raise ValueError(f"{what} has no rows")


def cronbach_alpha_from_sums(
    sums: ItemSums, ci: float | None = 0.95, names: Sequence[Hashable] | None = None
) -> AlphaResult:
    """:func:`psychometrics.cronbach_alpha` from the sums of the rows; raises the same
    ``ValueError`` on the same data.

    Missing data: **pairwise** for alpha, the Feldt interval on the **complete** rows, as the
    raw function. Matches R ``psych::alpha(x)$total$raw_alpha`` (through the raw function).
    """
    if ci is not None and not 0.0 < float(ci) < 1.0:
        raise ValueError(f"ci must be between 0 and 1 (e.g. 0.95), got {ci}")
    if sums.k < 2:
        raise ValueError(f"items needs at least 2 item column(s), got {sums.k}")
    _no_rows(sums)
    return alpha_of_moments(moments_from_sums(sums), _names(sums, names), ci)


def omega_total_from_sums(sums: ItemSums, names: Sequence[Hashable] | None = None) -> float:
    """:func:`psychometrics.omega_total` from the sums.

    Missing data: **listwise** (the complete-row sums only). Matches R
    ``semTools::compRelSEM(lavaan::cfa(...))`` (through the raw function).
    """
    if sums.k < 3:
        raise ValueError(f"items needs at least 3 item column(s), got {sums.k}")
    _no_rows(sums)
    return omega_of_moments(moments_from_sums(sums, complete_cases=True), _names(sums, names))


def item_analysis_from_sums(
    sums: ItemSums,
    at_floor: ArrayLike,
    at_ceiling: ArrayLike,
    names: Sequence[Hashable] | None = None,
) -> pd.DataFrame:
    """:func:`psychometrics.item_analysis` from the sums and each item's answers at the lowest
    and at the highest scale point (``at_floor``, ``at_ceiling``: counts, one per item).

    Missing data: **pairwise**, as the raw function. Matches R ``psych::alpha(x)$item.stats``
    (through the raw function).
    """
    if sums.k < 2:
        raise ValueError(f"items needs at least 2 item column(s), got {sums.k}")
    _no_rows(sums)
    floor = np.asarray(at_floor, dtype=np.float64)
    ceiling = np.asarray(at_ceiling, dtype=np.float64)
    return item_table_of_moments(moments_from_sums(sums), _names(sums, names), floor, ceiling)


def inter_item_correlations_from_sums(
    sums: ItemSums, names: Sequence[Hashable] | None = None
) -> pd.DataFrame:
    """:func:`psychometrics.inter_item_correlations` from the sums.

    Missing data: **pairwise**. Matches R ``cor(x, use = "pairwise.complete.obs")``.
    """
    _no_rows(sums)
    return correlations_of_moments(moments_from_sums(sums, correlations=True), _names(sums, names))


def icc_summary_from_sums(
    sizes: ArrayLike, sums: ArrayLike, squares: ArrayLike, labels: ArrayLike | None = None
) -> IccSummary:
    r""":func:`psychometrics.icc_summary` from each group's count, sum and sum of squares of the score.

    Groups with no score are left out (as the raw function leaves out groups whose every score is
    missing). :math:`SS_W = \sum_j (Q_j - S_j^2 / n_j)`,
    :math:`SS_B = \sum_j n_j (S_j/n_j - S/N)^2`.

    Missing data: the sums are over the valid scores only (**listwise**, as ``aov``).
    Matches R ``multilevel::ICC1(aov(score ~ factor(group)))`` (through the raw function).

    Parameters
    ----------
    sizes, sums, squares : 1-D arrays
        Per group: the number of valid scores, their sum and their sum of squares.
    labels : 1-D array, optional
        The group labels (default 0..J-1), sorted as the raw function sorts them.
    """
    n_j = np.asarray(sizes, dtype=np.float64)
    s_j = np.asarray(sums, dtype=np.float64)
    q_j = np.asarray(squares, dtype=np.float64)
    index = pd.Index(np.arange(len(n_j)) if labels is None else np.asarray(labels), name="groups")
    present = n_j > 0
    n_groups = int(np.count_nonzero(present))
    n = round(float(n_j.sum()))
    if n_groups < 2:
        raise ValueError(f"an ICC needs at least 2 groups with a score, got {n_groups}")
    if n - n_groups < 1:
        raise ValueError("every group has a single respondent: the within-group variance is undefined")
    n_p, s_p, q_p = n_j[present], s_j[present], q_j[present]
    means = s_p / n_p
    grand = float(s_p.sum()) / n
    ssw = float(np.sum(np.maximum(q_p - s_p * means, 0.0)))
    ssb = float(np.sum(n_p * (means - grand) ** 2))
    anova = OneWayAnova(
        msb=ssb / (n_groups - 1),
        msw=ssw / (n - n_groups),
        n=n,
        n_groups=n_groups,
        group_sizes=n_p,
        labels=index[present],
    )
    return IccSummary(anova)


def rwg_j_from_sums(
    counts: ArrayLike,
    sums: ArrayLike,
    squares: ArrayLike,
    n_options: int = 5,
    labels: ArrayLike | None = None,
    present: ArrayLike | None = None,
) -> pd.Series:
    r""":func:`psychometrics.rwg_j` from each group's count, sum and sum of squares of every item.

    The within-group variance of item i is :math:`(n Q - S^2) / (n (n - 1))` over its answered
    values (exact for whole-number answers); NaN below 2 answers, as the raw function gives.

    Missing data: each item's **answered** values in the group. Matches R
    ``multilevel::rwg.j(x, grp, ranvar = (A^2 - 1) / 12)`` on complete data.

    Parameters
    ----------
    counts, sums, squares : (groups, items) arrays
        Per group and item: the answers, their sum, their sum of squares.
    n_options : int, default 5
        Number of response options A.
    labels : 1-D array, optional
        Group labels (default 0..J-1).
    present : 1-D bool array, optional
        Which groups have respondents (the raw function reports every group with a row, answered
        or not); default: groups with at least one answer.
    """
    if isinstance(n_options, bool) or not isinstance(n_options, int | np.integer) or n_options < 2:
        raise ValueError(f"n_options must be an integer of at least 2, got {n_options!r}")
    n = np.asarray(counts, dtype=np.float64)
    s = np.asarray(sums, dtype=np.float64)
    q = np.asarray(squares, dtype=np.float64)
    if n.ndim != 2 or n.shape[1] < 1:
        raise ValueError("counts must be groups x items, with at least 1 item")
    index = pd.Index(np.arange(n.shape[0]) if labels is None else np.asarray(labels), name="group")
    shown = (n.sum(axis=1) > 0) if present is None else np.asarray(present, dtype=bool)
    if not shown.any():
        raise ValueError("no respondent has a group label")
    with np.errstate(divide="ignore", invalid="ignore"):
        variances = np.where(n >= 2, np.maximum(n * q - s * s, 0.0) / (n * (n - 1.0)), np.nan)
    n_items = n.shape[1]
    null_variance = (n_options**2 - 1) / 12.0
    mean_variance = variances.sum(axis=1) / n_items
    ratio = np.minimum(mean_variance / null_variance, 1.0)
    agreement = n_items * (1.0 - ratio) / (n_items * (1.0 - ratio) + ratio)
    return pd.Series(agreement[shown], index=index[shown], name="rwg_j")
