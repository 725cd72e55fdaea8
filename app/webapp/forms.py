"""A refused form, in plain Dutch: the schema's (or a rule's) errors as one message per field.

The pages validate with the same schemas as the JSON API (``app/organisation/schemas.py``); this
module only says in Dutch what went wrong, so the form can be shown again with the values kept and
the message at its field.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from app.errors import AppError

FieldErrors = dict[str, str]

_BY_TYPE = {
    "missing": "Vul dit in.",
    "string_too_short": "Vul dit in.",
    "string_pattern_mismatch": "Gebruik alleen letters, cijfers, - en _ (geen spaties).",
    "datetime_from_date_parsing": "Vul een datum in, zoals 1-3-2027.",
    "datetime_parsing": "Vul een datum in, zoals 1-3-2027.",
    "datetime_type": "Vul een datum in, zoals 1-3-2027.",
    "too_long": "Kies er minder.",
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
        return f"Dit is te lang: hoogstens {limit} tekens." if limit else "Dit is te lang."
    if kind in _BY_TYPE:
        return _BY_TYPE[kind]
    text = str(error.get("msg", ""))
    if "control, zero-width" in text:
        return "Hier staat een onzichtbaar teken of stuurteken; typ de tekst opnieuw."
    if "closes_at must be after opens_at" in text:
        return "De laatste dag moet na de eerste dag liggen."
    if "outside the years" in text:
        return "Deze datum kan niet."
    if kind.startswith(("datetime", "date")):
        return _BY_TYPE["datetime_parsing"]
    return "Dit kan niet."


def _field(error: Any, fields: set[str]) -> str:
    for part in reversed([str(part) for part in error.get("loc", ())]):
        if part in fields:
            return part
    return next(iter(sorted(fields))) if fields else "form"


def field_errors(exc: ValidationError | AppError, fields: set[str], *, fallback: str) -> FieldErrors:
    """One Dutch message per form field (the first error of each), for the fields named."""
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
        found[fallback] = "Dit kan niet."
    return found
