"""Stored answers as numbers: the response matrix that reports and exports read."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sqlmodel import Session

from app.collection import repository
from app.models import MISSING_ANSWER

NO_TEAM = -1
NO_PROFESSIONAL = -1  # a response to a form that is not about a named professional


@dataclass(frozen=True)
class AnswerMatrix:
    """Every response of one wave and form: one row per response, one column per item.

    ``values`` holds the answers as float64 with NaN for "weet ik niet" or unanswered;
    ``professional_ids`` and ``team_ids`` (``NO_TEAM`` when the team was deleted) label the rows.
    """

    item_ids: tuple[str, ...]
    values: npt.NDArray[np.float64]
    professional_ids: npt.NDArray[np.int64]
    team_ids: npt.NDArray[np.int64]

    @property
    def n(self) -> int:
        return int(self.values.shape[0])

    def columns(self, item_ids: tuple[str, ...] | list[str]) -> npt.NDArray[np.float64]:
        """The columns of ``item_ids``, in that order."""
        index = {item_id: position for position, item_id in enumerate(self.item_ids)}
        return self.values[:, [index[item_id] for item_id in item_ids]]


def decode(answer_strings: list[str], width: int) -> npt.NDArray[np.float64]:
    """Fixed-width answer strings -> float matrix, in one numpy pass (``.`` -> NaN)."""
    if not answer_strings:
        return np.empty((0, width))
    raw = np.frombuffer("".join(answer_strings).encode("ascii"), dtype=np.uint8).reshape(-1, width)
    values = raw.astype(np.float64) - ord("0")
    values[raw == ord(MISSING_ANSWER)] = np.nan
    return values


def load_answer_matrix(
    session: Session,
    *,
    wave_id: int,
    form: str,
    municipality_id: int | None,
    item_order: tuple[str, ...] | None = None,
) -> AnswerMatrix:
    """The answers of a wave and form (of one municipality, or all for ``None``).

    Responses of different layouts (another instrument version or set of modules) are placed in
    the union of their items; an item a layout does not have is NaN for its responses. The
    columns follow ``item_order`` when given (the instrument's order), else first appearance.
    """
    rows = repository.answer_rows(session, wave_id=wave_id, form=form, municipality_id=municipality_id)
    by_layout: dict[int, list[int]] = defaultdict(list)
    for position, row in enumerate(rows):
        by_layout[row[2]].append(position)
    layout_items = {
        layout_id: layout.items for layout_id, layout in repository.layouts(session, set(by_layout)).items()
    }
    columns: list[str] = list(item_order or ())
    for items in layout_items.values():
        columns.extend(item for item in items if item not in columns)
    column_of = {item: index for index, item in enumerate(columns)}

    values = np.full((len(rows), len(columns)), np.nan)
    for layout_id, positions in by_layout.items():
        items = layout_items[layout_id]
        block = decode([rows[position][3] for position in positions], len(items))
        index = np.asarray(positions)
        values[np.ix_(index, [column_of[item] for item in items])] = block
    professional_ids = np.fromiter(
        (NO_PROFESSIONAL if row[0] is None else row[0] for row in rows), dtype=np.int64, count=len(rows)
    )
    team_ids = np.fromiter(
        (NO_TEAM if row[1] is None else row[1] for row in rows), dtype=np.int64, count=len(rows)
    )
    return AnswerMatrix(tuple(columns), values, professional_ids, team_ids)
