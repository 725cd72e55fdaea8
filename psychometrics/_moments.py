"""Pairwise-complete and complete-case covariance of items in one pass over the rows.

The rows are processed in blocks that fit in the CPU cache. Missing answers become 0 in the
block ``X0`` and ``A`` is the answered mask (1/0); three small matrix products per block hold
everything the pairwise covariance needs:

* ``X0'X0``  -- cross-products over rows where both items are answered,
* ``X0'A``   -- entry (i, j): sum of item i over rows where item j is answered (and i is),
* ``A'A``    -- the number of rows where both items are answered,

so that ``cov_ij = (P_ij - S_ij * S_ji / N_ij) / (N_ij - 1)``, which is R's
``cov(x, use = "pairwise.complete.obs")``. Blocks without missing values take a cheaper path.

Precision: sums of squares lose digits when an item's mean is far from 0 relative to its spread.
For response-scale data (means of a few standard deviations) the raw values are used, and a
non-negative block is zero-filled with one ``fmax(x, 0)``; otherwise every block is shifted by a
rough centre (the item means of rows sampled over the whole matrix) first.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from psychometrics._input import FloatArray

#: values per block (rows x items): 1 MB of float64, near the CPU cache and few Python-level steps
_BLOCK_VALUES = 131_072
#: raw (unshifted) moments are used when every item's mean^2 <= this times its variance
_RAW_OFFSET_RATIO = 64.0


@dataclass(frozen=True)
class ItemMoments:
    """Sufficient statistics of an item matrix (k items)."""

    n_rows: int
    #: rows with every item answered
    n_complete: int
    #: (k, k) number of rows where both items are answered; the diagonal is each item's n
    pair_counts: FloatArray
    #: (k, k) pairwise-complete covariance (n - 1 denominator); NaN where fewer than 2 pairs
    pair_cov: FloatArray
    #: item means over each item's answered values
    means: FloatArray
    #: (k, k) pairwise-complete Pearson correlation (only when asked for), else None
    pair_cor: FloatArray | None
    #: (k, k) covariance of the complete cases (n - 1 denominator; only when asked for), else None
    complete_cov: FloatArray | None


def item_moments(
    values: FloatArray, *, complete_cases: bool = False, correlations: bool = False
) -> ItemMoments:
    """Compute pairwise (and optionally complete-case) moments of ``values`` (n x k, NaN = missing)."""
    n_rows, k = values.shape
    block_rows = max(1, min(n_rows, max(1024, _BLOCK_VALUES // k)))
    shift, raw = _choose_shift(values)
    ones = np.ones(block_rows)
    cross = np.zeros((k, k))
    sums = np.zeros((k, k))
    counts = np.zeros((k, k))
    # for Pearson correlations on each pair's rows: sum of squares of item i where j is answered
    squares = np.zeros((k, k)) if correlations else None
    cc_cross = np.zeros((k, k)) if complete_cases else None
    cc_sums = np.zeros(k) if complete_cases else None
    n_complete = 0
    for block in _blocks(values, shift, raw, block_rows):
        filled, rows = block.filled, block.rows  # (k, rows) item-by-respondent view, missing answers are 0
        block_cross = filled @ filled.T
        block_sums = filled @ ones[:rows]
        cross += block_cross
        if block.n_missing == 0:
            sums += block_sums[:, None]
            counts += rows
            if squares is not None:
                squares += np.diagonal(block_cross)[:, None]
            if cc_cross is not None and cc_sums is not None:
                cc_cross += block_cross
                cc_sums += block_sums
            n_complete += rows
            continue
        # Missing answers are usually few: correct the all-rows sums with the incomplete rows only.
        part_filled, part_missing = block.incomplete_part()  # (k, m) values and missing mask (1/0)
        n_part = part_filled.shape[1]
        both_missing = part_missing @ part_missing.T
        item_missing = np.diagonal(both_missing)
        sums += block_sums[:, None] - part_filled @ part_missing.T
        counts += rows - item_missing[:, None] - item_missing[None, :] + both_missing
        if squares is not None:
            squares += np.diagonal(block_cross)[:, None] - (part_filled * part_filled) @ part_missing.T
        n_complete += rows - n_part
        if cc_cross is not None and cc_sums is not None:
            cc_cross += block_cross - part_filled @ part_filled.T
            cc_sums += block_sums - part_filled @ ones[:n_part]
    if not (np.isfinite(cross).all() and np.isfinite(sums).all()):
        # an infinity poisons the products; NaN was zeroed, so this can only be +-inf
        raise ValueError("items contain infinite values; use NaN for a missing answer")

    with np.errstate(divide="ignore", invalid="ignore"):
        pair_cov = (cross - sums * sums.T / counts) / (counts - 1.0)
        pair_cov[counts < 2] = np.nan
        means = shift + np.diagonal(sums) / np.diagonal(counts)
        pair_cor = None
        if squares is not None:
            # R's cor(use = "pairwise"): means and variances of both items over the pair's rows
            var_i = squares - sums * sums / counts
            pair_cor = (cross - sums * sums.T / counts) / np.sqrt(var_i * var_i.T)
            pair_cor[counts < 2] = np.nan
            np.fill_diagonal(pair_cor, np.where(np.diagonal(pair_cov) > 0, 1.0, np.nan))
    complete_cov = None
    if cc_cross is not None and cc_sums is not None and n_complete >= 2:
        complete_cov = (cc_cross - np.outer(cc_sums, cc_sums) / n_complete) / (n_complete - 1.0)
    pair_cov = (pair_cov + pair_cov.T) / 2.0
    return ItemMoments(
        n_rows=n_rows,
        n_complete=n_complete,
        pair_counts=counts,
        pair_cov=pair_cov,
        means=means,
        pair_cor=pair_cor,
        complete_cov=complete_cov,
    )


class _Block:
    """One block of rows with missing answers zero-filled."""

    __slots__ = ("filled", "k", "missing", "n_missing", "row_major", "rows")

    def __init__(
        self, filled: FloatArray, missing: NDArray[np.bool_], rows: int, k: int, row_major: bool
    ) -> None:
        self.filled = filled  # (k, rows) view
        self.missing = missing  # the flat (row-major) or (k, rows) boolean buffer
        self.n_missing = int(np.count_nonzero(missing))
        self.rows = rows
        self.k = k
        self.row_major = row_major

    def incomplete_part(self) -> tuple[FloatArray, FloatArray]:
        """(k, m) zero-filled values and missing indicators (1.0) of the m rows with a missing answer."""
        if self.row_major:
            incomplete = np.zeros(self.rows, dtype=bool)
            incomplete[np.flatnonzero(self.missing) // self.k] = True
            which = np.flatnonzero(incomplete)
            by_row = self.missing.reshape(self.rows, self.k)
            # np.take is several times faster than fancy indexing for these gathers
            return (
                np.take(self.filled.T, which, axis=0).T,
                np.take(by_row, which, axis=0).astype(np.float64).T,
            )
        which = np.flatnonzero(np.logical_or.reduce(self.missing, axis=0))
        return np.take(self.filled, which, axis=1), np.take(self.missing, which, axis=1).astype(np.float64)


def _blocks(values: FloatArray, shift: FloatArray, raw: bool, block_rows: int) -> Iterator[_Block]:
    """Yield the blocks of ``values`` with missing answers zero-filled, reusing buffers.

    Elementwise numpy operations on a (rows, k) view with a small k spend their time in the outer
    loop; so a C-ordered matrix is handled through its flat buffer, and a Fortran-ordered one
    (what a DataFrame usually holds) through its transpose, both at memory speed, no full copy.
    """
    n_rows, k = values.shape
    row_major = not (values.flags.f_contiguous and not values.flags.c_contiguous)
    if row_major:
        source = np.ascontiguousarray(values).reshape(-1)
        filled_buffer = np.empty(block_rows * k)
        missing_buffer = np.empty(block_rows * k, dtype=bool)
        # a scalar 0 when the raw values are used (tiling costs more than small inputs take)
        block_shift: FloatArray | float = np.tile(shift, block_rows) if not raw else 0.0
    else:
        source = values.T  # (k, n), C-contiguous
        filled_buffer = np.empty((k, block_rows))
        missing_buffer = np.empty((k, block_rows), dtype=bool)
        block_shift = shift[:, None] if not raw else 0.0
    for start in range(0, n_rows, block_rows):
        rows = min(n_rows, start + block_rows) - start
        if row_major:
            size = rows * k
            part = source[start * k : start * k + size]
            filled, missing = filled_buffer[:size], missing_buffer[:size]
            shift_part = block_shift[:size] if isinstance(block_shift, np.ndarray) else block_shift
        else:
            part = source[:, start : start + rows]
            filled, missing = filled_buffer[:, :rows], missing_buffer[:, :rows]
            shift_part = block_shift
        np.isnan(part, out=missing)
        if raw and not np.fmin.reduce(part, axis=None) < 0.0:
            # fmax ignores NaN: for non-negative values this zero-fills in one pass
            np.fmax(part, 0.0, out=filled)
        else:
            np.subtract(part, shift_part, out=filled)
            np.copyto(filled, 0.0, where=missing)
        view = filled.reshape(rows, k).T if row_major else filled
        yield _Block(view, missing, rows, k, row_major)


#: rows looked at to choose the shift: spread evenly over the whole matrix
_SHIFT_SAMPLE_ROWS = 1024


def _choose_shift(values: FloatArray) -> tuple[FloatArray, bool]:
    """The centre to subtract, and whether raw (unshifted) moments are precise enough.

    Looks at rows spread evenly over the whole matrix (every ``n // 1024``-th row), so the choice
    does not depend on the row order of, say, the first thousand respondents; an item answered in
    fewer than two of those rows is centred on all its answers.
    """
    n_rows = values.shape[0]
    step = max(1, n_rows // _SHIFT_SAMPLE_ROWS)
    sample = values[::step]
    answered = ~np.isnan(sample)
    counts = answered.sum(axis=0)
    filled = np.where(answered, sample, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        centre = filled.sum(axis=0) / counts
        spread = (filled * filled).sum(axis=0) / counts - centre * centre
    for item in np.flatnonzero(counts < 2):
        column = values[:, item]
        column = column[~np.isnan(column)]
        if column.size:
            centre[item] = column.mean()
            spread[item] = column.var()
    centre = np.where(np.isfinite(centre), centre, 0.0)
    raw = bool(np.all(centre * centre <= _RAW_OFFSET_RATIO * np.where(np.isfinite(spread), spread, 0.0)))
    if raw:
        return np.zeros(sample.shape[1]), True
    return np.asarray(centre, dtype=np.float64), False
