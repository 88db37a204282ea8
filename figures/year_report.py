"""The yearly report ("verksamhetsberättelse"): the year's figures, charts and a short summary in words.

Each chart is a column of bars in its own table, beside the figure it draws: the label and the figure are written
once. (Drawn as an SVG of its own, a chart wrote every label again, and WeasyPrint lays SVG text out letter by
letter: the charts cost more than all the report's tables; docs/performance.md, "PDFs".)

Every count is protected as on the dashboard (figures.suppression): under 5 it is "<5", in the tables, the charts
and the summary alike, and a count that would give one away by subtraction is "..". Nothing else is hidden (a zero
is shown as 0), and the report says so once, in the note under its title, not under each table.
"""

from __future__ import annotations

import datetime
from collections.abc import Hashable, Mapping
from dataclasses import dataclass

from django.utils.translation import gettext as _

from figures import cached_figures, statistics, suppression
from figures import persons as person_figures
from kast.models import Clinic
from kast.profile import clinic_offers

#: The dashboard tables drawn as charts in the report, each with its first count column only (the total
#: where a table has one), so that every chart stays readable on paper: a bar per row beside that column.
CHARTS = [
    "sessions_by_kind",
    "active_over_time",
    "contacts_by_group",
    "attendance",
    "lengths",
    "end_reasons",
    "follow_ups",
    "referred",
    "persons",
    "persons_age",
    "persons_gender",
    "persons_education",
    "outreach",
    "advice",
]


def summary(
    figures: statistics.Dashboard, year: int, *, all_clinics: bool, hidden: Mapping[Hashable, str]
) -> list[str]:
    """A few plain sentences on the year, every figure as the tables show it (figures.suppression)."""
    values = statistics.dashboard_figures(figures).values

    def count(key: str) -> str:
        return suppression.shown_count(values[key], hidden.get(key))

    def left_out(*keys: str) -> bool:
        return suppression.rests_on_hidden(keys, values, hidden)

    held = count(statistics.HELD_KEY)
    if left_out(statistics.HELD_KEY) or figures.held_per_fte is None:
        if all_clinics:
            first = _("In %(year)s the clinics held %(held)s sessions.")
        else:
            first = _("In %(year)s the clinic held %(held)s sessions.")
    elif all_clinics:
        first = _("In %(year)s the clinics held %(held)s sessions, %(per_fte)s per full-time therapist.")
    else:
        first = _("In %(year)s the clinic held %(held)s sessions, %(per_fte)s per full-time therapist.")
    per_fte = statistics.Cell(figures.held_per_fte, "number").shown()
    second = _("%(new)s new contacts were registered and %(ended)s treatment periods ended.") % {
        "new": count("contacts.period.total"),
        "ended": count("lengths.n"),
    }
    if suppression.is_small(figures.waiting["n"]) or figures.waiting["median"] is None:
        third = _("Too few clients had their first session this year for a waiting time to be given.")
    elif left_out("waiting.n"):
        third = _("The waiting time is not given this year, so that no one can be recognised from the other figures.")
    else:
        third = _("The median waiting time from first contact to first session was %(days)s days.") % {
            "days": statistics.Cell(figures.waiting["median"], "days").shown()
        }
    clinic = figures.scope.clinic
    if clinic is not None and not clinic_offers(clinic, "relatives"):
        # A clinic without relatives' support (kast.profile): its report says nothing of relatives.
        fourth = _("The children's need of support was considered on %(considered)s records.") % {
            "considered": count("children.considered")
        }
    else:
        fourth = _(
            "%(relatives)s relatives came for support of their own, and the children's need of support was "
            "considered on %(considered)s records."
        ) % {"relatives": count("relatives.new"), "considered": count("children.considered")}
    persons = _(
        "%(persons)s clients received treatment, %(new)s of them for the first time and %(returning)s returning "
        "after an earlier treatment period."
    ) % {
        "persons": count(person_figures.TOTAL_KEY),
        "new": count(person_figures.key("all", "new")),
        "returning": count(person_figures.key("all", "returning")),
    }
    return [first % {"year": year, "held": held, "per_fte": per_fte}, persons, second, third, fourth]


@dataclass(frozen=True)
class Bar:
    """A row's bar: its length in per cent of the longest bar in the table; 0 draws none (a zero, or a hidden
    figure: "<5" is written in the figure's cell and no bar may show its size)."""

    row: statistics.Row
    length: float


def bars(table: statistics.Table) -> list[Bar]:
    """The bars of a table's first count column, the longest its largest figure."""
    values = [row.cells[0].chart_value for row in table.rows]
    largest = max((value for value in values if value is not None), default=0.0)
    return [
        Bar(row, round(100 * value / largest, 1) if value is not None and largest > 0 else 0.0)
        for row, value in zip(table.rows, values, strict=True)
    ]


def year_report(clinic: Clinic | None, year: int, *, national: bool = False) -> dict[str, object]:
    """Everything the report shows for one clinic (None: all clinics) and year. `national`: printed by national
    follow-up, who sees every clinic, so the figures are protected together with every clinic's."""
    start, end = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
    figures = cached_figures.dashboard(clinic, start, end).value
    if national:
        hidden = cached_figures.dashboard_marks(clinic, start, end).value
    else:
        hidden = cached_figures.own_marks(clinic, start, end).value
    tables = statistics.dashboard_tables(figures, hidden)
    charted = set(CHARTS)
    sentences = summary(figures, year, all_clinics=clinic is None, hidden=hidden)
    return {
        "year": year,
        "clinic": clinic,
        "figures": figures,
        # Each table with its rows, and a bar beside each row's first figure where the table is charted.
        "sections": [(table, bars(table) if table.key in charted else None) for table in tables],
        "summary": sentences,
        # The report's one note on suppression says what ".." means only when the report shows one (a count
        # withheld but never printed, such as the sessions due behind the attendance shares, needs no word).
        "withheld": shows_withheld(tables, sentences),
    }


def shows_withheld(tables: list[statistics.Table], sentences: list[str]) -> bool:
    """Whether a table cell or the summary shows a withheld count (figures.suppression.WITHHELD)."""
    cells = (cell.text for table in tables for row in table.rows for cell in row.cells)
    return any(text == suppression.WITHHELD for text in cells) or any(
        f" {suppression.WITHHELD} " in f" {sentence} " for sentence in sentences
    )
