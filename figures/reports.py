"""Figures from the questionnaires: the evaluation's Tables 1 and 2, change on the same people, coverage.

Counts only, from SQL aggregates: no free-text answer, client code or name is ever read here, so none can
reach a page. The evaluation (FoU i Väst 2021) could report only counts from different people; pairing the
same person's answers by item code, across versions, is what lets the clinics see change over time.
"""

from __future__ import annotations

import datetime
import math
from collections import defaultdict
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

from django.db import connection
from django.db.models import (
    Count,
    Exists,
    IntegerField,
    Max,
    OuterRef,
    Q,
)
from django.db.models.functions import Cast, Coalesce, ExtractYear
from django.utils import formats, timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from assessments.models import (
    FREQUENCY_STEPS,
    REPORTED_CODES,
    SCALE_STEPS,
    Administration,
    Answer,
    Item,
    ItemKind,
    Scale,
    TimePoint,
    counted,
)
from clients.models import CaseStatus, Episode, RecordKind, StatusChange
from figures import scope, suppression
from kast.models import Clinic, User

#: A scale item counts as agreeing from this step up ("agree partly", "good").
SCALE_AGREES_FROM = 4


# --- What a report covers -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Selection:
    """Submitted from `start` to `end` (local dates, both included), in one clinic or all, one target group or all."""

    start: datetime.date | None = None
    end: datetime.date | None = None
    clinic: Clinic | None = None
    target_group: str = ""


def selection_for(
    user: User,
    *,
    start: datetime.date | None = None,
    end: datetime.date | None = None,
    clinic: Clinic | None = None,
    target_group: str = "",
) -> Selection:
    """The selection this user may see: therapists and managers their own clinic, whatever they ask for.

    The role table already lets only these roles in; this is the second lock (figures.scope), so a forged
    `clinic` parameter cannot show one clinic another's figures.
    """
    return Selection(start=start, end=end, clinic=scope.counted_clinic(user, clinic), target_group=target_group)


def _local_midnight(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _submitted_in(selection: Selection, prefix: str = "") -> Q:
    """Submitted administrations in the selection that count (not entered in error); `prefix` reaches
    Administration from another model.

    Dates become a half-open range of aware datetimes (not `__date`), so the index on submitted_at serves.
    """
    q = Q(**{f"{prefix}submitted_at__isnull": False}) & counted(prefix)
    if selection.start:
        q &= Q(**{f"{prefix}submitted_at__gte": _local_midnight(selection.start)})
    if selection.end:
        q &= Q(**{f"{prefix}submitted_at__lt": _local_midnight(selection.end + datetime.timedelta(days=1))})
    return q & _clients_in(selection, f"{prefix}client__")


def _clients_in(selection: Selection, prefix: str) -> Q:
    # Clients' records only: the questionnaires belong to a client's treatment, and a relative's period of
    # support on their own record would otherwise count as treatment without its questionnaires.
    q = Q(**{f"{prefix}kind": RecordKind.CLIENT})
    if selection.clinic is not None:
        q &= Q(**{f"{prefix}clinic": selection.clinic})
    if selection.target_group:
        q &= Q(**{f"{prefix}target_groups__contains": [selection.target_group]})
    return q


# --- Tables 1 and 2 ---------------------------------------------------------------------------------------------

#: What each counted item code says when the answer is yes (or agrees, on a scale).
TABLE_LABELS = {
    "bought_sex_ever": gettext_lazy("Has bought sexual services at some time"),
    "bought_sex_last_year": gettext_lazy("Has bought sexual services in the last year"),
    "has_partner": gettext_lazy("Has a partner"),
    "has_children": gettext_lazy("Has children"),
    "behaviour_harms_self": gettext_lazy("Feels their sexual behaviour has been destructive for themselves"),
    "thoughts_harm_self": gettext_lazy("Feels their sexual thoughts have been destructive for themselves"),
    "behaviour_harms_relations": gettext_lazy(
        "Feels their sexual behaviour has been destructive for their relationships"
    ),
    "came_as_often": gettext_lazy("Could come to sessions as often as wished or needed"),
    "came_as_long": gettext_lazy("Could come to sessions for as long as needed"),
    "staff_respectful": gettext_lazy("Found the staff respectful"),
    "staff_non_judgmental": gettext_lazy("Found the staff non-judgmental"),
    "staff_dignified": gettext_lazy("Found the staff treated them with dignity"),
    "talk_sexual_issues": gettext_lazy("Could talk about difficult sexual issues"),
    "got_help_needed": gettext_lazy("Got the help needed or expected"),
    "stop_impulses_due_to_treatment": gettext_lazy("Can stop unwanted sexual impulses thanks to the treatment"),
}
# The codes and their order are the questionnaires' contract (assessments.models.REPORTED_CODES), which the
# publishing of a new version checks against; the words are the report's.
#: The rows of the evaluation's Table 1 (answers at treatment start), by item code.
TABLE_1_ROWS = [(code, TABLE_LABELS[code]) for code in REPORTED_CODES[TimePoint.START]]
#: The rows of the evaluation's Table 2 (answers at treatment end), by item code.
TABLE_2_ROWS = [(code, TABLE_LABELS[code]) for code in REPORTED_CODES[TimePoint.END]]


@dataclass(frozen=True)
class CountRow:
    code: str
    label: str
    count: int  # answers that say yes (or agree, on a scale)
    answered: int  # answers given: not declined, not left empty


@dataclass(frozen=True)
class CountTable:
    time_point: str
    n: int  # submitted questionnaires
    rows: list[CountRow]


def _agreeing(prefix: str) -> Q:
    """A yes, or on a later version's five-step scale with the same code, "agree partly" or more.

    Items keep their code when reworded, so a row may meet both kinds across versions.
    """
    return Q(**{f"{prefix}item__kind": ItemKind.YES_NO, f"{prefix}value_bool": True}) | Q(
        **{f"{prefix}item__kind": ItemKind.SCALE, f"{prefix}value_int__gte": SCALE_AGREES_FROM}
    )


def count_table(selection: Selection, time_point: str, rows: Sequence[tuple[str, str | Promise]]) -> CountTable:
    """n and, per item code, how many agree and how many answered. One query, whatever the data size."""
    figures: dict[str, Count] = {"n": Count("pk", distinct=True)}
    for code, _label in rows:
        # An administration answers an item code at most once (unique per version and per administration),
        # so counting answer rows counts people.
        of_code = Q(answers__item__code=code, answers__declined=False)
        figures[f"yes_{code}"] = Count("answers", filter=of_code & _agreeing("answers__"))
        figures[f"answered_{code}"] = Count("answers", filter=of_code)
    result = Administration.objects.filter(_submitted_in(selection), time_point=time_point).aggregate(**figures)
    return CountTable(
        time_point=time_point,
        n=result["n"],
        rows=[CountRow(code, str(label), result[f"yes_{code}"], result[f"answered_{code}"]) for code, label in rows],
    )


def table_1(selection: Selection) -> CountTable:
    return count_table(selection, TimePoint.START, TABLE_1_ROWS)


def table_2(selection: Selection) -> CountTable:
    return count_table(selection, TimePoint.END, TABLE_2_ROWS)


# --- Change on the same people ----------------------------------------------------------------------------------

#: Time points compared on the same treatment period, earlier first: each later time point against the start (the
#: change since treatment began), and the follow-ups against the end (whether what was reached lasted).
PAIRS = [
    (TimePoint.START, TimePoint.END),
    (TimePoint.START, TimePoint.FOLLOW_UP),
    (TimePoint.START, TimePoint.LONG_TERM),
    (TimePoint.END, TimePoint.FOLLOW_UP),
    (TimePoint.END, TimePoint.LONG_TERM),
]
#: Each pair in plain words, as the report's headings.
PAIR_LABELS: dict[tuple[str, str], Promise] = {
    (TimePoint.START, TimePoint.END): gettext_lazy("From treatment start to treatment end"),
    (TimePoint.START, TimePoint.FOLLOW_UP): gettext_lazy("From treatment start to the follow-up after six months"),
    (TimePoint.START, TimePoint.LONG_TERM): gettext_lazy("From treatment start to the long-term follow-up"),
    (TimePoint.END, TimePoint.FOLLOW_UP): gettext_lazy("From treatment end to the follow-up after six months"),
    (TimePoint.END, TimePoint.LONG_TERM): gettext_lazy("From treatment end to the long-term follow-up"),
}

#: A closed answer as a number: yes/no as 1/0, steps and frequencies as stored.
SCORE = Coalesce("value_int", Cast("value_bool", IntegerField()))


@dataclass(frozen=True)
class PairedChange:
    earlier: str
    later: str
    code: str
    label: str  # the question, as the newest version words it
    changes: dict[int, int]  # change towards better (positive) or worse -> how many pairs
    meaning: str = ""  # which answer counts as better, in plain words (better_means)

    @property
    def n(self) -> int:
        return sum(self.changes.values())

    @property
    def improved(self) -> int:
        return sum(count for change, count in self.changes.items() if change > 0)

    @property
    def unchanged(self) -> int:
        return self.changes.get(0, 0)

    @property
    def worsened(self) -> int:
        return sum(count for change, count in self.changes.items() if change < 0)

    @property
    def median(self) -> float | None:
        return median_of_counts(self.changes)

    @cached_property  # an exact test over big binomial sums: asked for by the cell and by the sentence
    def p_value(self) -> float | None:
        return sign_test(self.improved, self.worsened)


def median_of_counts(counts: dict[int, int]) -> float | None:
    """The median of values given as value -> how many, without expanding them into a list."""
    n = sum(counts.values())
    if n == 0:
        return None
    middle = [(n - 1) // 2, n // 2]  # the same index twice when n is odd
    found: list[int] = []
    seen = 0
    for value in sorted(counts):
        seen += counts[value]
        while middle and middle[0] < seen:
            found.append(value)
            middle.pop(0)
    return (found[0] + found[1]) / 2


def sign_test(improved: int, worsened: int) -> float | None:
    """Exact two-sided sign test: how likely a split at least this uneven is if better and worse were equally likely.

    Ties (unchanged) are left out, as the sign test does. None when nobody changed: there is nothing to test.
    """
    changed = improved + worsened
    if changed == 0:
        return None
    smaller = min(improved, worsened)
    tail = sum(math.comb(changed, k) for k in range(smaller + 1))
    p_value: float = min(1.0, 2 * tail / 2**changed)
    return p_value


def _pair_counts_sql(selection: Selection, earlier: str, later: str) -> tuple[str, list[Any]]:
    """SQL for (earlier, later, item code, change, pairs) of one pair of time points, grouped in SQL.

    One pass over the answers of both time points: the inner query keeps one row per treatment
    period and measure (item code, kind and direction: a yes/no turned into a scale is not the same
    measure), with the earlier and the later score side by side; the outer one counts the changes.
    The later answer decides whether a pair is in the selection (the pair is complete when it is
    submitted); the earlier one only has to be submitted. Only the periods with a later questionnaire
    in the selection are read (measured on 20 000 clients: 1.3 s to 0.45 s for the three pairs compared
    then; there are five now).
    """
    later_in_selection = Q(administration__time_point=later) & _submitted_in(selection, "administration__")
    # A period belongs to one client, so its later questionnaire's clinic and target group are the earlier one's too.
    periods = Administration.objects.filter(_submitted_in(selection), time_point=later).values("episode_id")
    per_period = (
        Answer.objects.filter(
            counted("administration__"),  # the earlier one too: one entered in error pairs with nothing
            administration__episode_id__in=periods,
            administration__time_point__in=[earlier, later],
            administration__submitted_at__isnull=False,
            declined=False,
            item__higher_is_better__isnull=False,
        )
        .values("administration__episode_id", "item__code", "item__kind", "item__higher_is_better")
        .annotate(
            earlier_score=Max(SCORE, filter=Q(administration__time_point=earlier)),
            later_score=Max(SCORE, filter=later_in_selection),
        )
        .values("item__code", "item__higher_is_better", "earlier_score", "later_score")
    )
    inner, params = per_period.query.sql_with_params()
    sql = f"""
        SELECT %s, %s, code, CASE WHEN better_high THEN later_score - earlier_score
                                  ELSE earlier_score - later_score END AS change, COUNT(*)
        FROM ({inner}) AS per_period (code, better_high, earlier_score, later_score)
        WHERE earlier_score IS NOT NULL AND later_score IS NOT NULL
        GROUP BY 3, 4
    """  # noqa: S608  (the inner query is Django's own, its parameters passed separately)
    return sql, [earlier, later, *params]


def paired_changes(selection: Selection) -> list[PairedChange]:
    """Per pair of time points and item code: how the same people's answers moved. Two queries in all."""
    parts = [_pair_counts_sql(selection, earlier, later) for earlier, later in PAIRS]
    grouped: dict[tuple[str, str, str], dict[int, int]] = defaultdict(dict)
    with connection.cursor() as cursor:
        cursor.execute(
            " UNION ALL ".join(f"({sql})" for sql, _params in parts), [p for _sql, params in parts for p in params]
        )
        for earlier, later, code, change, pairs in cursor.fetchall():
            grouped[(earlier, later, code)][change] = pairs
    labels, order, meanings = _item_labels({code for _e, _l, code in grouped})
    pair_order: dict[tuple[str, str], int] = {pair: index for index, pair in enumerate(PAIRS)}
    return [
        PairedChange(earlier, later, code, labels.get(code, code), changes, meanings.get(code, ""))
        for (earlier, later, code), changes in sorted(
            grouped.items(), key=lambda entry: (pair_order[entry[0][:2]], order.get(entry[0][2], 0))
        )
    ]


def _item_labels(codes: set[str]) -> tuple[dict[str, str], dict[str, int], dict[str, str]]:
    """The newest published wording of each code, an order that follows the forms, and what counts as better
    (better_means). One query (none if empty)."""
    if not codes:
        return {}, {}, {}
    labels: dict[str, str] = {}
    order: dict[str, int] = {}
    meanings: dict[str, str] = {}
    items = (
        Item.objects.filter(code__in=codes, version__published_at__isnull=False)
        .select_related("version")
        .order_by("version__published_at", "version__instrument_id", "position")
    )
    for item in items:
        order.setdefault(item.code, len(order))
        labels[item.code] = item.localized_text  # the newest version's wording wins
        meanings[item.code] = better_means(item)
    return labels, order, meanings


def better_means(item: Item) -> str:
    """Which answer counts as "for the better" on this item, in plain words: the report speaks of answers, not of
    how anyone is doing ("less often" is better on a behaviour, "no" on "have you bought sexual services")."""
    if item.higher_is_better is None:
        return ""
    if item.kind == ItemKind.YES_NO:
        better, worse = (_("Yes"), _("No")) if item.higher_is_better else (_("No"), _("Yes"))
        return _("For the better: “%(better)s” where it was “%(worse)s”.") % {"better": better, "worse": worse}
    if item.kind == ItemKind.SCALE and item.scale in SCALE_STEPS:
        steps = SCALE_STEPS[Scale(item.scale)]
    elif item.kind == ItemKind.FREQUENCY:
        steps = FREQUENCY_STEPS
    else:
        return ""
    # The better end of the steps, by value: the top anchor, or "never" on a frequency.
    best = max(steps) if item.higher_is_better else min(steps)
    return _("For the better: an answer closer to “%(best)s”.") % {"best": best[1]}


# --- Coverage ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CoverageRow:
    group: str  # the responsible therapist's name, or the clinic's
    year: int
    periods: int
    start: int
    end: int
    follow_up: int
    long_term: int
    start_and_end: int
    start_and_follow_up: int
    start_and_long_term: int
    end_and_follow_up: int
    end_and_long_term: int
    all_three: int  # start, end and the six-month follow-up


def coverage(selection: Selection, *, by: Literal["therapist", "clinic"] = "therapist") -> list[CoverageRow]:
    """Treatment periods that reached treatment, and how many have each questionnaire. One query.

    Grouped by responsible therapist (for the clinic's own follow-up) or by clinic (national), and by the
    year the period opened; the selection's dates apply to that opening date.
    """

    def has(point: str) -> Exists:
        return Exists(
            Administration.objects.counted().filter(
                episode=OuterRef("pk"), time_point=point, submitted_at__isnull=False
            )
        )

    periods = Episode.objects.filter(
        Exists(StatusChange.objects.filter(episode=OuterRef("pk"), to_status=CaseStatus.IN_TREATMENT)),
        _clients_in(selection, "client__"),
    )
    if selection.start:
        periods = periods.filter(opened_on__gte=selection.start)
    if selection.end:
        periods = periods.filter(opened_on__lte=selection.end)
    if by == "clinic":
        group_fields = ["client__clinic__name"]
    else:
        # Staff names are not client data; the current responsible therapist of the client is meant.
        group_fields = [
            "client__responsible_therapist__first_name",
            "client__responsible_therapist__last_name",
            "client__responsible_therapist__username",
        ]
    rows = (
        periods.alias(**{f"has_{point}": has(point) for point in TimePoint.values})
        .annotate(year=ExtractYear("opened_on"))
        .values(*group_fields, "year")
        .annotate(
            periods=Count("pk"),
            **{point: Count("pk", filter=Q(**{f"has_{point}": True})) for point in TimePoint.values},
            # One count per pair the report compares: how many periods could be paired at all.
            **{
                f"{earlier}_and_{later}": Count("pk", filter=Q(**{f"has_{earlier}": True, f"has_{later}": True}))
                for earlier, later in PAIRS
            },
            all_three=Count("pk", filter=Q(has_start=True, has_end=True, has_follow_up=True)),
        )
        .order_by(*group_fields, "year")
    )
    return [
        CoverageRow(group=_group_name(row, by), year=row["year"], **{name: row[name] for name in COVERAGE_COUNTS})
        for row in rows
    ]


#: The counts of a coverage row, in the order the page shows them: the periods, each time point, each pair the
#: report compares (PAIRS), and the three of the evaluation.
COVERAGE_COUNTS = (
    "periods",
    "start",
    "end",
    "follow_up",
    "long_term",
    "start_and_end",
    "start_and_follow_up",
    "start_and_long_term",
    "end_and_follow_up",
    "end_and_long_term",
    "all_three",
)


def coverage_totals(rows: list[CoverageRow], *, per: Literal["group", "year"]) -> list[CoverageRow]:
    """The rows summed per group over every year (year 0), or per year over every group (group ""), in their order.

    The page shows these two short tables: one row per therapist and year grows with both, and at national
    scale (a clinic of 167 therapists over 25 years) made a page of 4 000 rows.
    """
    totals: dict[str | int, dict[str, int]] = {}
    for row in rows:
        key = row.group if per == "group" else row.year
        sums = totals.setdefault(key, dict.fromkeys(COVERAGE_COUNTS, 0))
        for name in COVERAGE_COUNTS:
            sums[name] += getattr(row, name)
    if per == "group":
        return [CoverageRow(group=str(key), year=0, **sums) for key, sums in totals.items()]
    return [CoverageRow(group="", year=int(key), **totals[key]) for key in sorted(totals)]


def _group_name(row: Mapping[str, Any], by: str) -> str:
    if by == "clinic":
        clinic: str = row["client__clinic__name"]
        return clinic
    full = " ".join(
        part
        for part in (row["client__responsible_therapist__first_name"], row["client__responsible_therapist__last_name"])
        if part
    )
    username: str = row["client__responsible_therapist__username"]
    return full or username


# --- The whole report -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Report:
    selection: Selection
    table_1: CountTable
    table_2: CountTable
    changes: list[PairedChange]
    coverage: list[CoverageRow]  # per group and year
    coverage_by: str
    people: int = 0  # clients with a submitted questionnaire in the selection

    @property
    def refused(self) -> bool:
        """Fewer than 5 people answered in the selection (but some did): their answers are not shown at all."""
        return suppression.is_small(self.people)


def people_in(selection: Selection) -> int:
    """How many clients submitted a questionnaire in the selection. One query."""
    people: int = Administration.objects.filter(_submitted_in(selection)).aggregate(
        people=Count("client", distinct=True)
    )["people"]
    return people


def report_for(selection: Selection, *, by_clinic: bool = False) -> Report:
    """Everything the reports page shows: six queries (five when nobody has answered twice), whatever the data size."""
    by: Literal["therapist", "clinic"] = "clinic" if by_clinic else "therapist"
    return Report(
        selection=selection,
        table_1=table_1(selection),
        table_2=table_2(selection),
        changes=paired_changes(selection),
        coverage=coverage(selection, by=by),
        coverage_by=by,
        people=people_in(selection),
    )


# --- As shown: every count protected by figures.suppression -------------------------------------------------------

TABLES = (("table_1", "t1"), ("table_2", "t2"))
CHANGE_COUNTS = ("n", "improved", "unchanged", "worsened")


def _change_key(change: PairedChange, name: str) -> tuple[str, ...]:
    return ("change", change.earlier, change.later, change.code, name)


def report_figures(report: Report) -> suppression.Figures:
    """The report's counts, keyed, and the sums that tie them (figures.suppression).

    An answer row is private: those who did not agree are what is left of those who answered, so a small
    number of them is protected as a shown count is. A table resting on fewer than 5 people shows no rows.
    Coverage per year and per group are two sums of the same totals (not shown, but bounded by both).
    A refused report (fewer than 5 people) shows nothing: all its counts are unknown to a reader.
    """
    figures = suppression.Figures()
    for attribute, t in TABLES:
        table = getattr(report, attribute)
        figures.add((t, "n"), table.n)
        rows_shown = not suppression.is_small(table.n)
        for row in table.rows:
            yes, answered = (t, row.code, "yes"), (t, row.code, "answered")
            figures.add(yes, row.count, shown=rows_shown)
            figures.add(answered, row.answered, shown=rows_shown)
            if not rows_shown:
                figures.unknown |= {yes, answered}
            figures.relate(answered, [yes], rest=True, private=True, total_first=True)
            figures.relate((t, "n"), [answered], rest=True)
    for change in report.changes:
        for name in CHANGE_COUNTS:
            figures.add(_change_key(change, name), getattr(change, name))
        figures.relate(
            _change_key(change, "n"),
            [_change_key(change, name) for name in CHANGE_COUNTS[1:]],
            private=True,
        )
    for per in ("year", "group"):
        for row in coverage_totals(report.coverage, per=per):
            for name in COVERAGE_COUNTS:
                figures.add(("coverage", per, row.year if per == "year" else row.group, name), getattr(row, name))
    for name in COVERAGE_COUNTS:
        total = ("coverage", "total", name)
        figures.add(total, sum(getattr(row, name) for row in report.coverage), shown=False)
        figures.unknown.add(total)  # not on the page: as much as the rows tell
        for per in ("year", "group"):
            figures.relate(
                total,
                [
                    key
                    for key in figures.values
                    if isinstance(key, tuple) and key[:2] == ("coverage", per) and key[3] == name
                ],
            )
    if report.refused:
        figures.unknown |= set(figures.values)
        figures.shown.clear()
    return figures


def marks_across(
    whole: Report, clinics: dict[int, Report], names: dict[int, str]
) -> tuple[dict[Hashable, str], dict[int, dict[Hashable, str]]]:
    """National follow-up's marks for all clinics and for each clinic (by id), protected together: all clinics'
    figure minus the other clinics' never gives a clinic's hidden one, nor a refused clinic's answers."""
    parts = {pk: report_figures(report) for pk, report in clinics.items()}
    whole_figures = report_figures(whole)
    links: dict[Hashable, list[tuple[int, Hashable]]] = {}
    for key in whole_figures.values:
        if isinstance(key, tuple) and key[:2] == ("coverage", "group"):
            # All clinics' coverage row of a clinic is that clinic's own total.
            links[key] = [(pk, ("coverage", "total", key[3])) for pk in parts if names[pk] == key[2]]
        else:
            links[key] = [(pk, key) for pk in parts]
    return suppression.protect_across(whole_figures, parts, links=links)


def shown_change(value: float | None) -> str:
    """A median change with its sign: "+1", "0", or a minus sign (U+2212, as typeset) before a fall."""
    if value is None:
        return "–"
    decimals = 0 if value == int(value) else 1
    text = formats.number_format(round(abs(value), decimals), decimal_pos=decimals)
    return text if value == 0 else ("+" if value > 0 else "−") + text


def shown_p(p: float) -> str:
    """A p-value in the local way ("0,04", "< 0,001"); never rounded up to 0,05, so the words and the figure agree."""
    if p < 0.001:
        return "< " + formats.number_format(0.001, decimal_pos=3)
    decimals = 2 if p >= 0.01 else 3
    if p < 0.05 <= round(p, 2):
        decimals = 3
    # number_format cuts off decimals rather than rounding them.
    return formats.number_format(round(p, decimals), decimal_pos=decimals)


def _p_phrase(p: float) -> str:
    shown = shown_p(p)
    return f"p {shown}" if shown.startswith("<") else f"p = {shown}"


def change_sentence(change: PairedChange, *, marks: dict[str, str] | None = None) -> str:
    """What the figures mean, in plain words, without judging anyone. `marks`: the hidden counts' marks, by
    name (CHANGE_COUNTS); with any of them hidden, the difference is not tested in words either."""
    marks = {name: suppression.SMALL for name in CHANGE_COUNTS if suppression.is_small(getattr(change, name))} | (
        marks or {}
    )
    if marks.get("n") == suppression.SMALL:
        return _("Fewer than 5 answered both times, so the change is not described.")
    # Of answers, not of people's lives: a behaviour item's "better" is "less often", not "doing better".
    counts = _(
        "Of %(n)s who answered both times, %(better)s answered for the better, %(same)s the same and "
        "%(worse)s for the worse."
    ) % {
        key: suppression.shown_count(getattr(change, name), marks.get(name))
        for key, name in zip(("n", "better", "same", "worse"), CHANGE_COUNTS, strict=True)
    }
    p = change.p_value
    if marks:
        chance = _("Some of these counts are hidden so that no one can be recognised, so the difference is not tested.")
    elif p is None:
        chance = _("Nobody answered differently the second time, so there is no difference to test.")
    elif p < 0.05:
        chance = _("A difference this large seldom arises by chance (%(p)s).") % {"p": _p_phrase(p)}
    else:
        chance = _("A difference this small can easily arise by chance (%(p)s).") % {"p": _p_phrase(p)}
    return f"{counts} {chance}"


@dataclass(frozen=True)
class ShownRow:
    label: str
    cells: list[str]
    sentence: str = ""
    meaning: str = ""  # which answer counts as better (paired change)


@dataclass(frozen=True)
class ShownTable:
    caption: str
    n_label: str
    n: int
    n_shown: str
    rows: list[ShownRow] = field(default_factory=list)

    @property
    def too_few(self) -> bool:
        """Fewer than 5 filled it in: its answers are not shown."""
        return suppression.is_small(self.n)


@dataclass(frozen=True)
class ShownReport:
    table_1: ShownTable
    table_2: ShownTable
    changes: list[tuple[str, list[ShownRow]]]  # (pair label, rows)
    coverage_by_year: list[ShownRow]
    coverage_by_group: list[ShownRow]  # per responsible therapist, or per clinic (coverage_by)
    coverage_by: str
    people: int = 0
    refused: bool = False  # fewer than 5 people: the page shows the form's message, none of these figures

    @property
    def tables(self) -> list[ShownTable]:
        return [self.table_1, self.table_2]


def shown_report(report: Report, hidden: Mapping[Hashable, str] | None = None) -> ShownReport:
    """The report as text cells for the template, every count protected (figures.suppression). `hidden`: national
    follow-up's marks (marks_across); without it, the report is protected on its own, as a clinic's staff see it."""
    figures = report_figures(report)
    if hidden is None:
        hidden = figures.protected()

    def count(key: Hashable) -> str:
        return suppression.shown_count(figures.values[key], hidden.get(key))

    def coverage_row(per: str, label: str, row: CoverageRow) -> ShownRow:
        group = row.year if per == "year" else row.group
        return ShownRow(label, [count(("coverage", per, group, name)) for name in COVERAGE_COUNTS])

    def table(source: CountTable, t: str, caption: str, n_label: str) -> ShownTable:
        rows = []
        if not suppression.is_small(source.n):
            for row in source.rows:
                yes, answered = (t, row.code, "yes"), (t, row.code, "answered")
                share_hidden = suppression.rests_on_hidden([yes, answered], figures.values, hidden)
                rows.append(
                    ShownRow(
                        row.label,
                        [
                            count(yes),
                            count(answered),
                            suppression.shown_share(row.count, row.answered, hidden=share_hidden),
                        ],
                    )
                )
        return ShownTable(caption=caption, n_label=n_label, n=source.n, n_shown=count((t, "n")), rows=rows)

    by_pair: dict[tuple[str, str], list[ShownRow]] = defaultdict(list)
    for change in report.changes:
        marks = {name: hidden[key] for name in CHANGE_COUNTS if (key := _change_key(change, name)) in hidden}
        left_out = bool(marks)
        by_pair[(change.earlier, change.later)].append(
            ShownRow(
                change.label,
                [
                    *(count(_change_key(change, name)) for name in CHANGE_COUNTS),
                    "" if left_out else shown_change(change.median),
                    "" if left_out or change.p_value is None else shown_p(change.p_value),
                ],
                change_sentence(change, marks=marks),
                change.meaning,
            )
        )
    return ShownReport(
        table_1=table(
            report.table_1,
            "t1",
            _("Table 1. Answers at treatment start"),
            _("Filled in the questionnaire at treatment start"),
        ),
        table_2=table(
            report.table_2,
            "t2",
            _("Table 2. Answers at treatment end"),
            _("Filled in the questionnaire at treatment end"),
        ),
        changes=[
            (str(PAIR_LABELS[(earlier, later)]), by_pair[(earlier, later)])
            for earlier, later in PAIRS
            if by_pair[(earlier, later)]
        ],
        coverage_by_year=[
            coverage_row("year", str(row.year), row) for row in coverage_totals(report.coverage, per="year")
        ],
        coverage_by_group=[
            coverage_row("group", row.group, row) for row in coverage_totals(report.coverage, per="group")
        ],
        coverage_by=report.coverage_by,
        people=report.people,
        refused=report.refused,
    )
