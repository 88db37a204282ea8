"""A therapist opens their bookings from the start page, switches to the month and to the clinic's view."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from sessions.models import Attendance
from tests.factories import TherapySessionFactory
from tests.sessions.conftest import case as case  # the fixture: a client in treatment

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_week_the_month_and_the_clinic(page, login, live_server, case, check_page):
    therapist = case.responsible_therapist
    monday = timezone.localdate() - datetime.timedelta(days=timezone.localdate().weekday())
    session = TherapySessionFactory(
        client=case, date=monday, start_time=datetime.time(10, 0), attendance=Attendance.ATTENDED
    )
    session.therapists.add(therapist)
    login(therapist)
    page.goto(f"{live_server.url}/")

    page.get_by_role("link", name="Bokningar").click()

    expect(page.get_by_role("heading", name="Bokningar", level=1)).to_be_visible()
    expect(page.get_by_role("link", name=case.code)).to_be_visible()
    expect(page.get_by_text("Ledigt: 08:00–10:00, 11:00–17:00")).to_be_visible()
    check_page(page, "week")

    page.get_by_label("Från", exact=True).fill(monday.isoformat())  # the month of this week's Monday
    page.get_by_label("Visa", exact=True).select_option(label="En månad")
    page.get_by_label("Vems", exact=True).select_option(label="Mottagningens bokningar")
    page.get_by_role("button", name="Visa", exact=True).click()
    expect(page.get_by_role("link", name=case.code)).to_be_visible()
    check_page(page, "clinic-month")
