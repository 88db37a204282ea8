"""`seed_demo` gives each demo clinic its own way of working: advice contacts (Malmö many, by phone and e-mail),
outreach (Stockholm's field work with the police), and a third clinic, Stockholm, with its own staff."""

from __future__ import annotations

import base64
import datetime
import io
from collections import Counter

import pytest
import time_machine
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp

from advice.models import DEFAULT_ADVICE_TOPICS, AdviceContact, AdviceTopic, Channel
from clients.models import Client, RecordKind
from demo import clinic_work
from demo.clients import DEMO_SEED
from demo.management.commands.seed_demo import DEMO_PASSWORD, DEMO_TOTP_KEY
from groups.models import GroupAttendance, GroupMeeting, GroupNote, GroupProgramme, Invited, MeetingStatus
from kast.models import Clinic, Role, User
from outreach.models import Activity, Kind, Partner


def seed() -> str:
    out = io.StringIO()
    with override_settings(DEBUG=True):
        call_command("seed_demo", stdout=out)
    return out.getvalue()


def advice_rows() -> list[tuple]:
    """Every advice contact as its values, references by name: comparable between two seedings."""
    return sorted(
        AdviceContact.objects.values_list(
            "clinic__code",
            "logged_by__username",
            "logged_at",
            "date",
            "minutes",
            "channel",
            "who",
            "target_group",
            "topic__name",
            "outcome",
            "referred_to__name",
            "returning",
            "remark",
        )
    )


def activity_rows() -> list[tuple]:
    rows = Activity.objects.values_list(
        "pk", "clinic__code", "kind", "date", "hours", "audience_kind", "audience_size", "partner__name", "description"
    )
    staff = {pk: sorted(Activity.objects.get(pk=pk).staff.values_list("username", flat=True)) for pk, *_ in rows}
    return sorted((*row[1:], tuple(staff[row[0]])) for row in rows)


@pytest.fixture
def seeded(demo_db):
    """The demo data, seeded once for these tests (tests.demo_data)."""


def test_three_clinics_each_with_its_own_staff(seeded):
    assert dict(Clinic.objects.values_list("code", "name")) == {"GBG": "Göteborg", "MLM": "Malmö", "STH": "Stockholm"}
    staff = User.objects.filter(role__in=(Role.THERAPIST, Role.MANAGER)).exclude(username__startswith="last-")
    assert sorted(staff.values_list("clinic__code", "role", "username")) == [
        ("GBG", Role.MANAGER, "enhetschef"),
        ("GBG", Role.THERAPIST, "behandlare1"),
        ("GBG", Role.THERAPIST, "behandlare2"),
        ("MLM", Role.MANAGER, "enhetschef3"),
        ("MLM", Role.THERAPIST, "behandlare3"),
        ("STH", Role.MANAGER, "enhetschef2"),
        ("STH", Role.THERAPIST, "behandlare4"),
    ]


@pytest.mark.parametrize(("username", "first_name"), [("behandlare4", "Amir"), ("enhetschef2", "Eva")])
def test_stockholms_staff_sign_in_with_the_demo_password_and_second_factor(client, seeded, username, first_name):
    asks_for_code = client.post(
        reverse("login"),
        {"login_view-current_step": "auth", "auth-username": username, "auth-password": DEMO_PASSWORD},
    )
    code = f"{totp(base64.b32decode(DEMO_TOTP_KEY)):06d}"
    signed_in = client.post(reverse("login"), {"login_view-current_step": "token", "token-otp_token": code})

    assert asks_for_code.context["wizard"]["steps"].current == "token"
    assert (signed_in.status_code, signed_in["Location"]) == (302, reverse("home"))
    start = client.get(reverse("home"))
    assert start.context["user"].username == username
    assert f"Välkommen, {first_name}" in start.content.decode()


def test_stockholms_therapist_has_a_small_caseload_of_her_own(seeded):
    records = Client.objects.filter(responsible_therapist__username="behandlare4")

    assert records.filter(kind=RecordKind.CLIENT).count() == 8
    assert set(records.values_list("clinic__code", flat=True)) == {"STH"}
    assert all(code.startswith("STH-") for code in records.values_list("code", flat=True))


def test_each_clinic_has_its_lists(seeded):
    for clinic in Clinic.objects.all():
        topics = AdviceTopic.objects.filter(clinic=clinic).order_by("position")
        assert list(topics.values_list("name", flat=True)) == DEFAULT_ADVICE_TOPICS, clinic.code
        partners = Partner.objects.filter(clinic=clinic).order_by("position")
        assert list(partners.values_list("name", flat=True)) == list(clinic_work.PROFILES[clinic.code].partners)
    assert Partner.objects.get(clinic__code="STH", position=1).name == "Polisen region Stockholm"


def test_advice_contacts_follow_each_clinics_way_of_working(seeded):
    per_clinic = Counter(AdviceContact.objects.values_list("clinic__code", flat=True))
    malmo = AdviceContact.objects.filter(clinic__code="MLM")
    by_phone_or_mail = malmo.filter(channel__in=(Channel.PHONE, Channel.EMAIL)).count()

    assert per_clinic == {"MLM": 260, "STH": 70, "GBG": 30}  # Malmö the advice line, Göteborg few
    assert by_phone_or_mail > 0.8 * malmo.count()
    # Each clinic's contacts were logged by its own therapists, on weekdays of the past year.
    today = timezone.localdate()
    for contact in AdviceContact.objects.select_related("logged_by", "topic", "referred_to"):
        assert contact.logged_by.role == Role.THERAPIST
        assert contact.logged_by.clinic_id == contact.topic.clinic_id == contact.clinic_id
        assert contact.referred_to is None or contact.referred_to.clinic_id == contact.clinic_id
        assert today - datetime.timedelta(days=clinic_work.SPAN_DAYS + 2) <= contact.date < today
        assert contact.logged_at < timezone.now()
        assert contact.date.weekday() < 5
        assert contact.converted_to_id is None
        contact.full_clean()
    # Every outcome, channel and target group is there to count in the figures.
    assert {field: set(malmo.values_list(field, flat=True)) for field in ("channel", "outcome")} == {
        "channel": {"phone", "email", "chat", "walk_in"},
        "outcome": {"advice", "offered", "referred", "booked"},
    }


def test_stockholm_does_field_work_with_the_police(seeded):
    kinds = Counter(Activity.objects.values_list("clinic__code", "kind"))
    field_work = Activity.objects.filter(clinic__code="STH", kind=Kind.FIELD_WORK)

    assert kinds[("STH", Kind.FIELD_WORK)] == 44
    assert kinds[("GBG", Kind.FIELD_WORK)] == kinds[("MLM", Kind.FIELD_WORK)] == 0
    assert sum(n for (code, _), n in kinds.items() if code == "STH") == 78
    assert field_work.filter(partner__name="Polisen region Stockholm").count() > field_work.count() / 2
    # Two of the clinic's staff go out together; every activity is done by its own clinic's staff.
    assert {activity.staff.count() for activity in field_work} == {2}
    for activity in Activity.objects.prefetch_related("staff"):
        assert {member.clinic_id for member in activity.staff.all()} == {activity.clinic_id}
        assert activity.created_by in activity.staff.all()
        activity.full_clean()


def test_the_same_seed_makes_the_same_year_and_another_seed_another(seeded):
    clinics = list(Clinic.objects.all())
    with time_machine.travel(timezone.now(), tick=False):
        first = (advice_rows(), activity_rows())
        again = {}
        for seed_value in (DEMO_SEED, 7):
            with transaction.atomic():
                AdviceContact.objects.all().delete()
                Activity.objects.all().delete()
                written = clinic_work.seed_clinic_work(clinics, seed=seed_value)
                again[seed_value] = (advice_rows(), activity_rows())
                transaction.set_rollback(True)

    assert written.advice_contacts == {"MLM": 260, "STH": 70, "GBG": 30}
    assert again[DEMO_SEED] == first
    assert again[7][0] != first[0] and again[7][1] != first[1]


def test_running_again_adds_nothing_and_changes_nothing(seeded):
    before = (
        advice_rows(),
        activity_rows(),
        Partner.objects.count(),
        AdviceTopic.objects.count(),
        Client.objects.count(),
        GroupMeeting.objects.count(),
    )

    seed()

    after = (
        advice_rows(),
        activity_rows(),
        Partner.objects.count(),
        AdviceTopic.objects.count(),
        Client.objects.count(),
        GroupMeeting.objects.count(),
    )
    assert after == before


def test_each_clinic_offers_its_own_way_of_working(seeded):
    offers = {
        clinic.code: (
            clinic.offers_advice,
            clinic.offers_outreach,
            clinic.offers_relatives,
            clinic.offers_groups,
            clinic.offers_fees,
        )
        for clinic in Clinic.objects.all()
    }
    assert offers == {
        "GBG": (True, True, True, True, True),
        "MLM": (True, True, True, False, True),
        "STH": (True, True, True, False, False),
    }


def test_goteborg_runs_the_pilots_group_programme_for_two_couples(seeded):
    [programme] = GroupProgramme.objects.all()
    assert programme.clinic.code == "GBG"
    kinds = Counter(programme.members.values_list("record__kind", flat=True))
    assert kinds == {RecordKind.CLIENT: 2, RecordKind.RELATIVE: 2}
    meetings = list(programme.meetings.order_by("date").values_list("invited", "status"))
    assert meetings == [
        (Invited.ALL, MeetingStatus.HELD),
        (Invited.RELATIVES, MeetingStatus.HELD),
        (Invited.RELATIVES, MeetingStatus.HELD),
        (Invited.ALL, MeetingStatus.HELD),
        (Invited.RELATIVES, MeetingStatus.PLANNED),
    ]
    # Every participant invited to a meeting held has an attendance: 4 + 2 + 2 + 4.
    assert GroupAttendance.objects.filter(meeting__programme=programme).count() == 12
    notes = GroupNote.objects.filter(meeting__programme=programme)
    assert notes.count() == 4 and not notes.filter(signed_at__isnull=True).exists()
    # The relatives-only meetings have nothing in the clients' part (the wall starts at the writing).
    assert not notes.filter(meeting__invited=Invited.RELATIVES).exclude(client_part="").exists()
