"""The dashboard's chart: % of plans vetted within 12 months over time, as inline SVG drawn on
the server from the measure history, every value in it escaped (the page inserts it as markup).
"""

from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import escape

from rapidvet.app.handbook.snapshots import MeasurePoint

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 16, 44
CHART_TITLE = "% of plans vetted within 12 months"  # FRESH_DAYS, as the SOP words it


def measure_chart_svg(points: Sequence[MeasurePoint]) -> str:
    """% of plans vetted within 12 months over time, as an inline SVG drawn on the server:
    axes with labels, the line, a dot per snapshot and a tick per merge record (each with a
    tooltip), a title and a description for screen readers; no script."""
    measured = sorted((p for p in points if p.percent is not None), key=lambda p: p.at)
    parts = _frame(measured)
    bottom, right = HEIGHT - BOTTOM, WIDTH - RIGHT
    if not measured:
        parts.append(
            f'<text x="{(LEFT + right) / 2}" y="{(TOP + bottom) / 2}" text-anchor="middle">'
            "No measurements yet</text></g></svg>"
        )
        return "".join(parts)
    first, last = measured[0].at, measured[-1].at
    span = (last - first).total_seconds()

    def x(point: MeasurePoint) -> float:
        share = (point.at - first).total_seconds() / span if span else 0.5
        return round(LEFT + share * (right - LEFT), 1)

    parts.append(
        f'<text x="{LEFT}" y="{bottom + 16}">{escape(first.date().isoformat())}</text>'
        f'<text x="{right}" y="{bottom + 16}" text-anchor="end">'
        f"{escape(last.date().isoformat())}</text>"
        f'<text x="{(LEFT + right) / 2}" y="{HEIGHT - 6}" text-anchor="middle">'
        "date of the snapshot</text></g>"
    )
    line = " ".join(f"{x(p)},{_y(p.percent or 0)}" for p in measured)
    parts.append(f'<polyline points="{line}" fill="none" stroke="currentColor" stroke-width="2"/>')
    for point in measured:
        vetted = ", ".join(f"#{n}" for n in point.vetted_in)
        note = f"{point.at.date()}: {point.percent}% of {point.plans} plans, {point.commit[:7]}"
        if vetted:
            note += f"; merge records of {vetted}"
            parts.append(
                f'<line x1="{x(point)}" y1="{TOP}" x2="{x(point)}" y2="{bottom}" '
                'stroke="currentColor" stroke-dasharray="3 3" stroke-opacity="0.5">'
                f"<title>{escape(f'Vetted in {vetted}')}</title></line>"
            )
        parts.append(
            f'<circle cx="{x(point)}" cy="{_y(point.percent or 0)}" r="3" fill="currentColor">'
            f"<title>{escape(note)}</title></circle>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _frame(measured: Sequence[MeasurePoint]) -> list[str]:
    """The chart's opening, title and description, and its percent grid and axis, left open
    in a text group the dates close."""
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" '
        'aria-labelledby="measure-chart-title measure-chart-desc">',
        f'<title id="measure-chart-title">{escape(CHART_TITLE)}</title>',
        f'<desc id="measure-chart-desc">{escape(_describe(measured))}</desc>',
    ]
    bottom, right = HEIGHT - BOTTOM, WIDTH - RIGHT
    parts.append('<g font-family="sans-serif" font-size="11" fill="currentColor">')
    for percent in (0, 50, 100):
        y = _y(percent)
        parts.append(
            f'<line x1="{LEFT}" y1="{y}" x2="{right}" y2="{y}" stroke="currentColor" '
            f'stroke-opacity="{0.6 if percent == 0 else 0.2}"/>'
            f'<text x="{LEFT - 6}" y="{y + 4}" text-anchor="end">{percent}%</text>'
        )
    parts.append(
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{bottom}" stroke="currentColor" '
        'stroke-opacity="0.6"/>'
        f'<text transform="translate(14 {(TOP + bottom) / 2}) rotate(-90)" '
        f'text-anchor="middle">{escape(CHART_TITLE)}</text>'
    )
    return parts


def _y(percent: float) -> float:
    return round(TOP + (100 - percent) / 100 * (HEIGHT - BOTTOM - TOP), 1)


def _describe(measured: Sequence[MeasurePoint]) -> str:
    if not measured:
        return "No snapshot of the handbook has measured any plan yet."
    first, last = measured[0], measured[-1]
    merges = sorted({n for p in measured for n in p.vetted_in})
    text = (
        f"From {first.percent}% on {first.at.date()} to {last.percent}% of {last.plans} plans "
        f"on {last.at.date()}, over {len(measured)} snapshots."
    )
    if merges:
        text += " Merge records: " + ", ".join(f"#{n}" for n in merges) + "."
    return text
