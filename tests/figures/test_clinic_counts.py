"""The manager's start page: the clinic's session figures, exact, and never a word of a note or a client code."""

from __future__ import annotations

import datetime
import html
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from figures.statistics import clinic_session_counts
from sessions.models import Attendance, FollowUp, FollowUpKind
from tests.factories import ClientFactory, NoteFactory, TherapySessionFactory, open_first_period

pytestmark = pytest.mark.django_db

SENTINEL = "SENTINEL-clinic-counts"


@pytest.fixture
def known_clinic(gbg, therapist, other_clinic_therapist):
    """A Göteborg caseload with a known mix of sessions, notes and follow-ups, and noise in Malmö."""
    today = timezone.localdate()
    month_start = today.replace(day=1)
    client = open_first_period(ClientFactory(responsible_therapist=therapist, code="GBG-2026-0001", alias=SENTINEL))
    session = TherapySessionFactory
    cancelled = Attendance.CANCELLED_BY_CLIENT
    # Held this month: 3, with signed notes. One marked as wrongly recorded does not count.
    for day in (month_start, month_start, today):
        NoteFactory(session=session(client=client, date=day), text=SENTINEL)
    session(client=client, date=today, voided_at=timezone.now(), voided_by=therapist, void_reason="Fel klient")
    # Held last month: not in this month's figure.
    session(client=client, date=month_start - datetime.timedelta(days=1))
    # Did not come this month: 1.
    session(client=client, date=month_start, attendance=Attendance.NO_SHOW)
    # Booked within the next 7 days: 2 (today and in 7 days); in 8 days: not counted.
    for days in (0, 7, 8):
        session(client=client, date=today + datetime.timedelta(days=days), attendance=Attendance.BOOKED)
    # Unsigned notes: 2, one older than the clinic's reminder limit (on cancelled sessions, so "held" stays 3).
    NoteFactory(session=session(client=client, date=today, attendance=cancelled), signed_at=None, text=SENTINEL)
    old = today - datetime.timedelta(days=gbg.draft_reminder_days + 1)
    NoteFactory(session=session(client=client, date=old, attendance=cancelled), signed_at=None, text=SENTINEL)
    # Follow-ups: overdue 1, due within 30 days 1; one in 40 days and one done are neither.
    other = open_first_period(ClientFactory(responsible_therapist=therapist, code="GBG-2026-0002"))
    for owner, kind, days, done_on in [
        (client, FollowUpKind.FOLLOW_UP, -1, None),
        (client, FollowUpKind.LONG_TERM, 10, None),
        (other, FollowUpKind.FOLLOW_UP, 40, None),
        (other, FollowUpKind.LONG_TERM, -5, today),
    ]:
        FollowUp.objects.create(
            client=owner,
            episode=owner.episodes.get(),
            kind=kind,
            due_on=today + datetime.timedelta(days=days),
            done_on=done_on,
        )
    # Another clinic's activity never counts.
    malmo = open_first_period(ClientFactory(responsible_therapist=other_clinic_therapist, code="MLM-2026-0001"))
    NoteFactory(session=session(client=malmo, date=today), signed_at=None)
    FollowUp.objects.create(
        client=malmo,
        episode=malmo.episodes.get(),
        kind=FollowUpKind.FOLLOW_UP,
        due_on=today - datetime.timedelta(days=1),
    )
    return gbg


EXPECTED = {
    "held_this_month": 3,
    "no_shows_this_month": 1,
    "booked_next_7_days": 2,
    "unsigned_notes": 2,
    "unsigned_notes_waiting_long": 1,
    "follow_ups_overdue": 1,
    "follow_ups_due_30_days": 1,
}


def test_the_clinic_figures_are_exact(known_clinic, django_assert_num_queries):
    # 1 the sessions' three counts, 2 the unsigned notes, 3 the follow-ups.
    with django_assert_num_queries(3):
        counts = clinic_session_counts(known_clinic)

    assert {name: getattr(counts, name) for name in EXPECTED} == EXPECTED


def shown_counts(body: str) -> dict[str, str]:
    return {key: html.unescape(value) for key, value in re.findall(r'data-count="(\w+)">\s*([^\s<]+)', body)}


def test_the_manager_sees_the_figures_and_no_content(client, manager, known_clinic):
    client.force_login(manager)

    response = client.get(reverse("home"))

    assert response.status_code == 200
    body = response.content.decode()
    # Every count is under 5: "<5" for the manager too (figures.suppression), the one long-waiting note as well.
    assert shown_counts(body) == dict.fromkeys(("held", "no_shows", "booked", "unsigned", "overdue", "due"), "<5")
    assert "1 waiting long" not in body and "(<5 " in html.unescape(body).replace("\n", " ")
    for secret in (SENTINEL, "GBG-2026-0001", "GBG-2026-0002", "MLM-2026-0001"):
        assert secret not in body


def test_five_or_more_are_shown_as_they_are(client, manager, known_clinic, therapist):
    record = known_clinic.clients.get(code="GBG-2026-0001")
    for _n in range(2):  # 3 held this month become 5
        TherapySessionFactory(client=record, date=timezone.localdate())
    client.force_login(manager)

    shown = shown_counts(client.get(reverse("home")).content.decode())

    assert (shown["held"], shown["no_shows"]) == ("5", "<5")
