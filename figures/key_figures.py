"""The dashboard's first screen: a few key figures for the period, each beside the same period a year earlier.

Made from the dashboard's own figures (figures.statistics.dashboard, once for the period and once for the same
period a year earlier), and shown by the same rule as every table (figures.suppression): a count under 5 is "<5",
a figure resting on a hidden count is left out. A change is shown only when both figures it is made from are
shown: "+9" beside a hidden "<5" a year earlier would give the hidden count away by subtraction.
"""

from __future__ import annotations

import datetime
from collections.abc import Hashable, Mapping
from dataclasses import dataclass

from django.utils import formats
from django.utils.translation import gettext as _

from clients.models import EndReason
from figures import suppression
from figures.statistics import HELD_KEY, Cell, Dashboard, active_at_end_key

#: The end reason that counts as a treatment ended as planned.
AS_PLANNED = EndReason.GOAL_REACHED


def earlier_period(start: datetime.date, end: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The same period a year earlier (29 February: the 28th)."""

    def year_before(day: datetime.date) -> datetime.date:
        try:
            return day.replace(year=day.year - 1)
        except ValueError:
            return day.replace(year=day.year - 1, day=28)

    return year_before(start), year_before(end)


@dataclass(frozen=True)
class KeyFigure:
    """One card: the figure as shown (marked), and the change against a year earlier in words ("" for none)."""

    key: str
    label: str
    cell: Cell
    change: str

    @property
    def text(self) -> str:
        return self.cell.text


def _cells(d: Dashboard) -> list[tuple[str, str, Cell]]:
    """(key, label, cell) of each card, unmarked."""
    ended = d.lengths["n"]
    as_planned = d.end_reasons[AS_PLANNED]
    due, done = d.follow_ups["due"], d.follow_ups["done"]
    return [
        ("in_treatment", _("In treatment at the period's end"), Cell(d.active_at_end, key=active_at_end_key(d))),
        (
            "new_contacts",
            _("New contacts"),
            Cell(sum(row["total"] for row in d.contacts_by_month), key="contacts.period.total"),
        ),
        (
            "waiting_median",
            _("Waiting time to first session, median (days)"),
            Cell(d.waiting["median"], "days", rests_on=("waiting.n",)),
        ),
        (
            "held_per_fte",
            _("Sessions held per full-time therapist"),
            Cell(d.held_per_fte, "number", rests_on=(HELD_KEY,)),
        ),
        (
            "ended_as_planned",
            _("Treatments ended as planned (goal reached)"),
            Cell(
                as_planned / ended if ended else None,
                "share",
                rests_on=(f"end_reasons.{AS_PLANNED}", "lengths.n"),
            ),
        ),
        (
            "follow_up_coverage",
            _("Follow-ups done, of those due"),
            Cell(done / due if due else None, "share", rests_on=("follow_ups.done", "follow_ups.due")),
        ),
    ]


def _values(d: Dashboard) -> dict[Hashable, int]:
    """The counts the cards' other figures rest on, for the small-number rule."""
    return {
        "waiting.n": d.waiting["n"],
        HELD_KEY: d.held,
        f"end_reasons.{AS_PLANNED}": d.end_reasons[AS_PLANNED],
        "lengths.n": d.lengths["n"],
        "follow_ups.done": d.follow_ups["done"],
        "follow_ups.due": d.follow_ups["due"],
    }


def _marked(d: Dashboard, hidden: Mapping[Hashable, str]) -> list[tuple[str, str, Cell]]:
    values = _values(d)
    marked = []
    for key, label, cell in _cells(d):
        if cell.kind == "count":
            mark = hidden.get(cell.key)
            if mark is None and suppression.is_small(cell.count):
                mark = suppression.SMALL
        else:
            mark = "" if suppression.rests_on_hidden(cell.rests_on, values, hidden) else None
        marked.append((key, label, Cell(cell.value, cell.kind, cell.key, cell.rests_on, mark)))
    return marked


def _signed(value: float, decimals: int) -> str:
    value = round(value, decimals)
    if not value:
        return "±" + formats.number_format(0, decimal_pos=decimals)
    # A true minus sign: a hyphen before a number is read as a dash by some screen readers.
    sign = "+" if value > 0 else "−"
    return sign + formats.number_format(abs(value), decimal_pos=decimals, force_grouping=True)


def _change(now: Cell, before: Cell) -> str:
    """The change in words, or "" when either figure is hidden or there is none to compare."""
    if now.hidden or before.hidden or now.value is None or before.value is None:
        return ""
    if now.kind == "share":
        points = round(100 * float(now.value)) - round(100 * float(before.value))
        change = _("%(points)s percentage points") % {"points": _signed(points, 0)}
    elif now.kind == "days":
        change = _("%(days)s days") % {"days": _signed(float(now.value) - float(before.value), 1)}
    elif now.kind == "number":
        change = _signed(float(now.value) - float(before.value), 1)
    else:
        change = _signed(int(now.value) - int(before.value), 0)
    return _("%(change)s compared with the same period a year earlier") % {"change": change}


def key_figures(
    d: Dashboard, hidden: Mapping[Hashable, str], earlier: Dashboard, earlier_hidden: Mapping[Hashable, str]
) -> list[KeyFigure]:
    """The cards of `d`, with the change against `earlier`; `hidden` and `earlier_hidden` are each dashboard's
    marks (figures.statistics.dashboard_marks, or national follow-up's marks across clinics)."""
    before = {key: cell for key, _label, cell in _marked(earlier, earlier_hidden)}
    return [KeyFigure(key, str(label), cell, _change(cell, before[key])) for key, label, cell in _marked(d, hidden)]


def side_by_side(clinics: list[tuple[str, list[KeyFigure]]]) -> list[tuple[str, str, list[KeyFigure]]]:
    """The clinics' cards as rows of a table, one per key figure: (key, label, each clinic's card, in order)."""
    if not clinics:
        return []
    first = clinics[0][1]
    return [(card.key, card.label, [cards[i] for _name, cards in clinics]) for i, card in enumerate(first)]
