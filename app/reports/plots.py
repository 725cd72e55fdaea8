"""Inline SVG plots for the printable HTML report: no JavaScript, no external files.

Each function takes numbers that disclosure control has already passed (suppressed cells are
None and left out) and returns markup that Jinja inserts as is; every text is escaped here.
Numbers are written by the report's :class:`app.reports.language.Say` (a decimal comma in Dutch).
Text is 12 px and plots are at most about 700 px wide, so they stay readable when a printed A4
page scales them to its 190 mm.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

from app.reports.language import Say

# Print-friendly, colour-blind-safe (Okabe-Ito) palette; the five answer points run from red to blue.
POINT_COLOURS = ("#d55e00", "#e69f00", "#bbbbbb", "#56b4e9", "#0072b2")
SERIES_COLOURS = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9")
SERIES_SHAPES = ("circle", "square")
FONT_SIZE = 12
FONT = f'font-family="system-ui, Arial, sans-serif" font-size="{FONT_SIZE}"'
CHAR_WIDTH = 7.0
"""Approximate width of one character at 12 px, to lay out labels without measuring them."""


def _svg(width: float, height: float, body: list[str], title: str) -> Markup:
    # Safe: every text that reaches ``body`` went through html.escape in this module.
    return Markup(  # noqa: S704
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" role="img" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>"
    )


def _ticks(low: float, high: float) -> list[float]:
    step = 1.0 if high - low > 2.5 else 0.5
    first = math.ceil(low / step) * step
    return [first + index * step for index in range(int((high - first) / step + 1e-9) + 1)]


def _axis(
    x0: float, x1: float, y: float, low: float, high: float, say: Say, *, grid_top: float | None = None
) -> list[str]:
    parts = [f'<line x1="{x0:.1f}" y1="{y:.1f}" x2="{x1:.1f}" y2="{y:.1f}" stroke="#444"/>']
    for tick in _ticks(low, high):
        x = x0 + (tick - low) / (high - low) * (x1 - x0)
        if grid_top is not None:
            parts.append(
                f'<line x1="{x:.1f}" y1="{grid_top:.1f}" x2="{x:.1f}" y2="{y:.1f}" stroke="#e4e4e4"/>'
            )
        parts.append(f'<line x1="{x:.1f}" y1="{y:.1f}" x2="{x:.1f}" y2="{y + 4:.1f}" stroke="#444"/>')
        label = say.number(tick, 0 if float(tick).is_integer() else 1)
        parts.append(f'<text x="{x:.1f}" y="{y + 16:.1f}" text-anchor="middle" {FONT}>{label}</text>')
    return parts


def item_distribution(
    items: Sequence[tuple[str, Sequence[float]]],
    labels: Sequence[tuple[int, str]],
    title: str,
    say: Say,
) -> Markup:
    """Stacked horizontal bars: per item the share of answers at each scale point, with a legend
    that names every point by its label from the instrument ("1 Helemaal niet waar")."""
    label_width = 12 + CHAR_WIDTH * max((len(item) for item, _ in items), default=4)
    bar_width, row = 520.0, 24.0
    body: list[str] = []
    for index, (item, shares) in enumerate(items):
        y = 6 + index * row
        body.append(
            f'<text x="{label_width - 6:.0f}" y="{y + 13:.1f}" text-anchor="end" {FONT}>{escape(item)}</text>'
        )
        x = label_width
        for point_index, share in enumerate(shares):
            width = share * bar_width
            colour = POINT_COLOURS[point_index % len(POINT_COLOURS)]
            point, name = labels[point_index]
            body.append(
                f'<rect x="{x:.2f}" y="{y:.1f}" width="{width:.2f}" height="{row - 6:.0f}" fill="{colour}">'
                f"<title>{escape(item)} {point} {escape(name)}: {say.percent(share, 1)}</title></rect>"
            )
            if share >= 0.07:
                text_colour = "#fff" if point_index in (0, len(shares) - 1) else "#111"
                body.append(
                    f'<text x="{x + width / 2:.1f}" y="{y + 13:.1f}" text-anchor="middle" {FONT} '
                    f'font-size="11" fill="{text_colour}">{say.percent(share)}</text>'
                )
            x += width
    # The legend: every answer label, wrapped onto as many lines as it needs.
    legend_top = 6 + len(items) * row + 6
    x, line = label_width, 0
    right = label_width + bar_width
    for point_index, (point, name) in enumerate(labels):
        text = f"{point} {name}"
        width = 22 + CHAR_WIDTH * len(text)
        if x + width > right and x > label_width:
            x, line = label_width, line + 1
        y = legend_top + line * 18
        colour = POINT_COLOURS[point_index % len(POINT_COLOURS)]
        body.append(f'<rect x="{x:.0f}" y="{y:.0f}" width="12" height="12" fill="{colour}"/>')
        body.append(f'<text x="{x + 16:.0f}" y="{y + 11:.0f}" {FONT}>{escape(text)}</text>')
        x += width
    height = legend_top + (line + 1) * 18 + 4
    return _svg(right + 10, height, body, title)


@dataclass(frozen=True)
class Estimate:
    """One value with its interval (None where it has none); ``value`` None: not shown (hidden)."""

    value: float | None
    low: float | None = None
    high: float | None = None


@dataclass(frozen=True)
class DotRow:
    label: str
    estimates: Sequence[Estimate]
    """One per series (e.g. youth and parents), drawn one above the other so they never overlap."""


def axis_range(values: Sequence[float | None], low: float, high: float) -> tuple[float, float]:
    """A common axis for a set of panels: the values' range rounded out to half points, within the
    scale (so small differences are visible without pretending the whole scale was used)."""
    found = [value for value in values if value is not None and math.isfinite(value)]
    if not found:
        return low, high
    start = max(low, math.floor(min(found) * 2) / 2)
    end = min(high, math.ceil(max(found) * 2) / 2)
    if end - start < 1:
        middle = (start + end) / 2
        start, end = max(low, middle - 0.5), min(high, middle + 0.5)
    return start, end


def dot_panel(
    rows: Sequence[DotRow],
    low: float,
    high: float,
    title: str,
    say: Say,
    *,
    series: Sequence[str] = (),
    reference: float | None = None,
    hidden_text: str = "",
    label_width: float | None = None,
) -> Markup:
    """One panel of a dot plot: a row per group, a dot per series at its value with its 95% interval.

    Panels of the same report share ``low``/``high``, row order (by name, never by value) and
    ``label_width``, so they can be read across. ``reference`` draws a line (0 for a difference).
    """
    if label_width is None:
        label_width = 12 + CHAR_WIDTH * max((len(row.label) for row in rows), default=4)
    plot_width = 220.0
    n_series = max(1, max((len(row.estimates) for row in rows), default=1))
    row = 10.0 + 10.0 * n_series
    x0, x1 = label_width, label_width + plot_width
    top = 8.0 + (18.0 if len(series) > 1 else 0.0)

    def at(value: float) -> float:
        return x0 + (min(max(value, low), high) - low) / (high - low) * (x1 - x0)

    body: list[str] = []
    if len(series) > 1:
        x = x0
        for index, name in enumerate(series):
            colour = SERIES_COLOURS[index % len(SERIES_COLOURS)]
            body.append(_marker(SERIES_SHAPES[index % len(SERIES_SHAPES)], x + 5, 12, colour))
            body.append(f'<text x="{x + 14:.0f}" y="{16:.0f}" {FONT}>{escape(name)}</text>')
            x += 30 + CHAR_WIDTH * len(name)
    bottom = top + row * len(rows)
    body.extend(_axis(x0, x1, bottom + 2, low, high, say, grid_top=top))
    if reference is not None and low <= reference <= high:
        body.append(
            f'<line x1="{at(reference):.1f}" y1="{top:.1f}" x2="{at(reference):.1f}" y2="{bottom + 2:.1f}" '
            'stroke="#444" stroke-dasharray="3 3"/>'
        )
    for position, entry in enumerate(rows):
        y_row = top + position * row
        if position % 2 == 0:
            body.append(f'<rect x="0" y="{y_row:.1f}" width="{x1:.0f}" height="{row:.1f}" fill="#f4f4f4"/>')
        body.append(
            f'<text x="{x0 - 6:.0f}" y="{y_row + row / 2 + 4:.1f}" text-anchor="end" {FONT}>'
            f"{escape(entry.label)}</text>"
        )
        shown = [estimate for estimate in entry.estimates if estimate.value is not None]
        if not shown and hidden_text:
            body.append(
                f'<text x="{x0 + 6:.0f}" y="{y_row + row / 2 + 4:.1f}" {FONT} font-style="italic" '
                f'fill="#595959">{escape(hidden_text)}</text>'
            )
        for index, estimate in enumerate(entry.estimates):
            if estimate.value is None:
                continue
            y = y_row + 10 + index * 10 if n_series > 1 else y_row + row / 2
            colour = SERIES_COLOURS[index % len(SERIES_COLOURS)]
            if estimate.low is not None and estimate.high is not None:
                body.append(
                    f'<line x1="{at(estimate.low):.1f}" y1="{y:.1f}" x2="{at(estimate.high):.1f}" '
                    f'y2="{y:.1f}" stroke="{colour}" stroke-width="1.5" stroke-opacity="0.6"/>'
                )
            name = f" {series[index]}" if len(series) > 1 else ""
            interval = say.interval([estimate.low, estimate.high])
            tip = f"{entry.label}{name}: {say.number(estimate.value)} {interval}"
            body.append(
                _marker(SERIES_SHAPES[index % len(SERIES_SHAPES)], at(estimate.value), y, colour, escape(tip))
            )
    return _svg(x1 + 14, bottom + 24, body, title)


def _marker(shape: str, x: float, y: float, colour: str, tip: str = "") -> str:
    inner = f"<title>{tip}</title>" if tip else ""
    if shape == "square":
        return f'<rect x="{x - 4:.1f}" y="{y - 4:.1f}" width="8" height="8" fill="{colour}">{inner}</rect>'
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4.5" fill="{colour}">{inner}</circle>'


@dataclass(frozen=True)
class Interval:
    label: str
    mean: float
    low: float | None
    high: float | None


def caterpillar(intervals: Sequence[Interval], low: float, high: float, title: str, say: Say) -> Markup:
    """Means with their 95% intervals in the order given (by code, never by score: the scores are
    not for ranking); labels when there are few enough."""
    labelled = len(intervals) <= 80
    label_width = 16 + 8.0 * max((len(entry.label) for entry in intervals), default=4) if labelled else 20.0
    plot_width = 400.0
    row = 14.0 if labelled else max(1.0, min(4.0, 600.0 / max(len(intervals), 1)))
    x0, x1 = label_width, label_width + plot_width
    top = 6.0
    bottom = top + row * len(intervals)

    def at(value: float) -> float:
        return x0 + (min(max(value, low), high) - low) / (high - low) * (x1 - x0)

    body: list[str] = list(_axis(x0, x1, bottom + 2, low, high, say, grid_top=top))
    for position, entry in enumerate(intervals):
        y = top + position * row + row / 2
        if entry.low is not None and entry.high is not None:
            body.append(
                f'<line x1="{at(entry.low):.1f}" y1="{y:.1f}" x2="{at(entry.high):.1f}" y2="{y:.1f}" '
                'stroke="#56b4e9" stroke-width="1.5"/>'
            )
        radius = 3.5 if labelled else max(0.6, row / 2)
        body.append(
            f'<circle cx="{at(entry.mean):.1f}" cy="{y:.1f}" r="{radius:.1f}" fill="#0072b2">'
            f"<title>{escape(entry.label)}: {say.number(entry.mean)} {say.interval([entry.low, entry.high])}"
            "</title></circle>"
        )
        if labelled:
            body.append(
                f'<text x="{x0 - 6:.0f}" y="{y + 4:.1f}" text-anchor="end" {FONT} font-size="11">'
                f"{escape(entry.label)}</text>"
            )
    return _svg(x1 + 20, bottom + 24, body, title)
