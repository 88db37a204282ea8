"""Group programmes in figures (figures.groups): exact on a known data set, participants protected when few,
programmes and meetings shown as they are, never a note, in the dashboard, its CSV and the yearly report."""

from __future__ import annotations

import datetime
import io
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext
from pypdf import PdfReader

from figures.groups import group_counts
from figures.statistics import Scope, dashboard, dashboard_tables
from figures.suppression import SMALL, WITHHELD
from groups.models import GroupAttendance, GroupMeeting, GroupMember, GroupNote, GroupProgramme
from tests.factories import ClientFactory, relative_record

pytestmark = pytest.mark.django_db

START, END = datetime.date(2025, 1, 1), datetime.date(2025, 3, 31)
QUARTER = {"period": "quarter", "start": "2025-02-15"}  # the period above, as the dashboard asks for it
NOTE_TEXT = "GRUPPANTECKNING-SENTINEL-7e21"


def d(text: str) -> datetime.date:
    return datetime.date.fromisoformat(text)


def _programme(clinic, leader, name="Gruppsamtal för par") -> GroupProgramme:
    programme = GroupProgramme.objects.create(clinic=clinic, name=name, start_date=d("2025-01-10"), created_by=leader)
    programme.leaders.set([leader])
    return programme


def _meeting(programme, date, invited="all", status="held") -> GroupMeeting:
    return GroupMeeting.objects.create(
        programme=programme, date=d(date), start_time=datetime.time(17, 0), invited=invited, status=status
    )


def _attend(meeting, members, presence="attended", leader=None):
    for member in members:
        GroupAttendance.objects.create(
            meeting=meeting,
            member=member,
            presence=presence,
            fee_charged=Decimal(100) if presence == "attended" else Decimal(0),
            recorded_by=leader,
        )


@pytest.fixture
def known(gbg, mlm, therapist, colleague, other_clinic_therapist):
    """Göteborg, in the period: one programme (Anna's) with six clients and two relatives on the roster, three
    meetings held (everyone; clients only; relatives only), one planned and one cancelled; one held after the period.
    Attendance: at the first 6 clients and 1 relative came, 1 relative gave notice; at the second 5 clients came,
    1 stayed away without notice; at the third both relatives came. So 8 participants (6 clients, 2 relatives),
    16 places, 14 attended (0.875), 1 400 SEK. A second Göteborg programme led by Bertil held nothing.
    Malmö: one meeting held with one client."""
    programme = _programme(gbg, therapist)
    clients = [
        GroupMember.objects.create(
            programme=programme, record=ClientFactory(responsible_therapist=therapist), joined_on=d("2025-01-10")
        )
        for _ in range(6)
    ]
    relatives = [
        GroupMember.objects.create(programme=programme, record=relative_record(therapist), joined_on=d("2025-01-10"))
        for _ in range(2)
    ]
    first = _meeting(programme, "2025-02-01")
    _attend(first, clients + relatives[:1], leader=therapist)
    _attend(first, relatives[1:], "absent_notice", leader=therapist)
    GroupNote.objects.create(meeting=first, author=therapist, client_part=NOTE_TEXT, relative_part=NOTE_TEXT)
    second = _meeting(programme, "2025-02-08", invited="clients")
    _attend(second, clients[:5], leader=therapist)
    _attend(second, clients[5:], "absent_no_notice", leader=therapist)
    third = _meeting(programme, "2025-02-15", invited="relatives")
    _attend(third, relatives, leader=therapist)
    _meeting(programme, "2025-03-01", status="planned")
    _meeting(programme, "2025-03-08", status="cancelled")
    _attend(_meeting(programme, "2025-04-05"), clients[:1], leader=therapist)
    _programme(gbg, colleague, name="Bertils grupp")
    elsewhere = _programme(mlm, other_clinic_therapist)
    member = GroupMember.objects.create(
        programme=elsewhere,
        record=ClientFactory(responsible_therapist=other_clinic_therapist),
        joined_on=d("2025-01-10"),
    )
    _attend(_meeting(elsewhere, "2025-03-10"), [member], leader=other_clinic_therapist)
    return gbg


def test_counts_are_exact(known, therapist, colleague):
    counts = group_counts(Scope(start=START, end=END, clinic=known))

    assert counts == {
        "programmes": 1,
        "meetings": 3,
        "participants": 8,
        "participants_client": 6,
        "participants_relative": 2,
        "recorded": 16,
        "attended": 14,
        "fees": Decimal("1400.00"),
    }
    every = group_counts(Scope(start=START, end=END))
    assert (every["programmes"], every["meetings"], every["participants"], every["participants_client"]) == (
        2,
        4,
        9,
        7,
    )
    assert group_counts(Scope(start=START, end=END, clinic=known, therapist=therapist))["attended"] == 14
    assert group_counts(Scope(start=START, end=END, clinic=known, therapist=colleague))["meetings"] == 0
    assert (
        group_counts(Scope(start=END + datetime.timedelta(days=1), end=d("2025-04-30"), clinic=known))["attended"] == 1
    )


def test_small_counts_are_protected_on_the_dashboard(known):
    (table,) = [t for t in dashboard_tables(dashboard(known, START, END)) if t.key == "groups"]
    cells = {row.key: row.cells[0] for row in table.rows}

    assert (cells["programmes"].value, cells["programmes"].mark) == (1, None)  # the clinic's work: never hidden
    assert (cells["meetings"].value, cells["meetings"].mark) == (3, None)
    assert (cells["participants"].value, cells["participants"].mark) == (8, None)
    assert cells["participants_relative"].mark == SMALL
    # 8 - 6 would give the 2 relatives: the clients' count is withheld.
    assert cells["participants_client"].mark == WITHHELD
    assert (cells["recorded"].value, cells["attended"].value) == (16, 14)
    assert cells["attendance_share"].value == pytest.approx(0.875)
    assert cells["attendance_share"].mark is None
    assert cells["fees"].value == Decimal("1400.00")


def test_the_manager_s_dashboard_csv_and_yearly_report_have_the_table_and_never_a_note(client, manager, known):
    client.force_login(manager)

    page = client.get(reverse("figures:dashboard"), QUARTER)
    csv = client.get(reverse("figures:dashboard_csv", args=["groups"]), QUARTER)
    pdf = client.post(reverse("figures:dashboard_year_pdf", args=[2025]))

    assert page.status_code == csv.status_code == pdf.status_code == 200
    rows = dict(line.split(",", 1) for line in csv.content.decode().splitlines()[1:])
    with translation.override("sv"):
        held, participants, title = gettext("Meetings held"), gettext("Participants"), gettext("Group programmes")
    assert (rows[held], rows[participants]) == ("3", "8")
    text = re.sub(r"\s+", " ", " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages))
    # The whole year: the meeting of April too.
    assert f"{title} " in text and f"{held} 4" in text, text[text.find(title) - 200 :]
    for content in (page.content.decode(), csv.content.decode(), text):
        assert NOTE_TEXT not in content
