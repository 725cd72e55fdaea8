"""Stored answers as numbers: the response matrix that reports and exports read."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlmodel import Session

from app.collection import repository
from app.models import DONT_KNOW_ANSWER, MISSING_ANSWER

NO_TEAM = -1
NO_PROFESSIONAL = -1  # a response to a form that is not about a named professional


@dataclass(frozen=True)
class AnswerMatrix:
    """Every response of one wave and form: one row per response, one column per item.

    ``values`` holds the answers as float64 with NaN for "weet ik niet" or unanswered, one
    contiguous column per item (Fortran order) and read-only, so :meth:`columns` can hand out
    views; ``professional_ids`` (``NO_PROFESSIONAL`` for the self-report form, whose responses are
    about no one) and ``team_ids`` (``NO_TEAM`` when the team was deleted) label the rows.
    ``dont_know`` marks the cells where "weet ik niet" was chosen (NaN in ``values``, like a
    skipped item), same shape and order, so a report can show the don't-know share per item:
    ``matrix.dont_know[rows, column].mean()``. None when the matrix was built without it.
    ``languages`` gives each row's language (``nl``, ``en``, ...) when the matrix was read with
    ``with_languages=True`` (the structure report tests invariance across them); None otherwise.
    """

    item_ids: tuple[str, ...]
    values: npt.NDArray[np.float64]
    professional_ids: npt.NDArray[np.int64]
    team_ids: npt.NDArray[np.int64]
    dont_know: npt.NDArray[np.bool_] | None = None
    languages: npt.NDArray[np.object_] | None = None

    @property
    def n(self) -> int:
        return int(self.values.shape[0])

    def __post_init__(self) -> None:
        self.values.flags.writeable = False
        if self.dont_know is not None:
            self.dont_know.flags.writeable = False

    def dont_know_share(self, item_id: str, rows: npt.NDArray[np.bool_] | None = None) -> float | None:
        """The share of responses (all, or the ``rows`` selected) that chose "weet ik niet" for
        ``item_id``; None without responses or without the don't-know marks."""
        if self.dont_know is None:
            return None
        column = self.dont_know[:, self.item_ids.index(item_id)]
        chosen = column if rows is None else column[rows]
        return float(chosen.mean()) if len(chosen) else None

    def answered_rows(self) -> npt.NDArray[np.bool_]:
        """Per row: whether the response answers at least one item.

        A response whose every answer is "weet ik niet" is stored (README: it is a real answer), but
        says nothing about anyone's score: it must count toward no group's size.
        """
        if self.values.shape[1] == 0:
            return np.zeros(self.values.shape[0], dtype=bool)
        return np.logical_not(np.isnan(self.values).all(axis=1))

    def columns(self, item_ids: tuple[str, ...] | list[str]) -> npt.NDArray[np.float64]:
        """The columns of ``item_ids``, in that order (read-only).

        Items that stand side by side in the matrix (a subscale usually does) come as a view
        without copying; others as a copy.
        """
        index = {item_id: position for position, item_id in enumerate(self.item_ids)}
        positions = [index[item_id] for item_id in item_ids]
        if positions and positions == list(range(positions[0], positions[0] + len(positions))):
            return self.values[:, positions[0] : positions[0] + len(positions)]
        return self.values[:, positions]


def decode(answer_strings: list[str], width: int) -> npt.NDArray[np.float64]:
    """Fixed-width answer strings -> float matrix, in one numpy pass (``.`` and ``?`` -> NaN)."""
    return _decode_bytes("".join(answer_strings).encode("ascii"), width)


# character code -> answer value: digits their value, "." (skipped) and "?" (weet ik niet) NaN
# (any other byte as the subtraction gives)
_ANSWER_VALUE = np.arange(256, dtype=np.float64) - ord("0")
_ANSWER_VALUE[ord(MISSING_ANSWER)] = np.nan
_ANSWER_VALUE[ord(DONT_KNOW_ANSWER)] = np.nan
_DONT_KNOW_BYTE = ord(DONT_KNOW_ANSWER)


def _decode_bytes(joined: bytes, width: int) -> npt.NDArray[np.float64]:
    if not joined:
        return np.empty((0, width))
    raw = np.frombuffer(joined, dtype=np.uint8).reshape(-1, width)
    return _ANSWER_VALUE[raw]


def load_answer_matrix(
    session: Session,
    *,
    wave_id: int,
    form: str,
    municipality_id: int | None,
    item_order: tuple[str, ...] | None = None,
    published: bool = True,
    with_languages: bool = False,
) -> AnswerMatrix:
    """The answers of a wave and form (of one municipality, or all for ``None``).

    ``published``: only the responses of the wave's publication cut (what every output reads,
    :mod:`app.models.publication`); False reads the pending ones instead.

    Responses of different layouts (another instrument version or set of modules) are placed in
    the union of their items; an item a layout does not have is NaN for its responses. The
    columns follow ``item_order`` when given (the instrument's order), then the layouts' own order.

    ``with_languages``: also read each response's language (:attr:`AnswerMatrix.languages`), in
    one query with the answers so the rows line up (the row-by-row read, on every database).
    """
    if with_languages:
        with_language = repository.answer_rows_with_language(
            session, wave_id=wave_id, form=form, municipality_id=municipality_id, published=published
        )
        languages = np.fromiter((row[4] for row in with_language), dtype=object, count=len(with_language))
        matrix = _matrix_of_rows(session, [row[:4] for row in with_language], item_order)
        return replace(matrix, languages=languages)
    read = repository.answer_arrays(
        session, wave_id=wave_id, form=form, municipality_id=municipality_id, published=published
    )
    if read is None:
        rows = repository.answer_rows(
            session, wave_id=wave_id, form=form, municipality_id=municipality_id, published=published
        )
        return _matrix_of_rows(session, rows, item_order)
    professional_ids, team_ids, layout_ids, answers = read
    team_ids[team_ids == -1] = NO_TEAM
    return answer_matrix(session, professional_ids, team_ids, layout_ids, answers, item_order)


def _matrix_of_rows(
    session: Session,
    rows: Sequence[Sequence[Any]],
    item_order: tuple[str, ...] | None,
) -> AnswerMatrix:
    """The matrix of (professional id, team id, layout id, answers) rows."""
    count = len(rows)
    professional_ids = np.fromiter(
        (NO_PROFESSIONAL if row[0] is None else row[0] for row in rows), dtype=np.int64, count=count
    )
    team_ids = np.fromiter(
        (NO_TEAM if row[1] is None else row[1] for row in rows), dtype=np.int64, count=count
    )
    layout_ids = np.fromiter((row[2] for row in rows), dtype=np.int64, count=count)
    answers = "".join(f"{row[3]}," for row in rows).encode("ascii")
    return answer_matrix(session, professional_ids, team_ids, layout_ids, answers, item_order)


def answer_matrix(
    session: Session,
    professional_ids: npt.NDArray[np.int64],
    team_ids: npt.NDArray[np.int64],
    layout_ids: npt.NDArray[np.int64],
    answers: bytes,
    item_order: tuple[str, ...] | None = None,
) -> AnswerMatrix:
    """Decode rows of answer strings (each followed by ``,``, in ``answers``) into a matrix."""
    present = [int(layout_id) for layout_id in np.unique(layout_ids)]
    layout_items = {
        layout_id: layout.items for layout_id, layout in repository.layouts(session, set(present)).items()
    }
    columns: list[str] = list(item_order or ())
    for layout_id in present:
        columns.extend(item for item in layout_items[layout_id] if item not in columns)
    column_of = {item: index for index, item in enumerate(columns)}
    buffer = np.frombuffer(answers, dtype=np.uint8)

    if len(present) == 1:  # the common case: one layout, every row the same width
        items = layout_items[present[0]]
        targets = [column_of[item] for item in items]
        # each row is the layout's characters and a comma; the comma column is never read
        raw = buffer.reshape(-1, len(items) + 1)[:, :-1]
        dont_know = np.zeros((raw.shape[0], len(columns)), dtype=np.bool_, order="F")
        dont_know[:, targets] = raw == _DONT_KNOW_BYTE
        if targets == list(range(len(columns))):
            values = _ANSWER_VALUE[np.ascontiguousarray(raw.T)].T  # item by item: Fortran order
        else:
            values = np.full((raw.shape[0], len(columns)), np.nan, order="F")
            values[:, targets] = _ANSWER_VALUE[raw]
        return AnswerMatrix(tuple(columns), values, professional_ids, team_ids, dont_know)

    # rows of several layouts: each row's place in the buffer from the widths of the rows before it
    width_of = {layout_id: len(layout_items[layout_id]) + 1 for layout_id in present}
    row_widths = np.zeros(len(layout_ids), dtype=np.intp)
    for layout_id, width in width_of.items():
        row_widths[layout_ids == layout_id] = width
    starts = np.cumsum(row_widths) - row_widths
    values = np.full((len(layout_ids), len(columns)), np.nan, order="F")
    dont_know = np.zeros((len(layout_ids), len(columns)), dtype=np.bool_, order="F")
    for layout_id in present:
        items = layout_items[layout_id]
        columns_here = np.asarray([column_of[item] for item in items], dtype=np.intp)
        positions = np.flatnonzero(layout_ids == layout_id)
        raw = buffer[starts[positions][:, None] + np.arange(len(items))]
        values[np.ix_(positions, columns_here)] = _ANSWER_VALUE[raw]
        dont_know[np.ix_(positions, columns_here)] = raw == _DONT_KNOW_BYTE
    return AnswerMatrix(tuple(columns), values, professional_ids, team_ids, dont_know)
