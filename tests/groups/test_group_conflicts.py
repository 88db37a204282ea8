"""Nothing lost in a group meeting: two tabs writing one note, two leaders recording one attendance.

A draft saved from a stale page is refused with the saved text beside the typed one (kast.locking); an attendance
recorded meanwhile by another leader is shown, not replaced; two leaders saving at the same instant take turns on
the meeting's row (the second gets the message, never a 500 from the unique index).
"""

from __future__ import annotations

import pytest
from django.test import Client as Browser
from django.urls import reverse
from django.utils import translation

from groups import selectors
from groups.models import GroupAttendance, GroupNote
from kast.actor import Actor
from tests.clients.test_races import race
from tests.groups.test_groups import DAY, TODAY, _attendance_post, _write_note

pytestmark = pytest.mark.django_db

#: kast.forms.OUT_OF_DATE, by its text (the catalogue is looked up under the language of each assertion).
OUT_OF_DATE = "This page is out of date. Reload it and enter your changes again."
ATTENDANCE_CHANGED = "Another leader recorded the attendance meanwhile. It is shown below: check it and save again."


def _first_meeting(programme):
    return programme.meetings.order_by("date").first()


def test_a_draft_saved_in_another_tab_is_not_overwritten(client, therapist, programme):
    meeting = _first_meeting(programme)
    client.force_login(therapist)
    assert _write_note(client, meeting, client_part="Första.", relative_part="").status_code == 302
    stale = GroupNote.objects.get(meeting=meeting).version  # both tabs opened the page here
    assert _write_note(client, meeting, client_part="Från flik ett.", relative_part="").status_code == 302

    response = client.post(
        reverse("groups:note", args=[meeting.pk]),
        {"version": stale, "client_part": "Från flik två.", "relative_part": ""},
    )

    assert response.status_code == 409
    assert GroupNote.objects.get(meeting=meeting).client_part == "Från flik ett."
    page = response.content.decode()
    assert "Från flik ett." in page  # the saved draft, shown
    assert response.context["note_form"]["client_part"].value() == "Från flik två."  # the typed text, kept
    assert response.context["note_form"]["version"].value() == str(stale + 1)  # saving again now goes through
    again = client.post(
        reverse("groups:note", args=[meeting.pk]),
        {"version": stale + 1, "client_part": "Från flik ett och två.", "relative_part": ""},
    )
    assert again.status_code == 302
    assert GroupNote.objects.get(meeting=meeting).client_part == "Från flik ett och två."


def test_a_draft_begun_in_another_tab_is_not_overwritten_by_a_second_beginning(client, therapist, programme):
    meeting = _first_meeting(programme)
    client.force_login(therapist)
    assert _write_note(client, meeting, client_part="Flik ett.", relative_part="").status_code == 302

    response = client.post(
        reverse("groups:note", args=[meeting.pk]), {"version": 0, "client_part": "Flik två.", "relative_part": ""}
    )

    assert response.status_code == 409
    assert GroupNote.objects.get(meeting=meeting).client_part == "Flik ett."


@pytest.mark.parametrize("version", ["", "-1", "abc", "99999999999"])
def test_a_bad_version_is_a_form_error_and_nothing_is_saved(client, therapist, programme, version):
    meeting = _first_meeting(programme)
    client.force_login(therapist)

    response = client.post(
        reverse("groups:note", args=[meeting.pk]), {"version": version, "client_part": "Text.", "relative_part": ""}
    )

    assert response.status_code == 400
    assert "version" in response.context["note_form"].errors
    assert not GroupNote.objects.exists()
    with translation.override("sv"):
        assert translation.gettext(OUT_OF_DATE) in response.content.decode()


def test_attendance_recorded_meanwhile_by_another_leader_is_shown_not_replaced(
    client,
    therapist,
    colleague,
    programme,
):
    programme.leaders.add(colleague)
    meeting = _first_meeting(programme)
    client.force_login(therapist)
    opened = _attendance_post(programme, meeting)  # the therapist's page, opened before anything was recorded
    members = list(programme.members.all())
    by_colleague = {member.pk: "absent_notice" for member in members}
    other = Browser()
    other.force_login(colleague)
    assert (
        other.post(
            reverse("groups:attendance", args=[meeting.pk]),
            {"seen": opened["seen"], **{f"member_{pk}": value for pk, value in by_colleague.items()}},
        ).status_code
        == 302
    )

    response = client.post(reverse("groups:attendance", args=[meeting.pk]), opened)

    assert response.status_code == 400
    assert selectors.recorded_attendance(meeting) == by_colleague  # nothing replaced
    with translation.override("sv"):
        assert translation.gettext(ATTENDANCE_CHANGED) in response.context["attendance_form"].non_field_errors()
    form = response.context["attendance_form"]
    assert {member.pk: form.fields[f"member_{member.pk}"].initial for member in members} == by_colleague
    assert form["seen"].value() == selectors.attendance_seen(by_colleague)  # saving this page again goes through


def test_a_missing_seen_field_is_refused_on_the_form(client, therapist, programme):
    meeting = _first_meeting(programme)
    client.force_login(therapist)
    data = _attendance_post(programme, meeting)
    data.pop("seen")

    response = client.post(reverse("groups:attendance", args=[meeting.pk]), data)

    assert response.status_code == 400
    assert "seen" in response.context["attendance_form"].errors
    assert not GroupAttendance.objects.exists()
    # Said above the form: a hidden field has nowhere else to show its error.
    with translation.override("sv"):
        assert translation.gettext(OUT_OF_DATE) in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_two_leaders_recording_at_the_same_instant_take_turns(therapist, colleague, couples):
    """The rival's attendance is written and uncommitted; the request waits on the meeting's row, then sees it."""
    from groups import services

    actor = Actor.for_user(therapist)
    programme_ = services.programme_create(
        actor=actor,
        clinic=therapist.clinic,
        data={"name": "Gruppsamtal för par", "start_date": TODAY - 10 * DAY},
        leaders=[therapist, colleague],
    )
    member = services.member_add(
        actor=actor, programme=programme_, record=couples["clients"][0], joined_on=TODAY - 10 * DAY
    )
    meeting = services.meeting_plan(
        actor=actor,
        programme=programme_,
        data={"date": TODAY - DAY, "start_time": "17:00", "duration_minutes": 90, "invited": "clients"},
    )
    seen = selectors.attendance_seen({})
    browser = Browser()
    browser.force_login(therapist)

    response = race(
        lambda: services.attendance_record(
            actor=Actor.for_user(colleague), meeting=meeting, presence={member.pk: "attended"}, seen=seen
        ),
        lambda: browser.post(
            reverse("groups:attendance", args=[meeting.pk]), {"seen": seen, f"member_{member.pk}": "absent_notice"}
        ),
    )

    assert response.status_code == 400
    assert list(GroupAttendance.objects.values_list("presence", flat=True)) == ["attended"]  # the first, whole
