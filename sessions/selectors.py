"""Reads of sessions and notes. Every one goes through TherapySession.objects.visible_to."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypedDict

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import (
    CharField,
    Count,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Value,
)
from django.db.models.functions import Cast
from django.http import HttpRequest
from django.utils import timezone

from assessments.models import Administration
from clients.models import Client, StatusChange
from kast.models import AccessLogEntry, Clinic, User
from kast.selectors import get_client_owned_or_404
from sessions.models import (
    JOINT_KINDS,
    OCCUPIES_TIME,
    Addendum,
    AddendumDraft,
    Attendance,
    CalendarFeed,
    FollowUp,
    Method,
    Note,
    SessionParticipant,
    Theme,
    TherapySession,
)


class OwnRecordVisible(TypedDict):
    #: Whether the user may see the record the session is logged on (not only another participant's).
    own_record_visible: bool


if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    #: A session as get_session_for reads it: with whether its own record is visible to the user.
    GatedSession = WithAnnotations[TherapySession, OwnRecordVisible]

#: Follow-ups show on the start page this many days before they are due.
FOLLOW_UP_HORIZON_DAYS = 30


def get_session_for(
    request: HttpRequest, session_id: uuid.UUID, *, action: str | None = AccessLogEntry.Action.VIEW
) -> GatedSession:
    """The session with its note, if the user may see the client; 404 otherwise. Logged either way."""
    own_record_visible = Client.objects.visible_to(request.user).filter(pk=OuterRef("client_id"))
    visible = (
        TherapySession.objects.visible_to(request.user)
        .select_related(
            "clinic", "client", "client__clinic", "episode", "note", "note__author", "created_by", "voided_by"
        )
        .annotate(own_record_visible=Exists(own_record_visible))
    )
    return get_client_owned_or_404(request, visible, session_id, action=action)


def may_change_session(user: User, session: TherapySession) -> bool:
    """Who may void a session, book the next one from it, or change its facts: the therapists of the
    record it is logged on (the clients' gate: responsible, co-therapists, break-the-glass). A couple or
    group session is also on the other participants' records; their therapists read it there, but the
    session is not theirs to change.
    """
    own = getattr(session, "own_record_visible", None)
    if own is None:
        own = Client.objects.visible_to(user).filter(pk=session.client_id).exists()
    return bool(own)


def check_may_change_session(user: User, session: TherapySession) -> None:
    """403 unless `may_change_session`: the session was already found through the gate, so it is seen."""
    if not may_change_session(user, session):
        raise PermissionDenied("only the therapists of the session's own record change it")


def session_record_for(user: User, session: GatedSession) -> Client:
    """The record a session page is shown in: the session's own, or — for a couple or group
    session seen from another participant's record — the participant the user works with."""
    if session.own_record_visible:
        return session.client
    participant = (
        session.participants.filter(client__in=Client.objects.visible_to(user))
        .select_related("client", "client__clinic")
        .order_by("client__code")
        .first()
    )
    assert participant is not None  # the gate let the session through, so one participant's record is visible
    return participant.client


def participants_of(session: TherapySession) -> list[Client]:
    """Everyone at a couple or group session, by code (the wall: codes only, no content)."""
    if session.kind not in JOINT_KINDS:
        return []
    others = [p.client for p in session.participants.select_related("client").order_by("client__code")]
    return [session.client, *others]


def note_of(session: TherapySession) -> Note | None:
    try:
        return session.note
    except Note.DoesNotExist:
        return None


def addenda(note: Note | None) -> list[Addendum]:
    if note is None:
        return []
    return list(note.addenda.select_related("author"))


def addendum_draft(note: Note | None, user: User) -> AddendumDraft | None:
    """The user's own addendum draft of `note`: nobody else reads a text not yet added."""
    if note is None:
        return None
    return AddendumDraft.objects.filter(note=note, author=user).first()


def clinic_methods(clinic_id: int, *, keep: list[int] | tuple[int, ...] = ()) -> QuerySet[Method]:
    """The clinic's methods in use, plus any out-of-use method a note already has (so it is not lost)."""
    return Method.objects.filter(clinic_id=clinic_id).filter(Q(active=True) | Q(pk__in=list(keep)))


def clinic_themes(clinic_id: int, *, keep: list[int] | tuple[int, ...] = ()) -> QuerySet[Theme]:
    """The clinic's themes in use, plus any out-of-use theme a note already has (so it is not lost)."""
    return Theme.objects.filter(clinic_id=clinic_id).filter(Q(active=True) | Q(pk__in=list(keep)))


@dataclass
class StartPage:
    today: datetime.date
    week_start: datetime.date
    today_sessions: list[TherapySession] = field(default_factory=list)
    week_sessions: list[TherapySession] = field(default_factory=list)
    drafts: list[Note] = field(default_factory=list)
    undocumented: list[TherapySession] = field(default_factory=list)
    follow_ups: list[FollowUp] = field(default_factory=list)


def start_page_for(user: User, *, today: datetime.date | None = None) -> StartPage:
    """The therapist's day: today's and this week's sessions, notes to write and sign, follow-ups due.

    Four queries whatever the history's size: the week, the drafts, the undocumented, the follow-ups.
    """
    today = today or timezone.localdate()
    week_start = today - datetime.timedelta(days=today.weekday())
    mine = (
        TherapySession.objects.visible_to(user)
        .in_record()
        .filter(therapists=user)
        .select_related("client", "note")
        .order_by("date", "start_time")
    )
    week = list(mine.filter(date__range=(week_start, week_start + datetime.timedelta(days=6))))
    drafts = list(
        Note.objects.filter(author=user, signed_at__isnull=True, session__voided_at__isnull=True)
        .filter(session__in=TherapySession.objects.visible_to(user))
        .select_related("session", "session__client")
        .order_by("session__date", "session__start_time")
    )
    undocumented = list(
        mine.filter(note__isnull=True, attendance__in=(Attendance.BOOKED, Attendance.ATTENDED)).filter(
            Q(date__lt=today) | Q(date=today, attendance=Attendance.ATTENDED)
        )
    )
    follow_ups = list(
        FollowUp.objects.open()
        .filter(
            client__in=Client.objects.visible_to(user),
            due_on__lte=today + datetime.timedelta(days=FOLLOW_UP_HORIZON_DAYS),
        )
        .select_related("client")
        .order_by("due_on")
    )
    reminder_days = user.clinic.draft_reminder_days if user.clinic is not None else 0
    for note in drafts:
        note.waiting_long = (today - note.session.date).days > reminder_days
    return StartPage(
        today=today,
        week_start=week_start,
        today_sessions=[s for s in week if s.date == today],
        week_sessions=[s for s in week if s.date > today],
        drafts=drafts,
        undocumented=undocumented,
        follow_ups=follow_ups,
    )


def _local_timestamp(date_field: str, time_field: str) -> Func:
    """date + time read as local clinic time, as a timestamptz that sorts with real instants."""
    return Func(
        Value(settings.TIME_ZONE),
        ExpressionWrapper(F(date_field) + F(time_field), output_field=DateTimeField()),
        function="timezone",
        output_field=DateTimeField(),
    )


@dataclass(frozen=True)
class TimelineEntry:
    kind: str  # "session", "status" or "questionnaire"
    at: datetime.datetime
    item: object


#: A row of client_timeline: (kind, id as text, when).
TimelineRow = tuple[str, str, datetime.datetime]


class TimelineFields(TypedDict):
    entry_kind: str
    entry_id: str
    entry_at: datetime.datetime


def client_timeline(
    client: Client, *, include_voided: bool = False
) -> QuerySet[WithAnnotations[TherapySession, TimelineFields], TimelineRow]:
    """(kind, id, at) of the case's sessions, status changes and questionnaires, newest first, one SQL UNION.

    Paginate it, then `timeline_entries` loads one page's records in one query per kind.
    """
    own = TherapySession.objects.filter(client=client)
    # Couple and group sessions logged on another participant's record.
    joint = TherapySession.objects.filter(pk__in=SessionParticipant.objects.filter(client=client).values("session_id"))
    if not include_voided:
        own, joint = own.in_record(), joint.in_record()

    def session_rows(
        sessions: QuerySet[TherapySession],
    ) -> QuerySet[WithAnnotations[TherapySession, TimelineFields], TimelineRow]:
        return sessions.annotate(
            entry_kind=Value("session"),
            entry_id=Cast("pk", CharField()),
            entry_at=_local_timestamp("date", "start_time"),
        ).values_list("entry_kind", "entry_id", "entry_at")

    return (
        session_rows(own)
        .union(
            session_rows(joint),
            StatusChange.objects.filter(client=client)
            .annotate(entry_kind=Value("status"), entry_id=Cast("pk", CharField()), entry_at=F("at"))
            .values_list("entry_kind", "entry_id", "entry_at"),
            Administration.objects.filter(client=client, submitted_at__isnull=False)
            .annotate(entry_kind=Value("questionnaire"), entry_id=Cast("pk", CharField()), entry_at=F("submitted_at"))
            .values_list("entry_kind", "entry_id", "entry_at"),
            all=True,
        )
        .order_by("-entry_at", "-entry_id")
    )


def timeline_entries(rows: Iterable[TimelineRow]) -> list[TimelineEntry]:
    """The records behind one page of client_timeline, in its order."""
    rows = list(rows)
    session_ids = [pk for kind, pk, _ in rows if kind == "session"]
    status_ids = [int(pk) for kind, pk, _ in rows if kind == "status"]
    questionnaire_ids = [int(pk) for kind, pk, _ in rows if kind == "questionnaire"]
    loaded: dict[tuple[str, str], object] = {}
    if session_ids:
        for session in (
            TherapySession.objects.filter(pk__in=session_ids)
            .select_related("note", "note__author", "voided_by")
            .annotate(addendum_count=Count("note__addenda"))
        ):
            loaded["session", str(session.pk)] = session
    if status_ids:
        for change in StatusChange.objects.filter(pk__in=status_ids).select_related("by", "episode", "referred_to"):
            loaded["status", str(change.pk)] = change
    if questionnaire_ids:
        for administration in Administration.objects.filter(pk__in=questionnaire_ids).select_related(
            "version__instrument", "entered_in_error_by"
        ):
            loaded["questionnaire", str(administration.pk)] = administration
    return [TimelineEntry(kind, at, loaded[kind, pk]) for kind, pk, at in rows if (kind, pk) in loaded]


def voided_count(client: Client) -> int:
    return TherapySession.objects.filter(client=client, voided_at__isnull=False).count()


def calendar_feed_user(token: str) -> User | None:
    """The therapist a calendar address belongs to; None for an unknown, revoked or deactivated one."""
    feed = CalendarFeed.objects.filter(token_hash=CalendarFeed.hash(token)).select_related("user").first()
    if feed is None or not feed.user.is_active or not feed.user.is_therapist:
        return None
    return feed.user


def calendar_sessions(user: User, *, today: datetime.date | None = None) -> QuerySet[TherapySession]:
    """What the therapist's calendar shows: two months back, six ahead. Client codes only, never names."""
    today = today or timezone.localdate()
    return (
        TherapySession.objects.visible_to(user)
        .in_record()
        .filter(
            therapists=user, date__range=(today - datetime.timedelta(days=60), today + datetime.timedelta(days=183))
        )
        .select_related("client")
        .only("id", "date", "start_time", "duration_minutes", "kind", "attendance", "client__code")
        .order_by("date", "start_time")
    )


def overlapping_sessions(
    *,
    therapists: Iterable[User],
    date: datetime.date,
    start_time: datetime.time,
    minutes: int,
    exclude: TherapySession | None = None,
) -> list[TherapySession]:
    """Sessions of any of these therapists that share a minute with the given time on that day."""
    start = start_time.hour * 60 + start_time.minute
    if not isinstance(therapists, QuerySet):
        therapists = list(therapists)  # a queryset stays a subquery: one query in all
    candidates = TherapySession.objects.in_record().filter(
        date=date, therapists__in=therapists, attendance__in=OCCUPIES_TIME
    )
    if exclude is not None:
        candidates = candidates.exclude(pk=exclude.pk)
    candidates = candidates.distinct().order_by("start_time")
    end = start + minutes
    return [s for s in candidates if start < s.ends_at and s.start_time.hour * 60 + s.start_time.minute < end]


def outside_opening_hours(session: TherapySession) -> bool:
    """A booking on a weekend, or not wholly inside its clinic's opening hours. Only bookings are asked about: a
    session logged as held (or not) records what happened, whenever that was."""
    if session.attendance != Attendance.BOOKED:
        return False
    clinic = session.clinic
    return (
        session.date.weekday() >= 5
        or _minutes(session.start_time) < _minutes(clinic.opens_at)
        or session.ends_at > _minutes(clinic.closes_at)
    )


def overlaps_of(session: TherapySession) -> list[TherapySession]:
    """What the session shares a minute with in its therapists' days: shown as a warning to fix."""
    if session.attendance not in OCCUPIES_TIME:
        return []
    return overlapping_sessions(
        therapists=User.objects.filter(therapy_sessions=session),
        date=session.date,
        start_time=session.start_time,
        minutes=session.duration_minutes,
        exclude=session,
    )


#: Quick-log proposes starts on the quarter hour.
QUARTER = 15


def quick_log_start(user: User, *, now: datetime.datetime, minutes: int) -> datetime.time:
    """A start today for a session just held: an hour before now on the quarter, moved back (or, failing
    that, forward) to the nearest time that overlaps none of the therapist's other sessions that day.

    Two sessions logged in the same hour then get two times, so neither note is stopped by an overlap.
    """
    taken = [
        (s.start_time.hour * 60 + s.start_time.minute, s.ends_at)
        for s in TherapySession.objects.in_record().filter(
            date=now.date(), therapists=user, attendance__in=OCCUPIES_TIME
        )
    ]
    latest = max(0, (now.hour * 60 + now.minute - minutes) // QUARTER * QUARTER)
    day_end = 24 * 60 - minutes

    def free(start: int) -> bool:
        return all(start + minutes <= begins or ends <= start for begins, ends in taken)

    backwards = range(latest, -1, -QUARTER)
    forwards = range(latest + QUARTER, day_end + 1, QUARTER)
    start = next((m for m in (*backwards, *forwards) if free(m)), latest)
    return datetime.time(start // 60, start % 60)


@dataclass
class BookingDay:
    date: datetime.date
    sessions: list[TherapySession]
    #: Free stretches of the clinic's opening hours, (start, end) as times; only on the therapist's own view.
    free: list[tuple[datetime.time, datetime.time]]


@dataclass
class Bookings:
    start: datetime.date
    end: datetime.date
    days: list[BookingDay]
    #: The clinic's view: everyone's sessions, a colleague's client shown only when this user may see the record.
    clinic_wide: bool
    visible: set[uuid.UUID]


def _free_stretches(
    sessions: list[TherapySession], opens: int, closes: int
) -> list[tuple[datetime.time, datetime.time]]:
    """The stretches of the opening hours (minutes from midnight) that none of the sessions occupies."""
    taken = sorted(
        (s.start_time.hour * 60 + s.start_time.minute, s.ends_at) for s in sessions if s.attendance in OCCUPIES_TIME
    )
    free, at = [], opens
    for begins, ends in taken:
        if begins > at:
            free.append((at, min(begins, closes)))
        at = max(at, ends)
        if at >= closes:
            break
    if at < closes:
        free.append((at, closes))
    return [(_as_time(a), _as_time(b)) for a, b in free if b > a]


def _minutes(time: datetime.time) -> int:
    return time.hour * 60 + time.minute


def _as_time(minutes: int) -> datetime.time:
    return datetime.time(minutes // 60, minutes % 60)


def bookings_for(user: User, *, start: datetime.date, days: int, clinic_wide: bool = False) -> Bookings:
    """The therapist's sessions (or the clinic's, for its therapists) day by day from `start`, with the free
    stretches of each weekday's opening hours on their own view. Two queries whatever the number of sessions (three for the
    clinic's: which of them the gate lets this user see)."""
    end = start + datetime.timedelta(days=days - 1)
    # The clinic's view lists everyone's time (the gate decides below which clients it names); one's own view
    # reads through the gate, as the start page does: a session of a record no longer theirs is not shown.
    base = TherapySession.objects if clinic_wide else TherapySession.objects.visible_to(user)
    whose = Q(clinic_id=user.clinic_id) if clinic_wide else Q(therapists=user)
    sessions = base.in_record().filter(whose, date__range=(start, end))
    listed = list(
        sessions.select_related("client").prefetch_related("therapists").order_by("date", "start_time").distinct()
    )
    # A colleague's session is busy time; its client's code only when the gate lets this user see the record.
    if clinic_wide:
        gate = TherapySession.objects.visible_to(user).filter(pk__in=[s.pk for s in listed])
        visible = set(gate.values_list("pk", flat=True))
    else:
        visible = {s.pk for s in listed}
    clinic = user.clinic or Clinic()  # staff of no clinic (kast.access keeps them out) get the default hours
    opens, closes = _minutes(clinic.opens_at), _minutes(clinic.closes_at)
    by_day: dict[datetime.date, list[TherapySession]] = {}
    for session in listed:
        by_day.setdefault(session.date, []).append(session)
    return Bookings(
        start=start,
        end=end,
        days=[
            BookingDay(
                date=day,
                sessions=by_day.get(day, []),
                free=[] if clinic_wide or day.weekday() >= 5 else _free_stretches(by_day.get(day, []), opens, closes),
            )
            for day in (start + datetime.timedelta(days=n) for n in range(days))
        ],
        clinic_wide=clinic_wide,
        visible=visible,
    )
