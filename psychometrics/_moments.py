"""Pairwise-complete and complete-case covariance of items in one pass over the rows.

The rows are processed in blocks that fit in the CPU cache. Each block is shifted by a rough
centre (the item means of the first block) so that sums of squares do not lose precision, and
missing answers become 0 in the shifted block. With ``A`` the answered mask (0/1) and ``X0`` the
shifted block, three small matrix products hold everything the pairwise covariance needs:

* ``X0'X0``  -- cross-products over rows where both items are answered,
* ``X0'A``   -- entry (i, j): sum of item i over rows where item j is answered (and i is),
* ``A'A``    -- the number of rows where both items are answered.

so that ``cov_ij = (P_ij - S_ij * S_ji / N_ij) / (N_ij - 1)``, which is R's
``cov(x, use = "pairwise.complete.obs")``. Blocks without missing values take a cheaper path.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from psychometrics._input import FloatArray

#: values per block (rows x items): about 1 MB of float64, which stays in the CPU cache
_BLOCK_VALUES = 65_536


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
    block_rows = max(1024, _BLOCK_VALUES // k)
    shift = _rough_centre(values[:1024])
    ones = np.ones(block_rows)
    ones_k = np.ones(k)
    cross = np.zeros((k, k))
    sums = np.zeros((k, k))
    counts = np.zeros((k, k))
    # for Pearson correlations on each pair's rows: sum of squares of item i where j is answered
    squares = np.zeros((k, k)) if correlations else None
    cc_cross = np.zeros((k, k)) if complete_cases else None
    cc_sums = np.zeros(k) if complete_cases else None
    n_complete = 0
    for centred, missing, weights_buffer in _centred_blocks(values, shift, block_rows):
        # centred: (k, rows) item-by-respondent view of the shifted block
        rows = centred.shape[1]
        if not missing.any():
            block_cross = centred @ centred.T
            block_sums = centred @ ones[:rows]
            cross += block_cross
            sums += block_sums[:, None]
            counts += rows
            if squares is not None:
                squares += np.diagonal(block_cross)[:, None]
            if cc_cross is not None and cc_sums is not None:
                cc_cross += block_cross
                cc_sums += block_sums
            n_complete += rows
            continue
        np.copyto(centred, 0.0, where=missing)
        weights = weights_buffer
        np.logical_not(missing, out=missing)
        np.copyto(weights, missing)
        cross += centred @ centred.T
        sums += centred @ weights.T
        counts += weights @ weights.T
        if squares is not None:
            squares += (centred * centred) @ weights.T
        complete_rows = (ones_k @ weights) == k
        n_block_complete = int(np.count_nonzero(complete_rows))
        n_complete += n_block_complete
        if cc_cross is not None and cc_sums is not None and n_block_complete:
            complete_block = centred[:, complete_rows]
            cc_cross += complete_block @ complete_block.T
            cc_sums += complete_block @ ones[:n_block_complete]
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


def _centred_blocks(
    values: FloatArray, shift: FloatArray, block_rows: int
) -> Iterator[tuple[FloatArray, NDArray[np.bool_], FloatArray]]:
    """Yield (centred, missing, weights buffer) per block of rows, each (k, rows), reusing buffers.

    Elementwise numpy operations on a (rows, k) view with a small k spend their time in the outer
    loop; so a C-ordered matrix is shifted through its flat buffer, and a Fortran-ordered one
    (what a DataFrame usually holds) through its transpose, both at memory speed, no full copy.
    """
    n_rows, k = values.shape
    if values.flags.f_contiguous and not values.flags.c_contiguous:
        by_item = values.T  # (k, n), C-contiguous
        centred_buffer = np.empty((k, block_rows))
        missing_buffer = np.empty((k, block_rows), dtype=bool)
        weights_buffer = np.empty((k, block_rows))
        column_shift = shift[:, None]
        for start in range(0, n_rows, block_rows):
            rows = min(n_rows, start + block_rows) - start
            centred = centred_buffer[:, :rows]
            np.subtract(by_item[:, start : start + rows], column_shift, out=centred)
            missing = missing_buffer[:, :rows]
            np.isnan(centred, out=missing)
            yield centred, missing, weights_buffer[:, :rows]
        return
    flat = np.ascontiguousarray(values).reshape(-1)
    tiled_shift = np.tile(shift, block_rows)
    flat_centred = np.empty(block_rows * k)
    flat_missing = np.empty(block_rows * k, dtype=bool)
    flat_weights = np.empty(block_rows * k)
    for start in range(0, n_rows, block_rows):
        rows = min(n_rows, start + block_rows) - start
        size = rows * k
        np.subtract(flat[start * k : start * k + size], tiled_shift[:size], out=flat_centred[:size])
        np.isnan(flat_centred[:size], out=flat_missing[:size])
        yield (
            flat_centred[:size].reshape(rows, k).T,
            flat_missing[:size].reshape(rows, k).T,
            flat_weights[:size].reshape(rows, k).T,
        )


def _rough_centre(block: FloatArray) -> FloatArray:
    """Item means of a few rows, ignoring NaN (0 for an item with no answers there)."""
    answered = ~np.isnan(block)
    counts = answered.sum(axis=0)
    totals = np.where(answered, block, 0.0).sum(axis=0)
    centre = np.divide(totals, counts, out=np.zeros(block.shape[1]), where=counts > 0)
    centre[~np.isfinite(centre)] = 0.0
    return np.asarray(centre, dtype=np.float64)
