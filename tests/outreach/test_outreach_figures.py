"""Outreach and attitude work in figures (figures.outreach): exact on a known data set, never hidden as small
(activities are no persons), across clinics for national follow-up, and without the activities' text."""

from __future__ import annotations

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.urls import reverse

from figures.outreach import outreach_by_kind
from figures.statistics import dashboard, dashboard_tables
from kast.models import Role
from outreach.models import Activity
from tests.factories import UserFactory

QUARTER = {"period": "quarter", "start": "2025-02-15"}  # 1 January to 31 March 2025
START, END = datetime.date(2025, 1, 1), datetime.date(2025, 3, 31)
SENTINEL = "SENTINEL-OUTREACH-TEXT"


def _activity(clinic, staff, day, kind, hours, audience_kind, size):
    activity = Activity.objects.create(
        clinic=clinic,
        date=datetime.date.fromisoformat(day),
        kind=kind,
        hours=Decimal(hours),
        audience_kind=audience_kind,
        audience_size=size,
        description=SENTINEL,
        created_by=staff[0],
    )
    activity.staff.set(staff)
    return activity


@pytest.fixture
def known(therapist, colleague, other_clinic_therapist):
    gbg, mlm = therapist.clinic, other_clinic_therapist.clinic
    _activity(gbg, [therapist, colleague], "2025-01-10", "field_work", "3.5", "police", 12)
    _activity(gbg, [colleague], "2025-02-20", "field_work", "2", "police", 8)
    _activity(gbg, [therapist], "2025-03-31", "training", "1.5", "professionals", 40)
    _activity(gbg, [therapist], "2025-04-01", "training", "5", "professionals", 100)  # after the quarter
    _activity(gbg, [therapist], "2024-12-31", "information", "1", "public", 30)  # before it
    _activity(mlm, [other_clinic_therapist], "2025-02-01", "media", "1", "public", 1000)
    return gbg, mlm


def _by_kind(rows):
    return {
        row.kind: (row.activities, row.hours, row.audience) for row in rows if row.activities or row.kind == "total"
    }


def test_the_figures_are_exact(known, therapist, django_assert_num_queries):
    gbg, _mlm = known

    with django_assert_num_queries(1):
        clinic = outreach_by_kind(clinic_id=gbg.pk, start=START, end=END)
    anna = outreach_by_kind(clinic_id=gbg.pk, start=START, end=END, therapist_id=therapist.pk)
    every = outreach_by_kind(clinic_id=None, start=START, end=END)

    assert _by_kind(clinic) == {
        "field_work": (2, Decimal("5.5"), 20),
        "training": (1, Decimal("1.5"), 40),
        "total": (3, Decimal("7.0"), 60),
    }
    assert _by_kind(anna) == {
        "field_work": (1, Decimal("3.5"), 12),
        "training": (1, Decimal("1.5"), 40),
        "total": (2, Decimal("5.0"), 52),
    }
    assert _by_kind(every) == {
        "field_work": (2, Decimal("5.5"), 20),
        "training": (1, Decimal("1.5"), 40),
        "media": (1, Decimal("1"), 1000),
        "total": (4, Decimal("8.0"), 1060),
    }
    assert [row.kind for row in clinic] == [
        "field_work",
        "information",
        "training",
        "consultation",
        "media",
        "collaboration",
        "total",
    ]


def test_the_dashboard_table_is_not_hidden_as_small(known):
    gbg, _mlm = known

    (table,) = [t for t in dashboard_tables(dashboard(gbg, START, END)) if t.key == "outreach"]

    shown = {row.key: [cell.text for cell in row.cells] for row in table.rows}
    assert shown["field_work"] == ["2", "5,5", "20"]  # Swedish, the default language
    assert shown["total"][0] == "3"
    assert not any(cell.hidden for row in table.rows for cell in row.cells)


def test_the_manager_downloads_the_csv(client, manager, known):
    client.force_login(manager)

    response = client.get(reverse("figures:dashboard_csv", args=["outreach"]), QUARTER)

    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert len(rows) == 8  # heading, six kinds, all activities
    assert rows[1][1:] == ["2", "5.5", "20"]
    assert rows[-1][1:] == ["3", "7.0", "60"]
    assert SENTINEL not in response.content.decode()


def test_national_follow_up_sees_the_counts_across_clinics_but_no_list(client, known):
    national = UserFactory(role=Role.NATIONAL, clinic=None)
    client.force_login(national)

    page = client.get(reverse("figures:dashboard"), QUARTER)
    csv_file = client.get(reverse("figures:dashboard_csv", args=["outreach"]), QUARTER)

    assert page.status_code == 200
    assert _by_kind(page.context["figures"].outreach)["total"] == (4, Decimal("8.0"), 1060)
    rows = list(csv.reader(io.StringIO(csv_file.content.decode())))
    assert rows[-1][1:] == ["4", "8.0", "1060"]
    assert SENTINEL not in page.content.decode() + csv_file.content.decode()
    assert client.get(reverse("outreach:list")).status_code == 403
