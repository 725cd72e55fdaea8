"""Inline SVG plots for the printable HTML report: no JavaScript, no external files.

Each function takes numbers that disclosure control has already passed (suppressed cells are
None and left out) and returns markup that Jinja inserts as is; every text is escaped here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

# Print-friendly, colour-blind-safe (Okabe-Ito) palette; the five answer points run from red to blue.
POINT_COLOURS = ("#d55e00", "#e69f00", "#bbbbbb", "#56b4e9", "#0072b2")
SERIES_COLOURS = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9")
FONT = 'font-family="system-ui, Arial, sans-serif" font-size="11"'


def _svg(width: float, height: float, body: list[str], title: str) -> Markup:
    # Safe: every text that reaches ``body`` went through html.escape in this module.
    return Markup(  # noqa: S704
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" role="img" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>"
    )


def _axis(x0: float, x1: float, y: float, low: float, high: float, ticks: Sequence[float]) -> list[str]:
    parts = [f'<line x1="{x0:.1f}" y1="{y:.1f}" x2="{x1:.1f}" y2="{y:.1f}" stroke="#444"/>']
    for tick in ticks:
        x = x0 + (tick - low) / (high - low) * (x1 - x0)
        parts.append(f'<line x1="{x:.1f}" y1="{y:.1f}" x2="{x:.1f}" y2="{y + 4:.1f}" stroke="#444"/>')
        parts.append(f'<text x="{x:.1f}" y="{y + 15:.1f}" text-anchor="middle" {FONT}>{tick:g}</text>')
    return parts


def item_distribution(
    items: Sequence[tuple[str, Sequence[float]]], points: Sequence[int], title: str
) -> Markup:
    """Stacked horizontal bars: per item the share of answers at each scale point."""
    label_width, bar_width, row = 150.0, 420.0, 22.0
    height = row * len(items) + 50
    body: list[str] = []
    for index, (item, shares) in enumerate(items):
        y = 8 + index * row
        body.append(
            f'<text x="{label_width - 6:.0f}" y="{y + 13:.1f}" text-anchor="end" {FONT}>{escape(item)}</text>'
        )
        x = label_width
        for point_index, share in enumerate(shares):
            width = share * bar_width
            colour = POINT_COLOURS[point_index % len(POINT_COLOURS)]
            body.append(
                f'<rect x="{x:.2f}" y="{y:.1f}" width="{width:.2f}" height="{row - 6:.0f}" fill="{colour}">'
                f"<title>{escape(item)} {points[point_index]}: {share:.1%}</title></rect>"
            )
            if share >= 0.08:
                body.append(
                    f'<text x="{x + width / 2:.1f}" y="{y + 12:.1f}" text-anchor="middle" {FONT} '
                    f'font-size="9">{share:.0%}</text>'
                )
            x += width
    legend_y = 8 + len(items) * row + 12
    for point_index, point in enumerate(points):
        x = label_width + point_index * 60
        colour = POINT_COLOURS[point_index % len(POINT_COLOURS)]
        body.append(f'<rect x="{x:.0f}" y="{legend_y:.0f}" width="12" height="12" fill="{colour}"/>')
        body.append(f'<text x="{x + 16:.0f}" y="{legend_y + 10:.0f}" {FONT}>{point}</text>')
    return _svg(label_width + bar_width + 10, height, body, title)


@dataclass(frozen=True)
class ProfileRow:
    label: str
    means: Sequence[float | None]


def profile(rows: Sequence[ProfileRow], series: Sequence[str], low: float, high: float, title: str) -> Markup:
    """One row per team: a marker per subscale mean on a common axis (a profile of the subscales)."""
    label_width, plot_width, row = 170.0, 380.0, 18.0
    x0, x1 = label_width, label_width + plot_width
    top = 24.0
    height = top + row * len(rows) + 30

    def at(value: float) -> float:
        return x0 + (value - low) / (high - low) * (x1 - x0)

    body: list[str] = []
    for index, name in enumerate(series):
        colour = SERIES_COLOURS[index % len(SERIES_COLOURS)]
        body.append(f'<circle cx="{x0 + index * 130 + 6:.0f}" cy="10" r="5" fill="{colour}"/>')
        body.append(f'<text x="{x0 + index * 130 + 14:.0f}" y="14" {FONT}>{escape(name)}</text>')
    for position, entry in enumerate(rows):
        y = top + position * row + row / 2
        body.append(
            f'<text x="{x0 - 6:.0f}" y="{y + 4:.1f}" text-anchor="end" {FONT}>{escape(entry.label)}</text>'
        )
        body.append(f'<line x1="{x0:.0f}" y1="{y:.1f}" x2="{x1:.0f}" y2="{y:.1f}" stroke="#eee"/>')
        points = [(index, mean) for index, mean in enumerate(entry.means) if mean is not None]
        if len(points) > 1:
            path = " ".join(f"{at(mean):.1f},{y:.1f}" for _, mean in sorted(points, key=lambda p: p[1]))
            body.append(f'<polyline points="{path}" fill="none" stroke="#999"/>')
        for index, mean in points:
            colour = SERIES_COLOURS[index % len(SERIES_COLOURS)]
            body.append(
                f'<circle cx="{at(mean):.1f}" cy="{y:.1f}" r="4.5" fill="{colour}">'
                f"<title>{escape(entry.label)} {escape(series[index])}: {mean:.2f}</title></circle>"
            )
    body.extend(_axis(x0, x1, top + row * len(rows) + 4, low, high, range(int(low), int(high) + 1)))
    return _svg(x1 + 20, height, body, title)


@dataclass(frozen=True)
class Interval:
    label: str
    mean: float
    low: float | None
    high: float | None


def caterpillar(intervals: Sequence[Interval], low: float, high: float, title: str) -> Markup:
    """Means sorted from low to high with their 95% intervals; labels when there are few enough."""
    ordered = sorted(intervals, key=lambda entry: entry.mean)
    labelled = len(ordered) <= 80
    label_width = 110.0 if labelled else 20.0
    plot_width = 420.0
    row = 12.0 if labelled else max(1.0, min(4.0, 600.0 / max(len(ordered), 1)))
    x0, x1 = label_width, label_width + plot_width
    top = 8.0
    height = top + row * len(ordered) + 30

    def at(value: float) -> float:
        return x0 + (min(max(value, low), high) - low) / (high - low) * (x1 - x0)

    body: list[str] = []
    for position, entry in enumerate(ordered):
        y = top + position * row + row / 2
        if entry.low is not None and entry.high is not None:
            body.append(
                f'<line x1="{at(entry.low):.1f}" y1="{y:.1f}" x2="{at(entry.high):.1f}" y2="{y:.1f}" '
                'stroke="#56b4e9" stroke-width="1.5"/>'
            )
        radius = 3 if labelled else max(0.6, row / 2)
        body.append(
            f'<circle cx="{at(entry.mean):.1f}" cy="{y:.1f}" r="{radius:.1f}" fill="#0072b2">'
            f"<title>{escape(entry.label)}: {entry.mean:.2f}</title></circle>"
        )
        if labelled:
            body.append(
                f'<text x="{x0 - 6:.0f}" y="{y + 4:.1f}" text-anchor="end" {FONT} font-size="9">'
                f"{escape(entry.label)}</text>"
            )
    body.extend(_axis(x0, x1, top + row * len(ordered) + 4, low, high, range(int(low), int(high) + 1)))
    return _svg(x1 + 20, height, body, title)
