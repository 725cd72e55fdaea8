"""What the printed QR sheet says about time: moments in Dutch local time (Europe/Amsterdam).

The sheet is read by people in the Netherlands, so a wave that opens at 2027-03-01T08:00Z says
"vanaf 1 maart 2027 om 9.00 uur". Month names and sentences live in the template; here the
moments are only moved to local time and rounded to what a reader needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from app.organisation import qr
from app.organisation.service import PrintableInvitation, PrintSheet

SHEET_TIMEZONE = ZoneInfo("Europe/Amsterdam")


@dataclass(frozen=True)
class LocalMoment:
    """A day, and the clock time on it unless the moment is at the day's start (midnight)."""

    day: date
    clock: str | None
    """``9.00``, the Dutch way of writing a time; None at midnight."""


def _clock(moment: datetime) -> str | None:
    if moment.time() == time(0, 0):
        return None
    return f"{moment.hour}.{moment.minute:02d}"


def starts(moment: datetime | None) -> LocalMoment | None:
    """When a code starts to work: ``vanaf <day> [om <clock> uur]``."""
    if moment is None:
        return None
    local = moment.astimezone(SHEET_TIMEZONE)
    return LocalMoment(local.date(), _clock(local))


def ends(moment: datetime | None) -> LocalMoment | None:
    """When a code stops working. At midnight the last day is the day before (``t/m <day>``);
    otherwise ``tot <day> om <clock> uur``."""
    if moment is None:
        return None
    local = moment.astimezone(SHEET_TIMEZONE)
    clock = _clock(local)
    return LocalMoment(local.date() - timedelta(days=1) if clock is None else local.date(), clock)


def _entry(entry: PrintableInvitation) -> dict[str, Any]:
    return {
        "invitation": entry.invitation,
        "url": entry.url,
        "qr": qr.qr_svg_inline(entry.url),
        "works_from": starts(entry.works_from),
        "works_until": ends(entry.works_until),
    }


def context(sheet: PrintSheet) -> dict[str, Any]:
    """The template's context for ``print/invitations.html`` or ``print/self_report.html``."""
    return {
        "professional": sheet.professional,
        "wave": sheet.wave,
        "wave_from": starts(sheet.wave.opens_at),
        "wave_until": ends(sheet.wave.closes_at),
        "entries": [_entry(entry) for entry in sheet.entries],
    }
