"""A case that ends, is referred or is closed takes its sessions booked ahead with it (cancelled by the clinic,
also in the calendar feed), unless the therapist keeps them; held and past sessions stay as they were."""

from __future__ import annotations

import datetime

import icalendar
import pytest
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone

from clients.models import CaseStatus
from kast.models import AccessLogEntry
from sessions.models import Attendance, TherapySession
from tests.factories import TherapySessionFactory

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


@pytest.fixture
def treated(case, therapist):
    case.status = CaseStatus.IN_TREATMENT
    case.save(update_fields=["status"])
    return case


@pytest.fixture
def diary(treated, therapist):
    """Held last week, booked yesterday and not updated, booked next week and the week after."""
    today = timezone.localdate()

    def session(day, attendance):
        made = TherapySessionFactory(client=treated, date=day, attendance=attendance)
        made.therapists.add(therapist)
        return made

    return {
        "held": session(today - 7 * DAY, Attendance.ATTENDED),
        "past booking": session(today - DAY, Attendance.BOOKED),
        "next week": session(today + 7 * DAY, Attendance.BOOKED),
        "in two weeks": session(today + 14 * DAY, Attendance.BOOKED),
    }


def attendances(diary) -> dict[str, str]:
    return {name: TherapySession.objects.get(pk=s.pk).attendance for name, s in diary.items()}


def end(http, case, **extra):
    data = {"ended_on": timezone.localdate().isoformat(), "reason": "goal_reached", "comment": "", **extra}
    return http.post(reverse("sessions:end_treatment", args=[case.pk]), data)


def test_ending_the_treatment_cancels_the_sessions_booked_ahead_only(client, therapist, treated, diary):
    client.force_login(therapist)

    assert end(client, treated).status_code == 302

    assert attendances(diary) == {
        "held": Attendance.ATTENDED,
        "past booking": Attendance.BOOKED,  # for the therapist to record what happened
        "next week": Attendance.CANCELLED_BY_CLINIC,
        "in two weeks": Attendance.CANCELLED_BY_CLINIC,
    }
    logged = AccessLogEntry.objects.filter(reason="cancelled:case_closed")
    assert sorted(logged.values_list("object_id", flat=True)) == sorted(
        str(diary[name].pk) for name in ("next week", "in two weeks")
    )


def test_the_therapist_may_keep_them(client, therapist, treated, diary):
    client.force_login(therapist)

    assert end(client, treated, keep_bookings="on").status_code == 302

    assert attendances(diary)["next week"] == Attendance.BOOKED


def test_closing_a_case_from_the_status_form_cancels_them_too(client, therapist, case, diary):
    client.force_login(therapist)
    case.status = CaseStatus.ASSESSMENT
    case.save(update_fields=["status"])

    response = client.post(
        reverse("clients:transition", args=[case.pk]), {"to_status": CaseStatus.CLOSED, "reason": "Avböjde"}
    )

    assert response.status_code == 302
    assert attendances(diary)["in two weeks"] == Attendance.CANCELLED_BY_CLINIC


def test_a_cancelled_session_moves_its_version_so_an_open_form_sees_the_change(client, therapist, treated, diary):
    before = diary["next week"].version
    client.force_login(therapist)

    end(client, treated)

    assert TherapySession.objects.get(pk=diary["next week"].pk).version == before + 1


def test_the_calendar_feed_shows_them_as_cancelled(client, therapist, treated, diary):
    client.force_login(therapist)
    page = client.post(reverse("sessions:calendar"), {"action": "renew"}).content.decode()
    feed_url = page.split('value="http://testserver', 1)[1].split('"', 1)[0]
    end(client, treated)

    calendar = icalendar.Calendar.from_ical(HttpClient().get(feed_url).content)

    status = {str(e["uid"]): str(e["status"]) for e in calendar.walk("VEVENT")}
    next_week = next(uid for uid in status if str(diary["next week"].pk) in uid)
    held = next(uid for uid in status if str(diary["held"].pk) in uid)
    assert (status[next_week], status[held]) == ("CANCELLED", "CONFIRMED")
