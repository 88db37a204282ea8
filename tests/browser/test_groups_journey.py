"""A therapist logs a group meeting: from the menu to the programme, attendance for each participant with radio
buttons, the note in its two parts, signed; the client's record shows the clients' part. axe checks each page."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from groups import services
from groups.models import GroupAttendance, GroupNote
from kast.actor import Actor
from kast.models import Role
from tests.factories import ClientFactory, ClinicFactory, UserFactory, link, relative_record

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_group_meeting_is_logged_with_attendance_and_a_signed_note(page, live_server, login, check_page):
    clinic = ClinicFactory(name="Göteborg", code="GBG")
    therapist = UserFactory(username="anna", first_name="Anna", role=Role.THERAPIST, clinic=clinic)
    day = timezone.localdate() - datetime.timedelta(days=1)
    record = ClientFactory(responsible_therapist=therapist, code="GBG-2026-0101")
    partner = relative_record(therapist, code="GBG-2026-0201")
    link(partner, record)
    actor = Actor.for_user(therapist)
    programme = services.programme_create(
        actor=actor,
        clinic=clinic,
        data={"name": "Gruppsamtal för par", "start_date": day - datetime.timedelta(days=7)},
        leaders=[therapist],
    )
    for member in (record, partner):
        services.member_add(actor=actor, programme=programme, record=member, joined_on=day - datetime.timedelta(days=7))
    meeting = services.meeting_plan(
        actor=actor,
        programme=programme,
        data={"date": day, "start_time": datetime.time(17, 0), "duration_minutes": 90, "invited": "all"},
    )

    login(therapist)
    page.locator("#main-nav a[href='/groups/']").click()
    check_page(page, "groups-list")
    page.get_by_role("link", name="Gruppsamtal för par").click()
    check_page(page, "groups-programme")
    page.locator(f"a[href='/groups/meetings/{meeting.pk}/']").click()
    check_page(page, "groups-meeting")

    # Each participant a row of radio buttons; the client came, the partner gave notice.
    members = {m.record_id: m.pk for m in programme.members.all()}
    page.locator(f"input[name=member_{members[record.pk]}][value=attended]").check()
    page.locator(f"input[name=member_{members[partner.pk]}][value=absent_notice]").check()
    page.locator(f"form[action='/groups/meetings/{meeting.pk}/attendance/'] button[type=submit]").click()
    expect(page.locator(f"form[action='/groups/meetings/{meeting.pk}/note/']")).to_be_visible()
    assert dict(GroupAttendance.objects.values_list("member__record__code", "presence")) == {
        "GBG-2026-0101": "attended",
        "GBG-2026-0201": "absent_notice",
    }

    page.locator("textarea[name=client_part]").fill("Samtal om ansvar i relationen.")
    page.locator("textarea[name=relative_part]").fill("Anhöriga: skuld och skam.")
    page.locator(f"form[action='/groups/meetings/{meeting.pk}/note/'] button[type=submit]").click()
    page.locator(f"form[action='/groups/meetings/{meeting.pk}/sign/'] button[type=submit]").click()
    expect(page.locator(f"form[action='/groups/meetings/{meeting.pk}/addendum/']")).to_be_visible()
    check_page(page, "groups-meeting-signed")
    assert GroupNote.objects.get().signed_at is not None

    page.goto(f"{live_server.url}/clients/{record.pk}/")
    expect(page.get_by_text("Samtal om ansvar i relationen.")).to_be_visible()
    expect(page.get_by_text("Anhöriga: skuld och skam.")).to_have_count(0)
    check_page(page, "groups-on-the-client-record")
