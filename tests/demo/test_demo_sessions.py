"""`seed_demo` gives each demo therapist a year of sessions, notes and follow-ups, and work on the start page."""

from __future__ import annotations

import datetime
import io
import random
import re
from collections import Counter

import pytest
from dateutil.relativedelta import relativedelta
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import F
from django.test import override_settings
from django.utils import timezone

from clients.models import CaseStatus, Client, Episode, StatusChange
from demo import clients as demo
from demo import sessions as sessions_demo
from demo.sessions import DEMO_FEES
from kast.models import Clinic, User
from sessions.models import (
    Addendum,
    Attendance,
    FollowUp,
    FollowUpKind,
    Note,
    NoteMethod,
    NoteTheme,
    SessionFee,
    SessionKind,
    TherapySession,
)
from sessions.selectors import start_page_for

DEMO_THERAPISTS = ("behandlare1", "behandlare2", "behandlare3")


def seed(*args: str) -> str:
    out = io.StringIO()
    with override_settings(DEBUG=True):
        call_command("seed_demo", *args, stdout=out, verbosity=2)
    return out.getvalue()


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """Seeded once for the module (the tests only read), rolled back at its end."""
    with django_db_blocker.unblock(), transaction.atomic():
        output = seed()
        yield output
        transaction.set_rollback(True)


@pytest.fixture
def therapists(seeded, db):
    return list(User.objects.filter(username__in=DEMO_THERAPISTS).order_by("username"))


def minute(time: datetime.time) -> int:
    return time.hour * 60 + time.minute


def is_past(session: TherapySession) -> bool:
    now = timezone.localtime()
    end = minute(session.start_time) + session.duration_minutes
    return session.date < now.date() or (session.date == now.date() and end <= minute(now.time()))


def note_of(session: TherapySession) -> Note | None:
    try:
        return session.note
    except Note.DoesNotExist:
        return None


def test_the_output_counts_the_sessions(therapists, seeded):
    match = re.search(r"^Demo sessions: (\d+) sessions, (\d+) notes and (\d+) follow-ups\.$", seeded, re.M)
    relatives = re.search(r"^Demo relatives: .* (\d+) sessions \(.*\) with (\d+) notes", seeded, re.M)
    assert match and relatives, seeded
    sessions, notes, follow_ups = map(int, match.groups())
    relatives_sessions, relatives_notes = map(int, relatives.groups())
    assert (sessions + relatives_sessions, notes + relatives_notes, follow_ups) == (
        TherapySession.objects.count(),
        Note.objects.count(),
        FollowUp.objects.count(),
    )


def test_a_year_of_sessions_for_each_demo_therapist(therapists):
    today = timezone.localdate()
    for therapist in therapists:
        year = TherapySession.objects.filter(therapists=therapist, date__range=(today - relativedelta(years=1), today))
        # A dozen clients in weekly treatment with assessments and follow-ups: about 280-370 a year
        # (by date and holidays), near the 509 per full-time post of 2019 with 1.5 posts on two people.
        assert 250 <= year.count() <= 520, (therapist.username, year.count())
        kinds = Counter(year.values_list("kind", flat=True))
        assert kinds[SessionKind.INDIVIDUAL] > year.count() / 2, kinds
        assert kinds[SessionKind.COUPLE] and kinds[SessionKind.REMOTE], kinds
        attendance = Counter(year.values_list("attendance", flat=True))
        assert attendance[Attendance.ATTENDED] > 0.8 * (year.count() - attendance[Attendance.BOOKED]), attendance
        assert attendance[Attendance.CANCELLED_BY_CLIENT] + attendance[Attendance.NO_SHOW] > 0, attendance

    assert set(TherapySession.objects.values_list("kind", flat=True)) == set(SessionKind.values)
    assert set(TherapySession.objects.values_list("attendance", flat=True)) == set(Attendance.values)


def test_held_in_the_past_booked_ahead(therapists):
    today = timezone.localdate()
    for session in TherapySession.objects.all():
        if not is_past(session):
            assert session.attendance == Attendance.BOOKED, (session.date, session.start_time)
        if session.attendance == Attendance.BOOKED:
            assert session.date >= today
        assert session.date <= today + datetime.timedelta(days=23)
        assert session.created_at <= timezone.now()
    for therapist in therapists:
        ahead = TherapySession.objects.filter(therapists=therapist, date__gte=today, attendance=Attendance.BOOKED)
        assert ahead.exists(), therapist.username
    # An ongoing treatment's next planned contact is its next booking.
    for client in Client.objects.filter(status=CaseStatus.IN_TREATMENT):
        booked = client.therapy_sessions.filter(attendance=Attendance.BOOKED).order_by("date").first()
        assert booked is not None and client.next_contact_date == booked.date, client.code


def test_almost_every_held_session_has_a_signed_note(therapists):
    month_ago = timezone.localdate() - datetime.timedelta(days=31)
    for therapist in therapists:
        sessions = TherapySession.objects.filter(client__responsible_therapist=therapist, attendance="attended")
        held = [s for s in sessions.select_related("note") if is_past(s)]
        unsigned = [s for s in held if note_of(s) is None or note_of(s).signed_at is None]
        # The deliberate ones: three drafts and two sessions without a note, all of the last month.
        assert 3 <= len(unsigned) <= 5, (therapist.username, len(unsigned))
        assert all(s.date >= month_ago for s in unsigned)
        assert len(held) - len(unsigned) > 60
        for session in held:
            note = note_of(session)
            if note is not None:
                assert note.author_id == therapist.pk
                assert note.text.strip()
                assert session.date <= timezone.localdate(note.created_at)
                assert note.created_at <= note.updated_at <= timezone.now()
                assert note.signed_at in (None, note.updated_at)

    assert not Note.objects.filter(session__attendance__in=("booked", "cancelled_client", "cancelled_clinic"))
    # A held session's note touches one to three of its clinic's themes.
    themes = Counter(NoteTheme.objects.values_list("note_id", flat=True))
    assert all(
        1 <= themes[pk] <= 3 for pk in Note.objects.filter(session__attendance="attended").values_list("pk", flat=True)
    )
    assert not NoteTheme.objects.exclude(theme__clinic_id=F("note__session__clinic_id"))
    # And ticks a common method of its clinic for each theme (demo.sessions.METHOD_OF_TOPIC), so the figures have some.
    methods = Counter(NoteMethod.objects.values_list("note_id", flat=True))
    assert methods and set(methods) <= set(themes)
    assert all(methods[pk] <= themes[pk] for pk in methods)
    assert not NoteMethod.objects.exclude(method__clinic_id=F("note__session__clinic_id"))
    assert not NoteMethod.objects.filter(method__code="")
    addenda = Addendum.objects.select_related("note")
    assert 1 <= addenda.count() <= 10
    for addendum in addenda:
        assert addendum.note.signed_at and addendum.created_at > addendum.note.signed_at
        assert addendum.author_id == addendum.note.author_id


def test_the_start_page_has_work_for_each_demo_therapist(therapists):
    today = timezone.localdate()
    for therapist in therapists:
        page = start_page_for(therapist)
        assert page.drafts and page.undocumented and page.follow_ups, therapist.username
        assert any(note.waiting_long for note in page.drafts)
        assert any(f.due_on <= today + datetime.timedelta(days=30) for f in page.follow_ups)
        if today.weekday() < 5:
            assert page.today_sessions, therapist.username
        if today.weekday() < 4:
            assert page.week_sessions, therapist.username


def test_no_therapist_has_overlapping_sessions(therapists):
    session, through = TherapySession._meta.db_table, TherapySession.therapists.through._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT a.user_id, s1.date, s1.start_time, s2.start_time
            FROM {through} a
            JOIN {session} s1 ON s1.id = a.therapysession_id
            JOIN {through} b ON b.user_id = a.user_id AND b.therapysession_id <> a.therapysession_id
            JOIN {session} s2 ON s2.id = b.therapysession_id AND s2.date = s1.date
            WHERE s1.start_time < s2.start_time + make_interval(mins => s2.duration_minutes)
              AND s2.start_time < s1.start_time + make_interval(mins => s1.duration_minutes)
            """
        )
        assert cursor.fetchall() == []
        cursor.execute(
            f"SELECT count(*) FROM {session} s WHERE NOT EXISTS (SELECT 1 FROM {through} WHERE therapysession_id = s.id)"
        )
        assert cursor.fetchone() == (0,)


def test_sessions_lie_in_office_hours_and_in_their_treatment_period(therapists):
    assert_sessions_lie_in_their_periods()


def assert_sessions_lie_in_their_periods() -> None:
    episodes = {}
    for episode in Episode.objects.select_related("client"):
        episodes.setdefault(episode.client_id, []).append(episode)
    for session in TherapySession.objects.select_related("episode", "client").prefetch_related("therapists"):
        assert session.date.weekday() < 5
        assert minute(session.start_time) >= 8 * 60
        assert minute(session.start_time) + session.duration_minutes <= 17 * 60
        assert 45 <= session.duration_minutes <= 90
        assert session.client.first_contact_date <= session.date
        # The period covering the date: the last one opened by then.
        covering = max((e for e in episodes[session.client_id] if e.opened_on <= session.date), key=lambda e: e.number)
        assert session.episode == covering, session.client.code
        if session.kind != SessionKind.FOLLOW_UP:  # the follow-up comes after the period it follows up
            assert session.episode.closed_on is None or session.date <= session.episode.closed_on
        assert session.clinic_id == session.client.clinic_id
        therapists = list(session.therapists.all())
        assert all(t.clinic_id == session.clinic_id for t in therapists)
        assert session.client.responsible_therapist in therapists
        assert session.created_by == session.client.responsible_therapist


def test_ended_treatments_have_their_follow_ups(therapists):
    assert_follow_ups_as_treatment_end_makes_them()


def assert_follow_ups_as_treatment_end_makes_them() -> None:
    clinic_months = {c.pk: (c.follow_up_months, c.long_term_follow_up_months) for c in Clinic.objects.all()}
    ended = StatusChange.objects.filter(to_status=CaseStatus.ENDED).select_related("client", "episode")
    assert ended.count() >= 6
    for change in ended:
        end = timezone.localdate(change.at)
        months, long_term_months = clinic_months[change.client.clinic_id]
        follow_ups = {f.kind: f for f in FollowUp.objects.filter(episode=change.episode).select_related("session")}
        assert follow_ups[FollowUpKind.FOLLOW_UP].due_on == end + relativedelta(months=months)
        assert follow_ups[FollowUpKind.LONG_TERM].due_on == end + relativedelta(months=long_term_months)
        followed_up = StatusChange.objects.filter(episode=change.episode, to_status=CaseStatus.FOLLOWED_UP).first()
        done = follow_ups[FollowUpKind.FOLLOW_UP]
        assert (done.done_on is not None) == (followed_up is not None), change.client.code
        if followed_up:
            assert done.done_on == timezone.localdate(followed_up.at) == done.session.date
            assert (done.session.kind, done.session.attendance) == (SessionKind.FOLLOW_UP, Attendance.ATTENDED)
    assert FollowUp.objects.count() == 2 * ended.count()
    # Only a held follow-up conversation completes a follow-up.
    assert not FollowUp.objects.filter(done_on__isnull=False, session__isnull=True)


def test_fees_come_from_the_clinic(therapists):
    assert SessionFee.objects.count() == 3 * len(DEMO_FEES)  # three demo clinics
    fees = {(f.clinic_id, f.kind): f.amount for f in SessionFee.objects.all()}
    sessions = TherapySession.objects.all()
    for session in sessions:
        cancelled = session.attendance in (Attendance.CANCELLED_BY_CLIENT, Attendance.CANCELLED_BY_CLINIC)
        assert session.fee_charged == (0 if cancelled else fees[session.clinic_id, session.kind])
        assert not (session.fee_paid and (session.fee_charged == 0 or session.attendance == Attendance.BOOKED))
    held = sessions.filter(attendance=Attendance.ATTENDED, fee_charged__gt=0)
    assert held.filter(fee_paid=True).count() > 0.8 * held.count()


def test_notes_never_name_the_client(therapists):
    for note in Note.objects.select_related("session__client"):
        client = note.session.client
        for name in {client.alias, *client.full_name.split()} - {""}:
            assert not re.search(rf"\b{re.escape(name)}\b", note.text), (client.code, name, note.text)
    for addendum in Addendum.objects.select_related("note__session__client"):
        assert not re.search(rf"\b{re.escape(addendum.note.session.client.alias)}\b", addendum.text)


def test_running_again_adds_no_sessions(therapists):
    counts = [model.objects.count() for model in (TherapySession, Note, NoteTheme, FollowUp, SessionFee)]

    seed()

    assert [model.objects.count() for model in (TherapySession, Note, NoteTheme, FollowUp, SessionFee)] == counts


def test_the_same_seed_gives_the_same_diary(therapists):
    def diary(seed: int) -> list[tuple]:
        faked = demo.Faked(seed=seed)
        therapist = therapists[0]
        cases = [
            faked.case(therapist=therapist, status=status, taken_personnummer=set(), identified=False, span_days=540)
            for status in demo.DEMO_CASELOAD
        ]
        plan = sessions_demo.plan_sessions(
            cases,
            {therapist.clinic_id: therapist.clinic},
            rng=random.Random(f"sessions-{seed}"),
            today=faked.today,
            now=faked.now,
            demo=True,
        )
        number = {id(case.client): n for n, case in enumerate(cases)}
        return [
            (number[id(b.client)], b.kind, b.day, b.start, b.minutes, b.attendance, b.note, b.text)
            for b in plan.bookings
        ]

    assert diary(7) == diary(7)
    assert diary(7) != diary(8)


def test_bulk_clients_get_their_sessions_too(therapists):
    before = TherapySession.objects.count(), Note.objects.count(), FollowUp.objects.count()

    out = seed("--clients", "60")

    match = re.search(r"^Added (\d+) sessions \(\d+ a second overall\), (\d+) notes and (\d+) follow-ups\.$", out, re.M)
    assert match, out
    added = tuple(map(int, match.groups()))
    after = TherapySession.objects.count(), Note.objects.count(), FollowUp.objects.count()
    assert tuple(a - b for a, b in zip(after, before, strict=True)) == added
    assert added[0] > 900  # some 25 a client
    assert_sessions_lie_in_their_periods()
    assert_follow_ups_as_treatment_end_makes_them()
    for client in Client.objects.filter(status=CaseStatus.IN_TREATMENT):
        booked = client.therapy_sessions.filter(attendance=Attendance.BOOKED).order_by("date").first()
        assert booked is not None and client.next_contact_date == booked.date, client.code
