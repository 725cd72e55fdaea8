"""A refused form, in plain words: the schema's (or a rule's) errors as one message per field.

The pages validate with the same schemas as the JSON API (``app/organisation/schemas.py``); this
module only says what went wrong, in the page's language (:func:`app.webapp.language.say`), so the
form can be shown again with the values kept and the message at its field.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from app.errors import AppError
from app.webapp.language import say

FieldErrors = dict[str, str]

_BY_TYPE = {  # keys in templates/app/messages.yaml
    "missing": "field_missing",
    "string_too_short": "field_missing",
    "string_pattern_mismatch": "field_pattern",
    "datetime_from_date_parsing": "field_date",
    "datetime_parsing": "field_date",
    "datetime_type": "field_date",
    "too_long": "field_too_many",
}
_DUTCH_DATE = re.compile(r"^\s*(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})\s*$")


def iso_day(typed: str) -> str | None:
    """A typed day as ``YYYY-MM-DD`` (the schema reads that as the day in Europe/Amsterdam).

    Accepts what a browser's date field sends (``2027-03-01``) and the Dutch way of typing it
    (``1-3-2027``); empty is None. Anything else is passed on for the schema to refuse.
    """
    typed = typed.strip()
    if not typed:
        return None
    found = _DUTCH_DATE.match(typed)
    if found:
        day, month, year = found.groups()
        return f"{year}-{int(month):02d}-{int(day):02d}"
    return typed


def _message(error: Any) -> str:
    kind = error.get("type", "")
    if kind == "string_too_long":
        limit = (error.get("ctx") or {}).get("max_length")
        return say("field_too_long_n", n=limit) if limit else say("field_too_long")
    if kind in _BY_TYPE:
        return say(_BY_TYPE[kind])
    text = str(error.get("msg", ""))
    if "control, zero-width" in text:
        return say("field_invisible")
    if "closes_at must be after opens_at" in text:
        return say("field_closes_before")
    if "outside the years" in text:
        return say("field_date_impossible")
    if kind.startswith(("datetime", "date")):
        return say("field_date")
    return say("field_refused")


def _field(error: Any, fields: set[str]) -> str:
    for part in reversed([str(part) for part in error.get("loc", ())]):
        if part in fields:
            return part
    return next(iter(sorted(fields))) if fields else "form"


def field_errors(exc: ValidationError | AppError, fields: set[str], *, fallback: str) -> FieldErrors:
    """One message per form field (the first error of each), for the fields named."""
    found: FieldErrors = {}
    if isinstance(exc, ValidationError):
        errors: list[Any] = list(exc.errors())
    else:
        errors = list(exc.extra.get("errors") or [])
    for error in errors:
        if error.get("type") == "value_error" and "closes_at must be after" in str(error.get("msg")):
            found.setdefault("closes_at", _message(error))
            continue
        found.setdefault(_field(error, fields), _message(error))
    if not found:
        found[fallback] = say("field_refused")
    return found
