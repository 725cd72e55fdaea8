"""Publication moments as people read them: a day in Europe/Amsterdam, in Dutch or English words."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
MONTHS = {
    "nl": (
        "januari",
        "februari",
        "maart",
        "april",
        "mei",
        "juni",
        "juli",
        "augustus",
        "september",
        "oktober",
        "november",
        "december",
    ),
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
}


def day_in_words(moment: datetime, lang: str) -> str:
    """``1 december 2026`` (nl) or ``1 December 2026`` (en), the day in Amsterdam."""
    local = moment.astimezone(AMSTERDAM)
    return f"{local.day} {MONTHS['en' if lang == 'en' else 'nl'][local.month - 1]} {local.year}"
