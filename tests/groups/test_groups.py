"""Group programmes: a roster of two couples (in each a client and the client's partner with a record of their own),
five meetings as the 2018 pilot (two with the couples, three with the relatives alone), attendance per participant,
and one note per meeting whose two parts each stay on their own side of the wall."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from pypdf import PdfReader

from groups import selectors, services
from groups.models import GroupAttendance, GroupMeeting, GroupMember, GroupNote, GroupProgramme, Invited
from kast.actor import Actor
from kast.models import AccessLogEntry
from sessions.models import SessionFee, SessionKind

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)
CLIENTS_PART = "KLIENTDEL-GRUPP-4a7e"
RELATIVES_PART = "ANHORIGDEL-GRUPP-9c3b"
RELATIVES_ADDENDUM = "ANHORIGTILLAGG-GRUPP-1f2d"


def _member(programme, record) -> GroupMember:
    return programme.members.get(record=record)


def _attendance_post(programme, meeting, absent=(), **override) -> dict:
    # The attendance as the page shows it now (its hidden "seen" field).
    data = {"seen": selectors.attendance_seen(selectors.recorded_attendance(meeting))}
    for member in programme.members.select_related("record"):
        if member.record.kind in meeting.kinds_invited:
            data[f"member_{member.pk}"] = "absent_notice" if member.record in absent else "attended"
    data.update(override)
    return data


def test_a_therapist_creates_a_programme_in_one_post(client, therapist, colleague):
    client.force_login(therapist)

    response = client.post(
        reverse("groups:new"),
        {
            "name": "Gruppsamtal för par",
            "description": "Två parsamtal.",
            "start_date": TODAY.isoformat(),
            "leaders": [therapist.pk, colleague.pk],
            "status": "open",
        },
    )

    programme = GroupProgramme.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("groups:detail", args=[programme.pk])
    assert (programme.clinic, programme.name, programme.start_date, programme.created_by) == (
        therapist.clinic,
        "Gruppsamtal för par",
        TODAY,
        therapist,
    )
    assert set(programme.leaders.all()) == {therapist, colleague}
    assert AccessLogEntry.objects.filter(user=therapist, action="create", object_type="groups.groupprogramme").exists()


def test_the_roster_holds_clients_and_relatives_each_once(client, therapist, programme, couples):
    client.force_login(therapist)
    first = couples["clients"][0]

    again = client.post(
        reverse("groups:member_add", args=[programme.pk]), {"record": first.pk, "joined_on": TODAY.isoformat()}
    )

    assert again.status_code == 400  # no longer offered: the form's own choice error
    assert sorted(programme.members.values_list("record__kind", flat=True)) == [
        "client",
        "client",
        "relative",
        "relative",
    ]
    text = client.get(reverse("groups:detail", args=[programme.pk])).content.decode()
    for record in couples["clients"] + couples["relatives"]:
        assert record.code in text


def test_attendance_for_every_participant_in_one_post_with_the_clinic_s_fee(client, therapist, programme, couples):
    SessionFee.objects.create(clinic=therapist.clinic, kind=SessionKind.GROUP, amount=Decimal("100.00"))
    meeting = programme.meetings.order_by("date").first()
    absent = couples["clients"][1]
    client.force_login(therapist)

    response = client.post(
        reverse("groups:attendance", args=[meeting.pk]), _attendance_post(programme, meeting, absent=[absent])
    )

    assert response.status_code == 302
    rows = {
        row.member.record.code: (row.presence, row.fee_charged)
        for row in GroupAttendance.objects.filter(meeting=meeting).select_related("member__record")
    }
    assert rows == {
        "GBG-2026-0101": ("attended", Decimal("100.00")),
        "GBG-2026-0102": ("absent_notice", Decimal("0.00")),
        "GBG-2026-0201": ("attended", Decimal("100.00")),
        "GBG-2026-0202": ("attended", Decimal("100.00")),
    }
    meeting.refresh_from_db()
    assert meeting.status == "held"


def test_a_relatives_only_meeting_asks_for_the_relatives_alone(client, therapist, programme, couples):
    meeting = programme.meetings.filter(invited=Invited.RELATIVES).first()
    client.force_login(therapist)

    page = client.get(reverse("groups:meeting", args=[meeting.pk])).content.decode()

    assert couples["relatives"][0].code in page and couples["relatives"][1].code in page
    assert couples["clients"][0].code not in page
    assert 'name="client_part"' not in page and 'name="relative_part"' in page


def test_attendance_missing_a_participant_is_a_field_error_and_nothing_is_saved(client, therapist, programme):
    meeting = programme.meetings.order_by("date").first()
    data = _attendance_post(programme, meeting)
    missing = next(iter(data))
    data.pop(missing)
    client.force_login(therapist)

    response = client.post(reverse("groups:attendance", args=[meeting.pk]), data)

    assert response.status_code == 400
    assert list(response.context["attendance_form"].errors) == [missing]
    assert not GroupAttendance.objects.exists()
    meeting.refresh_from_db()
    assert meeting.status == "planned"


def _write_note(client, meeting, **parts):
    # The draft's version as the page has it (its hidden field): 0 before the first save.
    note = GroupNote.objects.filter(meeting=meeting).first()
    return client.post(reverse("groups:note", args=[meeting.pk]), {"version": note.version if note else 0, **parts})


@pytest.fixture
def signed(client, therapist, programme):
    """Every meeting's attendance, the first meeting's note in both parts, signed, with a relatives' addendum."""
    client.force_login(therapist)
    for meeting in programme.meetings.all():
        assert (
            client.post(
                reverse("groups:attendance", args=[meeting.pk]), _attendance_post(programme, meeting)
            ).status_code
            == 302
        )
    meeting = programme.meetings.order_by("date").first()
    assert (
        _write_note(
            client, meeting, client_part=f"Parsamtal. {CLIENTS_PART}", relative_part=f"Anhöriga. {RELATIVES_PART}"
        ).status_code
        == 302
    )
    assert client.post(reverse("groups:sign", args=[meeting.pk])).status_code == 302
    assert (
        client.post(
            reverse("groups:addendum", args=[meeting.pk]), {"part": "relatives", "text": RELATIVES_ADDENDUM}
        ).status_code
        == 302
    )
    return meeting


def test_signing_is_refused_while_any_participant_s_attendance_is_missing(client, therapist, programme, couples):
    meeting = programme.meetings.order_by("date").first()
    client.force_login(therapist)
    _write_note(client, meeting, client_part="Parsamtal.", relative_part="Anhöriga.")
    services.attendance_record(
        actor=Actor.for_user(therapist),
        meeting=meeting,
        presence={m.pk: "attended" for m in programme.members.all()},
    )
    # One attendance gone (as if the roster grew after it was recorded): the note cannot be signed.
    GroupAttendance.objects.filter(meeting=meeting, member__record=couples["relatives"][1]).delete()

    response = client.post(reverse("groups:sign", args=[meeting.pk]))

    assert response.status_code == 400
    with translation.override("sv"):
        assert response.context["sign_error"] == translation.gettext(
            "Record every participant's attendance before signing the note."
        )
    assert GroupNote.objects.get(meeting=meeting).signed_at is None


def test_each_record_shows_only_its_side_of_the_note(client, therapist, signed, couples):
    for record in couples["clients"]:
        page = client.get(reverse("clients:detail", args=[record.pk])).content.decode()
        assert CLIENTS_PART in page, record.code
        assert RELATIVES_PART not in page and RELATIVES_ADDENDUM not in page, record.code
    for record in couples["relatives"]:
        page = client.get(reverse("relatives:detail", args=[record.pk])).content.decode()
        assert RELATIVES_PART in page and RELATIVES_ADDENDUM in page, record.code
        assert CLIENTS_PART not in page, record.code


def test_nor_in_the_client_s_intake_pdf(client, therapist, signed, couples):
    response = client.post(reverse("clients:intake_pdf", args=[couples["clients"][0].pk]))

    assert response.status_code == 200
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert couples["clients"][0].code in text  # a real extract of the record
    assert RELATIVES_PART not in text and RELATIVES_ADDENDUM not in text


def test_a_signed_note_is_not_written_again(client, therapist, signed):
    response = _write_note(client, signed, client_part="Ändrat.", relative_part="Ändrat.")

    assert response.status_code == 400
    note = GroupNote.objects.get(meeting=signed)
    assert CLIENTS_PART in note.client_part and RELATIVES_PART in note.relative_part


def test_a_relatives_only_meeting_takes_no_clients_part(client, therapist, programme):
    meeting = programme.meetings.filter(invited=Invited.RELATIVES).first()
    services.attendance_record(
        actor=Actor.for_user(therapist),
        meeting=meeting,
        presence={m.pk: "attended" for m in programme.members.filter(record__kind="relative")},
    )
    with translation.override("en"), pytest.raises(ValidationError, match="Only relatives were invited"):
        services.note_save(
            actor=Actor.for_user(therapist), meeting=meeting, client_part="Fel sida.", relative_part="", version=0
        )
    assert not GroupNote.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"date": "1850-01-01"}, "date"),
        ({"date": (TODAY + 3 * 366 * DAY).isoformat()}, "date"),
        ({"duration_minutes": "-30"}, "duration_minutes"),
        ({"duration_minutes": "0"}, "duration_minutes"),
        ({"start_time": "25:00"}, "start_time"),
    ],
)
def test_a_meeting_with_bad_input_is_a_field_error_and_nothing_is_saved(client, therapist, programme, changes, field):
    before = GroupMeeting.objects.count()
    client.force_login(therapist)
    data = {"date": TODAY.isoformat(), "start_time": "17:00", "duration_minutes": "90", "invited": "all", **changes}

    response = client.post(reverse("groups:meeting_new", args=[programme.pk]), data)

    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert GroupMeeting.objects.count() == before


def test_a_programme_starting_out_of_range_is_a_field_error(client, therapist):
    client.force_login(therapist)

    response = client.post(
        reverse("groups:new"),
        {"name": "Grupp", "start_date": "1850-01-01", "leaders": [therapist.pk], "status": "open"},
    )

    assert response.status_code == 400
    assert "start_date" in response.context["form"].errors
    assert not GroupProgramme.objects.exists()


def test_a_meeting_in_the_future_takes_no_attendance(client, therapist, programme):
    meeting = services.meeting_plan(
        actor=Actor.for_user(therapist),
        programme=programme,
        data={
            "date": TODAY + 7 * DAY,
            "start_time": datetime.time(17, 0),
            "duration_minutes": 90,
            "invited": Invited.ALL,
        },
    )
    client.force_login(therapist)

    response = client.post(reverse("groups:attendance", args=[meeting.pk]), _attendance_post(programme, meeting))

    assert response.status_code == 400
    assert not GroupAttendance.objects.filter(meeting=meeting).exists()


def test_another_clinic_s_therapist_finds_nothing(client, other_clinic_therapist, programme):
    meeting = programme.meetings.first()
    client.force_login(other_clinic_therapist)

    assert client.get(reverse("groups:detail", args=[programme.pk])).status_code == 404
    assert client.get(reverse("groups:meeting", args=[meeting.pk])).status_code == 404
    assert (
        client.post(reverse("groups:attendance", args=[meeting.pk]), _attendance_post(programme, meeting)).status_code
        == 404
    )
    assert client.post(reverse("groups:note", args=[meeting.pk]), {"client_part": "x"}).status_code == 404
    assert programme.name not in client.get(reverse("groups:list")).content.decode()
    assert not GroupAttendance.objects.exists() and not GroupNote.objects.exists()


def test_a_colleague_who_does_not_lead_the_group_reads_but_does_not_write(client, colleague, programme):
    meeting = programme.meetings.order_by("date").first()
    client.force_login(colleague)

    assert client.get(reverse("groups:meeting", args=[meeting.pk])).status_code == 200
    assert (
        client.post(reverse("groups:attendance", args=[meeting.pk]), _attendance_post(programme, meeting)).status_code
        == 403
    )
    assert not GroupAttendance.objects.exists()


def test_the_manager_cannot_read_the_note(client, manager, signed, couples):
    client.force_login(manager)

    for url in (
        reverse("groups:meeting", args=[signed.pk]),
        reverse("groups:list"),
        reverse("groups:detail", args=[signed.programme_id]),
    ):
        assert client.get(url).status_code == 403
    for url in (reverse("home"), reverse("figures:dashboard")):
        response = client.get(url)
        assert response.status_code == 200
        text = response.content.decode()
        assert CLIENTS_PART not in text and RELATIVES_PART not in text


def test_the_client_page_makes_the_same_queries_with_one_group_meeting_or_two(client, therapist, programme, couples):
    first = couples["clients"][0]
    actor = Actor.for_user(therapist)
    meetings = list(programme.meetings.order_by("date"))
    client.force_login(therapist)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("clients:detail", args=[first.pk])).status_code == 200
        return len(captured)

    services.attendance_record(
        actor=actor, meeting=meetings[0], presence={m.pk: "attended" for m in programme.members.all()}
    )
    note = services.note_save(actor=actor, meeting=meetings[0], client_part="Ett.", relative_part="", version=0)
    services.note_sign(actor=actor, note=note)
    one = queries()
    services.attendance_record(
        actor=actor, meeting=meetings[1], presence={m.pk: "attended" for m in programme.members.all()}
    )
    note = services.note_save(actor=actor, meeting=meetings[1], client_part="Två.", relative_part="", version=0)
    note = services.note_sign(actor=actor, note=note)
    services.addendum_add(actor=actor, note=note, part="clients", text="Tillägg.")

    assert queries() == one


@pytest.mark.django_db(transaction=True)
def test_a_signed_group_note_cannot_be_changed_by_the_app_s_database_role_even_with_pgtrigger_ignore(
    therapist, couples
):
    from kast.db_roles import RUNTIME_ROLE
    from tests.kast.test_database_roles import every_trigger_set_aside, login_as, refused

    actor = Actor.for_user(therapist)
    programme = services.programme_create(
        actor=actor,
        clinic=therapist.clinic,
        data={"name": "Gruppsamtal för par", "start_date": TODAY - 10 * DAY},
        leaders=[therapist],
    )
    member = services.member_add(
        actor=actor, programme=programme, record=couples["clients"][0], joined_on=TODAY - 10 * DAY
    )
    meeting = services.meeting_plan(
        actor=actor,
        programme=programme,
        data={"date": TODAY - DAY, "start_time": datetime.time(17, 0), "duration_minutes": 90, "invited": "all"},
    )
    services.attendance_record(actor=actor, meeting=meeting, presence={member.pk: "attended"})
    note = services.note_sign(
        actor=actor,
        note=services.note_save(actor=actor, meeting=meeting, client_part="Signerad.", relative_part="", version=0),
    )
    addendum = services.addendum_add(actor=actor, note=note, part="clients", text="Tillägg.")

    with login_as(RUNTIME_ROLE) as conn:
        with conn.cursor() as cursor:
            every_trigger_set_aside(cursor)
        conn.commit()
        answers = [
            refused(conn, "UPDATE \"groups_groupnote\" SET client_part = 'Ändrad.' WHERE id = %s", [note.pk]),
            refused(conn, 'DELETE FROM "groups_groupnote" WHERE id = %s', [note.pk]),
            refused(conn, "UPDATE \"groups_groupaddendum\" SET text = 'Ändrad.' WHERE id = %s", [addendum.pk]),
        ]

    assert answers[0].startswith("RaiseException") and "groups_groupnote" in answers[0]
    assert answers[1].startswith("RaiseException") and "groups_groupnote" in answers[1]
    # The addenda are append-only: the runtime role has no UPDATE on them at all.
    assert "permission denied for table groups_groupaddendum" in answers[2]
    note.refresh_from_db()
    assert note.client_part == "Signerad."


def test_the_right_of_access_extract_holds_the_record_s_own_side_only(client, therapist, signed, couples):
    def extract(record) -> str:
        response = client.post(reverse("archive:right_of_access", args=[record.pk]))
        assert response.status_code == 200
        return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)

    text = extract(couples["clients"][0])
    assert CLIENTS_PART in text
    assert RELATIVES_PART not in text and RELATIVES_ADDENDUM not in text
    text = extract(couples["relatives"][0])
    assert RELATIVES_PART in text and RELATIVES_ADDENDUM in text
    assert CLIENTS_PART not in text
