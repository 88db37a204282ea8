"""A small line chart of one graded question over time, drawn on the server as SVG.

Server-side so that the page and the PDFs (WeasyPrint runs no JavaScript) show the same picture; the
table beside it holds the same answers as text, and the chart carries them in its own text alternative.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

#: Size in user units; the chart scales with its box (CSS), so these only set the proportions.
STEP = 24
HEIGHT = 30
PAD = 4


def sparkline_svg(values: Sequence[int | None], *, lowest: int, highest: int, description: str) -> SafeString:
    """`values` in time order, None where there is no answer (not asked, not answered, declined): the line breaks
    there. The higher the dot, the higher the step. `description` is the text alternative (escaped here)."""
    width = PAD * 2 + STEP * max(len(values) - 1, 1)
    span = max(highest - lowest, 1)

    def y(value: int) -> float:
        return round(PAD + (highest - value) * (HEIGHT - 2 * PAD) / span, 1)

    points = [(PAD + index * STEP, y(value)) for index, value in enumerate(values) if value is not None]
    segments: list[list[tuple[int, float]]] = []
    previous = None
    for index, value in enumerate(values):
        if value is None:
            previous = None
            continue
        point = (PAD + index * STEP, y(value))
        if previous is None:
            segments.append([point])
        else:
            segments[-1].append(point)
        previous = point
    lines = "".join(
        '<polyline fill="none" stroke="currentColor" stroke-width="1.5" points="{}"/>'.format(
            " ".join(f"{x},{y_}" for x, y_ in segment)
        )
        for segment in segments
        if len(segment) > 1
    )
    dots = "".join(f'<circle cx="{x}" cy="{y_}" r="2.5" fill="currentColor"/>' for x, y_ in points)
    frame = (
        f'<line x1="0" x2="{width}" y1="{PAD}" y2="{PAD}" stroke="#bbb" stroke-width="0.5"/>'
        f'<line x1="0" x2="{width}" y1="{HEIGHT - PAD}" y2="{HEIGHT - PAD}" stroke="#bbb" stroke-width="0.5"/>'
    )
    # Every value in the drawing is a number computed here; the one text from outside is escaped.
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="sparkline" role="img" viewBox="0 0 {width} {HEIGHT}" '
        f'width="{width}" height="{HEIGHT}"><title>{escape(description)}</title>{frame}{lines}{dots}</svg>'
    )
    return mark_safe(svg)  # noqa: S308
