"""One batch of exported responses as arrays: answers in export codes, and the subscale scores."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt
from sqlmodel import Session

from app.exports import repository
from app.exports.plan import ResponseExport
from app.models import DONT_KNOW_ANSWER, MISSING_ANSWER
from instrument.codebook import DONT_KNOW_CODE, SKIPPED_CODE
from psychometrics import score_scale

BATCH_SIZE = 5000
"""Responses read, decoded and written per step of an export."""

_EXPORT_CODE = np.zeros(256, dtype=np.int8)
_EXPORT_CODE[ord("1") : ord("9") + 1] = np.arange(1, 10)
_EXPORT_CODE[ord(DONT_KNOW_ANSWER)] = DONT_KNOW_CODE
_EXPORT_CODE[ord(MISSING_ANSWER)] = SKIPPED_CODE
"""Stored answer character -> export code (see :mod:`app.exports.plan`)."""


def export_codes(answer_strings: list[str], width: int) -> npt.NDArray[np.int8]:
    """Fixed-width answer strings -> export codes, in one numpy pass."""
    if not answer_strings:
        return np.zeros((0, width), dtype=np.int8)
    raw = np.frombuffer("".join(answer_strings).encode("ascii"), dtype=np.uint8).reshape(-1, width)
    return _EXPORT_CODE[raw]


@dataclass
class ExportBatch:
    """A batch of responses: meta columns as lists, answers (export codes; 0 = not asked) and scores."""

    size: int
    versions: list[str]
    forms: list[str]
    languages: list[str]
    submitted_at: list[datetime | None]
    professional_codes: list[str]
    team_ids: list[int | None]
    team_names: list[str | None]
    answers: npt.NDArray[np.int8]
    scores: npt.NDArray[np.float64]


def build_batch(export: ResponseExport, rows: Sequence[repository.ExportRow]) -> ExportBatch:
    """Decode a batch of stored rows: answers into export columns, then the subscale scores."""
    size = len(rows)
    answers = np.zeros((size, len(export.item_columns)), dtype=np.int8)
    scores = np.full((size, len(export.score_columns)), np.nan)
    by_layout: dict[int, list[int]] = {}
    for position, row in enumerate(rows):
        by_layout.setdefault(row[0], []).append(position)
    for layout_id, positions in by_layout.items():
        plan = export.layouts[layout_id]
        index = np.asarray(positions, dtype=np.intp)
        block = export_codes([rows[position][3] for position in positions], plan.width)
        answers[np.ix_(index, plan.columns)] = block
        for rule in plan.scores:
            items = answers[np.ix_(index, rule.items)].astype(np.float64)
            items[(items == 0) | (items >= DONT_KNOW_CODE)] = np.nan
            scores[index, rule.column] = score_scale(
                items,
                reverse=list(rule.reverse),
                scale_min=plan.scale_min,
                scale_max=plan.scale_max,
                min_answered=rule.min_answered,
            ).to_numpy()
    return ExportBatch(
        size=size,
        versions=[export.layouts[row[0]].version for row in rows],
        forms=[row[1] for row in rows],
        languages=[row[2] for row in rows],
        submitted_at=[row[4] for row in rows] if export.with_times else [None] * size,
        professional_codes=[row[5] for row in rows] if export.with_professionals else [""] * size,
        team_ids=[row[6] for row in rows],
        team_names=[row[7] for row in rows],
        answers=answers,
        scores=scores,
    )


def iter_batches(
    session: Session, export: ResponseExport, batch_size: int | None = None
) -> Iterator[ExportBatch]:
    """The export's responses, decoded and scored, one batch (default :data:`BATCH_SIZE`) at a time."""
    for rows in repository.iter_response_rows(
        session,
        wave_id=export.wave.id,  # type: ignore[arg-type]
        form=export.form,
        municipality_id=export.municipality_id,
        published_only=export.published_only,
        batch_size=batch_size or BATCH_SIZE,
    ):
        yield build_batch(export, rows)
