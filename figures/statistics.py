"""Figures for unit managers: counts only, from SQL aggregates, never a word of content."""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from django.apps import apps
from django.db.models import (
    Aggregate,
    Count,
    DateField,
    Exists,
    F,
    Field,
    FloatField,
    ForeignKey,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.expressions import Combinable
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from assessments.models import Administration, TimePoint
from clients.models import (
    REACHED_OUTCOMES,
    CaseStatus,
    Client,
    EndReason,
    Episode,
    GoalMoment,
    GoalReview,
    RecordKind,
    ReferralSource,
    StatusChange,
    TargetGroup,
    TreatmentGoal,
)
from figures import advice as advice_figures
from figures import groups as group_figures
from figures import persons as person_figures
from figures import profile, suppression
from figures.outreach import OutreachRow, outreach_by_kind
from kast.models import Clinic, Role, User
from relatives.models import ChildAction, ChildPerspective, RelativeLink
from sessions.models import HELD, Attendance, FollowUp, MethodCode, Note, NoteMethod, SessionKind, TherapySession

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


@dataclass(frozen=True)
class ClinicSessionCounts:
    month_start: datetime.date
    held_this_month: int
    no_shows_this_month: int
    booked_next_7_days: int
    unsigned_notes: int
    unsigned_notes_waiting_long: int
    follow_ups_overdue: int
    follow_ups_due_30_days: int

    @property
    def shown(self) -> dict[str, str]:
        """Each count as the page shows it: under 5 as "<5" (figures.suppression), as every figure of the app."""
        return {
            name: suppression.shown_count(getattr(self, name))
            for name in (
                "held_this_month",
                "no_shows_this_month",
                "booked_next_7_days",
                "unsigned_notes",
                "unsigned_notes_waiting_long",
                "follow_ups_overdue",
                "follow_ups_due_30_days",
            )
        }


def clinic_session_counts(clinic: Clinic, *, today: datetime.date | None = None) -> ClinicSessionCounts:
    """The clinic's sessions this month, bookings ahead, notes not yet signed, follow-ups due. Three queries."""
    today = today or timezone.localdate()
    month_start = today.replace(day=1)
    sessions = (
        TherapySession.objects.in_record()
        .filter(clinic=clinic)
        .aggregate(
            held=Count("pk", filter=Q(date__range=(month_start, today), attendance__in=HELD)),
            no_shows=Count("pk", filter=Q(date__range=(month_start, today), attendance=Attendance.NO_SHOW)),
            booked=Count(
                "pk",
                filter=Q(date__range=(today, today + datetime.timedelta(days=7)), attendance=Attendance.BOOKED),
            ),
        )
    )
    waiting_since = today - datetime.timedelta(days=clinic.draft_reminder_days)
    notes = Note.objects.filter(
        session__clinic=clinic, session__voided_at__isnull=True, signed_at__isnull=True
    ).aggregate(all=Count("pk"), waiting=Count("pk", filter=Q(session__date__lt=waiting_since)))
    follow_ups = (
        FollowUp.objects.open()
        .filter(client__clinic=clinic)
        .aggregate(
            overdue=Count("pk", filter=Q(due_on__lt=today)),
            soon=Count("pk", filter=Q(due_on__range=(today, today + datetime.timedelta(days=30)))),
        )
    )
    return ClinicSessionCounts(
        month_start=month_start,
        held_this_month=sessions["held"],
        no_shows_this_month=sessions["no_shows"],
        booked_next_7_days=sessions["booked"],
        unsigned_notes=notes["all"],
        unsigned_notes_waiting_long=notes["waiting"],
        follow_ups_overdue=follow_ups["overdue"],
        follow_ups_due_30_days=follow_ups["soon"],
    )


# --- The dashboard ----------------------------------------------------------------------------------------------

#: Closed treatment periods by length, in whole months from opening: (key, label, from months, below months).
LENGTH_BANDS = [
    ("under_3", _("Under 3 months"), None, 3),
    ("3_6", _("3–6 months"), 3, 6),
    ("6_12", _("6–12 months"), 6, 12),
    ("over_12", _("12 months or more"), 12, None),
]


class PercentileCont(Aggregate):
    """PostgreSQL's percentile_cont(fraction) WITHIN GROUP (ORDER BY expression): the median at 0.5."""

    function = "percentile_cont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression: Combinable | str, fraction: float, **extra: Any) -> None:
        if not 0 <= fraction <= 1:
            raise ValueError("fraction must lie between 0 and 1")
        super().__init__(expression, fraction=float(fraction), **extra)


class DaysBetween(Func):
    """later - earlier for two dates: whole days, as PostgreSQL's date subtraction gives them."""

    template = "(%(expressions)s)"
    arg_joiner = " - "
    output_field = IntegerField()

    def __init__(self, later: Combinable | str, earlier: Combinable | str, **extra: Any) -> None:
        super().__init__(later, earlier, **extra)


class MonthsAfter(Func):
    """A date plus a whole number of calendar months (a timestamp, comparable with a date)."""

    template = "(%(expressions)s + make_interval(months => %(months)d))"
    output_field = DateField()

    def __init__(self, expression: Combinable | str, months: int, **extra: Any) -> None:
        super().__init__(expression, months=int(months), **extra)


@dataclass(frozen=True)
class Scope:
    """Whose figures: one clinic or all (national), optionally one therapist's own caseload, and the period."""

    start: datetime.date
    end: datetime.date
    clinic: Clinic | None = None
    therapist: User | None = None

    @property
    def months(self) -> list[datetime.date]:
        months, month = [], self.start.replace(day=1)
        while month <= self.end:
            months.append(month)
            month = (month + datetime.timedelta(days=32)).replace(day=1)
        return months

    def month_ends(self) -> list[datetime.date]:
        """The last day of each month of the period (the period's own end for its last month)."""
        return [
            min((month + datetime.timedelta(days=32)).replace(day=1) - datetime.timedelta(days=1), self.end)
            for month in self.months
        ]

    def clients(self, prefix: str = "", *, kind: str | None = RecordKind.CLIENT) -> Q:
        """Records in scope: clients' by default (treatment figures); relatives' or both (kind None) when asked."""
        q = Q() if kind is None else Q(**{f"{prefix}kind": kind})
        if self.clinic is not None:
            q &= Q(**{f"{prefix}clinic": self.clinic})
        if self.therapist is not None:
            q &= Q(**{f"{prefix}responsible_therapist": self.therapist})
        return q


@dataclass(frozen=True)
class Dashboard:
    scope: Scope
    active_by_group: list[tuple[str, int]]  # (therapist or clinic, active treatment periods now)
    active_by_month: list[tuple[datetime.date, int | None]]  # (month, active at its end; None for the future)
    contacts_by_month: list[dict[str, Any]]  # month, total, one key per target group and per referral source
    referred: list[tuple[str, int]]  # (destination, count)
    sessions_by_month: list[dict[str, Any]]  # month, one key per kind (held), attendance counts, fees
    sessions: dict[str, Any]  # the period's totals of sessions_by_month
    fte: Decimal
    therapists: int
    waiting: dict[str, Any]  # n, median, p90 (days)
    lengths: dict[str, Any]  # n and one key per LENGTH_BANDS
    end_reasons: dict[str, Any]  # one key per EndReason
    follow_ups: dict[str, Any]  # due, done, overdue
    coverage: dict[str, Any]  # periods, start, end, follow_up
    relatives: dict[str, Any]  # new, new_unlinked (in the period), in_support (now)
    children: dict[str, Any]  # with_children (now), considered, children, reports (in the period)
    methods: dict[str, Any]  # periods_<code>, sessions_<code> per common method and "other"; any_periods
    own_methods: list[tuple[str, int, int]]  # a clinic's own methods: (name, periods, sessions); [] for all clinics
    # Goals whose latest end or follow-up review falls in the period: "<group>_<outcome>" ("all" for every group).
    goals: dict[str, Any] = field(default_factory=dict)
    outreach: list[OutreachRow] = field(default_factory=list)  # by kind, then the total (figures.outreach)
    advice: dict[str, int] = field(default_factory=dict)  # figures.advice.advice_counts
    persons: dict[str, int] = field(default_factory=dict)  # figures.persons.person_counts
    groups: dict[str, Any] = field(default_factory=dict)  # figures.groups.group_counts
    # Periods in treatment at the period's end (today, for a period not yet over; None for one not yet begun).
    active_at_end: int | None = None

    @property
    def held(self) -> int:
        held: int = self.sessions["held"]
        return held

    @property
    def held_per_fte(self) -> float | None:
        return round(self.held / float(self.fte), 1) if self.fte else None

    @property
    def attendance_due(self) -> int:
        """Sessions that were due to take place: held, cancelled or missed (not those still booked)."""
        s = self.sessions
        due: int = s["held"] + s["cancelled_client"] + s["cancelled_clinic"] + s["no_show"]
        return due

    def share(self, key: str) -> float | None:
        """A share of the sessions due, or None when none were due (never a division by zero)."""
        due = self.attendance_due
        return self.sessions[key] / due if due else None

    @property
    def is_empty(self) -> bool:
        # Active periods "now" do not depend on the period, so they do not make a period non-empty.
        return not (
            any(row["total"] for row in self.contacts_by_month)
            or self.referred
            or self.attendance_due
            or self.sessions["booked"]
            or self.lengths["n"]
            or self.follow_ups["due"]
            or self.coverage["periods"]
            or self.relatives["new"]
            or self.children["considered"]
            or any(self.goals.values())
            or self.groups.get("meetings")
        )


def _midnight(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _sum_rows(rows: list[dict[str, Any]], keys: list[str]) -> dict[str, Any]:
    return {key: sum(row[key] for row in rows) for key in keys}


def _by_month(rows: Iterable[Mapping[str, Any]], months: list[datetime.date], keys: list[str]) -> list[dict[str, Any]]:
    """One dict per month of the period, zeros for months without a row."""
    found = {row["month"]: row for row in rows}
    return [{"month": month, **{key: found.get(month, {}).get(key) or 0 for key in keys}} for month in months]


SESSION_COUNT_KEYS = [
    *[f"kind_{kind}" for kind in SessionKind.values],
    "held",
    "cancelled_client",
    "cancelled_clinic",
    "no_show",
    "booked",
]
CONTACT_KEYS = [
    "total",
    *[f"group_{group}" for group in TargetGroup.values],
    *[f"source_{source}" for source in ReferralSource.values],
]


def dashboard(
    clinic: Clinic | None, start: datetime.date, end: datetime.date, *, therapist: User | None = None
) -> Dashboard:
    """The dashboard's figures for a clinic (None: all clinics) and period. Eighteen queries whatever the data size
    (seventeen for all clinics, which count the clinics' own methods as "other" only).

    Counts and sums only, from SQL aggregates: no note, answer, interview text, alias or client code is read.
    With `therapist`, only their own caseload: clients they are responsible for, sessions they held.
    Each figure below is one query of its own, beside the SQL that makes it.
    """
    scope = Scope(start=start, end=end, clinic=clinic, therapist=therapist)
    today = timezone.localdate()
    active_by_group = _active_by_group(scope)
    contacts_by_month = _contacts_by_month(scope)
    referred = _referred(scope)
    sessions_by_month = _sessions_by_month(scope)
    staffing = _staffing(scope)
    waiting = _waiting(scope)
    closed = _closed(scope)
    follow_ups = _follow_ups(scope, today)
    coverage = _coverage(scope)
    active_by_month, active_at_end = _active_by_month(scope, today)
    relatives = _relatives(scope)
    children = _children(scope)
    methods = _methods(scope)
    own_methods = _own_methods(scope)
    return Dashboard(
        scope=scope,
        active_by_group=active_by_group,
        active_by_month=active_by_month,
        contacts_by_month=contacts_by_month,
        referred=referred,
        sessions_by_month=sessions_by_month,
        sessions=_sum_rows(sessions_by_month, [*SESSION_COUNT_KEYS, "fees_charged", "fees_paid"]),
        fte=staffing["fte"] or Decimal(0),
        therapists=staffing["n"],
        waiting=waiting,
        lengths={"n": closed["n"], **{key: closed[key] for key, *_rest in LENGTH_BANDS}},
        end_reasons={reason: closed[f"reason_{reason}"] for reason in [*EndReason.values, ""]},
        follow_ups=follow_ups,
        coverage=coverage,
        relatives=relatives,
        children=children,
        methods=methods,
        own_methods=own_methods,
        goals=_goals(scope),
        outreach=outreach_by_kind(
            clinic_id=clinic.pk if clinic else None,
            start=start,
            end=end,
            therapist_id=therapist.pk if therapist else None,
        ),
        advice=advice_figures.advice_counts(scope),
        persons=person_figures.person_counts(scope),
        groups=group_figures.group_counts(scope),
        active_at_end=active_at_end,
    )


def _in_treatment() -> Exists:
    """The treatment period has reached treatment (a status change to "in treatment")."""
    return Exists(StatusChange.objects.filter(episode=OuterRef("pk"), to_status=CaseStatus.IN_TREATMENT))


def _active_by_group(scope: Scope) -> list[tuple[str, int]]:
    """1. Active treatment periods now, per responsible therapist (per clinic when all clinics are counted)."""
    active = Episode.objects.filter(
        scope.clients("client__"), closed_on__isnull=True, client__status=CaseStatus.IN_TREATMENT
    )
    if scope.clinic is None and scope.therapist is None:
        rows = active.values("client__clinic__name").annotate(n=Count("pk")).order_by("client__clinic__name")
        return [(row["client__clinic__name"], row["n"]) for row in rows]
    names = ["client__responsible_therapist__first_name", "client__responsible_therapist__last_name"]
    rows = active.values("client__responsible_therapist__username", *names).annotate(n=Count("pk")).order_by(*names)
    return [
        (
            " ".join(row[name] for name in names if row[name]) or row["client__responsible_therapist__username"],
            row["n"],
        )
        for row in rows
    ]


def _contacts_by_month(scope: Scope) -> list[dict[str, Any]]:
    """2. New contacts per month, by target group (a client may be in several) and by referral source."""
    contact_counts = {"total": Count("pk")}
    for value in TargetGroup.values:
        contact_counts[f"group_{value}"] = Count("pk", filter=Q(target_groups__contains=[value]))
    for value in ReferralSource.values:
        contact_counts[f"source_{value}"] = Count("pk", filter=Q(referral_source=value))
    contact_rows = (
        # Relatives' own records too: they are the target group "relative or partner".
        Client.objects.filter(scope.clients(kind=None), first_contact_date__range=(scope.start, scope.end))
        .annotate(month=TruncMonth("first_contact_date"))
        .values("month")
        .annotate(**contact_counts)
        .order_by("month")
    )
    return _by_month(contact_rows, scope.months, CONTACT_KEYS)


def _referred(scope: Scope) -> list[tuple[str, int]]:
    """3. Referred elsewhere in the period, by the clinics' list of destinations: never by the details typed in the
    record, and "other" only as a count (its details could name a person). Most referred first."""
    referred_counts: Counter[str] = Counter()
    for row in (
        StatusChange.objects.filter(
            scope.clients("client__"),
            to_status=CaseStatus.REFERRED,
            at__gte=_midnight(scope.start),
            at__lt=_midnight(scope.end + datetime.timedelta(days=1)),
        )
        .values("referred_to__name", "referred_to__is_other")
        .annotate(n=Count("pk"))
    ):
        label = str(_("Other")) if row["referred_to__is_other"] else row["referred_to__name"]
        referred_counts[label] += row["n"]
    return sorted(referred_counts.items(), key=lambda item: (-item[1], item[0]))


def _sessions_by_month(scope: Scope) -> list[dict[str, Any]]:
    """4. Sessions per month: held by type, attendance, fees."""
    sessions = TherapySession.objects.in_record().filter(date__range=(scope.start, scope.end))
    if scope.clinic is not None:
        sessions = sessions.filter(clinic=scope.clinic)
    if scope.therapist is not None:
        sessions = sessions.filter(therapists=scope.therapist)
    held = Q(attendance__in=HELD)
    session_counts: dict[str, Aggregate] = {
        f"kind_{kind}": Count("pk", filter=held & Q(kind=kind)) for kind in SessionKind.values
    }
    session_counts |= {
        "held": Count("pk", filter=held),
        "cancelled_client": Count("pk", filter=Q(attendance=Attendance.CANCELLED_BY_CLIENT)),
        "cancelled_clinic": Count("pk", filter=Q(attendance=Attendance.CANCELLED_BY_CLINIC)),
        "no_show": Count("pk", filter=Q(attendance=Attendance.NO_SHOW)),
        "booked": Count("pk", filter=Q(attendance=Attendance.BOOKED)),
        "fees_charged": Sum("fee_charged", filter=held),
        "fees_paid": Sum("fee_charged", filter=held & Q(fee_paid=True)),
    }
    session_rows = (
        sessions.annotate(month=TruncMonth("date")).values("month").annotate(**session_counts).order_by("month")
    )
    return _by_month(session_rows, scope.months, [*SESSION_COUNT_KEYS, "fees_charged", "fees_paid"])


def _staffing(scope: Scope) -> dict[str, Any]:
    """5. Full-time equivalents (fte) and number (n) of the therapists counted, as the staff stood at the period's end
    (today, for a period not over yet): a period a year earlier is divided by that year's staff, not today's.

    Each account as it was then, from its history (kast.UserEvent: pghistory writes the account's row at its
    creation and at every change of role, clinic, activity or FTE); only accounts that had joined by then count.
    An account that had joined by then but whose history begins later (an account dated back, as the demo's
    are) is taken as its history first shows it.
    """
    as_of = min(scope.end, timezone.localdate())
    until = timezone.make_aware(datetime.datetime.combine(as_of + datetime.timedelta(days=1), datetime.time()))
    # pghistory makes the history's model when kast.models loads: by name, for the type checker's sake.
    events = apps.get_model("kast", "UserEvent")._default_manager.filter(pgh_obj=OuterRef("pk"))
    then = events.filter(pgh_created_at__lt=until).order_by("-pgh_created_at", "-pgh_id")
    first = events.order_by("pgh_created_at", "pgh_id")

    def was(name: str) -> Coalesce:
        field = cast("Field[Any, Any]", User._meta.get_field(name))
        output = field.target_field if isinstance(field, ForeignKey) else field  # a clinic: its key
        column = field.attname
        return Coalesce(
            Subquery(then.values(column)[:1]), Subquery(first.values(column)[:1]), F(column), output_field=output
        )

    staff = (
        User.objects.filter(date_joined__lt=until)
        .annotate(role_then=was("role"), clinic_then=was("clinic"), active_then=was("is_active"), fte_then=was("fte"))
        .filter(role_then=Role.THERAPIST, active_then=True)
    )
    if scope.clinic is not None:
        staff = staff.filter(clinic_then=scope.clinic.pk)
    if scope.therapist is not None:
        staff = staff.filter(pk=scope.therapist.pk)
    return staff.aggregate(fte=Sum("fte_then"), n=Count("pk"))


def _waiting(scope: Scope) -> dict[str, Any]:
    """6. Waiting time: clients whose first held session fell in the period, from their first contact (n, median,
    p90 in days)."""
    first_held = (
        TherapySession.objects.in_record()
        .filter(client=OuterRef("pk"), attendance__in=HELD)
        .order_by("date")
        .values("date")[:1]
    )
    # Only clients with a session held in the period can have had their first one in it: a semi-join
    # on the period's sessions, so the first-session lookup runs for those few, not for every client.
    held_in_period = TherapySession.objects.in_record().filter(
        client=OuterRef("pk"), attendance__in=HELD, date__range=(scope.start, scope.end)
    )
    return (
        Client.objects.filter(scope.clients(), Exists(held_in_period))
        .annotate(first_held=Subquery(first_held, output_field=DateField()))
        .filter(first_held__range=(scope.start, scope.end))
        .aggregate(
            n=Count("pk"),
            median=PercentileCont(DaysBetween(F("first_held"), F("first_contact_date")), 0.5),
            p90=PercentileCont(DaysBetween(F("first_held"), F("first_contact_date")), 0.9),
        )
    )


def _closed(scope: Scope) -> dict[str, Any]:
    """7. Treatment periods that reached treatment and closed in the period: n, one key per LENGTH_BANDS, and
    reason_<end reason> (reason_ for none recorded)."""
    length_counts = {"n": Count("pk")}
    for key, _label, from_months, below_months in LENGTH_BANDS:
        band = Q()
        if from_months is not None:
            band &= Q(closed_on__gte=MonthsAfter("opened_on", from_months))
        if below_months is not None:
            band &= Q(closed_on__lt=MonthsAfter("opened_on", below_months))
        length_counts[key] = Count("pk", filter=band)
    for reason in EndReason.values:
        length_counts[f"reason_{reason}"] = Count("pk", filter=Q(end_reason=reason))
    length_counts["reason_"] = Count("pk", filter=Q(end_reason=""))
    return Episode.objects.filter(
        scope.clients("client__"), _in_treatment(), closed_on__range=(scope.start, scope.end)
    ).aggregate(**length_counts)


def _follow_ups(scope: Scope, today: datetime.date) -> dict[str, Any]:
    """8. Follow-ups due in the period: done, and not done although due."""
    # One closed as not needed (the client came back first) is no longer due.
    due = FollowUp.objects.filter(dropped_on__isnull=True)
    return due.filter(scope.clients("client__"), due_on__range=(scope.start, scope.end)).aggregate(
        due=Count("pk"),
        done=Count("pk", filter=Q(done_on__isnull=False)),
        overdue=Count("pk", filter=Q(done_on__isnull=True, due_on__lt=today)),
    )


def _coverage(scope: Scope) -> dict[str, Any]:
    """9. Questionnaire coverage, as figures.reports.coverage counts it: periods that reached treatment, opened in
    the period, with a submitted questionnaire at each time point."""

    def has(point: str) -> Exists:
        return Exists(
            Administration.objects.counted().filter(
                episode=OuterRef("pk"), time_point=point, submitted_at__isnull=False
            )
        )

    return (
        Episode.objects.filter(scope.clients("client__"), _in_treatment(), opened_on__range=(scope.start, scope.end))
        .alias(has_start=has(TimePoint.START), has_end=has(TimePoint.END), has_follow_up=has(TimePoint.FOLLOW_UP))
        .aggregate(
            periods=Count("pk"),
            start=Count("pk", filter=Q(has_start=True)),
            end=Count("pk", filter=Q(has_end=True)),
            follow_up=Count("pk", filter=Q(has_follow_up=True)),
        )
    )


def _active_by_month(scope: Scope, today: datetime.date) -> tuple[list[tuple[datetime.date, int | None]], int | None]:
    """10. Active treatment periods at the end of each month: in treatment by then, not closed by then (None for a
    month that has not ended yet); and at the period's end, or today for a period not yet over (None for a period
    not yet begun), for the key figures."""
    treated_from = (
        StatusChange.objects.filter(episode=OuterRef("pk"), to_status=CaseStatus.IN_TREATMENT)
        .order_by("at")
        .values("at")[:1]
    )

    def active_on(day: datetime.date) -> Count:
        return Count(
            "pk",
            filter=Q(treated_from__lt=_midnight(day + datetime.timedelta(days=1)))
            & (Q(closed_on__isnull=True) | Q(closed_on__gt=day)),
        )

    month_ends = [day for day in scope.month_ends() if day <= today]
    counted = {f"m{i}": active_on(day) for i, day in enumerate(month_ends)}
    if scope.start <= today:
        counted["at_end"] = active_on(min(scope.end, today))
    # Only periods still open, or closed after the period began, can be active at one of its month ends.
    active_rows = (
        Episode.objects.filter(scope.clients("client__"), Q(closed_on__isnull=True) | Q(closed_on__gte=scope.start))
        .alias(treated_from=Subquery(treated_from))
        .aggregate(**counted)
        if counted
        else {}
    )
    return [(month, active_rows.get(f"m{i}")) for i, month in enumerate(scope.months)], active_rows.get("at_end")


def _relatives(scope: Scope) -> dict[str, Any]:
    """11. Relatives' own records: new in the period (and of them, without a registered client), in support now."""
    new = Q(first_contact_date__range=(scope.start, scope.end))
    return (
        Client.objects.filter(scope.clients(kind=RecordKind.RELATIVE))
        .alias(linked=Exists(RelativeLink.objects.filter(relative=OuterRef("pk"))))
        .aggregate(
            new=Count("pk", filter=new),
            new_unlinked=Count("pk", filter=new & Q(linked=False)),
            in_support=Count("pk", filter=Q(status=CaseStatus.IN_TREATMENT)),
        )
    )


def _children(scope: Scope) -> dict[str, Any]:
    """12. The child perspective, on clients' and relatives' records alike: records with children now, and in the
    period the records considered, their children and the reports of concern."""
    considered = Q(considered_on__range=(scope.start, scope.end))
    return ChildPerspective.objects.filter(scope.clients("record__", kind=None)).aggregate(
        with_children=Count("pk", filter=Q(children_in_household__gt=0)),
        considered=Count("pk", filter=considered),
        children=Sum("children_in_household", filter=considered, default=0),
        reports=Count("pk", filter=considered & Q(actions__contains=[ChildAction.REPORT_OF_CONCERN])),
    )


#: The method columns of _methods: each common method by its code, and the clinics' own methods as "other".
METHOD_KEYS = [*MethodCode.values, "other"]


def _method_uses(scope: Scope) -> QuerySet[NoteMethod]:
    """The methods ticked on the notes of sessions held in the period, on clients' records in scope (never a word of
    the note: the join reads the note's session only)."""
    return NoteMethod.objects.filter(
        scope.clients("note__session__client__"),
        note__session__voided_at__isnull=True,
        note__session__attendance__in=HELD,
        note__session__date__range=(scope.start, scope.end),
    )


def _methods(scope: Scope) -> dict[str, Any]:
    """13. Methods used, counted per treatment period (a period counts once per method however many of its sessions
    used it) and per session held; each common method by its stable code, the clinics' own together as "other"."""
    period, session = "note__session__episode", "note__session"
    counts: dict[str, Aggregate] = {"any_periods": Count(period, distinct=True)}
    for key in METHOD_KEYS:
        used = Q(method__code="" if key == "other" else key)
        counts[f"periods_{key}"] = Count(period, distinct=True, filter=used)
        counts[f"sessions_{key}"] = Count(session, distinct=True, filter=used)
    methods: dict[str, Any] = _method_uses(scope).aggregate(**counts)
    return methods


def _own_methods(scope: Scope) -> list[tuple[str, int, int]]:
    """14. A clinic's own methods by their names, as used (its name means nothing at another clinic, so all clinics'
    figures count them as "other" only, and make no query here)."""
    if scope.clinic is None:
        return []
    rows = (
        _method_uses(scope)
        .filter(method__code="")
        .values("method_id", "method__name")
        .annotate(
            periods=Count("note__session__episode", distinct=True), sessions=Count("note__session", distinct=True)
        )
        .order_by("method__position", "method_id")
    )
    return [(row["method__name"], row["periods"], row["sessions"]) for row in rows]


# --- As shown: tables, chart data and CSV cells, every count protected by figures.suppression ----------------------


#: The target groups a client's goals are counted by (a relative's record has support goals of its own, not these).
GOAL_GROUPS = [group for group in TargetGroup.values if group != TargetGroup.RELATIVE]
#: The outcomes counted, as plain values (keys of the figures).
GOAL_OUTCOMES = [outcome.value for outcome in REACHED_OUTCOMES]


def _goals(scope: Scope) -> dict[str, Any]:
    """13. The client's treatment goals, by the latest review at the end or at a follow-up dated in the period:
    reached, partly, not; for all clients and per target group (a client may be in several). Counts only: the
    goals' wording is never read."""
    latest = GoalReview.objects.filter(goal=OuterRef("pk"), moment__in=[GoalMoment.END, GoalMoment.FOLLOW_UP]).order_by(
        "-reviewed_on", "-created_at", "-pk"
    )
    goals = TreatmentGoal.objects.filter(scope.clients("client__")).annotate(
        outcome=Subquery(latest.values("outcome")[:1]), last_reviewed=Subquery(latest.values("reviewed_on")[:1])
    )
    counts = {}
    for group in ["all", *GOAL_GROUPS]:
        in_group = Q() if group == "all" else Q(client__target_groups__contains=[group])
        for outcome in GOAL_OUTCOMES:
            counts[f"{group}_{outcome}"] = Count("pk", filter=in_group & Q(outcome=outcome))
    return goals.filter(last_reviewed__range=(scope.start, scope.end)).aggregate(**counts)


@dataclass(frozen=True)
class Cell:
    """One figure of a table. A count carries the `key` of its figure (the same key wherever the same figure
    stands); a figure made from counts (a share, a median, fees) names the counts it `rests_on`. `mark` is
    set when the tables are protected: SMALL or WITHHELD for a count, "" for a figure left out."""

    value: int | float | Decimal | str | None
    kind: str = "count"  # count, share, money, days, number, whole (a count of no persons: never hidden), text
    key: str | None = None
    rests_on: tuple[str, ...] = ()
    mark: str | None = None

    @property
    def count(self) -> int | None:
        """The value of a count (kind "count"): a whole number, or None when there is none to give."""
        return cast("int | None", self.value)  # a count cell is made from a count, never from another figure

    @property
    def hidden(self) -> bool:
        return self.mark is not None or (self.kind == "count" and suppression.is_small(self.count))

    def shown(self, *, plain: bool = False) -> str:
        """As text: "<5" or ".." for a hidden count, nothing for a figure left out, a dash for one not to be had."""
        if self.kind == "count":
            return suppression.shown_count(self.count, self.mark, plain=plain)
        if self.mark is not None:
            return ""
        if self.value is None:
            return "" if plain else "–"
        if self.kind == "text":
            return str(self.value)
        if self.kind == "share":
            percent = round(100 * float(self.value))  # a share is count / of, a float already
            return str(percent) if plain else f"{formats.number_format(percent)}\xa0%"
        decimals = 0 if self.kind in ("money", "whole") else 1
        value = round(float(self.value), decimals)
        if plain:
            return f"{value:.{decimals}f}"
        return formats.number_format(value, decimal_pos=decimals, force_grouping=True)

    @property
    def text(self) -> str:
        return self.shown()

    @property
    def plain(self) -> str:
        """For a CSV file: no thousands separator, no per cent sign."""
        return self.shown(plain=True)

    @property
    def chart_value(self) -> float | None:
        """What a chart may draw: nothing for a hidden figure."""
        if self.hidden or self.value is None or self.kind == "text":
            return None
        return float(self.value)


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    cells: list[Cell]


@dataclass(frozen=True)
class Table:
    key: str
    title: str
    row_heading: str
    columns: list[str]
    rows: list[Row]
    chart: str = ""  # "bar", "stacked" or "" (no chart)
    note: str = ""
    # The column that is the sum of the others (e.g. "All held" beside the kinds of session). A stacked chart
    # draws it as a line over its parts: stacked among them it would count every session twice.
    total_column: int | None = None

    @property
    def is_empty(self) -> bool:
        return not any(
            cell.value for row in self.rows for cell in row.cells if cell.kind in ("count", "money", "days", "whole")
        )


def _share(count_key: str, count: int, of_key: str, of: int) -> Cell:
    return Cell(count / of if of else None, "share", rests_on=(count_key, of_key))


def _month_label(month: datetime.date) -> str:
    return formats.date_format(month, "YEAR_MONTH_FORMAT")


def _month(month: datetime.date) -> str:
    return f"{month:%Y-%m}"


#: The dashboard's counts that stand for the same figure in several tables, or that its sums are made of.
HELD_KEY = "sessions.held"
DUE_KEY = "sessions.due"  # shown only through the attendance shares


def _kind_key(kind: str) -> str:
    return f"sessions.kind_{kind}"


def _active_key(d: Dashboard, index: int, label: str) -> str:
    """All clinics' rows by clinic name (a clinic's own total on its page); a clinic's by therapist, in order."""
    if d.scope.clinic is None and d.scope.therapist is None:
        return f"active.clinic.{label}"
    return f"active.therapist.{index}"


def active_at_end_key(d: Dashboard) -> str:
    """The key of the periods in treatment at the period's end: the last month's in the table over time once the
    period is over (the same figure, so the same mark), a key of its own while it runs."""
    if d.active_by_month and d.active_by_month[-1][1] is not None:
        return f"active_over_time.{_month(d.active_by_month[-1][0])}"
    return "active.at_end"


def dashboard_tables(d: Dashboard, hidden: Mapping[Hashable, str] | None = None) -> list[Table]:
    """Every table of the dashboard, in page order, its counts protected (figures.suppression); the charts and the
    CSV files are drawn from these. `hidden`: national follow-up's marks (dashboard_marks_across); without it,
    the figures are protected on their own, as a clinic's staff see them. A clinic's tables follow its profile
    (figures.profile): the counts are protected with every table, only what is shown is left out."""
    tables = [table(d) for table in DASHBOARD_TABLES]
    figures = _figures_of(d, tables)
    marked = _marked(tables, figures, figures.protected() if hidden is None else hidden)
    return profile.shown_tables(marked, d.scope.clinic)


def _outreach_table(d: Dashboard) -> Table:
    """Outreach and attitude work by kind: activities, hours and audience (no persons, so nothing hidden)."""
    return Table(
        "outreach",
        str(_("Outreach and attitude work")),
        str(_("Kind of activity")),
        [str(_("Activities")), str(_("Hours")), str(_("Approximate audience"))],
        [
            Row(
                row.kind,
                row.label or str(_("All activities")),
                [Cell(row.activities, "whole"), Cell(row.hours, "number"), Cell(row.audience, "whole")],
            )
            for row in d.outreach
        ],
        chart="bar",
        note=str(
            _(
                "Activities dated in the period; with one therapist's figures, those they took part in. Activities "
                "and audiences are not persons in care, so small numbers are shown as they are. Audience sizes are "
                "estimates."
            )
        ),
    )


def _active_table(d: Dashboard) -> Table:
    """Active treatment periods now."""
    return Table(
        "active",
        str(_("Active treatment periods now")),
        str(_("Clinic") if d.scope.clinic is None and d.scope.therapist is None else _("Therapist")),
        [str(_("Treatment periods"))],
        [Row(str(i), label, [Cell(n, key=_active_key(d, i, label))]) for i, (label, n) in enumerate(d.active_by_group)],
        chart="bar",
    )


def _active_over_time_table(d: Dashboard) -> Table:
    """Active treatment periods over time."""
    return Table(
        "active_over_time",
        str(_("Active treatment periods over time")),
        str(_("Month")),
        [str(_("Active at the end of the month"))],
        [
            Row(_month(month), _month_label(month), [Cell(n, key=f"active_over_time.{_month(month)}")])
            for month, n in d.active_by_month
        ],
        chart="bar",
        note=str(_("Periods that had reached treatment and were not closed on the month's last day.")),
    )


def _contacts_by_group_table(d: Dashboard) -> Table:
    """New contacts per month, by target group."""
    months = d.contacts_by_month
    group_labels = dict(TargetGroup.choices)
    return Table(
        "contacts_by_group",
        str(_("New contacts per month, by target group")),
        str(_("Month")),
        [str(_("All new contacts")), *[str(group_labels[g]) for g in TargetGroup.values]],
        [
            Row(
                _month(row["month"]),
                _month_label(row["month"]),
                [
                    Cell(row[key], key=f"contacts.{_month(row['month'])}.{key}")
                    for key in ["total", *[f"group_{g}" for g in TargetGroup.values]]
                ],
            )
            for row in months
        ],
        chart="bar",
        note=str(_("A person can belong to more than one target group.")),
    )


def _contacts_by_source_table(d: Dashboard) -> Table:
    """New contacts per month, by who referred them."""
    months = d.contacts_by_month
    source_labels = dict(ReferralSource.choices)
    return Table(
        "contacts_by_source",
        str(_("New contacts per month, by who referred them")),
        str(_("Month")),
        [str(source_labels[v]) for v in ReferralSource.values],
        [
            Row(
                _month(row["month"]),
                _month_label(row["month"]),
                [
                    Cell(row[f"source_{v}"], key=f"contacts.{_month(row['month'])}.source_{v}")
                    for v in ReferralSource.values
                ],
            )
            for row in months
        ],
        chart="stacked",
    )


def _referred_table(d: Dashboard) -> Table:
    """Referred elsewhere, by destination."""
    return Table(
        "referred",
        str(_("Referred elsewhere, by destination")),
        str(_("Referred to")),
        [str(_("Number"))],
        [
            Row(str(i), destination, [Cell(n, key=f"referred.{destination}")])
            for i, (destination, n) in enumerate(d.referred)
        ],
        chart="bar",
    )


def _sessions_by_kind_table(d: Dashboard) -> Table:
    """Sessions held per month, by type."""
    kind_labels = dict(SessionKind.choices)
    return Table(
        "sessions_by_kind",
        str(_("Sessions held per month, by type")),
        str(_("Month")),
        [str(_("All held")), *[str(kind_labels[k]) for k in SessionKind.values]],
        [
            Row(
                _month(row["month"]),
                _month_label(row["month"]),
                [
                    Cell(row["held"], key=f"sessions.{_month(row['month'])}.held"),
                    *[
                        Cell(row[f"kind_{k}"], key=f"sessions.{_month(row['month'])}.kind_{k}")
                        for k in SessionKind.values
                    ],
                ],
            )
            for row in d.sessions_by_month
        ],
        chart="stacked",
        total_column=0,
    )


def _attendance_table(d: Dashboard) -> Table:
    """Attendance."""
    s = d.sessions
    due = d.attendance_due
    return Table(
        "attendance",
        str(_("Attendance")),
        str(_("Sessions due in the period")),
        [str(_("Number")), str(_("Share of sessions due"))],
        [
            Row(
                key,
                str(label),
                [Cell(s[key], key=f"sessions.{key}"), _share(f"sessions.{key}", s[key], DUE_KEY, due)],
            )
            for key, label in [
                ("held", _("Held")),
                ("cancelled_client", _("Cancelled by the client")),
                ("cancelled_clinic", _("Cancelled by the clinic")),
                ("no_show", _("Did not come, without notice")),
            ]
        ],
        chart="bar",
        note=str(_("Sessions still booked are not counted as due.")),
    )


def _volume_table(d: Dashboard) -> Table:
    """Sessions per full-time therapist, and fees."""
    s = d.sessions
    return Table(
        "volume",
        str(_("Sessions per full-time therapist, and fees")),
        str(_("Figure")),
        [str(_("Value"))],
        [
            Row("held", str(_("Sessions held")), [Cell(s["held"], key=HELD_KEY)]),
            # The staff are not the people the small-number rule protects: how many therapists a municipal clinic
            # has and their full-time equivalents are public facts of the unit (the evaluation prints "1.5 posts
            # on two therapists"), so they are shown as they are, and the sessions per full-time therapist (the
            # evaluation's "509 in 2019") rest on the sessions held only: held = per FTE times FTE.
            Row("therapists", str(_("Therapists counted")), [Cell(d.therapists, "whole")]),
            Row("fte", str(_("Full-time equivalents")), [Cell(d.fte, "number")]),
            Row(
                "held_per_fte",
                str(_("Sessions held per full-time therapist")),
                [Cell(d.held_per_fte, "number", rests_on=(HELD_KEY,))],
            ),
            Row(
                "fee_charged",
                str(_("Fees charged (SEK)")),
                [Cell(s["fees_charged"], "money", rests_on=(HELD_KEY,))],
            ),
            Row("fee_paid", str(_("Fees paid (SEK)")), [Cell(s["fees_paid"], "money", rests_on=(HELD_KEY,))]),
        ],
    )


def _waiting_table(d: Dashboard) -> Table:
    """Waiting time from first contact to first session held."""
    return Table(
        "waiting",
        str(_("Waiting time from first contact to first session held")),
        str(_("Figure")),
        [str(_("Value"))],
        [
            Row(
                "n",
                str(_("Clients whose first session was held in the period")),
                [Cell(d.waiting["n"], key="waiting.n")],
            ),
            Row("median", str(_("Median (days)")), [Cell(d.waiting["median"], "days", rests_on=("waiting.n",))]),
            Row("p90", str(_("90th percentile (days)")), [Cell(d.waiting["p90"], "days", rests_on=("waiting.n",))]),
        ],
    )


def _lengths_table(d: Dashboard) -> Table:
    """Length of treatment periods ended in the period."""
    return Table(
        "lengths",
        str(_("Length of treatment periods ended in the period")),
        str(_("Length")),
        [str(_("Treatment periods"))],
        [Row(key, str(label), [Cell(d.lengths[key], key=f"lengths.{key}")]) for key, label, *_bounds in LENGTH_BANDS],
        chart="bar",
        note=str(_("From the period's opening to its closing, for periods that reached treatment.")),
    )


def _end_reasons_table(d: Dashboard) -> Table:
    """Treatment periods ended in the period, by reason."""
    return Table(
        "end_reasons",
        str(_("Treatment periods ended in the period, by reason")),
        str(_("Reason")),
        [str(_("Treatment periods"))],
        [
            Row(reason or "none", str(label), [Cell(d.end_reasons[reason], key=f"end_reasons.{reason or 'none'}")])
            for reason, label in [*EndReason.choices, ("", _("No reason recorded"))]
        ],
        chart="bar",
    )


def _follow_ups_table(d: Dashboard) -> Table:
    """Follow-ups due in the period."""
    return Table(
        "follow_ups",
        str(_("Follow-ups due in the period")),
        str(_("Follow-ups")),
        [str(_("Number"))],
        [
            Row(key, str(label), [Cell(d.follow_ups[key], key=f"follow_ups.{key}")])
            for key, label in [
                ("due", _("Due")),
                ("done", _("Done")),
                ("overdue", _("Not yet done, past the due date")),
            ]
        ],
        chart="bar",
    )


def _coverage_table(d: Dashboard) -> Table:
    """Questionnaire coverage."""
    return Table(
        "coverage",
        str(_("Questionnaire coverage")),
        str(_("Treatment periods opened in the period")),
        [str(_("Number")), str(_("Share of periods"))],
        [
            Row(
                key,
                str(label),
                [
                    Cell(d.coverage[key], key=f"coverage.{key}"),
                    _share(f"coverage.{key}", d.coverage[key], "coverage.periods", d.coverage["periods"]),
                ],
            )
            for key, label in [
                ("periods", _("Reached treatment")),
                ("start", _("With a questionnaire at treatment start")),
                ("end", _("With a questionnaire at treatment end")),
                ("follow_up", _("With a questionnaire at follow-up")),
            ]
        ],
        chart="bar",
    )


def _relatives_table(d: Dashboard) -> Table:
    """Relatives and children."""
    s = d.sessions
    return Table(
        "relatives",
        str(_("Relatives and children")),
        str(_("Figure")),
        [str(_("Value"))],
        [
            Row(
                "relatives_new",
                str(_("New relatives with a record of their own")),
                [Cell(d.relatives["new"], key="relatives.new")],
            ),
            Row(
                "relatives_unlinked",
                str(_("… of them without a registered client")),
                [Cell(d.relatives["new_unlinked"], key="relatives.new_unlinked")],
            ),
            Row(
                "relatives_in_support",
                str(_("Relatives in support now")),
                [Cell(d.relatives["in_support"], key="relatives.in_support")],
            ),
            Row(
                "relative",
                str(_("Sessions with a relative alone")),
                [Cell(s[f"kind_{SessionKind.RELATIVE}"], key=_kind_key(SessionKind.RELATIVE))],
            ),
            Row(
                "couple",
                str(_("Couple sessions held")),
                [Cell(s[f"kind_{SessionKind.COUPLE}"], key=_kind_key(SessionKind.COUPLE))],
            ),
            Row(
                "group",
                str(_("Group sessions held")),
                [Cell(s[f"kind_{SessionKind.GROUP}"], key=_kind_key(SessionKind.GROUP))],
            ),
            Row(
                "households",
                str(_("Records with children in the household, now")),
                [Cell(d.children["with_children"], key="children.with_children")],
            ),
            Row(
                "children_considered",
                str(_("Children's need of support considered (records)")),
                [Cell(d.children["considered"], key="children.considered")],
            ),
            Row(
                "children",
                str(_("Children in those households")),
                [Cell(d.children["children"], key="children.children")],
            ),
            Row(
                "reports",
                str(_("Reports of concern to social services")),
                [Cell(d.children["reports"], key="children.reports")],
            ),
        ],
        note=str(
            _(
                "Relatives have records of their own: what they say is never counted with the client's. "
                "The child perspective is counted on clients' and relatives' records alike."
            )
        ),
    )


def _methods_table(d: Dashboard) -> Table:
    """Methods used, per treatment period and per session held."""
    labels = dict(MethodCode.choices)
    m = d.methods
    rows = [
        Row(
            code,
            str(labels[code]),
            [
                Cell(m[f"periods_{code}"], key=f"methods.{code}.periods"),
                Cell(m[f"sessions_{code}"], key=f"methods.{code}.sessions"),
            ],
        )
        for code in MethodCode.values
    ]
    if d.scope.clinic is None:
        rows.append(
            Row(
                "other",
                str(_("Other: the clinics' own methods")),
                [
                    Cell(m["periods_other"], key="methods.other.periods"),
                    Cell(m["sessions_other"], key="methods.other.sessions"),
                ],
            )
        )
    else:
        rows += [
            Row(
                f"own_{i}",
                str(_("%(name)s (the clinic's own)") % {"name": name}),
                [Cell(periods, key=f"methods.own.{name}.periods"), Cell(sessions, key=f"methods.own.{name}.sessions")],
            )
            for i, (name, periods, sessions) in enumerate(d.own_methods)
        ]
    rows.append(
        Row(
            "any",
            str(_("Treatment periods with any method recorded")),
            [Cell(m["any_periods"], key="methods.any.periods"), Cell(None)],
        )
    )
    return Table(
        "methods",
        str(_("Methods used")),
        str(_("Method")),
        [str(_("Treatment periods")), str(_("Sessions held"))],
        rows,
        chart="bar",
        note=str(
            _(
                "As ticked on the notes of sessions held in the period, on clients' records. A treatment period counts "
                "once for each method used in it. The common methods have the same code at every clinic; a "
                "clinic's own methods count under their names on its own figures, and as “other” where clinics are "
                "counted together."
            )
        ),
    )


def _goals_table(d: Dashboard) -> Table:
    """The client's goals, reached or not, by target group."""
    groups = [("all", _("All clients")), *[(g, TargetGroup(g).label) for g in GOAL_GROUPS]]
    rows = []
    for group, label in groups:
        n = sum(d.goals.get(f"{group}_{outcome}", 0) for outcome in GOAL_OUTCOMES)
        cells = [Cell(n, key=f"goals.{group}.n")]
        cells += [Cell(d.goals.get(f"{group}_{o}", 0), key=f"goals.{group}.{o}") for o in GOAL_OUTCOMES]
        cells.append(_share(f"goals.{group}.reached", d.goals.get(f"{group}_reached", 0), f"goals.{group}.n", n))
        rows.append(Row(group, str(label), cells))
    return Table(
        "goals",
        str(_("The client's goals at the end and at follow-up, by target group")),
        str(_("Target group")),
        [str(_("Goals")), *[str(o.label) for o in REACHED_OUTCOMES], str(_("Share reached"))],
        rows,
        chart="bar",
        note=str(
            _(
                "Each goal by its latest follow-up at the end of treatment or at a follow-up conversation dated in "
                "the period. A client may be in several target groups. The goals' wording stays in the record."
            )
        ),
    )


def _advice_table(d: Dashboard) -> Table:
    """Advice contacts without a record (app `advice`): counts only, never a contact one by one, never a remark."""
    rows = [
        Row("total", str(_("Advice contacts")), [Cell(d.advice.get("total", 0), key=advice_figures.ADVICE_TOTAL_KEY)])
    ]
    for dimension, choices in advice_figures.DIMENSIONS:
        rows += [
            Row(
                f"{dimension}_{value}",
                str(label),
                [Cell(d.advice.get(f"{dimension}_{value}", 0), key=advice_figures.advice_key(dimension, value))],
            )
            for value, label in choices.choices
        ]
    return Table(
        "advice",
        str(_("Advice contacts without a record")),
        str(_("Channel, who made contact, target group, outcome")),
        [str(_("Contacts"))],
        rows,
        note=str(_("Anonymous advice contacts in the period; each group of rows adds up to the total.")),
    )


def _persons_table(d: Dashboard) -> Table:
    """Persons who received treatment in the period, by target group: new, continuing, returning (figures.persons)."""
    labels = {"all": _("All clients"), **dict(TargetGroup.choices), "relatives": _("Relatives, support of their own")}
    return Table(
        "persons",
        str(_("Persons who received treatment, by target group")),
        str(_("Target group")),
        [str(_("Persons")), str(_("New")), str(_("Continuing")), str(_("Returning former clients"))],
        [
            Row(
                row,
                str(labels[row]),
                [
                    Cell(d.persons.get(person_figures.key(row, column), 0), key=person_figures.key(row, column))
                    for column in ["n", *person_figures.SPLIT]
                ],
            )
            for row in person_figures.PERSON_ROWS
        ],
        chart="bar",
        note=str(
            _(
                "Each person once, with a session held in the period (also as a participant of a couple or group "
                "session). New: no session held before the period. Returning: treated before, and back in a new "
                "treatment period opened in the period. Continuing: the others. A client may be in several target "
                "groups; relatives are counted on their own row only."
            )
        ),
    )


def _profile_table(
    d: Dashboard, dimension: str, title: StrOrPromise, heading: StrOrPromise, note: StrOrPromise = ""
) -> Table:
    """One profile dimension of the clients treated in the period: each row a count, adding up to all of them."""
    rows = dict(person_figures.PROFILE)[dimension]
    return Table(
        f"persons_{dimension}",
        str(title),
        str(heading),
        [str(_("Clients treated"))],
        [
            Row(
                value,
                str(label),
                [
                    Cell(
                        d.persons.get(person_figures.key(dimension, value), 0), key=person_figures.key(dimension, value)
                    )
                ],
            )
            for value, label in rows
        ],
        chart="bar",
        note=str(note),
    )


def _age_table(d: Dashboard) -> Table:
    note = _("The age reached in the year the period ends, from the birth year on the record.")
    return _profile_table(d, "age", _("Clients treated, by age"), _("Age"), note)


def _gender_table(d: Dashboard) -> Table:
    return _profile_table(d, "gender", _("Clients treated, by gender identity"), _("Gender identity"))


def _education_table(d: Dashboard) -> Table:
    return _profile_table(d, "education", _("Clients treated, by education"), _("Education"))


#: The dashboard's tables, in page order.
DASHBOARD_TABLES = [
    _active_table,
    _active_over_time_table,
    _contacts_by_group_table,
    _contacts_by_source_table,
    _referred_table,
    _sessions_by_kind_table,
    _attendance_table,
    _volume_table,
    _waiting_table,
    _lengths_table,
    _end_reasons_table,
    _follow_ups_table,
    _coverage_table,
    _relatives_table,
    _methods_table,
    _goals_table,
    _outreach_table,
    _advice_table,
    _persons_table,
    _age_table,
    _gender_table,
    _education_table,
    group_figures.groups_table,
]


def dashboard_figures(d: Dashboard) -> suppression.Figures:
    """The dashboard's counts, keyed as its cells are, and the sums that tie them (figures.suppression)."""
    return _figures_of(d, [table(d) for table in DASHBOARD_TABLES])


def dashboard_marks(d: Dashboard) -> dict[Hashable, str]:
    """The dashboard's counts to hide, protected on their own, as a clinic's staff see them (figures.suppression)."""
    return dashboard_figures(d).protected()


def _figures_of(d: Dashboard, tables: list[Table]) -> suppression.Figures:
    """Every count the tables show, and the sums between them (figures.suppression).

    The yearly report's summary also gives the period's new contacts and ended periods: they count as shown
    here too, so that the dashboard of a year and its yearly report hide the same. Sums whose total the page
    does not give (a source's contacts over the period, the active periods of all therapists) still bound
    their parts; such a total is protected like a shown count when it is small, since it can be worked out.
    Target groups overlap, so a month's groups are no sum; its sources and its session types are.
    """
    figures = suppression.Figures()
    for table in tables:
        for row in table.rows:
            for cell in row.cells:
                if cell.kind == "count" and cell.key is not None:
                    figures.add(cell.key, cell.count)
    figures.add(DUE_KEY, d.attendance_due)  # shown through the shares: withholding it leaves them out
    _add_active_at_end(d, figures)
    figures.add("contacts.period.total", sum(row["total"] for row in d.contacts_by_month))
    figures.add("lengths.n", d.lengths["n"])
    not_given = {
        "active.total": sum(n for _label, n in d.active_by_group),
        "referred.total": sum(n for _label, n in d.referred),
        **{f"contacts.period.{key}": sum(row[key] for row in d.contacts_by_month) for key in CONTACT_KEYS},
        **{_kind_key(kind): d.sessions[f"kind_{kind}"] for kind in SessionKind.values},
        # A clinic's own methods together: what all clinics' figures show of them, as "other".
        "methods.other.periods": d.methods["periods_other"],
        "methods.other.sessions": d.methods["sessions_other"],
    }
    for key, value in not_given.items():
        if key not in figures.values:
            figures.add(key, value, shown=False)
            figures.unknown.add(key)

    figures.relate("active.total", [_active_key(d, i, label) for i, (label, _n) in enumerate(d.active_by_group)])
    figures.relate("referred.total", [f"referred.{label}" for label, _n in d.referred])
    figures.relate(DUE_KEY, [f"sessions.{key}" for key in ATTENDANCE_KEYS], total_first=True)
    figures.relate("lengths.n", [f"lengths.{key}" for key, *_rest in LENGTH_BANDS])
    figures.relate("lengths.n", [f"end_reasons.{reason or 'none'}" for reason in [*EndReason.values, ""]])
    # Subsets: no sum of their own, but a reader knows a part is never more than its whole.
    for whole, part in [
        ("relatives.new", "relatives.new_unlinked"),
        ("children.considered", "children.reports"),
        *[("coverage.periods", f"coverage.{key}") for key in ("start", "end", "follow_up")],
    ]:
        figures.relate(whole, [part], rest=True)
    figures.relate("follow_ups.due", ["follow_ups.done", "follow_ups.overdue"], rest=True)
    _relate_methods(d, figures)
    _relate_goals(figures)
    advice_figures.relate_advice(figures)
    person_figures.relate_persons(figures)
    group_figures.relate_groups(figures)
    months = [_month(row["month"]) for row in d.contacts_by_month]
    for month in months:
        figures.relate(f"contacts.{month}.total", [f"contacts.{month}.source_{v}" for v in ReferralSource.values])
        for group in TargetGroup.values:
            figures.relate(f"contacts.{month}.total", [f"contacts.{month}.group_{group}"], rest=True)
        figures.relate(f"sessions.{month}.held", [f"sessions.{month}.kind_{k}" for k in SessionKind.values])
    for key in CONTACT_KEYS:
        figures.relate(f"contacts.period.{key}", [f"contacts.{month}.{key}" for month in months])
    figures.relate(HELD_KEY, [f"sessions.{month}.held" for month in months])
    for kind in SessionKind.values:
        figures.relate(_kind_key(kind), [f"sessions.{month}.kind_{kind}" for month in months])
    return figures


def _add_active_at_end(d: Dashboard, figures: suppression.Figures) -> None:
    """The key figures' periods in treatment at the end of a period not yet over (figures.key_figures): a count of
    its own, so that all clinics' less the others' never gives a clinic's hidden one away."""
    key = active_at_end_key(d)
    if key not in figures.values:
        figures.add(key, d.active_at_end)


def _relate_methods(d: Dashboard, figures: suppression.Figures) -> None:
    """Subsets only (a period may use several methods, so they are no sum): a period that used a method is one of
    the periods with any method; a clinic's own method's periods and sessions are among its "other"."""
    for key in METHOD_KEYS:
        figures.relate("methods.any.periods", [f"methods.{key}.periods"], rest=True)
    for name, _periods, _sessions in d.own_methods:
        figures.relate("methods.other.periods", [f"methods.own.{name}.periods"], rest=True)
        figures.relate("methods.other.sessions", [f"methods.own.{name}.sessions"], rest=True)


def _relate_goals(figures: suppression.Figures) -> None:
    """A group's goals add up over their outcomes; and are some of all goals, outcome by outcome (the groups
    overlap, so they are no sum)."""
    for group in ["all", *GOAL_GROUPS]:
        figures.relate(f"goals.{group}.n", [f"goals.{group}.{o}" for o in GOAL_OUTCOMES])
        if group != "all":
            for key in ["n", *GOAL_OUTCOMES]:
                figures.relate(f"goals.all.{key}", [f"goals.{group}.{key}"], rest=True)


#: The parts of the sessions due, as the attendance table shows them.
ATTENDANCE_KEYS = ["held", "cancelled_client", "cancelled_clinic", "no_show"]


def _marked(tables: list[Table], figures: suppression.Figures, hidden: Mapping[Hashable, str]) -> list[Table]:
    """The tables with each cell marked: a hidden count's mark, "" for a figure resting on a hidden count."""

    def mark(cell: Cell) -> Cell:
        if cell.kind == "count":
            return replace(cell, mark=hidden.get(cell.key))
        if cell.rests_on and suppression.rests_on_hidden(cell.rests_on, figures.values, hidden):
            return replace(cell, mark="")
        return cell

    return [
        replace(table, rows=[replace(row, cells=[mark(cell) for cell in row.cells]) for row in table.rows])
        for table in tables
    ]


def dashboard_marks_across(
    whole: Dashboard, clinics: dict[int, Dashboard]
) -> tuple[dict[Hashable, str], dict[int, dict[Hashable, str]]]:
    """National follow-up's marks for all clinics and for each clinic (by id), protected together: all clinics'
    figure minus the other clinics' never gives a clinic's hidden one."""
    parts = {pk: dashboard_figures(figures) for pk, figures in clinics.items()}
    # A clinic's dashboard has its clinic.
    names = {pk: figures.scope.clinic.name for pk, figures in clinics.items() if figures.scope.clinic is not None}
    whole_figures = dashboard_figures(whole)
    links: dict[Hashable, list[tuple[int, Hashable]]] = {}
    for key in whole_figures.values:
        if isinstance(key, str) and key.startswith("active.clinic."):
            # All clinics' row for a clinic is that clinic's own total over its therapists.
            name = key.removeprefix("active.clinic.")
            links[key] = [(pk, "active.total") for pk in parts if names[pk] == name]
        else:
            links[key] = [(pk, key) for pk in parts]
    return suppression.protect_across(whole_figures, parts, links=links)


def chart_data(tables: list[Table]) -> dict[str, dict[str, object]]:
    """What static/js/dashboard.js draws: per table, labels and one data set per count column (hidden: null).

    A data set marked `total` is drawn as a line beside the stacked parts, never as one of them.
    """
    charts: dict[str, dict[str, object]] = {}
    for table in tables:
        if not table.chart or not table.rows:
            continue
        columns = [i for i, cell in enumerate(table.rows[0].cells) if cell.kind == "count"]
        charts[table.key] = {
            "type": table.chart,
            "labels": [row.label for row in table.rows],
            "datasets": [
                {
                    "label": table.columns[i],
                    "data": [row.cells[i].chart_value for row in table.rows],
                    "total": i == table.total_column,
                }
                for i in columns
            ],
        }
    return charts
