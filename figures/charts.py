"""Server-rendered SVG bar charts for printed reports (the yearly report PDF): no script, no external font.

Horizontal bars, one row per label and one bar per series in each row, on a drawing of fixed width whose height
follows the rows. Every label and title is escaped (django.utils.html.escape). A value of None is a figure that may
not be drawn (a count under 5 in a report that leaves the clinic): no bar, only its text. The longest bar is the
largest value; with nothing to draw (no rows, or only zeros and hidden figures) the chart says so and divides by
nothing.

The title is the SVG's <title> (its accessible name), not drawn: a printed chart stands under its section's
heading, and every drawn word is a text layout WeasyPrint pays for (docs/performance.md, "PDFs"). `as_image`
puts a chart in a page as an <img> with a data URL: WeasyPrint then reads the SVG with its XML parser, instead of
parsing, styling and boxing every node as part of the HTML first.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

WIDTH = 640
#: A row's height (its bars and its label), and the height of a chart with nothing to draw.
ROW_HEIGHT = 22
EMPTY_HEIGHT = 40
LABEL_WIDTH = 215
VALUE_WIDTH = 60
LEGEND_HEIGHT = 22
PAD = 8
FONT = "DejaVu Sans, Arial, Helvetica, sans-serif"
INK = "#111111"
GRID = "#bbbbbb"
#: Bar fills, dark enough for black text beside them and distinguishable in greyscale print.
COLOURS = ["#1f4e79", "#7f9fbf", "#4d4d4d", "#b3b3b3", "#2e7d32", "#a5d6a7"]
MAX_LABEL = 34


#: A series given as (name, values) or (name, values, shown), as Series takes them.
SeriesTuple = tuple[str, Sequence[float | int | None]] | tuple[str, Sequence[float | int | None], Sequence[str] | None]


@dataclass(frozen=True)
class Series:
    """One data set: its name (the legend), a value per label (None: not drawn) and, optionally, the text shown."""

    name: str
    values: Sequence[float | int | None]
    shown: Sequence[str] | None = None

    def text(self, i: int) -> str:
        if self.shown is not None:
            return self.shown[i]
        value = self.values[i]
        return "" if value is None else _number(value)


def _number(value: float | int) -> str:
    value = float(value)
    return str(int(value)) if value.is_integer() else f"{value:.1f}"


def _n(v: float) -> str:
    v = float(round(v, 1))
    return str(int(v)) if v.is_integer() else str(v)


def _short(label: str) -> str:
    label = str(label)
    return label if len(label) <= MAX_LABEL else label[: MAX_LABEL - 1] + "…"


def _text(s: str, x: float, y: float, size: float, *, anchor: str = "start", weight: str = "normal") -> str:
    return (
        f'<text x="{_n(x)}" y="{_n(y)}" font-size="{_n(size)}" font-weight="{weight}" text-anchor="{anchor}" '
        f'fill="{INK}">{escape(s)}</text>'
    )


def bar_chart_svg(
    title: str,
    labels: Sequence[str],
    series: Sequence[Series | SeriesTuple],
    *,
    description: str = "",
    empty_text: str | None = None,
    id_prefix: str = "chart",
    with_figures: bool = True,
) -> str:
    """The chart as an SVG string, 640 wide and a row's height per label. `series`: Series, or (name, values) /
    (name, values, shown). `with_figures`: each bar's figure written beside it; without, only a hidden figure's
    (for a chart whose table stands under it: each written word is a text layout in the PDF)."""
    drawn_series = [s if isinstance(s, Series) else Series(*s) for s in series]
    for s in drawn_series:
        if len(s.values) != len(labels) or (s.shown is not None and len(s.shown) != len(labels)):
            raise ValueError("every series needs one value per label")
    drawn = [float(v) for s in drawn_series for v in s.values if v is not None]
    largest = max(drawn, default=0.0)
    hidden = any(v is None for s in drawn_series for v in s.values)
    # Nothing to draw: no rows, or only zeros. Hidden figures still get their rows and their "<5".
    empty = not labels or not drawn_series or (largest <= 0 and not hidden)

    legend = len(drawn_series) > 1 and not empty
    height = EMPTY_HEIGHT if empty else PAD + len(labels) * ROW_HEIGHT + PAD + (LEGEND_HEIGHT if legend else 0)
    ids = f"{id_prefix}-title {id_prefix}-desc"
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" role="img" aria-labelledby="{escape(ids)}" '
        f'font-family="{FONT}" class="bar-chart">',
        f'<title id="{escape(id_prefix)}-title">{escape(title)}</title>',
        f'<desc id="{escape(id_prefix)}-desc">{escape(description or title)}</desc>',
        f'<rect x="0" y="0" width="{WIDTH}" height="{height}" fill="#ffffff"/>',
    ]
    if empty:
        out.append(_text(empty_text or _("No data"), WIDTH / 2, height / 2 + 5, 12, anchor="middle"))
        out.append("</svg>")
        return "\n".join(out)

    top = PAD
    bottom = height - PAD - (LEGEND_HEIGHT if legend else 0)
    plot_left = LABEL_WIDTH
    plot_width = WIDTH - LABEL_WIDTH - VALUE_WIDTH - PAD
    row_height = (bottom - top) / len(labels)
    bar_height = min(18.0, row_height * 0.75 / len(drawn_series))
    font = max(7.0, min(10.5, row_height * 0.7))
    out.append(
        f'<line x1="{plot_left}" y1="{_n(top)}" x2="{plot_left}" y2="{_n(bottom)}" stroke="{GRID}" stroke-width="1"/>'
    )
    for i, label in enumerate(labels):
        row_top = top + i * row_height
        group_top = row_top + (row_height - bar_height * len(drawn_series)) / 2
        out.append(_text(_short(label), plot_left - 6, row_top + row_height / 2 + font * 0.35, font, anchor="end"))
        for j, s in enumerate(drawn_series):
            value = s.values[i]
            y = group_top + j * bar_height
            length = plot_width * float(value) / largest if value is not None and largest > 0 else 0.0
            if length > 0:
                out.append(
                    f'<rect x="{plot_left}" y="{_n(y)}" width="{_n(length)}" height="{_n(bar_height * 0.9)}" '
                    f'fill="{COLOURS[j % len(COLOURS)]}"/>'
                )
            # A hidden figure is always written: without a bar, its row would read as a zero.
            text = s.text(i) if with_figures or value is None else ""
            if text:
                size = min(font, max(7.0, bar_height * 0.85))
                out.append(_text(text, plot_left + length + 4, y + bar_height * 0.45 + size * 0.35, size))
    if legend:
        x: float = PAD
        y = height - PAD - 6
        for j, s in enumerate(drawn_series):
            colour = COLOURS[j % len(COLOURS)]
            out.append(f'<rect x="{_n(x)}" y="{_n(y - 9)}" width="10" height="10" fill="{colour}"/>')
            name = _short(s.name)
            out.append(_text(name, x + 14, y, 9))
            x += 14 + len(name) * 9 * 0.62 + 14
    out.append("</svg>")
    return "\n".join(out)


def as_image(svg: str, *, alt: str) -> SafeString:
    """The chart as an <img> with a data URL (see the module's docstring); its size is the SVG's own."""
    return format_html(
        '<img src="data:image/svg+xml;base64,{}" alt="{}">', base64.b64encode(svg.encode()).decode(), alt
    )
