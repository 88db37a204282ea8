"""The yearly report ("verksamhetsberättelse"): the year's figures, charts and a short summary in words.

It leaves the clinic, so every count under 5 is "<5", in the tables, the charts and the summary alike.
"""

from __future__ import annotations

import datetime

from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from kast import cached_figures, statistics
from kast import charts as charts_module
from kast.models import Clinic

#: The dashboard tables drawn as charts in the report, each with its first count column only (the total
#: where a table has one), so that every chart stays readable on paper.
CHARTS = [
    "sessions_by_kind",
    "active_over_time",
    "contacts_by_group",
    "attendance",
    "lengths",
    "end_reasons",
    "follow_ups",
    "referred",
]


def summary(figures: statistics.Dashboard, year: int, *, all_clinics: bool) -> list[str]:
    """A few plain sentences on the year, every figure as the report shows it (counts under 5 as "<5")."""

    def shown(cell: statistics.Cell) -> str:
        return cell.shown(suppress=True)

    held = statistics.Cell(figures.held)
    per_fte = statistics.Cell(figures.held_per_fte, "number", basis=figures.held)
    values = {"year": year, "held": shown(held), "per_fte": shown(per_fte)}
    if per_fte.suppressed(True) or figures.held_per_fte is None:
        if all_clinics:
            first = _("In %(year)s the clinics held %(held)s sessions.")
        else:
            first = _("In %(year)s the clinic held %(held)s sessions.")
    elif all_clinics:
        first = _("In %(year)s the clinics held %(held)s sessions, %(per_fte)s per full-time therapist.")
    else:
        first = _("In %(year)s the clinic held %(held)s sessions, %(per_fte)s per full-time therapist.")
    new = sum(row["total"] for row in figures.contacts_by_month)
    second = _("%(new)s new contacts were registered and %(ended)s treatment periods ended.") % {
        "new": shown(statistics.Cell(new)),
        "ended": shown(statistics.Cell(figures.lengths["n"])),
    }
    median = statistics.Cell(figures.waiting["median"], "days", basis=figures.waiting["n"])
    if median.suppressed(True) or median.value is None:
        third = _("Too few clients had their first session this year for a waiting time to be given.")
    else:
        third = _("The median waiting time from first contact to first session was %(days)s days.") % {
            "days": shown(median)
        }
    fourth = _(
        "%(relatives)s relatives came for support of their own, and the children's need of support was considered "
        "on %(considered)s records."
    ) % {
        "relatives": shown(statistics.Cell(figures.relatives["new"])),
        "considered": shown(statistics.Cell(figures.children["considered"])),
    }
    return [first % values, second, third, fourth]


def charts(tables: list[statistics.Table]) -> dict[str, SafeString]:
    """The SVG chart of each table in CHARTS, by table key."""
    by_key = {table.key: table for table in tables}
    charts = {}
    for key in CHARTS:
        table = by_key[key]
        labels = [row.label for row in table.rows]
        cells = [row.cells[0] for row in table.rows]
        series = charts_module.Series(
            table.columns[0],
            [cell.chart_value(suppress=True) for cell in cells],
            [cell.shown(suppress=True) for cell in cells],
        )
        description = _("%(title)s: %(column)s, per row of the table below.") % {
            "title": table.title,
            "column": table.columns[0],
        }
        svg = charts_module.bar_chart_svg(
            table.title,
            labels,
            [series],
            description=description,
            empty_text=_("No data for this year"),
            id_prefix=f"chart-{key}",
        )
        # bar_chart_svg escapes every label and title (tests/kast/test_year_report.py proves it).
        charts[key] = mark_safe(svg)  # noqa: S308
    return charts


def year_report(clinic: Clinic | None, year: int) -> dict:
    """Everything the report shows for one clinic (None: all clinics) and year."""
    figures = cached_figures.dashboard(clinic, datetime.date(year, 1, 1), datetime.date(year, 12, 31)).value
    tables = statistics.dashboard_tables(figures)
    drawn = {} if figures.is_empty else charts(tables)
    return {
        "year": year,
        "clinic": clinic,
        "figures": figures,
        "sections": [(table, drawn.get(table.key)) for table in tables],
        "summary": summary(figures, year, all_clinics=clinic is None),
    }
