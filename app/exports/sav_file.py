"""The response export as an SPSS .sav with Dutch variable and value labels.

SPSS: ``pyreadstat.write_sav`` needs the whole table as one DataFrame (it cannot append), so the
.sav is built in memory and written to a temporary file that is streamed back and deleted. To bound
that memory, the table is held in the smallest types: items as nullable ``Int8`` (2 bytes per
answer), strings as categoricals (4-byte codes), ``submitted_at`` as SPSS seconds (a float, so
pyreadstat does not copy the frame to convert datetimes), scores as float64. About
``2 * items + 8 * subscales + 40`` bytes per row: ~100 MB for a million responses of a 21-item form,
plus pyreadstat's row-by-row writing (no copy). :data:`MAX_SAV_ROWS` refuses larger files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyreadstat
from sqlmodel import Session

from app.errors import AppError
from app.exports.batches import iter_batches
from app.exports.plan import LABEL_LANGUAGE, META_COLUMNS, SCORE_PREFIX, ResponseExport
from app.exports.spreadsheet import neutralise
from instrument import spss_labels
from instrument.codebook import DONT_KNOW_CODE, SKIPPED_CODE

MAX_SAV_ROWS = 2_000_000
SPSS_EPOCH_OFFSET_SECONDS = 12_219_379_200
"""Seconds from SPSS's epoch (1582-10-14) to the Unix epoch (1970-01-01)."""
MAX_SAV_FILE_LABEL = 64
_STRING_META = ("form", "instrument_version", "language", "professional_code", "team_name")


class ExportTooLarge(AppError):
    status = 413


class _Interned:
    """A string column as int32 codes into a list of distinct values (a categorical).

    The values are neutralised as the CSV's text cells are (:func:`neutralise`): an SPSS file is
    opened in a spreadsheet too, after a conversion.
    """

    def __init__(self) -> None:
        self.code_of: dict[str | None, int] = {None: -1}
        self.code_of_clean: dict[str, int] = {}
        self.values: list[str] = []
        self.chunks: list[npt.NDArray[np.int32]] = []

    def add(self, values: list[str] | list[str | None]) -> None:
        code_of = self.code_of
        for value in set(values) - code_of.keys():
            clean = neutralise(value)
            if clean not in self.code_of_clean:
                self.code_of_clean[clean] = len(self.values)
                self.values.append(clean)
            code_of[value] = self.code_of_clean[clean]
        self.chunks.append(
            np.fromiter((code_of[value] for value in values), dtype=np.int32, count=len(values))
        )

    def categorical(self) -> pd.Categorical:
        codes = np.concatenate(self.chunks) if self.chunks else np.empty(0, dtype=np.int32)
        self.chunks = []
        return pd.Categorical.from_codes(codes, categories=pd.Index(self.values, dtype=object))


def response_frame(session: Session, export: ResponseExport) -> pd.DataFrame:
    """The whole export as a compact DataFrame (see the module docstring for its memory cost)."""
    strings = {name: _Interned() for name in _STRING_META}
    team_ids: list[npt.NDArray[np.int64]] = []
    submitted: list[npt.NDArray[np.float64]] = []
    answers: list[npt.NDArray[np.int8]] = []
    scores: list[npt.NDArray[np.float64]] = []
    rows = 0
    for batch in iter_batches(session, export):
        rows += batch.size
        if rows > MAX_SAV_ROWS:
            raise ExportTooLarge(
                f"The .sav export holds at most {MAX_SAV_ROWS:,} responses; export one form, or as CSV."
            )
        strings["form"].add(batch.forms)
        strings["instrument_version"].add(batch.versions)
        strings["language"].add(batch.languages)
        strings["professional_code"].add(batch.professional_codes)
        strings["team_name"].add(batch.team_names)
        team_ids.append(np.array([-1 if team is None else team for team in batch.team_ids], dtype=np.int64))
        submitted.append(
            np.array(
                [np.nan if moment is None else moment.timestamp() for moment in batch.submitted_at],
                dtype=np.float64,
            )
            + SPSS_EPOCH_OFFSET_SECONDS
        )
        answers.append(batch.answers)
        scores.append(batch.scores)

    def joined(chunks: list[Any], dtype: Any, width: int | None = None) -> Any:
        if chunks:
            return np.concatenate(chunks)
        return np.empty((0, width) if width is not None else 0, dtype=dtype)

    team_id = joined(team_ids, np.int64)
    columns: dict[str, Any] = {
        "wave_id": np.full(rows, export.wave.id, dtype=np.int32),
        "wave_name": pd.Categorical.from_codes(
            np.zeros(rows, dtype=np.int8), categories=pd.Index([neutralise(export.wave.name)], dtype=object)
        ),
        "form": strings["form"].categorical(),
        "instrument_version": strings["instrument_version"].categorical(),
        "language": strings["language"].categorical(),
        "submitted_at": joined(submitted, np.float64),
        "professional_code": strings["professional_code"].categorical(),
        "team_id": pd.arrays.IntegerArray(team_id.astype(np.int32), team_id < 0),
        "team_name": strings["team_name"].categorical(),
    }
    answer_matrix = joined(answers, np.int8, len(export.item_columns))
    answers.clear()
    for position, item in enumerate(export.item_columns):
        column = np.ascontiguousarray(answer_matrix[:, position])
        columns[item] = pd.arrays.IntegerArray(column, column == 0)
    del answer_matrix
    score_matrix = joined(scores, np.float64, len(export.score_columns))
    scores.clear()
    for position, subscale in enumerate(export.score_columns):
        columns[SCORE_PREFIX + subscale] = np.ascontiguousarray(score_matrix[:, position])
    return pd.DataFrame(columns, copy=False)


def write_sav(session: Session, export: ResponseExport, path: Path) -> int:
    """Write the export as an SPSS .sav with Dutch variable and value labels; return the row count."""
    frame = response_frame(session, export)
    item_entries = [export.entries[item] for item in export.item_columns if item in export.entries]
    item_labels, value_labels = spss_labels(item_entries, LABEL_LANGUAGE)
    column_labels: dict[str, str | None] = {name: label for name, label in META_COLUMNS}
    column_labels.update(item_labels)
    column_labels.update({SCORE_PREFIX + subscale: label for subscale, label in export.score_labels.items()})
    measure = {name: "nominal" for name, _ in META_COLUMNS}
    measure["submitted_at"] = "scale"
    measure.update({item: "ordinal" for item in export.item_columns})
    measure.update({SCORE_PREFIX + subscale: "scale" for subscale in export.score_columns})
    formats = {item: "F2.0" for item in export.item_columns}
    user_missing: dict[str, list[Any]] = {
        item: [DONT_KNOW_CODE, SKIPPED_CODE] for item in export.item_columns
    }
    formats.update({SCORE_PREFIX + subscale: "F8.3" for subscale in export.score_columns})
    formats.update({"wave_id": "F8.0", "team_id": "F8.0", "submitted_at": "DATETIME20"})
    file_label = neutralise(f"verbonden {export.wave.name} ({export.wave.instrument_version})")
    file_label = file_label.encode("utf-8")[:MAX_SAV_FILE_LABEL].decode("utf-8", "ignore")
    pyreadstat.write_sav(
        frame,
        str(path),
        file_label=file_label,
        column_labels=column_labels,
        variable_value_labels=value_labels,
        variable_measure=measure,
        variable_format=formats,
        missing_ranges=user_missing,
        note=[
            "Missende codes (user-missing): 98 = weet ik niet, 99 = niet beantwoord",
            "(voor databaseversie 0006: 99 voor beide). Lege cel: vraag niet gesteld.",
            "Scores: gemiddelde van de beantwoorde items na omscoren (1+5-x),",
            "alleen bij minstens k-1 van k beantwoorde items.",
            "professional_code is een pseudoniem; submitted_at is UTC, afgerond op het uur.",
        ],
    )
    return len(frame)
