"""Figures from the questionnaires: the evaluation's Tables 1 and 2, change on the same people, coverage, research file.

Counts only, from SQL aggregates: no free-text answer, client code or name is ever read here, so none can
reach a page. The evaluation (FoU i Väst 2021) could report only counts from different people; pairing the
same person's answers by item code, across versions, is what lets the clinics see change over time.
"""

from __future__ import annotations

import datetime
import math
import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

from django.core.exceptions import PermissionDenied
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
from django.http import HttpRequest
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from assessments.models import Administration, Answer, Item, ItemKind, TimePoint
from clients.models import CaseStatus, Episode, StatusChange
from kast.models import AccessLogEntry, Clinic, Role, User
from kast.services import access_log_record

#: National follow-up sees counts below this as "<5", so nobody can be picked out of a small clinic's figures.
SMALL_COUNT_LIMIT = 5
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

    The role table already lets only these roles in; this is the second lock, so a forged `clinic`
    parameter cannot show one clinic another's figures.
    """
    if user.role == Role.NATIONAL:
        return Selection(start=start, end=end, clinic=clinic, target_group=target_group)
    if user.role in (Role.THERAPIST, Role.MANAGER) and user.clinic_id is not None:
        return Selection(start=start, end=end, clinic=user.clinic, target_group=target_group)
    raise PermissionDenied


def _local_midnight(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _submitted_in(selection: Selection, prefix: str = "") -> Q:
    """Submitted administrations in the selection; `prefix` reaches Administration from another model.

    Dates become a half-open range of aware datetimes (not `__date`), so the index on submitted_at serves.
    """
    q = Q(**{f"{prefix}submitted_at__isnull": False})
    if selection.start:
        q &= Q(**{f"{prefix}submitted_at__gte": _local_midnight(selection.start)})
    if selection.end:
        q &= Q(**{f"{prefix}submitted_at__lt": _local_midnight(selection.end + datetime.timedelta(days=1))})
    return q & _clients_in(selection, f"{prefix}client__")


def _clients_in(selection: Selection, prefix: str) -> Q:
    q = Q()
    if selection.clinic is not None:
        q &= Q(**{f"{prefix}clinic": selection.clinic})
    if selection.target_group:
        q &= Q(**{f"{prefix}target_groups__contains": [selection.target_group]})
    return q


# --- Tables 1 and 2 ---------------------------------------------------------------------------------------------

#: The rows of the evaluation's Table 1 (answers at treatment start), by item code.
TABLE_1_ROWS = [
    ("bought_sex_ever", gettext_lazy("Has bought sexual services at some time")),
    ("bought_sex_last_year", gettext_lazy("Has bought sexual services in the last year")),
    ("has_partner", gettext_lazy("Has a partner")),
    ("has_children", gettext_lazy("Has children")),
    ("behaviour_harms_self", gettext_lazy("Feels their sexual behaviour has been destructive for themselves")),
    ("thoughts_harm_self", gettext_lazy("Feels their sexual thoughts have been destructive for themselves")),
    (
        "behaviour_harms_relations",
        gettext_lazy("Feels their sexual behaviour has been destructive for their relationships"),
    ),
]
#: The rows of the evaluation's Table 2 (answers at treatment end), by item code.
TABLE_2_ROWS = [
    ("bought_sex_last_year", gettext_lazy("Has bought sexual services in the last year")),
    ("came_as_often", gettext_lazy("Could come to sessions as often as wished or needed")),
    ("came_as_long", gettext_lazy("Could come to sessions for as long as needed")),
    ("staff_respectful", gettext_lazy("Found the staff respectful")),
    ("staff_non_judgmental", gettext_lazy("Found the staff non-judgmental")),
    ("staff_dignified", gettext_lazy("Found the staff treated them with dignity")),
    ("talk_sexual_issues", gettext_lazy("Could talk about difficult sexual issues")),
    ("got_help_needed", gettext_lazy("Got the help needed or expected")),
    ("stop_impulses_due_to_treatment", gettext_lazy("Can stop unwanted sexual impulses thanks to the treatment")),
]


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


def count_table(selection: Selection, time_point: str, rows: list[tuple[str, str]]) -> CountTable:
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

#: Time points compared on the same treatment period, earlier first.
PAIRS = [
    (TimePoint.START, TimePoint.END),
    (TimePoint.END, TimePoint.FOLLOW_UP),
    (TimePoint.START, TimePoint.FOLLOW_UP),
]

#: A closed answer as a number: yes/no as 1/0, steps and frequencies as stored.
SCORE = Coalesce("value_int", Cast("value_bool", IntegerField()))


@dataclass(frozen=True)
class PairedChange:
    earlier: str
    later: str
    code: str
    label: str  # the question, as the newest version words it
    changes: dict[int, int]  # change towards better (positive) or worse -> how many pairs

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
    return min(1.0, 2 * tail / 2**changed)


def _pair_counts_sql(selection: Selection, earlier: str, later: str) -> tuple[str, list]:
    """SQL for (earlier, later, item code, change, pairs) of one pair of time points, grouped in SQL.

    One pass over the answers of both time points: the inner query keeps one row per treatment
    period and measure (item code, kind and direction: a yes/no turned into a scale is not the same
    measure), with the earlier and the later score side by side; the outer one counts the changes.
    The later answer decides whether a pair is in the selection (the pair is complete when it is
    submitted); the earlier one only has to be submitted. Only the periods with a later questionnaire
    in the selection are read (measured on 20 000 clients: 1.3 s to 0.45 s for the three pairs).
    """
    later_in_selection = Q(administration__time_point=later) & _submitted_in(selection, "administration__")
    # A period belongs to one client, so its later questionnaire's clinic and target group are the earlier one's too.
    periods = Administration.objects.filter(_submitted_in(selection), time_point=later).values("episode_id")
    per_period = (
        Answer.objects.filter(
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
    labels, order = _item_labels({code for _e, _l, code in grouped})
    pair_order = {pair: index for index, pair in enumerate(PAIRS)}
    return [
        PairedChange(earlier, later, code, labels.get(code, code), changes)
        for (earlier, later, code), changes in sorted(
            grouped.items(), key=lambda entry: (pair_order[entry[0][:2]], order.get(entry[0][2], 0))
        )
    ]


def _item_labels(codes: set[str]) -> tuple[dict[str, str], dict[str, int]]:
    """The newest published wording of each code, and an order that follows the forms. One query (none if empty)."""
    if not codes:
        return {}, {}
    labels: dict[str, str] = {}
    order: dict[str, int] = {}
    items = (
        Item.objects.filter(code__in=codes, version__published_at__isnull=False)
        .select_related("version")
        .order_by("version__published_at", "version__instrument_id", "position")
    )
    for item in items:
        order.setdefault(item.code, len(order))
        labels[item.code] = item.localized_text  # the newest version's wording wins
    return labels, order


# --- Coverage ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CoverageRow:
    group: str  # the responsible therapist's name, or the clinic's
    year: int
    periods: int
    start: int
    end: int
    follow_up: int
    start_and_end: int
    all_three: int


def coverage(selection: Selection, *, by: Literal["therapist", "clinic"] = "therapist") -> list[CoverageRow]:
    """Treatment periods that reached treatment, and how many have each questionnaire. One query.

    Grouped by responsible therapist (for the clinic's own follow-up) or by clinic (national), and by the
    year the period opened; the selection's dates apply to that opening date.
    """

    def has(point: str) -> Exists:
        return Exists(
            Administration.objects.filter(episode=OuterRef("pk"), time_point=point, submitted_at__isnull=False)
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
        periods.alias(
            has_start=has(TimePoint.START), has_end=has(TimePoint.END), has_follow_up=has(TimePoint.FOLLOW_UP)
        )
        .annotate(year=ExtractYear("opened_on"))
        .values(*group_fields, "year")
        .annotate(
            periods=Count("pk"),
            start=Count("pk", filter=Q(has_start=True)),
            end=Count("pk", filter=Q(has_end=True)),
            follow_up=Count("pk", filter=Q(has_follow_up=True)),
            start_and_end=Count("pk", filter=Q(has_start=True, has_end=True)),
            all_three=Count("pk", filter=Q(has_start=True, has_end=True, has_follow_up=True)),
        )
        .order_by(*group_fields, "year")
    )
    return [
        CoverageRow(
            group=_group_name(row, by),
            year=row["year"],
            periods=row["periods"],
            start=row["start"],
            end=row["end"],
            follow_up=row["follow_up"],
            start_and_end=row["start_and_end"],
            all_three=row["all_three"],
        )
        for row in rows
    ]


#: The counts of a coverage row, in the order the page shows them.
COVERAGE_COUNTS = ("periods", "start", "end", "follow_up", "start_and_end", "all_three")


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
    keys = totals if per == "group" else sorted(totals)
    return [
        CoverageRow(group=key if per == "group" else "", year=0 if per == "group" else key, **totals[key])
        for key in keys
    ]


def _group_name(row: dict, by: str) -> str:
    if by == "clinic":
        return row["client__clinic__name"]
    full = " ".join(
        part
        for part in (row["client__responsible_therapist__first_name"], row["client__responsible_therapist__last_name"])
        if part
    )
    return full or row["client__responsible_therapist__username"]


# --- The whole report -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Report:
    selection: Selection
    table_1: CountTable
    table_2: CountTable
    changes: list[PairedChange]
    coverage: list[CoverageRow]  # per group and year
    coverage_by: str


def report_for(selection: Selection, *, by_clinic: bool = False) -> Report:
    """Everything the reports page shows: five queries (four when nobody has answered twice), whatever the data size."""
    by: Literal["therapist", "clinic"] = "clinic" if by_clinic else "therapist"
    return Report(
        selection=selection,
        table_1=table_1(selection),
        table_2=table_2(selection),
        changes=paired_changes(selection),
        coverage=coverage(selection, by=by),
        coverage_by=by,
    )


# --- As shown: the one place small counts are hidden ----------------------------------------------------------


def shown_count(count: int, *, suppress: bool) -> str:
    """A count as shown. For national follow-up every count under 5 (zero too) is "<5", so nobody can be singled out.

    Every figure of the page goes through here (tables, change, coverage and the sentences), so no path shows
    a small count by mistake.
    """
    if suppress and count < SMALL_COUNT_LIMIT:
        return "<5"
    return formats.number_format(count, force_grouping=True)


def shown_share(count: int, of: int, *, suppress: bool) -> str:
    """A percentage, or a dash when nobody answered; hidden for national follow-up (it would reveal small counts)."""
    if suppress:
        return ""
    if of == 0:
        return "–"
    return f"{formats.number_format(round(100 * count / of))}\xa0%"


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


def change_sentence(change: PairedChange, *, suppress: bool) -> str:
    """What the figures mean, in plain words, without judging anyone."""
    if suppress and change.n < SMALL_COUNT_LIMIT:
        return _("Fewer than 5 answered both times, so the change is not described.")
    counts = _(
        "Of %(n)s who answered both times, %(better)s were doing better, %(same)s the same and %(worse)s worse."
    ) % {
        "n": shown_count(change.n, suppress=suppress),
        "better": shown_count(change.improved, suppress=suppress),
        "same": shown_count(change.unchanged, suppress=suppress),
        "worse": shown_count(change.worsened, suppress=suppress),
    }
    p = change.p_value
    if p is None:
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


@dataclass(frozen=True)
class ShownTable:
    caption: str
    n_label: str
    n: int
    n_shown: str
    rows: list[ShownRow] = field(default_factory=list)


@dataclass(frozen=True)
class ShownReport:
    suppress: bool
    table_1: ShownTable
    table_2: ShownTable
    changes: list[tuple[str, list[ShownRow]]]  # (pair label, rows)
    coverage_by_year: list[ShownRow]
    coverage_by_group: list[ShownRow]  # per responsible therapist, or per clinic (coverage_by)
    coverage_by: str

    @property
    def tables(self) -> list[ShownTable]:
        return [self.table_1, self.table_2]


def shown_report(report: Report, *, suppress: bool) -> ShownReport:
    """The report as text cells for the template, every count passed through shown_count."""

    def coverage_row(label: str, row: CoverageRow) -> ShownRow:
        return ShownRow(label, [shown_count(getattr(row, name), suppress=suppress) for name in COVERAGE_COUNTS])

    def table(source: CountTable, caption: str, n_label: str) -> ShownTable:
        return ShownTable(
            caption=caption,
            n_label=n_label,
            n=source.n,
            n_shown=shown_count(source.n, suppress=suppress),
            rows=[
                ShownRow(
                    row.label,
                    [
                        shown_count(row.count, suppress=suppress),
                        shown_count(row.answered, suppress=suppress),
                        shown_share(row.count, row.answered, suppress=suppress),
                    ],
                )
                for row in source.rows
            ],
        )

    by_pair: dict[tuple[str, str], list[ShownRow]] = defaultdict(list)
    for change in report.changes:
        few = suppress and change.n < SMALL_COUNT_LIMIT
        by_pair[(change.earlier, change.later)].append(
            ShownRow(
                change.label,
                [
                    shown_count(change.n, suppress=suppress),
                    shown_count(change.improved, suppress=suppress),
                    shown_count(change.unchanged, suppress=suppress),
                    shown_count(change.worsened, suppress=suppress),
                    "" if few else shown_change(change.median),
                    "" if few or change.p_value is None else shown_p(change.p_value),
                ],
                change_sentence(change, suppress=suppress),
            )
        )
    return ShownReport(
        suppress=suppress,
        table_1=table(
            report.table_1,
            _("Table 1. Answers at treatment start"),
            _("Filled in the questionnaire at treatment start"),
        ),
        table_2=table(
            report.table_2,
            _("Table 2. Answers at treatment end"),
            _("Filled in the questionnaire at treatment end"),
        ),
        changes=[
            (f"{TimePoint(earlier).label} → {TimePoint(later).label}", by_pair[(earlier, later)])
            for earlier, later in PAIRS
            if by_pair[(earlier, later)]
        ],
        coverage_by_year=[coverage_row(str(row.year), row) for row in coverage_totals(report.coverage, per="year")],
        coverage_by_group=[coverage_row(row.group, row) for row in coverage_totals(report.coverage, per="group")],
        coverage_by=report.coverage_by,
    )


# --- The research file ------------------------------------------------------------------------------------------

#: Columns before the items. No client code, name, id or free text: a subject is a key made for one file.
EXPORT_COLUMNS = [
    "subject",
    "birth_years",
    "gender",
    "target_groups",
    "clinic",
    "time_point",
    "instrument",
    "version",
    "submitted_month",
]


@dataclass(frozen=True)
class ResearchExport:
    header: list[str]
    rows: list[list[str]]


def _birth_years(year: int | None) -> str:
    """Five-year bands ("1975-1979"): enough for research, too coarse to recognise a person by."""
    if year is None:
        return ""
    first = year - year % 5
    return f"{first}-{first + 4}"


def _export_value(answer: dict) -> str:
    if answer["declined"]:
        return "declined"
    kind = answer["item__kind"]
    if kind == ItemKind.YES_NO:
        return "" if answer["value_bool"] is None else str(int(answer["value_bool"]))
    if kind == ItemKind.LAST_OCCURRENCE:
        # The month is enough to measure time since; an exact date adds to recognisability.
        return answer["value_date"].strftime("%Y-%m") if answer["value_date"] else ""
    if kind in (ItemKind.SINGLE, ItemKind.MULTIPLE):
        return "|".join(answer["value_choices"])
    return "" if answer["value_int"] is None else str(answer["value_int"])


def _subject_keys() -> defaultdict[object, str]:
    """A fresh random key per client, the same for the same client within this one file only."""
    used: set[str] = set()

    def new_key() -> str:
        key = secrets.token_hex(4)
        while key in used:
            key = secrets.token_hex(4)
        used.add(key)
        return key

    return defaultdict(new_key)


def research_export(*, request: HttpRequest, selection: Selection) -> ResearchExport:
    """One row per submitted questionnaire in the selection, pseudonymised; four queries whatever the size.

    The one write here is the access-log entry ("exported", with the row count): no research file leaves the
    system unrecorded. Free-text items are left out altogether, whatever their code.
    """
    if selection.clinic is None:
        raise PermissionDenied  # a research file is one clinic's, by its manager
    administrations = list(
        Administration.objects.filter(_submitted_in(selection)).values(
            "pk",
            "client_id",
            "client__birth_year",
            "client__gender",
            "client__target_groups",
            "client__clinic__code",
            "time_point",
            "version__instrument__code",
            "version__number",
            "submitted_at",
        )
    )
    codes = list(
        dict.fromkeys(
            Item.objects.filter(version__published_at__isnull=False)
            .exclude(kind=ItemKind.TEXT)
            .order_by("version__published_at", "version__instrument_id", "version__number", "position")
            .values_list("code", flat=True)
        )
    )
    answers: dict[int, dict[str, str]] = defaultdict(dict)
    for answer in (
        Answer.objects.filter(administration__in=[a["pk"] for a in administrations])
        .exclude(item__kind=ItemKind.TEXT)
        .values(
            "administration_id",
            "item__code",
            "item__kind",
            "declined",
            "value_bool",
            "value_int",
            "value_date",
            "value_choices",
        )
    ):
        answers[answer["administration_id"]][answer["item__code"]] = _export_value(answer)
    subjects = _subject_keys()
    point_order = {point: index for index, point in enumerate(TimePoint.values)}
    rows = [
        [
            subjects[a["client_id"]],
            _birth_years(a["client__birth_year"]),
            a["client__gender"],
            "|".join(a["client__target_groups"]),
            a["client__clinic__code"],
            a["time_point"],
            a["version__instrument__code"],
            str(a["version__number"]),
            timezone.localtime(a["submitted_at"]).strftime("%Y-%m"),
            *(answers[a["pk"]].get(code, "") for code in codes),
        ]
        for a in administrations
    ]
    # Sorted by the random key, so the order of rows tells nothing about when a client was registered.
    rows.sort(key=lambda row: (row[0], point_order[row[5]], row[8]))
    access_log_record(
        request=request,
        action=AccessLogEntry.Action.EXPORT,
        object_type="assessments.research_export",
        reason=_export_reason(selection, len(rows)),
    )
    return ResearchExport(header=[*EXPORT_COLUMNS, *codes], rows=rows)


def _export_reason(selection: Selection, count: int) -> str:
    parts = [f"rows={count}"]
    if selection.start:
        parts.append(f"from={selection.start:%Y-%m-%d}")
    if selection.end:
        parts.append(f"to={selection.end:%Y-%m-%d}")
    if selection.target_group:
        parts.append(f"target_group={selection.target_group}")
    return " ".join(parts)
