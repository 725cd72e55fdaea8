"""The overview on ``/app/``: the open and recent waves, what came in per form (the last 7 and 30 days
per day), what is published, what is held back and why. Counts only, never an answer or a statistic.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from markupsafe import Markup, escape
from sqlmodel import Session

from app.auth import Principal
from app.db import utcnow
from app.models import Wave
from app.publication import service as publication
from app.webapp.language import moment_text, say
from app.webapp.service import wave_forms
from app.webapp.waves import list_waves, wave_state

CHART_DAYS = 30
RECENT_DAYS = 60
"""A closed wave stays on the overview this many days after it closed."""
MAX_WAVES = 8
BAR_WIDTH = 6
BAR_GAP = 2
CHART_HEIGHT = 40


@dataclass(frozen=True)
class FormOverview:
    form: str
    received: int
    published: int
    last_7_days: int
    last_30_days: int
    chart: Markup

    @property
    def held_back(self) -> int:
        return self.received - self.published


@dataclass(frozen=True)
class WaveOverview:
    wave: Wave
    state: str
    forms: list[FormOverview]
    professionals_published: int
    professionals_waiting: int
    last_cut_at: str | None
    min_group_size: int
    per_team: bool


def bar_chart(days: list[tuple[str, int]], *, label: str) -> Markup:
    """A small inline SVG of responses per day (oldest left); the last 7 days in a darker colour.

    Presentation attributes only (``fill``, sizes), which the CSP allows without ``'unsafe-inline'``.
    """
    highest = max((count for _, count in days), default=0)
    width = len(days) * (BAR_WIDTH + BAR_GAP)
    bars = []
    for position, (day, count) in enumerate(days):
        height = 0 if highest == 0 else max(1, round(CHART_HEIGHT * count / highest)) if count else 0
        colour = "#14532d" if position >= len(days) - 7 else "#6b8f71"
        x = position * (BAR_WIDTH + BAR_GAP)
        bars.append(
            f'<rect x="{x}" y="{CHART_HEIGHT - height}" width="{BAR_WIDTH}" height="{height}" '
            f'fill="{colour}">'
            f"<title>{escape(day)}: {count}</title></rect>"
        )
    baseline = f'<rect x="0" y="{CHART_HEIGHT}" width="{width}" height="1" fill="#5f5a50"></rect>'
    svg = (
        f'<svg class="daychart" role="img" aria-label="{escape(label)}" '
        f'viewBox="0 0 {width} {CHART_HEIGHT + 1}" '
        f'width="{width * 2}" height="{(CHART_HEIGHT + 1) * 2}" xmlns="http://www.w3.org/2000/svg">'
        f"{''.join(bars)}{baseline}</svg>"
    )
    return Markup(svg)  # noqa: S704 - built from numbers and escaped day labels only


def _recent(wave: Wave, now: datetime) -> bool:
    return wave.closes_at is None or wave.closes_at > now - timedelta(days=RECENT_DAYS)


def overview(session: Session, principal: Principal, *, min_group_size: int) -> list[WaveOverview]:
    """The open, coming and recently closed waves of the caller's municipality, newest first
    (what is due is published first, as the report would)."""
    now = utcnow()
    waves = [wave for wave in list_waves(session, principal) if _recent(wave, now)][:MAX_WAVES]
    today = now.date()
    days = [(today - timedelta(days=offset)).isoformat() for offset in range(CHART_DAYS - 1, -1, -1)]
    since = datetime.combine(today - timedelta(days=CHART_DAYS - 1), datetime.min.time(), tzinfo=now.tzinfo)
    daily = publication.daily_counts(session, [wave.id for wave in waves if wave.id is not None], since)
    per_day: dict[tuple[int, str], dict[str, int]] = {}
    for wave_id, form, day, count in daily:
        per_day.setdefault((wave_id, form), {})[day] = count
    found = []
    for wave in waves:
        assert wave.id is not None
        # One publication check and one count of the wave's responses: no list of professionals.
        publication.publish_due(session, wave, min_group_size=min_group_size)
        received: dict[str, int] = {}
        published: dict[str, int] = {}
        published_professionals: set[int] = set()
        for form, professional_id, is_published, count in publication.response_counts(session, wave):
            received[form] = received.get(form, 0) + count
            if is_published:
                published[form] = published.get(form, 0) + count
                if professional_id is not None and form != "professional":
                    published_professionals.add(professional_id)
        waiting_professionals = {
            status.professional_id
            for status in publication.pending_status(session, wave, min_group_size=min_group_size)
            if status.professional_id is not None and status.pending > 0
        }
        cut = publication.latest_cut(session, wave)
        forms = []
        for form in wave_forms(wave):
            counts = per_day.get((wave.id, form), {})
            series = [(day, counts.get(day, 0)) for day in days]
            last_7 = sum(count for _, count in series[-7:])
            last_30 = sum(count for _, count in series)
            label = say("chart_label", days=CHART_DAYS, total=last_30, week=last_7)
            forms.append(
                FormOverview(
                    form,
                    received.get(form, 0),
                    published.get(form, 0),
                    last_7,
                    last_30,
                    bar_chart(series, label=label),
                )
            )
        found.append(
            WaveOverview(
                wave,
                wave_state(wave, now),
                forms,
                len(published_professionals),
                len(waiting_professionals),
                moment_text(cut.made_at) if cut is not None else None,
                min_group_size,
                per_team=not wave.professional_feedback,
            )
        )
    return found
