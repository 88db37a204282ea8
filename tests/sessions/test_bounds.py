"""Dates outside a sane range and texts over their length are refused on the field: never a 500, nothing saved."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from clients.models import Client
from kast.models import TEXT_MAX_LENGTH
from sessions.models import Note, TherapySession
from tests.clients.form_data import register_data
from tests.sessions.test_notes import autosave_url, booking, document

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "date",
    [datetime.date(1899, 12, 31), timezone.localdate() + datetime.timedelta(days=3 * 365)],
    ids=["before-1900", "three-years-ahead"],
)
def test_a_session_date_out_of_range_is_a_field_error(client, therapist, case, date):
    client.force_login(therapist)

    response = client.post(reverse("sessions:new", args=[case.pk]), booking(therapist, date=date))

    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["date"]
    assert not TherapySession.objects.exists()


def test_a_first_contact_cannot_be_in_the_future(client, therapist):
    client.force_login(therapist)
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)

    response = client.post(reverse("clients:register"), register_data(therapist, first_contact_date=tomorrow))

    assert response.status_code == 200
    assert "first_contact_date" in response.context["form"].errors
    assert not Client.objects.exists()


@pytest.mark.parametrize(
    ("start", "end"), [("0001-01-01", "9999-12-31"), ("1899-01-01", ""), ("", "9999-12-31"), ("2026-13-01", "")]
)
def test_the_access_log_filter_refuses_dates_out_of_range_without_an_error_page(client, manager, start, end):
    client.force_login(manager)

    response = client.get(reverse("access_log"), {"start": start, "end": end})

    assert response.status_code == 400
    assert response.context["form"].errors


def test_a_note_over_the_length_limit_is_refused_with_the_reason(client, therapist, held_session):
    client.force_login(therapist)
    too_long = "a" * (TEXT_MAX_LENGTH + 1)

    saved = client.post(autosave_url(held_session), document(held_session, text=too_long, note_version=0))
    page = client.post(
        reverse("sessions:detail", args=[held_session.pk]), document(held_session, text=too_long, note_version=0)
    )
    fits = client.post(autosave_url(held_session), document(held_session, text="a" * TEXT_MAX_LENGTH, note_version=0))

    assert saved.status_code == 400
    assert str(TEXT_MAX_LENGTH) in saved.json()["error"].replace("\xa0", "").replace(" ", "")
    assert page.status_code in (200, 400)
    assert fits.status_code == 200
    assert len(Note.objects.get(session=held_session).text) == TEXT_MAX_LENGTH
