"""Methods used, counted per treatment period: exact on a known data set, small numbers hidden, a clinic's own
methods by name on its own figures and as "other" for all clinics, in the CSV and in the research file."""

from __future__ import annotations

import csv
import datetime
import io

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from assessments.models import TimePoint
from clients.models import TargetGroup
from figures.statistics import dashboard, dashboard_tables
from kast.models import Role
from sessions.models import Attendance, Method, MethodCode, Note
from tests.factories import (
    ClientFactory,
    NoteFactory,
    TherapySessionFactory,
    UserFactory,
    open_first_period,
    put_in_treatment,
    relative_record,
)
from tests.figures.test_research_file import DECISION, PURPOSE, administer

pytestmark = pytest.mark.django_db

START, END = datetime.date(2025, 1, 1), datetime.date(2025, 3, 31)
QUARTER = {"period": "quarter", "start": "2025-02-15"}
C = MethodCode


def d(text: str) -> datetime.date:
    return datetime.date.fromisoformat(text)


def held(record, day, methods, *, signed=True, **session):
    """A session of `record` on `day` whose note has `methods` ticked (ticked on the draft, then signed)."""
    note = NoteFactory(session=TherapySessionFactory(client=record, date=d(day), **session), signed_at=None)
    note.methods.set(methods)
    if signed:
        Note.objects.filter(pk=note.pk).update(signed_at=timezone.now())
    return note


@pytest.fixture
def methods_caseload(gbg, mlm, therapist, other_clinic_therapist):
    """Göteborg's first quarter of 2025, every figure of the methods table worked out by hand in EXPECTED."""

    def method(clinic, code):
        return Method.objects.get(clinic=clinic, code=code)

    mindfulness = Method.objects.create(clinic=gbg, name="Mindfulness", position=50)
    client_1 = put_in_treatment(open_first_period(ClientFactory(responsible_therapist=therapist)))
    # c1: two held sessions in the quarter, CBT stop techniques in both (one period, two sessions).
    held(client_1, "2025-01-20", [method(gbg, C.SYSTEMIC), method(gbg, C.CBT_STOP)])
    held(client_1, "2025-02-03", [method(gbg, C.CBT_STOP), mindfulness], signed=False)  # a draft counts too
    # Not counted: a missed session, one marked as wrongly recorded, one before the quarter.
    held(client_1, "2025-02-10", [method(gbg, C.EXPOSURE)], attendance=Attendance.NO_SHOW)
    held(
        client_1,
        "2025-02-12",
        [method(gbg, C.EXPOSURE)],
        voided_at=timezone.now(),
        voided_by=therapist,
        void_reason="Fel klient",
    )
    held(client_1, "2024-12-15", [method(gbg, C.EXPOSURE)])
    # Five more clients, each one session with CBT stop techniques: six periods in all, seven sessions.
    for n in range(5):
        record = put_in_treatment(open_first_period(ClientFactory(responsible_therapist=therapist)))
        held(record, f"2025-03-0{n + 1}", [method(gbg, C.CBT_STOP)])
    # A relative's own record: support, not treatment figures.
    relative = relative_record(therapist)
    held(relative, "2025-03-10", [method(gbg, C.PARTNER)], kind="relative")
    # Malmö: systemic, and its own method.
    yoga = Method.objects.create(clinic=mlm, name="Yoga", position=50)
    m1 = put_in_treatment(open_first_period(ClientFactory(responsible_therapist=other_clinic_therapist)))
    held(m1, "2025-02-01", [method(mlm, C.SYSTEMIC), yoga])
    return gbg


def zeros() -> dict[str, int]:
    return {f"{kind}_{key}": 0 for key in [*C.values, "other"] for kind in ("periods", "sessions")}


EXPECTED_GBG = {
    **zeros(),
    "any_periods": 6,
    "periods_cbt_stop": 6,
    "sessions_cbt_stop": 7,
    "periods_systemic": 1,
    "sessions_systemic": 1,
    "periods_other": 1,
    "sessions_other": 1,
}


def shown(tables, key="methods") -> dict[str, list[str]]:
    table = next(t for t in tables if t.key == key)
    return {row.label: [cell.text for cell in row.cells] for row in table.rows}


def test_methods_are_counted_per_treatment_period_exactly(methods_caseload, mlm):
    gbg = dashboard(methods_caseload, START, END)
    everyone = dashboard(None, START, END)

    assert gbg.methods == EXPECTED_GBG
    assert gbg.own_methods == [("Mindfulness", 1, 1)]
    # All clinics: Malmö's systemic added; both clinics' own methods as "other", by no name.
    assert everyone.methods == {
        **EXPECTED_GBG,
        "any_periods": 7,
        "periods_systemic": 2,
        "sessions_systemic": 2,
        "periods_other": 2,
        "sessions_other": 2,
    }
    assert everyone.own_methods == []
    assert dashboard(mlm, START, END).own_methods == [("Yoga", 1, 1)]


def test_the_table_hides_small_numbers_and_names_own_methods_only_at_their_clinic(methods_caseload):
    rows = shown(dashboard_tables(dashboard(methods_caseload, START, END)))
    everyone = shown(dashboard_tables(dashboard(None, START, END)))

    assert rows[str(C.CBT_STOP.label)] == ["6", "7"]
    assert rows[str(C.SYSTEMIC.label)] == ["<5", "<5"]
    assert rows[str(C.EXPOSURE.label)] == ["0", "0"]
    assert rows[_("%(name)s (the clinic's own)") % {"name": "Mindfulness"}] == ["<5", "<5"]
    assert rows[_("Treatment periods with any method recorded")] == ["6", "–"]
    assert list(rows)[: len(C)] == [str(label) for label in C.labels]
    assert _("Other: the clinics' own methods") not in rows
    assert everyone[_("Other: the clinics' own methods")] == ["<5", "<5"]
    assert not any("Mindfulness" in label or "Yoga" in label for label in everyone)


def test_the_methods_csv_is_protected_as_the_page(client, manager, methods_caseload):
    client.force_login(manager)

    response = client.get(reverse("figures:dashboard_csv", args=["methods"]), QUARTER)

    assert response.status_code == 200
    rows = {row[0]: row[1:] for row in csv.reader(io.StringIO(response.content.decode()))}
    assert rows[str(C.CBT_STOP.label)] == ["6", "7"]
    assert rows[str(C.SYSTEMIC.label)] == ["<5", "<5"]
    assert rows[_("%(name)s (the clinic's own)") % {"name": "Mindfulness"}] == ["<5", "<5"]


def test_the_dashboard_page_shows_the_methods_table(client, manager, methods_caseload):
    client.force_login(manager)

    response = client.get(reverse("figures:dashboard"), QUARTER)

    body = response.content.decode()
    assert _("Methods used") in body
    assert str(C.PORN_ABSTINENCE.label) in body


def test_the_research_file_counts_each_periods_methods_by_code(client, gbg, therapist):
    people = []
    for _n in range(5):  # five alike, so no one is coarsened (k = 5)
        person = ClientFactory(
            responsible_therapist=therapist, gender="man", birth_year=1976, target_groups=[TargetGroup.BUYING_SEX]
        )
        administer(person, TimePoint.START, "2025-03-10", {"has_partner": True})
        people.append(person)
    own = Method.objects.create(clinic=gbg, name="Mindfulness", position=50)
    cbt, porn = (Method.objects.get(clinic=gbg, code=code) for code in (C.CBT_STOP, C.PORN_ABSTINENCE))
    held(people[0], "2025-03-11", [cbt, own])
    held(people[0], "2025-03-18", [cbt, porn])
    held(people[0], "2025-03-19", [cbt], attendance=Attendance.NO_SHOW)  # not held: not counted
    researcher = UserFactory(username="greta", role=Role.RESEARCHER, clinic=None)
    client.force_login(researcher)

    response = client.post(reverse("figures:research_export"), {"purpose": PURPOSE, "decision": DECISION})

    reader = csv.reader(io.StringIO(response.content.decode()))
    header = next(reader)
    rows = [dict(zip(header, row, strict=True)) for row in reader]
    assert header[-len(C) - 1 :] == [*(f"method_{code}" for code in C.values), "method_other"]
    counted = sorted(
        (row["method_cbt_stop"], row["method_porn_abstinence"], row["method_other"], row["method_systemic"])
        for row in rows
    )
    assert counted == [("0", "0", "0", "0")] * 4 + [("2", "1", "1", "0")]
    assert "Mindfulness" not in response.content.decode()
