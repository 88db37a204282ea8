"""A booking outside the clinic's opening hours, or on a weekend, is asked about once and saved when confirmed;
a session logged as held is a record of what happened and is never asked about."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import IntegrityError
from django.urls import reverse
from django.utils.translation import gettext as _

from sessions.models import Attendance, TherapySession
from sessions.selectors import bookings_for
from tests.factories import TherapySessionFactory
from tests.sessions.test_notes import booking

pytestmark = pytest.mark.django_db

#: A Monday morning at the clinic; the Wednesday after it and the Saturday after that.
NOW = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Europe/Stockholm"))
WEDNESDAY = datetime.date(2026, 3, 4)
SATURDAY = datetime.date(2026, 3, 7)


def outside_hours(opens: str = "08:00", closes: str = "17:00") -> str:
    return _(
        "Outside the clinic's opening hours (weekdays %(opens)s–%(closes)s). Check the date and time, or tick "
        "“save anyway”."
    ) % {"opens": opens, "closes": closes}


@pytest.fixture
def clinic_day(case):
    case.first_contact_date = datetime.date(2026, 1, 5)
    case.save(update_fields=["first_contact_date"])
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.mark.parametrize(
    ("date", "start", "minutes"),
    [
        (WEDNESDAY, "07:30", "60"),  # opens at 8
        (WEDNESDAY, "16:30", "60"),  # ends after 17
        (SATURDAY, "10:00", "60"),  # a weekend
    ],
    ids=["before-opening", "past-closing", "weekend"],
)
def test_a_booking_outside_the_opening_hours_is_asked_about_then_saved(
    client, therapist, case, clinic_day, date, start, minutes
):
    client.force_login(therapist)
    url = reverse("sessions:new", args=[case.pk])

    asked = client.post(url, booking(therapist, date=date, start=start, minutes=minutes))

    assert asked.status_code == 200
    assert asked.context["form"].errors == {"start_time": [outside_hours()]}
    assert not TherapySession.objects.exists()

    confirmed = client.post(url, booking(therapist, date=date, start=start, minutes=minutes, allow_overlap="on"))

    assert confirmed.status_code == 302
    assert TherapySession.objects.get().date == date


def test_a_booking_inside_the_hours_is_not_asked_about(client, therapist, case, clinic_day):
    client.force_login(therapist)

    response = client.post(
        reverse("sessions:new", args=[case.pk]), booking(therapist, date=WEDNESDAY, start="09:00", minutes="480")
    )

    assert response.status_code == 302  # ends at 17:00 exactly: inside


def test_the_clinics_own_hours_are_the_rule(client, therapist, case, clinic_day):
    clinic = case.clinic
    clinic.opens_at, clinic.closes_at = datetime.time(7, 0), datetime.time(19, 30)
    clinic.save(update_fields=["opens_at", "closes_at"])
    client.force_login(therapist)
    url = reverse("sessions:new", args=[case.pk])

    evening = client.post(url, booking(therapist, date=WEDNESDAY, start="18:00"))
    late = client.post(url, booking(therapist, date=WEDNESDAY, start="19:00"))

    assert evening.status_code == 302
    assert late.context["form"].errors == {"start_time": [outside_hours("07:00", "19:30")]}


def test_a_session_logged_as_held_is_never_asked_about(client, therapist, case, clinic_day):
    client.force_login(therapist)
    held_on_a_sunday = datetime.date(2026, 3, 1)

    response = client.post(
        reverse("sessions:new", args=[case.pk]),
        booking(therapist, date=held_on_a_sunday, start="19:00", attendance=Attendance.ATTENDED),
    )

    assert response.status_code == 302


def test_booking_the_next_session_on_a_weekend_is_asked_about(client, therapist, case, clinic_day):
    held = TherapySessionFactory(client=case, date=datetime.date(2026, 2, 27), attendance=Attendance.ATTENDED)
    held.therapists.set([therapist])
    client.force_login(therapist)

    asked = client.post(
        reverse("sessions:book_next", args=[held.pk]), {"date": SATURDAY.isoformat(), "start_time": "10:00"}
    )

    assert asked.status_code == 400  # the session's page again, with the booking form's error
    assert TherapySession.objects.count() == 1
    assert asked.context["book_form"].errors == {"start_time": [outside_hours()]}


def test_the_bookings_view_shows_free_time_inside_the_clinics_hours(therapist, case, clinic_day):
    clinic = therapist.clinic
    clinic.opens_at, clinic.closes_at = datetime.time(9, 0), datetime.time(16, 0)
    clinic.save(update_fields=["opens_at", "closes_at"])
    TherapySessionFactory(
        client=case, date=WEDNESDAY, start_time=datetime.time(10, 0), attendance=Attendance.BOOKED
    ).therapists.set([therapist])

    week = bookings_for(therapist, start=NOW.date(), days=7)

    wednesday = next(day for day in week.days if day.date == WEDNESDAY)
    assert wednesday.free == [
        (datetime.time(9, 0), datetime.time(10, 0)),
        (datetime.time(11, 0), datetime.time(16, 0)),
    ]


def test_a_clinic_cannot_close_before_it_opens(therapist):
    clinic = therapist.clinic
    clinic.opens_at, clinic.closes_at = datetime.time(17, 0), datetime.time(8, 0)

    with pytest.raises(IntegrityError):
        clinic.save(update_fields=["opens_at", "closes_at"])
