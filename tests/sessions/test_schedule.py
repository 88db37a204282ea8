"""The therapist's start page: the week's sessions, notes to write and sign, quick log and booking the next session."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from sessions.models import Attendance, Note, SessionKind, TherapySession
from sessions.selectors import StartPage
from tests.factories import ClientFactory, NoteFactory, TherapySessionFactory, working_day

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


def at(hour: int, minute: int = 0) -> datetime.time:
    return datetime.time(hour, minute)


def make_session(client, date, start=None, attendance=None, therapists=None, **extra) -> TherapySession:
    """A session of `client`: held if on or before today, booked if later (unless told otherwise)."""
    if attendance is None:
        attendance = Attendance.ATTENDED if date <= timezone.localdate() else Attendance.BOOKED
    return TherapySessionFactory(
        client=client, date=date, start_time=start or at(10), attendance=attendance, therapists=therapists, **extra
    )


def voided(session: TherapySession, by) -> TherapySession:
    session.voided_at, session.voided_by, session.void_reason = timezone.now(), by, "Skrivet på fel klient."
    session.save(update_fields=["voided_at", "voided_by", "void_reason"])
    return session


def start_page(client, user) -> StartPage:
    client.force_login(user)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    start = response.context["start"]
    assert isinstance(start, StartPage)
    return start


def pks(items) -> list:
    return [item.pk for item in items]


# -- Today and later this week -----------------------------------------------------------------------------


def by_time(sessions) -> list:
    return pks(sorted(sessions, key=lambda s: (s.date, s.start_time)))


def test_today_and_later_this_week_list_exactly_the_therapists_own_sessions_in_time_order(
    client, therapist, colleague, case
):
    today = timezone.localdate()
    tomorrow = today + DAY
    week_start = today - datetime.timedelta(days=today.weekday())
    week_end = week_start + datetime.timedelta(days=6)
    # One session a day from the Sunday before this week to the Monday after, at 10:00.
    daily = {week_start + n * DAY: make_session(case, week_start + n * DAY) for n in range(-1, 8)}
    early_today = make_session(case, today, at(8, 15))
    late_today = make_session(case, today, at(16, 30), attendance=Attendance.BOOKED)
    no_show_today = make_session(case, today, at(13), attendance=Attendance.NO_SHOW)
    cancelled_tomorrow = make_session(case, tomorrow, at(9), attendance=Attendance.CANCELLED_BY_CLIENT)
    voided(make_session(case, today, at(11)), therapist)
    voided(make_session(case, tomorrow, at(12)), therapist)
    # The colleague's own client, and a session of Anna's client that the colleague holds alone.
    theirs = ClientFactory(responsible_therapist=colleague, code="GBG-2026-0002")
    theirs_today = make_session(theirs, today, at(9))
    theirs_tomorrow = make_session(theirs, tomorrow, at(9))
    case.co_therapists.add(colleague)
    colleague_alone = make_session(case, tomorrow, at(15), therapists=[colleague])
    # A session the two hold together appears for both.
    together = make_session(case, tomorrow, at(17), therapists=[therapist, colleague])
    # On a Sunday "tomorrow" is next week: then nothing is left of this week.
    this_week = tomorrow <= week_end

    annas = start_page(client, therapist)
    bertils = start_page(client, colleague)

    assert (annas.today, annas.week_start) == (today, week_start)
    assert pks(annas.today_sessions) == pks([early_today, daily[today], no_show_today, late_today])
    later = [daily[d] for d in daily if today < d <= week_end]
    assert pks(annas.week_sessions) == by_time(later + ([cancelled_tomorrow, together] if this_week else []))
    assert len(annas.week_sessions) == (6 - today.weekday()) + (2 if this_week else 0)
    assert pks(bertils.today_sessions) == [theirs_today.pk]
    assert pks(bertils.week_sessions) == (pks([theirs_tomorrow, colleague_alone, together]) if this_week else [])


def test_a_cancelled_session_today_is_shown_with_its_attendance(client, therapist, case):
    cancelled = make_session(case, timezone.localdate(), at(9), attendance=Attendance.CANCELLED_BY_CLINIC)
    client.force_login(therapist)

    response = client.get(reverse("home"))

    assert pks(response.context["start"].today_sessions) == [cancelled.pk]
    assert "avbokat av mottagningen" in response.content.decode()


def test_voided_sessions_never_appear_on_the_start_page(client, therapist, case):
    today = timezone.localdate()
    for date in (today - 3 * DAY, today, today + DAY):
        session = voided(make_session(case, date), therapist)
    NoteFactory(session=session, signed_at=None)  # even a voided session's draft

    start = start_page(client, therapist)

    assert (start.today_sessions, start.week_sessions, start.undocumented, start.drafts) == ([], [], [], [])


# -- Notes to write and sign -------------------------------------------------------------------------------


def test_notes_to_write_are_the_held_sessions_without_a_note_for_each_of_their_therapists(
    client, therapist, colleague, case
):
    today = timezone.localdate()
    case.co_therapists.add(colleague)
    held_today = make_session(case, today, at(9))
    make_session(case, today, at(15), attendance=Attendance.BOOKED)  # later today: not yet
    booked_yesterday = make_session(case, today - DAY, at(10), attendance=Attendance.BOOKED)
    held_last_week = make_session(case, today - 7 * DAY, at(14))
    make_session(case, today - DAY, at(12), attendance=Attendance.CANCELLED_BY_CLIENT)
    make_session(case, today - DAY, at(13), attendance=Attendance.NO_SHOW)
    make_session(case, today + DAY, at(10))
    voided(make_session(case, today - 2 * DAY), therapist)
    NoteFactory(session=make_session(case, today - 3 * DAY), signed_at=None)
    NoteFactory(session=make_session(case, today - 4 * DAY))  # signed
    together = make_session(case, today - 2 * DAY, at(11), therapists=[therapist, colleague])
    colleague_alone = make_session(case, today - 5 * DAY, at(11), therapists=[colleague])

    assert pks(start_page(client, therapist).undocumented) == pks(
        [held_last_week, together, booked_yesterday, held_today]
    )
    assert pks(start_page(client, colleague).undocumented) == pks([colleague_alone, together])


def test_drafts_are_listed_to_their_author_only_and_signed_notes_not_at_all(client, therapist, colleague, case):
    today = timezone.localdate()
    case.co_therapists.add(colleague)
    annas_old = NoteFactory(session=make_session(case, today - 6 * DAY), signed_at=None)
    annas_new = NoteFactory(session=make_session(case, today), signed_at=None)
    # A session held together, whose draft the colleague writes.
    together = make_session(case, today - DAY, therapists=[therapist, colleague])
    colleagues = NoteFactory(session=together, author=colleague, signed_at=None)
    NoteFactory(session=make_session(case, today - 2 * DAY))  # signed by Anna
    NoteFactory(session=make_session(case, today - 3 * DAY, therapists=[colleague]), author=colleague)  # signed

    annas = start_page(client, therapist)
    bertils = start_page(client, colleague)

    assert pks(annas.drafts) == [annas_old.pk, annas_new.pk]
    assert pks(bertils.drafts) == [colleagues.pk]
    # A session with a note, draft or signed, is not "without a note" for anyone.
    assert (annas.undocumented, bertils.undocumented) == ([], [])


@pytest.mark.parametrize("reminder_days", [0, 2, 5])
def test_a_draft_waits_long_once_older_than_the_clinics_reminder_days(client, therapist, case, reminder_days):
    therapist.clinic.draft_reminder_days = reminder_days
    therapist.clinic.save(update_fields=["draft_reminder_days"])
    today = timezone.localdate()
    on_the_limit = NoteFactory(
        session=make_session(case, today - reminder_days * DAY, at(9)), signed_at=None, text="På gränsen."
    )
    over_it = NoteFactory(
        session=make_session(case, today - (reminder_days + 1) * DAY, at(9)), signed_at=None, text="Över gränsen."
    )
    client.force_login(therapist)

    response = client.get(reverse("home"))

    drafts = response.context["start"].drafts
    assert [(note.pk, note.waiting_long) for note in drafts] == [(over_it.pk, True), (on_the_limit.pk, False)]
    assert response.content.decode().count("väntat länge") == 1


# -- Quick log --------------------------------------------------------------------------------------------


def quick_log_start_time() -> datetime.time:
    """What QuickLogForm puts in: an hour ago on the quarter, or midnight if that was yesterday."""
    start = timezone.localtime() - datetime.timedelta(hours=1)
    if start.date() != timezone.localdate():
        return at(0)
    return at(start.hour, start.minute - start.minute % 15)


def test_quick_log_creates_a_session_held_today_and_opens_its_note_page(client, therapist, case):
    client.force_login(therapist)
    before = quick_log_start_time()

    response = client.post(reverse("sessions:quick_log"), {"client": case.pk, "kind": SessionKind.COUPLE})

    session = TherapySession.objects.get(client=case)
    assert response.status_code == 302
    assert response["Location"] == reverse("sessions:detail", args=[session.pk])
    assert (session.date, session.attendance, session.kind) == (
        timezone.localdate(),
        Attendance.ATTENDED,
        SessionKind.COUPLE,
    )
    assert session.start_time in {before, quick_log_start_time()}
    assert (session.duration_minutes, session.episode, session.created_by) == (60, case.episodes.get(), therapist)
    assert list(session.therapists.all()) == [therapist]
    assert not Note.objects.filter(session=session).exists()
    assert pks(start_page(client, therapist).undocumented) == [session.pk]


@pytest.mark.parametrize("whose", ["other_clinic", "colleague", "missing"])
def test_quick_log_refuses_a_client_not_on_the_caseload(client, therapist, colleague, other_clinic_therapist, whose):
    others = {
        "other_clinic": lambda: ClientFactory(responsible_therapist=other_clinic_therapist, code="MLM-2026-0001").pk,
        "colleague": lambda: ClientFactory(responsible_therapist=colleague, code="GBG-2026-0002").pk,
        "missing": lambda: "",
    }
    client_id = others[whose]()
    client.force_login(therapist)

    response = client.post(reverse("sessions:quick_log"), {"client": client_id, "kind": SessionKind.INDIVIDUAL})

    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Välj en av dina klienter för att registrera ett samtal."
    ]
    assert TherapySession.objects.count() == 0


def test_quick_log_offers_only_the_therapists_own_clients(client, therapist, colleague, case):
    case.co_therapists.add(colleague)
    ClientFactory(responsible_therapist=colleague, code="GBG-2026-0002")
    shared = ClientFactory(responsible_therapist=colleague, code="GBG-2026-0003")
    shared.co_therapists.add(therapist)
    client.force_login(therapist)

    response = client.get(reverse("home"))

    choices = response.context["quick_log_form"].fields["client"].queryset
    assert [c.code for c in choices] == ["GBG-2026-0001", "GBG-2026-0003"]


# -- Book the next session --------------------------------------------------------------------------------


@pytest.fixture
def signed_couple_session(case, therapist, colleague):
    """A 90-minute couple session held today by Anna and Bertil, its note signed."""
    session = make_session(case, timezone.localdate(), at(13, 30), therapists=[therapist, colleague])
    session.kind, session.duration_minutes = SessionKind.COUPLE, 90
    session.save(update_fields=["kind", "duration_minutes"])
    NoteFactory(session=session)
    return session


def test_book_next_books_a_session_like_the_signed_one(client, therapist, colleague, signed_couple_session):
    next_week = working_day(7)
    client.force_login(therapist)

    response = client.post(
        reverse("sessions:book_next", args=[signed_couple_session.pk]),
        {"date": next_week.isoformat(), "start_time": "14:15"},
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("sessions:detail", args=[signed_couple_session.pk])
    booked = TherapySession.objects.exclude(pk=signed_couple_session.pk).get()
    assert (booked.client, booked.episode, booked.kind, booked.duration_minutes) == (
        signed_couple_session.client,
        signed_couple_session.episode,
        SessionKind.COUPLE,
        90,
    )
    assert (booked.date, booked.start_time, booked.attendance) == (next_week, at(14, 15), Attendance.BOOKED)
    assert set(booked.therapists.all()) == {therapist, colleague}
    assert booked.created_by == therapist
    assert not Note.objects.filter(session=booked).exists()
    # The signed session and its note are as they were.
    assert Note.objects.get(session=signed_couple_session).is_signed


def test_book_next_refuses_a_date_in_the_past(client, therapist, signed_couple_session):
    client.force_login(therapist)

    response = client.post(
        reverse("sessions:book_next", args=[signed_couple_session.pk]),
        {"date": (timezone.localdate() - DAY).isoformat(), "start_time": "10:00"},
    )

    assert response.status_code == 400
    assert response.context["book_form"].errors == {"date": ["En bokning gäller i dag eller senare."]}
    assert list(TherapySession.objects.all()) == [signed_couple_session]
