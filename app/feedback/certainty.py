"""How sure a professional's score is, in words, and the next step that makes it surer.

The page gets one number per subscale from the reports: the reliability of the professional's
mean (Spearman-Brown on ICC(1), :func:`psychometrics.group_reliability`) over their ``n``
respondents. A number like 0.97 or -9.36 means nothing to a youth worker, and a negative value is
not a reliability at all (ICC(1) at or below zero: the professionals do not differ more than
chance yet). Here it becomes a word, the number goes to the small print only when it is a real
reliability, and "about 54 more answers" becomes the nearest step that makes a difference.

Nothing new is disclosed: the projection uses only the reliability and the ``n`` printed on the
page. With ``r`` the reliability over ``n`` respondents, Spearman-Brown gives back the ICC(1),
``rho = r / (n - (n - 1) r)``, and the reliability over ``n + m`` respondents,
``(n + m) rho / (1 + (n + m - 1) rho)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

PRECISE = 0.80
"""From here a score is "nauwkeurig" (the usual bar for decisions about one person's mean is higher)."""
FAIR = 0.70
"""From here a score is "redelijk": the reliability the reports and ``respondents_needed`` aim at."""
NEAR = 15
"""A band this many answers away or closer is named as the next step ("nog 6 antwoorden")."""
STEP = 10
"""Farther than :data:`NEAR`: what this many more answers would do."""
NOTICEABLE = 0.03
"""A rise of the reliability smaller than this is not worth asking ten more people for."""


class Band(StrEnum):
    precise = "precise"
    fair = "fair"
    unsure = "unsure"
    unknown = "unknown"
    """No reliability, or an impossible one (negative, above 1, not a number)."""


class Next(StrEnum):
    done = "done"
    """Precise already: more answers are welcome, not needed."""
    near = "near"
    """The next band is ``more`` answers away (at most :data:`NEAR`)."""
    step = "step"
    """The next band is far; :data:`STEP` more answers raise the reliability to ``projected``."""
    slow = "slow"
    """More answers hardly help: the professionals barely differ (ICC(1) near zero)."""
    unknown = "unknown"


@dataclass(frozen=True)
class Certainty:
    band: Band
    value: float | None
    """The reliability for the small print; None when there is none or it is impossible."""
    next: Next
    target: Band | None = None
    """The band that the next step reaches (``near``)."""
    more: int | None = None
    """Answers still needed for ``target`` (``near``) or :data:`STEP` (``step``)."""
    projected: float | None = None
    """The reliability after ``more`` answers (``step``)."""


def band_of(reliability: float | None) -> Band:
    if reliability is None or not math.isfinite(reliability) or not 0.0 <= reliability <= 1.0:
        return Band.unknown
    if reliability >= PRECISE:
        return Band.precise
    if reliability >= FAIR:
        return Band.fair
    return Band.unsure


def projected_reliability(reliability: float, n: int, extra: int) -> float:
    """The reliability of the mean over ``n + extra`` respondents (Spearman-Brown), 0 <= r < 1."""
    rho = reliability / (n - (n - 1) * reliability)
    total = n + extra
    return total * rho / (1 + (total - 1) * rho)


def answers_for(reliability: float, n: int, target: float) -> int | None:
    """The smallest number of extra respondents that brings the reliability to ``target``."""
    rho = reliability / (n - (n - 1) * reliability)
    if rho <= 0:
        return None
    # The same rounding as psychometrics.respondents_needed: ceil with a little slack for floats.
    needed = math.ceil(target * (1 - rho) / (rho * (1 - target)) - 1e-9)
    return max(needed - n, 1)


SHOWN_DIGITS = 2
"""The small print shows two decimals, and the word follows what it shows (0.7996 is "0,80": precise)."""


def certainty(reliability: float | None, n: int | None) -> Certainty:
    """The word, the small-print number and the next step for a reliability over ``n`` respondents."""
    if reliability is not None and math.isfinite(reliability):
        reliability = round(reliability, SHOWN_DIGITS)
    band = band_of(reliability)
    if band is Band.unknown or reliability is None or n is None or n < 1:
        return Certainty(Band.unknown, None, Next.unknown)
    if band is Band.precise:
        return Certainty(band, reliability, Next.done)
    target = Band.fair if band is Band.unsure else Band.precise
    more = answers_for(reliability, n, FAIR if target is Band.fair else PRECISE)
    if more is not None and more <= NEAR:
        return Certainty(band, reliability, Next.near, target=target, more=more)
    projected = projected_reliability(reliability, n, STEP)
    if more is None or projected - reliability < NOTICEABLE:
        return Certainty(band, reliability, Next.slow)
    return Certainty(band, reliability, Next.step, more=STEP, projected=projected)
