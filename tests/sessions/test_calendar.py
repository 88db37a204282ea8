"""The therapist's calendar feed: a secret address, client codes only, renewed and revoked, and logged."""

from __future__ import annotations

import datetime
import re
import zoneinfo

import icalendar
import pytest
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone
from pghistory.models import Context as HistoryContext

from kast.models import AccessLogEntry
from sessions.models import Attendance, CalendarFeed, SessionKind
from tests.factories import ClientFactory, TherapySessionFactory

pytestmark = pytest.mark.django_db

STOCKHOLM = zoneinfo.ZoneInfo("Europe/Stockholm")
DAY = datetime.timedelta(days=1)
FEED_URL = re.compile(r'value="(http://testserver/calendar/([A-Za-z0-9_-]+)\.ics)"')


def renew(client) -> str:
    """Ask for a (new) calendar address and return its token, checking the page shows it exactly once."""
    response = client.post(reverse("sessions:calendar"), {"action": "renew"})
    assert response.status_code == 200
    html = response.content.decode()
    [(url, token)] = FEED_URL.findall(html)
    assert url == "http://testserver" + reverse("sessions:calendar_feed", args=[token])
    assert html.count(token) == 1
    return token


def fetch(token: str):
    """The feed as a calendar app fetches it: no login, no cookies."""
    return HttpClient().get(reverse("sessions:calendar_feed", args=[token]))


def events(response) -> dict[str, icalendar.Event]:
    calendar = icalendar.Calendar.from_ical(response.content)
    return {str(event["UID"]): event for event in calendar.walk("VEVENT")}


def uid(session) -> str:
    return f"{session.pk}@kast"


@pytest.fixture
def named_case(case):
    """`case` with an alias and a full name, which must never reach a calendar."""
    case.alias, case.full_name = "Kalleponken", "Karl-Gustaf Hemligsson"
    case.save(update_fields=["alias", "full_name"])
    return case


def test_the_address_is_shown_once_and_not_on_the_next_visit(client, therapist):
    client.force_login(therapist)

    token = renew(client)

    later = client.get(reverse("sessions:calendar"))
    assert token not in later.content.decode()
    assert CalendarFeed.objects.get(user=therapist).token_hash == CalendarFeed.hash(token)
    assert token not in CalendarFeed.objects.values_list("token_hash", flat=True)[0]


def test_the_feed_has_one_event_per_session_with_the_code_and_never_the_name(client, therapist, colleague, named_case):
    today = timezone.localdate()

    def session(offset, hour, minute=0, **extra):
        date = today + offset * DAY
        attendance = Attendance.ATTENDED if date <= today else Attendance.BOOKED
        return TherapySessionFactory(
            client=named_case,
            date=date,
            start_time=datetime.time(hour, minute),
            **{"attendance": attendance, **extra},
        )

    held = session(0, 10)
    booked = session(7, 14, 30, duration_minutes=90, kind=SessionKind.COUPLE)
    in_four_months = session(120, 8, 15, duration_minutes=45)
    oldest = session(-60, 9)
    furthest = session(183, 16)
    by_client = session(-3, 11, attendance=Attendance.CANCELLED_BY_CLIENT)
    by_clinic = session(2, 12, attendance=Attendance.CANCELLED_BY_CLINIC)
    no_show = session(-1, 13, attendance=Attendance.NO_SHOW)
    # Not in the feed: wrongly recorded, out of range, the colleague's.
    session(1, 9, voided_at=timezone.now(), voided_by=therapist, void_reason="Fel klient.")
    session(-61, 9)
    session(184, 9)
    theirs = ClientFactory(responsible_therapist=colleague, code="GBG-2026-0002", alias="Bertils klient")
    TherapySessionFactory(client=theirs, date=today, start_time=datetime.time(10))
    named_case.co_therapists.add(colleague)
    session(3, 9, therapists=[colleague])  # Anna's client, but held by the colleague alone
    client.force_login(therapist)
    token = renew(client)

    response = fetch(token)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    body = response.content.decode()
    for secret in ("Kalleponken", "Karl-Gustaf", "Hemligsson", "Bertils klient", "GBG-2026-0002"):
        assert secret not in body
    found = events(response)
    expected = [oldest, by_client, no_show, held, by_clinic, booked, in_four_months, furthest]
    assert sorted(found) == sorted(uid(s) for s in expected)
    for s in expected:
        event = found[uid(s)]
        start = datetime.datetime.combine(s.date, s.start_time, tzinfo=STOCKHOLM)
        assert event["SUMMARY"].startswith("GBG-2026-0001 · ")
        assert event.decoded("DTSTART") == start
        assert event["DTSTART"].params["TZID"] == "Europe/Stockholm"
        assert event.decoded("DTSTART").utcoffset() == start.utcoffset()
        assert event.decoded("DTEND") - event.decoded("DTSTART") == datetime.timedelta(minutes=s.duration_minutes)
        assert str(event["CLASS"]) == "CONFIDENTIAL"
        cancelled = s in (by_client, by_clinic)
        assert str(event["STATUS"]) == ("CANCELLED" if cancelled else "CONFIRMED")
    assert str(found[uid(booked)]["SUMMARY"]) == "GBG-2026-0001 · Par: klienten med sin partner"
    assert str(found[uid(held)]["SUMMARY"]) == "GBG-2026-0001 · Enskilt"
    assert event_times(found[uid(booked)]) == (booked.date, "14:30", "16:00")
    # The 243 days from the oldest to the furthest always span a change to or from summer time.
    offsets = {found[uid(s)].decoded("DTSTART").utcoffset() for s in expected}
    assert offsets == {datetime.timedelta(hours=1), datetime.timedelta(hours=2)}


def event_times(event) -> tuple[datetime.date, str, str]:
    start, end = event.decoded("DTSTART"), event.decoded("DTEND")
    return start.date(), f"{start:%H:%M}", f"{end:%H:%M}"


def test_renewing_the_address_retires_the_old_one(client, therapist, case):
    TherapySessionFactory(client=case)
    client.force_login(therapist)
    old = renew(client)
    assert fetch(old).status_code == 200

    new = renew(client)

    assert new != old
    assert fetch(old).status_code == 404
    assert fetch(new).status_code == 200
    assert CalendarFeed.objects.filter(user=therapist).count() == 1


def test_turning_the_address_off_retires_it(client, therapist):
    client.force_login(therapist)
    token = renew(client)

    response = client.post(reverse("sessions:calendar"), {"action": "revoke"})

    assert response.status_code == 302
    assert response["Location"] == reverse("sessions:calendar")
    assert fetch(token).status_code == 404
    assert not CalendarFeed.objects.filter(user=therapist).exists()


def test_a_deactivated_therapists_address_stops_working(client, therapist):
    client.force_login(therapist)
    token = renew(client)
    therapist.is_active = False
    therapist.save(update_fields=["is_active"])

    assert fetch(token).status_code == 404


def test_an_unknown_address_is_404(db):
    assert fetch("not-a-token-anyone-has").status_code == 404


def test_each_fetch_is_logged_as_an_export_without_the_address(client, therapist, case):
    TherapySessionFactory(client=case)
    client.force_login(therapist)
    token = renew(client)

    for _ in range(3):
        assert fetch(token).status_code == 200

    exports = AccessLogEntry.objects.filter(action=AccessLogEntry.Action.EXPORT)
    assert exports.count() == 3
    for entry in exports:
        assert (entry.user, entry.clinic, entry.object_type, entry.path) == (
            therapist,
            therapist.clinic,
            "therapy_sessions.calendarfeed",
            "",
        )
    assert not AccessLogEntry.objects.filter(path__contains=token).exists()
    assert not AccessLogEntry.objects.filter(reason__contains=token).exists()
    assert not AccessLogEntry.objects.filter(object_id__contains=token).exists()
    assert not HistoryContext.objects.filter(metadata__url__contains=token).exists()
