"""Query parameters of the export routes."""

from __future__ import annotations

from enum import StrEnum


class ResponsesFormat(StrEnum):
    """The file a response export is written as."""

    csv = "csv"
    sav = "sav"
    r = "r"
    """The CSV and an R script that loads it with labels, in one .zip (app/exports/r_export.py)."""


class CodebookFormat(StrEnum):
    json = "json"
    csv = "csv"


MAX_FORM_LENGTH = 32
MAX_VERSION_LENGTH = 20
