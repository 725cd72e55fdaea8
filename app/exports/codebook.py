"""The codebook of an instrument version: every item variable with its labels, as JSON or CSV."""

from __future__ import annotations

import io
from typing import Any

from app.errors import InvalidInput, NotFound
from app.exports.spreadsheet import SafeCsvWriter
from app.instrument_versions.service import instrument_for_version, published_instrument
from instrument import CodebookEntry, Instrument, build_codebook, codebook_json, codebook_rows


def codebook_instrument(version: str | None) -> Instrument:
    """The instrument whose codebook is asked for: the published one, or a named version (else 404)."""
    if version is None:
        return published_instrument()
    try:
        return instrument_for_version(version)
    except KeyError:
        raise NotFound(f"instrument version {version} not found") from None


def codebook_entries(instrument: Instrument, form: str | None) -> list[CodebookEntry]:
    if form is not None and form not in instrument.forms:
        raise InvalidInput(
            f"Unknown form {form!r}; forms: {', '.join(instrument.forms)}.",
            errors=[{"loc": ["query", "form"], "msg": "unknown form", "type": "value_error"}],
        )
    return build_codebook(instrument, form)


def codebook_document(instrument: Instrument, entries: list[CodebookEntry]) -> dict[str, Any]:
    return {
        "instrument": instrument.id,
        "version": instrument.version,
        "languages": list(instrument.languages),
        "variables": codebook_json(entries),
    }


def codebook_csv(entries: list[CodebookEntry]) -> str:
    rows = codebook_rows(entries)
    buffer = io.StringIO()
    if rows:
        writer = SafeCsvWriter(buffer)
        writer.writerow(list(rows[0]))
        writer.writerows(
            [
                "" if value is None else str(value).lower() if isinstance(value, bool) else value
                for value in row.values()
            ]
            for row in rows
        )
    return buffer.getvalue()
