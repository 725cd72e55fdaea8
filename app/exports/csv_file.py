"""The response export as CSV, streamed batch by batch.

CSV: RFC 4180, comma-separated, ``.`` as decimal point, UTF-8 **without** a byte order mark, header
row first. R (``read.csv``, ``readr``), pandas and SPSS (``GET DATA /TYPE=TXT``) read it without
options; a BOM would turn the first column name into ``X.U.FEFF.wave_id`` in ``read.csv``. Excel
opens it correctly through Data > From Text/CSV; ``bom=true`` adds the BOM for a double-click
open in Excel (Dutch Excel then still wants ``;``, hence the .sav for SPSS users). Scores are
written with full precision (Python's shortest round-trip repr). The CSV streams: it is read from the
database in batches (a server-side cursor on PostgreSQL) and written batch by batch, so memory does
not grow with the number of rows.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Iterator
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt
from sqlmodel import Session

from app.exports.batches import iter_batches
from app.exports.plan import META_COLUMNS, ResponseExport
from app.exports.spreadsheet import SafeCsvWriter
from instrument.codebook import SKIPPED_CODE

_CELL_TEXT = np.array(["", *(str(code) for code in range(1, SKIPPED_CODE + 1))], dtype=object)
"""Answer code -> CSV cell: 0 (not asked) is empty, 1-9 the answer, 98 and 99 the missing codes."""


@functools.lru_cache(maxsize=4096)
def _iso_utc(moment: datetime | None) -> str:
    # Cached: times are rounded to the hour, so a wave has few distinct ones.
    if moment is None:
        return ""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _score_cells(scores: npt.NDArray[np.float64]) -> list[list[str]]:
    """Scores as shortest round-trip text, empty for NaN.

    A score is a mean of at most k answers on a 5-point scale, so a wave has only a few dozen
    distinct scores: each is formatted once (``repr`` is the slow part of writing a row).
    """
    text: dict[float, str] = {}
    cells = []
    for row in scores.tolist():
        line = []
        for value in row:
            cell = text.get(value)
            if cell is None:
                cell = "" if value != value else repr(value)
                if value == value:
                    text[value] = cell
            line.append(cell)
        cells.append(line)
    return cells


def iter_csv(
    session: Session, export: ResponseExport, *, bom: bool = False, batch_size: int | None = None
) -> Iterator[bytes]:
    """The CSV export as chunks of UTF-8 bytes: the header, then one chunk per batch of responses."""
    buffer = io.StringIO()
    SafeCsvWriter(buffer).writerow(export.columns)
    # Text from people sits in the wave name, the professional's code and the team name; the other
    # cells are ids, times, digits and the instrument's own words, formatted here.
    meta = [name for name, _ in META_COLUMNS]
    people_text = [meta.index(name) for name in ("wave_name", "professional_code", "team_name")]
    writer = SafeCsvWriter(buffer, text_columns=people_text)
    yield ("\ufeff" if bom else "").encode("utf-8") + buffer.getvalue().encode("utf-8")
    wave_id = str(export.wave.id)
    wave_name = export.wave.name
    for batch in iter_batches(session, export, batch_size):
        buffer.seek(0)
        buffer.truncate()
        item_cells = _CELL_TEXT[batch.answers].tolist()
        score_cells = _score_cells(batch.scores)
        writer.writerows(
            [
                wave_id,
                wave_name,
                batch.forms[row],
                batch.versions[row],
                batch.languages[row],
                _iso_utc(batch.submitted_at[row]),
                batch.professional_codes[row],
                "" if batch.team_ids[row] is None else batch.team_ids[row],
                batch.team_names[row] or "",
                *item_cells[row],
                *score_cells[row],
            ]
            for row in range(batch.size)
        )
        yield buffer.getvalue().encode("utf-8")
