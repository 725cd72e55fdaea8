"""Person scores on a subscale: reverse keying on the nominal scale ends, minimum-answered rule."""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np
import pandas as pd

from psychometrics._input import ItemData, as_item_matrix, check_scale_ends, item_positions


def score_scale(
    items: ItemData,
    reverse: Sequence[Hashable] = (),
    scale_min: float = 1,
    scale_max: float = 5,
    min_answered: int | None = None,
) -> pd.Series:
    r"""Mean of the answered items per respondent, after recoding the reverse-keyed items.

    .. math::

        x^{rev}_{ij} = \text{scale\_min} + \text{scale\_max} - x_{ij},\qquad
        \text{score}_i = \frac{1}{m_i}\sum_{j\ \text{answered}} x_{ij}

    where :math:`m_i` is the number of items respondent i answered. The score is NaN when
    :math:`m_i` < ``min_answered``. Reverse keying uses the **nominal** scale ends, never the
    observed minimum and maximum (``psych``'s ``check.keys``/``reverse.code`` default to the
    observed extremes, which shifts the scale when nobody chose an end point).

    Missing data: per respondent, the mean of the **answered** items (a "weet ik niet" answer must
    be passed as NaN); nothing is imputed.

    Parameters
    ----------
    items : DataFrame or 2-D array
        Rows are respondents, columns are the items of one subscale; NaN is not answered.
    reverse : sequence of item names (DataFrame columns) or positions (array), default ()
        Reverse-keyed items.
    scale_min, scale_max : float, default 1 and 5
        Nominal ends of the response scale. Every answer must lie within them.
    min_answered : int, optional
        Least number of answered items for a valid score. Default: the instrument's rule, k - 1
        of k items (at least 1).

    Returns
    -------
    Series
        One score per row (the DataFrame's index, or 0..n-1), named ``"score"``, always within
        ``[scale_min, scale_max]`` or NaN.

    Raises
    ------
    ValueError
        An answer outside the scale, ``scale_min >= scale_max``, an unknown reverse item,
        ``min_answered`` outside 1..k.

    Examples
    --------
    Matches R ``rowMeans(x_recoded, na.rm = TRUE)`` with
    ``x_recoded[, rev] <- scale_min + scale_max - x[, rev]`` and the count rule
    ``ifelse(rowSums(!is.na(x)) >= min_answered, ..., NA)``.

    >>> import numpy as np
    >>> score_scale(np.array([[1, 5, np.nan, 2], [4, 4, 4, 4.0]]), reverse=[1]).tolist()
    [1.3333333333333333, 3.5]
    """
    check_scale_ends(scale_min, scale_max)
    matrix = as_item_matrix(items, min_items=1)
    values = matrix.values
    n_rows, k = values.shape
    if min_answered is None:
        min_answered = max(k - 1, 1)
    if isinstance(min_answered, bool) or not isinstance(min_answered, int | np.integer):
        raise TypeError(f"min_answered must be an integer, got {min_answered!r}")
    if not 1 <= min_answered <= k:
        raise ValueError(f"min_answered must be between 1 and the number of items ({k}), got {min_answered}")
    reversed_positions = set(item_positions(reverse, matrix.names, "reverse"))
    total = np.zeros(n_rows)
    n_answered = np.full(n_rows, float(k))
    # scratch columns reused per item: fresh large temporaries cost page faults
    answer, contiguous = np.empty(n_rows), np.empty(n_rows)
    for position in range(k):
        column = values[:, position]
        if not column.flags.c_contiguous:
            np.copyto(contiguous, column)  # one strided read instead of one per pass
            column = contiguous
        lowest, highest = np.fmin.reduce(column), np.fmax.reduce(column)
        if np.isinf(lowest) or np.isinf(highest):
            raise ValueError("items contain infinite values; use NaN for a missing answer")
        if lowest < scale_min or highest > scale_max:
            raise ValueError(
                f"answers must lie within the scale {scale_min}..{scale_max}; "
                f"item {matrix.names[position]!r} has {lowest}..{highest}"
            )
        # answered values lie in [scale_min, scale_max]: fmax(x, scale_min) leaves them alone and
        # turns a missing answer (NaN) into scale_min, which is taken off again below
        np.fmax(column, scale_min, out=answer)
        if position in reversed_positions:
            np.subtract(scale_min + scale_max, answer, out=answer)
        total += answer
        missing_rows = np.flatnonzero(np.isnan(column))
        if missing_rows.size:
            # a missing reversed item added scale_max, a missing plain item scale_min
            total[missing_rows] -= scale_max if position in reversed_positions else scale_min
            n_answered[missing_rows] -= 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        score = np.divide(total, n_answered, out=total)
    score[n_answered < min_answered] = np.nan
    # guard against rounding just past the ends (e.g. 5.000000000000001)
    np.clip(score, scale_min, scale_max, out=score)
    return pd.Series(score, index=matrix.index, name="score")
