"""Turn the caller's items, scores and group labels into checked float64 arrays."""

from __future__ import annotations

import math
import numbers
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

FloatArray: TypeAlias = NDArray[np.float64]
IntArray: TypeAlias = NDArray[np.intp]

#: What the public functions accept as item responses: rows are respondents, columns are items,
#: NaN (or ``pd.NA``/``None``) is a missing answer.
ItemData: TypeAlias = pd.DataFrame | ArrayLike


@dataclass(frozen=True)
class ItemMatrix:
    """Item responses as a float64 matrix with the labels to report them under."""

    values: FloatArray
    names: list[Hashable]
    index: pd.Index


def as_item_matrix(items: ItemData, *, min_items: int = 1, what: str = "items") -> ItemMatrix:
    """Check and convert item responses to a 2-D float64 array without copying when possible."""
    if isinstance(items, pd.Series):
        raise TypeError(f"{what} must be a 2-D table (DataFrame or 2-D array), got a pandas Series")
    if isinstance(items, pd.DataFrame):
        bad = [str(col) for col, dtype in items.dtypes.items() if not _is_numeric_dtype(dtype)]
        if bad:
            raise TypeError(f"{what} must be numeric; non-numeric columns: {', '.join(bad)}")
        if all(dtype == np.float64 for dtype in items.dtypes):
            values = items.to_numpy(dtype=np.float64, copy=False)
        else:
            values = items.to_numpy(dtype=np.float64, na_value=np.nan)
        names: list[Hashable] = list(items.columns)
        index = items.index
    else:
        raw = np.asarray(items)
        if raw.dtype == object:
            _check_numbers(raw, what)
            try:
                raw = pd.DataFrame(raw).to_numpy(dtype=np.float64, na_value=np.nan)
            except (TypeError, ValueError) as exc:
                raise TypeError(f"{what} must be numeric: {exc}") from exc
        elif raw.dtype.kind not in "biuf":
            raise TypeError(f"{what} must be numeric, got an array of dtype {raw.dtype}")
        if raw.ndim != 2:
            raise ValueError(f"{what} must be 2-D (respondents x items), got {raw.ndim} dimension(s)")
        values = np.asarray(raw, dtype=np.float64)
        names = list(range(values.shape[1]))
        index = pd.RangeIndex(values.shape[0])
    if values.ndim != 2:
        raise ValueError(f"{what} must be 2-D (respondents x items)")
    n_rows, n_items = values.shape
    if n_items < min_items:
        raise ValueError(f"{what} needs at least {min_items} item column(s), got {n_items}")
    if n_rows == 0:
        raise ValueError(f"{what} has no rows")
    if not (values.flags.c_contiguous or values.flags.f_contiguous):
        values = np.ascontiguousarray(values)
    return ItemMatrix(values=values, names=names, index=index)


def _check_numbers(raw: NDArray[Any], what: str) -> None:
    """Refuse an object array holding anything but numbers and missing values.

    pandas would turn the string ``"3"`` into 3.0 without a word; a table read as text is a
    mistake to point out, not to guess at.
    """
    for value in raw.ravel():
        if (
            value is None
            or value is pd.NA
            or (isinstance(value, numbers.Real) and not isinstance(value, bool))
        ):
            continue
        raise TypeError(
            f"{what} must be numeric, got {value!r} ({type(value).__name__}); convert text to numbers first"
        )


def check_number(value: object, name: str) -> float:
    """``value`` as a finite float, or a TypeError/ValueError that names the parameter."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r} ({type(value).__name__})")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return number


def check_scale_ends(scale_min: object, scale_max: object) -> tuple[float | None, float | None]:
    """The nominal scale ends as floats (None stays None); scale_min must lie below scale_max."""
    low = None if scale_min is None else check_number(scale_min, "scale_min")
    high = None if scale_max is None else check_number(scale_max, "scale_max")
    if low is not None and high is not None and not low < high:
        raise ValueError(f"scale_min must be below scale_max, got {scale_min!r} and {scale_max!r}")
    return low, high


def align_labels(reference: object, labels: Any, what: str) -> Any:
    """``labels`` in the row order of ``reference`` when both carry a pandas index.

    Two pandas objects are paired by their index, never silently by position: the same index is
    used as it is, the same labels in another order are reordered to ``reference``'s, and any
    other difference is an error. Arrays and lists are paired by position.
    """
    if not isinstance(reference, pd.Series | pd.DataFrame) or not isinstance(labels, pd.Series):
        return labels
    if labels.index.equals(reference.index):
        return labels
    if (
        reference.index.is_unique
        and labels.index.is_unique
        and len(labels.index) == len(reference.index)
        and labels.index.isin(reference.index).all()
    ):
        return labels.reindex(reference.index)
    raise ValueError(
        f"{what} and the scores have different pandas indexes; pass them with the same index "
        "(or as plain arrays in the same row order)"
    )


def _is_numeric_dtype(dtype: Any) -> bool:
    return bool(pd.api.types.is_numeric_dtype(dtype)) and not pd.api.types.is_complex_dtype(dtype)


def check_finite_or_missing(values: FloatArray, what: str = "items") -> None:
    """Reject infinite values: they are neither an answer nor a missing value."""
    # fmax/fmin skip NaN, so one pass each finds an infinity without a boolean temporary.
    highest = np.fmax.reduce(values, axis=None, initial=-np.inf)
    lowest = np.fmin.reduce(values, axis=None, initial=np.inf)
    if values.size and (highest == np.inf or lowest == -np.inf):
        raise ValueError(f"{what} contain infinite values; use NaN for a missing answer")


def as_score_vector(scores: ArrayLike, what: str = "scores") -> FloatArray:
    """A 1-D float64 array of person scores (NaN = missing)."""
    if isinstance(scores, pd.DataFrame):
        raise TypeError(f"{what} must be 1-D (one score per respondent), got a DataFrame")
    if isinstance(scores, pd.Series):
        if not _is_numeric_dtype(scores.dtype):
            raise TypeError(f"{what} must be numeric, got dtype {scores.dtype}")
        values = scores.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        raw = np.asarray(scores)
        if raw.dtype == object:
            _check_numbers(raw, what)
            try:
                raw = pd.Series(raw).to_numpy(dtype=np.float64, na_value=np.nan)
            except (TypeError, ValueError) as exc:
                raise TypeError(f"{what} must be numeric: {exc}") from exc
        elif raw.dtype.kind not in "biuf":
            raise TypeError(f"{what} must be numeric, got an array of dtype {raw.dtype}")
        values = np.asarray(raw, dtype=np.float64)
    if values.ndim != 1:
        raise ValueError(f"{what} must be 1-D (one score per respondent), got {values.ndim} dimensions")
    if np.isinf(values).any():
        raise ValueError(f"{what} contain infinite values; use NaN for a missing score")
    return values


@dataclass(frozen=True)
class GroupCodes:
    """Group labels as integer codes 0..J-1 (sorted labels), -1 where the label is missing."""

    codes: IntArray
    labels: pd.Index
    #: whether some code is -1 (a missing label)
    any_missing: bool = True


def as_group_codes(groups: ArrayLike, n_rows: int, what: str = "groups") -> GroupCodes:
    """Integer codes 0..J-1 for group labels (any hashable values), -1 for a missing label.

    Labels are sorted (a Categorical keeps its category order). Integer labels, the usual case
    for database ids, are coded with a bincount over their range instead of a hash table.
    """
    if isinstance(groups, pd.DataFrame):
        raise TypeError(f"{what} must be 1-D (one label per respondent), got a DataFrame")
    if isinstance(groups, pd.Series | pd.Index) and isinstance(groups.dtype, pd.CategoricalDtype):
        groups = pd.Categorical(groups)
    if isinstance(groups, pd.Categorical):
        if len(groups) != n_rows:
            raise ValueError(f"{what} has {len(groups)} labels but there are {n_rows} respondents")
        return GroupCodes(
            codes=np.asarray(groups.codes, dtype=np.intp), labels=pd.Index(groups.categories, name=what)
        )
    labels_in = groups.to_numpy() if isinstance(groups, pd.Series | pd.Index) else np.asarray(groups)
    if labels_in.ndim != 1:
        raise ValueError(f"{what} must be 1-D (one label per respondent)")
    if len(labels_in) != n_rows:
        raise ValueError(f"{what} has {len(labels_in)} labels but there are {n_rows} respondents")
    if labels_in.dtype.kind in "iu" and n_rows:
        lowest = int(labels_in.min())
        span = int(labels_in.max()) - lowest + 1
        if span <= 4 * n_rows + 1_000_000:
            offsets = labels_in if lowest == 0 else labels_in - lowest
            offsets = offsets.astype(np.intp, copy=False)
            present = np.bincount(offsets, minlength=span) > 0
            # labels that are already 0..J-1 (after the shift) are their own codes
            codes = offsets if present.all() else (np.cumsum(present) - 1)[offsets]
            return GroupCodes(
                codes=codes,
                labels=pd.Index(np.flatnonzero(present) + lowest, name=what),
                any_missing=False,
            )
    codes, uniques = pd.factorize(labels_in, sort=True, use_na_sentinel=True)
    factor_codes = np.asarray(codes, dtype=np.intp)
    return GroupCodes(
        codes=factor_codes, labels=pd.Index(uniques, name=what), any_missing=bool((factor_codes < 0).any())
    )


def item_positions(selection: Sequence[Hashable], names: list[Hashable], what: str) -> list[int]:
    """Positions of the named items (labels for a DataFrame, integer positions for an array)."""
    if isinstance(selection, str):
        raise TypeError(f"{what} must be a sequence of item names, not a single string")
    lookup = {name: position for position, name in enumerate(names)}
    positions: list[int] = []
    for name in selection:
        if name not in lookup:
            raise ValueError(f"{what}: unknown item {name!r}; items are {names}")
        positions.append(lookup[name])
    if len(set(positions)) != len(positions):
        raise ValueError(f"{what} lists an item twice")
    return positions
