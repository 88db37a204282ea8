"""Session times that cannot collide by accident: quick-log finds a free time, a draft always saves,
an overlap is a warning to fix and stops only the signature."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils.translation import gettext as _

from sessions.models import Attendance, Note, TherapySession
from sessions.selectors import quick_log_start
from tests.factories import TherapySessionFactory, working_day
from tests.sessions.test_notes import detail_url, document

pytestmark = pytest.mark.django_db

STOCKHOLM = ZoneInfo("Europe/Stockholm")
#: A Monday, 10:40 at the clinic.
NOW = datetime.datetime(2026, 3, 2, 10, 40, tzinfo=STOCKHOLM)


def at(hour: int, minute: int = 0) -> datetime.time:
    return datetime.time(hour, minute)


@pytest.mark.parametrize(
    ("busy", "proposed"),
    [
        ([], at(9, 30)),  # an hour before now, on the quarter
        ([(9, 0, 60)], at(8, 0)),  # back to the first hour clear of the 9 o'clock
        ([(9, 30, 60), (8, 15, 60)], at(7, 15)),
        ([(h, 0, 60) for h in range(0, 10)], at(10, 0)),  # nothing free before: the first free time after
    ],
)
def test_quick_log_proposes_the_nearest_free_time_of_the_therapists_day(case, therapist, busy, proposed):
    for hour, minute, minutes in busy:
        TherapySessionFactory(
            client=case, date=NOW.date(), start_time=at(hour, minute), duration_minutes=minutes
        ).therapists.set([therapist])

    assert quick_log_start(therapist, now=NOW, minutes=60) == proposed


def test_a_cancelled_session_does_not_take_the_time(case, therapist):
    TherapySessionFactory(client=case, date=NOW.date(), start_time=at(9, 30), attendance=Attendance.CANCELLED_BY_CLIENT)

    assert quick_log_start(therapist, now=NOW, minutes=60) == at(9, 30)


def test_two_quick_logs_in_one_hour_both_end_with_signed_notes(client, therapist, case):
    case.first_contact_date = datetime.date(2026, 1, 5)
    case.save(update_fields=["first_contact_date"])
    client.force_login(therapist)
    with time_machine.travel(NOW, tick=False):
        for _round in range(2):
            client.post(reverse("sessions:quick_log"), {"client": case.pk, "kind": "individual"})
        sessions = list(TherapySession.objects.order_by("start_time"))
        signed = [
            client.post(detail_url(s), document(s, text=f"Samtal {n}.", note_version=0, button="sign"))
            for n, s in enumerate(sessions)
        ]

    assert [s.start_time for s in sessions] == [at(8, 30), at(9, 30)]
    assert [r.status_code for r in signed] == [302, 302]
    assert Note.objects.filter(signed_at__isnull=False).count() == 2


def test_a_draft_saves_though_the_session_overlaps_and_the_page_then_warns(client, therapist, case):
    other = TherapySessionFactory(client=case, start_time=at(10, 0))
    session = TherapySessionFactory(client=case, start_time=at(14, 0))
    client.force_login(therapist)

    saved = client.post(detail_url(session), document(session, text="Utkast.", note_version=0, start_time="10:30"))
    page = client.get(detail_url(session))

    assert saved.status_code == 302
    session.refresh_from_db()
    assert (session.start_time, Note.objects.get(session=session).text) == (at(10, 30), "Utkast.")
    assert page.context["overlaps"] == [other]
    assert _("Correct the time, or tick “save anyway”, before signing. The draft saves as usual.") in (
        page.content.decode()
    )


def test_signing_stops_at_an_overlap_until_it_is_fixed_or_confirmed(client, therapist, case):
    TherapySessionFactory(client=case, start_time=at(10, 0))
    session = TherapySessionFactory(client=case, start_time=at(10, 30))
    client.force_login(therapist)

    refused = client.post(detail_url(session), document(session, text="Klart.", note_version=0, button="sign"))
    confirmed = client.post(
        detail_url(session),
        document(session, text="Klart.", note_version=0, button="sign", allow_overlap="on"),
    )

    assert refused.status_code == 200
    assert "start_time" in refused.context["session_form"].errors
    assert confirmed.status_code == 302
    assert Note.objects.get(session=session).is_signed


def test_a_draft_is_kept_when_the_sessions_facts_are_wrong(client, therapist, case):
    session = TherapySessionFactory(client=case, start_time=at(9, 0))
    client.force_login(therapist)

    response = client.post(
        detail_url(session), document(session, text="Det viktiga.", note_version=0, duration_minutes="0")
    )

    assert response.status_code == 200
    assert "duration_minutes" in response.context["session_form"].errors
    assert Note.objects.get(session=session).text == "Det viktiga."
    assert response.context["note_form"]["version"].value() == 1
    session.refresh_from_db()
    assert session.duration_minutes == 60  # the wrong fact is not saved

    again = client.post(detail_url(session), document(session, text="Det viktiga, och mer.", note_version=1))
    assert again.status_code == 302
    assert Note.objects.get(session=session).text == "Det viktiga, och mer."


def test_a_session_cannot_be_dated_before_the_first_contact(client, therapist, case):
    case.first_contact_date = datetime.date(2026, 2, 10)
    case.save(update_fields=["first_contact_date"])
    session = TherapySessionFactory(client=case, date=datetime.date(2026, 2, 12))
    client.force_login(therapist)

    response = client.post(detail_url(session), document(session, text="Utkast.", note_version=0, date="2026-02-09"))
    booked = client.post(
        reverse("sessions:new", args=[case.pk]),
        {
            "date": "2026-02-09",
            "start_time": "10:00",
            "duration_minutes": "60",
            "kind": "individual",
            "attendance": "attended",
            "therapists": [str(therapist.pk)],
        },
    )

    message = _("The record's first contact was %(date)s: a session cannot be dated before it.") % {
        "date": "2026-02-10"
    }
    assert response.context["session_form"].errors == {"date": [message]}
    assert booked.context["form"].errors == {"date": [message]}
    session.refresh_from_db()
    assert session.date == datetime.date(2026, 2, 12)
    assert Note.objects.get(session=session).text == "Utkast."  # the draft is kept all the same
    assert TherapySession.objects.count() == 1


def test_the_next_planned_contact_follows_the_bookings(client, therapist, case):
    case.next_contact_date = None
    case.save(update_fields=["next_contact_date"])
    client.force_login(therapist)
    url = reverse("sessions:new", args=[case.pk])

    def book(day: datetime.date, start: str) -> None:
        booking = {
            "date": day.isoformat(),
            "start_time": start,
            "duration_minutes": "60",
            "kind": "individual",
            "attendance": "booked",
            "therapists": [str(therapist.pk)],
        }
        assert client.post(url, booking).status_code == 302

    later, sooner = working_day(14), working_day(7)
    book(later, "10:00")
    case.refresh_from_db()
    after_one = case.next_contact_date
    book(sooner, "10:00")
    case.refresh_from_db()
    after_two = case.next_contact_date
    earlier = TherapySession.objects.get(date=sooner)
    client.post(reverse("sessions:void", args=[earlier.pk]), {"reason": "Fel dag"})
    case.refresh_from_db()

    assert after_one == later
    assert after_two == sooner
    assert case.next_contact_date == later  # the voided booking no longer counts
