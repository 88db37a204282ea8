"""The bookings view: a week or a month of the therapist's own sessions with the free time of each office day,
or the clinic's, where a colleague's session shows its client only to those who may see the record."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from sessions.models import Attendance
from tests.factories import ClientFactory, TherapySessionFactory

pytestmark = pytest.mark.django_db

MONDAY = datetime.date(2026, 11, 30)


def book(client_record, therapist, day, start, minutes=60, attendance=Attendance.BOOKED):
    session = TherapySessionFactory(
        client=client_record, date=day, start_time=start, duration_minutes=minutes, attendance=attendance
    )
    session.therapists.add(therapist)
    return session


def days_of(response):
    return {day.date: day for day in response.context["bookings"].days}


def test_the_week_lists_the_sessions_and_the_free_time_of_each_office_day(client, therapist, client_record):
    book(client_record, therapist, MONDAY, datetime.time(10, 0))
    book(client_record, therapist, MONDAY, datetime.time(13, 0), minutes=90)
    book(client_record, therapist, MONDAY, datetime.time(15, 0), attendance=Attendance.CANCELLED_BY_CLIENT)
    client.force_login(therapist)

    response = client.get(reverse("sessions:bookings"), {"start": "2026-12-02", "span": "week"})

    assert response.status_code == 200
    days = days_of(response)
    assert list(days) == [MONDAY + datetime.timedelta(days=n) for n in range(7)]
    monday = days[MONDAY]
    assert [s.start_time for s in monday.sessions] == [datetime.time(10), datetime.time(13), datetime.time(15)]
    # A cancelled session leaves its time free.
    t = datetime.time
    assert monday.free == [(t(8), t(10)), (t(11), t(13)), (t(14, 30), t(17))]
    assert days[MONDAY + datetime.timedelta(days=1)].free == [(t(8), t(17))]
    assert days[MONDAY + datetime.timedelta(days=5)].free == []  # Saturday
    assert client_record.code in response.content.decode()


def test_the_month_runs_from_its_first_to_its_last_day(client, therapist):
    client.force_login(therapist)

    response = client.get(reverse("sessions:bookings"), {"start": "2027-02-17", "span": "month"})

    assert min(days_of(response)) == datetime.date(2027, 2, 1)
    assert len(days_of(response)) == 28
    assert response.context["earlier"] == datetime.date(2027, 1, 1)
    assert response.context["later"] == datetime.date(2027, 3, 1)


def test_the_clinic_view_shows_a_colleagues_client_only_as_busy_time(client, therapist, colleague, client_record):
    theirs = ClientFactory(responsible_therapist=colleague, code="GBG-2026-0077")
    book(client_record, therapist, MONDAY, datetime.time(9, 0))
    book(theirs, colleague, MONDAY, datetime.time(11, 0))
    client.force_login(therapist)

    response = client.get(reverse("sessions:bookings"), {"start": MONDAY.isoformat(), "scope": "clinic"})

    page = response.content.decode()
    assert [s.start_time for s in days_of(response)[MONDAY].sessions] == [datetime.time(9), datetime.time(11)]
    assert client_record.code in page
    assert "GBG-2026-0077" not in page
    assert "Bertil" in page  # whose time it is


def test_another_clinics_sessions_are_not_in_the_clinic_view(client, therapist, other_clinic_therapist):
    elsewhere = ClientFactory(responsible_therapist=other_clinic_therapist, code="MLM-2026-0005")
    book(elsewhere, other_clinic_therapist, MONDAY, datetime.time(9, 0))
    client.force_login(therapist)

    response = client.get(reverse("sessions:bookings"), {"start": MONDAY.isoformat(), "scope": "clinic"})

    assert days_of(response)[MONDAY].sessions == []


@pytest.mark.parametrize("start", ["not-a-date", "1850-01-01", "9999-12-31"])
def test_a_bad_date_is_a_form_error_not_a_500(client, therapist, start):
    client.force_login(therapist)

    response = client.get(reverse("sessions:bookings"), {"start": start})

    assert response.status_code == 400
    assert list(response.context["form"].errors) == ["start"]


@pytest.mark.parametrize("count", [1, 50])
@pytest.mark.parametrize("scope", ["mine", "clinic"])
def test_query_count_is_the_same_at_1_and_50_bookings(
    client, therapist, client_record, count, scope, django_assert_num_queries
):
    for n in range(count):
        book(client_record, therapist, MONDAY + datetime.timedelta(days=n % 28), datetime.time(8 + n % 9, 0))
    client.force_login(therapist)
    url = reverse("sessions:bookings")
    params = {"start": MONDAY.isoformat(), "span": "month", "scope": scope}
    client.get(url, params)  # the session's own rows settle

    # Login session, user, device, the bookings, their therapists; the clinic's view asks the gate once more.
    with django_assert_num_queries(5 if scope == "mine" else 6):
        response = client.get(url, params)

    assert response.status_code == 200


def test_ones_own_view_leaves_out_a_session_of_a_record_no_longer_ones_own(client, therapist, colleague):
    handed_over = ClientFactory(responsible_therapist=therapist, code="GBG-2026-0042")
    book(handed_over, therapist, MONDAY, datetime.time(9, 0))
    handed_over.responsible_therapist = colleague
    handed_over.save(update_fields=["responsible_therapist"])
    client.force_login(therapist)

    response = client.get(reverse("sessions:bookings"), {"start": MONDAY.isoformat()})

    assert days_of(response)[MONDAY].sessions == []
    assert "GBG-2026-0042" not in response.content.decode()
