"""The wall between a client's file and their relative's: both ways, for the same therapist and for others.

Each person's confidential content carries a sentinel string; every page (and PDF) of the other
person's record must be without it. Only a couple session, which both attended, is in both records.
"""

from __future__ import annotations

import datetime
import io

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from assessments.models import Administration, Answer, ItemKind, TimePoint
from assessments.services import version_for
from clients.models import DeepInterviewSection
from kast.actor import Actor
from kast.models import AccessLogEntry
from relatives.models import ChildPerspective, Goal, ReactionReview, RelativeLink
from sessions import services as session_services
from sessions.models import Note, SessionKind, TherapySession
from tests.factories import (
    NoteFactory,
    TherapySessionFactory,
    link,
    open_first_period,
    put_in_treatment,
    relative_record,
)

pytestmark = pytest.mark.django_db

CLIENT_NOTE = "KLIENT-ANTECKNING-5c1e"
CLIENT_INTERVIEW = "KLIENT-DJUPINTERVJU-77b2"
CLIENT_ANSWER = "KLIENT-SVAR-09af"
RELATIVE_NOTE = "ANHORIG-ANTECKNING-3d4f"
RELATIVE_GOAL = "ANHORIG-MAL-81aa"
RELATIVE_REASON = "ANHORIG-ORSAK-6e0d"
JOINT_NOTE = "PARSAMTAL-GEMENSAM-2b9c"
CLIENT_SECRETS = (CLIENT_NOTE, CLIENT_INTERVIEW, CLIENT_ANSWER)
RELATIVE_SECRETS = (RELATIVE_NOTE, RELATIVE_GOAL, RELATIVE_REASON)


def as_user(user):
    return Actor.for_user(user)


@pytest.fixture
def family(client_record, therapist):
    """Anna's client and the client's partner, each with content of their own, and one couple session."""
    client = put_in_treatment(open_first_period(client_record))
    own = TherapySessionFactory(client=client, date=timezone.localdate() - datetime.timedelta(days=7))
    NoteFactory(session=own, text=f"Individuellt samtal. {CLIENT_NOTE}")
    DeepInterviewSection.objects.create(
        client=client, section="childhood", text=f"Uppväxt. {CLIENT_INTERVIEW}", updated_by=therapist
    )
    administration = Administration.objects.create(
        client=client,
        episode=client.episodes.get(),
        time_point=TimePoint.START,
        version=version_for(TimePoint.START),
        created_by=therapist,
        submitted_at=timezone.now(),
    )
    text_item = administration.version.items.filter(kind=ItemKind.TEXT).first()
    Answer.objects.create(administration=administration, item=text_item, value_text=CLIENT_ANSWER)

    partner = relative_record(therapist)
    partner.reason = RELATIVE_REASON
    partner.save(update_fields=["reason"])
    alone = TherapySessionFactory(
        client=partner, kind=SessionKind.RELATIVE, date=timezone.localdate() - datetime.timedelta(days=6)
    )
    NoteFactory(session=alone, text=f"Anhörigsamtal. {RELATIVE_NOTE}")
    Goal.objects.create(relative=partner, text=f"Sova bättre. {RELATIVE_GOAL}", created_by=therapist)
    ReactionReview.objects.create(
        relative=partner, loss_of_control=4, guilt=3, shame=3, displaced_anger=2, recorded_by=therapist
    )
    ChildPerspective.objects.create(record=partner, children_in_household=2, updated_by=therapist)
    link(partner, client)

    joint = session_services.session_create(
        actor=as_user(therapist),
        client=client,
        data={
            "kind": SessionKind.COUPLE,
            "date": timezone.localdate() - datetime.timedelta(days=1),
            "start_time": datetime.time(13, 0),
            "attendance": "attended",
            "participants": [partner],
        },
    )
    NoteFactory(session=joint, text=f"Parsamtal. {JOINT_NOTE}")
    return {"client": client, "partner": partner, "own": own, "alone": alone, "joint": joint}


def read(browser, method: str, url: str) -> tuple[int, str]:
    response = getattr(browser, method)(url)
    if response.status_code == 302:
        return 302, response["Location"]
    if response.get("Content-Type", "").startswith("application/pdf"):
        return response.status_code, "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    return response.status_code, response.content.decode()


def relative_pages(family) -> list[tuple[str, str]]:
    partner = family["partner"]
    return [
        ("get", reverse("relatives:detail", args=[partner.pk])),
        ("get", reverse("relatives:edit", args=[partner.pk])),
        ("get", reverse("relatives:children", args=[partner.pk])),
        ("get", reverse("sessions:timeline", args=[partner.pk])),
        ("get", reverse("sessions:detail", args=[family["alone"].pk])),
        ("get", reverse("sessions:new", args=[partner.pk])),
        ("post", reverse("relatives:summary_pdf", args=[partner.pk])),
    ]


def client_pages(family) -> list[tuple[str, str]]:
    client = family["client"]
    return [
        ("get", reverse("clients:detail", args=[client.pk])),
        ("get", reverse("clients:edit", args=[client.pk])),
        ("get", reverse("sessions:timeline", args=[client.pk])),
        ("get", reverse("sessions:detail", args=[family["own"].pk])),
        ("get", reverse("clients:interview", args=[client.pk])),
        ("get", reverse("clients:family", args=[client.pk])),
        ("get", reverse("assessments:client", args=[client.pk])),
        ("get", reverse("relatives:children", args=[client.pk])),
        ("post", reverse("clients:intake_pdf", args=[client.pk])),
    ]


def test_the_same_therapist_sees_both_files_but_the_relatives_pages_hold_nothing_of_the_client(
    client, therapist, family
):
    client.force_login(therapist)
    for method, url in relative_pages(family):
        status, text = read(client, method, url)
        assert status == 200, url
        for secret in CLIENT_SECRETS:
            assert secret not in text, (url, secret)
    # The relative's own content is there, so the check above looked at real pages.
    assert RELATIVE_GOAL in read(client, "get", reverse("relatives:detail", args=[family["partner"].pk]))[1]
    assert RELATIVE_NOTE in read(client, "get", reverse("sessions:detail", args=[family["alone"].pk]))[1]


def test_and_the_clients_pages_hold_nothing_of_the_relative(client, therapist, family):
    client.force_login(therapist)
    for method, url in client_pages(family):
        status, text = read(client, method, url)
        assert status == 200, url
        for secret in RELATIVE_SECRETS:
            assert secret not in text, (url, secret)
    assert CLIENT_NOTE in read(client, "get", reverse("sessions:detail", args=[family["own"].pk]))[1]
    assert (
        CLIENT_INTERVIEW
        in read(client, "get", reverse("clients:interview_section", args=[family["client"].pk, "childhood"]))[1]
    )


def test_the_couple_session_is_on_both_timelines_and_its_note_on_both_sides(client, therapist, family):
    client.force_login(therapist)
    joint_url = reverse("sessions:detail", args=[family["joint"].pk])
    for record in (family["client"], family["partner"]):
        _, text = read(client, "get", reverse("sessions:timeline", args=[record.pk]))
        assert joint_url in text, record.code
    _, text = read(client, "get", joint_url)
    assert JOINT_NOTE in text
    assert family["partner"].code in text and family["client"].code in text


def test_a_therapist_with_only_the_relative_cannot_open_the_client_at_all(client, therapist, colleague, family):
    partner = family["partner"]
    partner.responsible_therapist = colleague
    partner.save(update_fields=["responsible_therapist"])
    client.force_login(colleague)

    for method, url in client_pages(family):
        status, _ = read(client, method, url)
        assert status == 404, url
    for method, url in relative_pages(family):
        status, text = read(client, method, url)
        assert status == 200, url
        assert not any(secret in text for secret in CLIENT_SECRETS), url
    # The couple session, from the relative's side: the relative's record in the header, the joint note shown.
    status, text = read(client, "get", reverse("sessions:detail", args=[family["joint"].pk]))
    assert status == 200
    assert JOINT_NOTE in text
    assert reverse("relatives:detail", args=[partner.pk]) in text
    assert reverse("clients:detail", args=[family["client"].pk]) not in text
    assert not any(secret in text for secret in CLIENT_SECRETS)
    # The joint session is on the relative's timeline, the client's individual one is not.
    _, timeline = read(client, "get", reverse("sessions:timeline", args=[partner.pk]))
    assert reverse("sessions:detail", args=[family["joint"].pk]) in timeline
    assert reverse("sessions:detail", args=[family["own"].pk]) not in timeline


@pytest.mark.parametrize("persona", ["colleague", "other_clinic", "manager", "admin"])
def test_the_joint_note_is_for_the_participants_therapists_only(client, personas, family, persona):
    client.force_login(personas[persona])
    response = client.get(reverse("sessions:detail", args=[family["joint"].pk]))
    assert response.status_code in (403, 404)
    assert JOINT_NOTE not in response.content.decode()


def test_the_client_page_lists_the_link_but_not_the_relatives_content(client, therapist, family):
    client.force_login(therapist)
    text = client.get(reverse("clients:detail", args=[family["client"].pk])).content.decode()
    assert family["partner"].code in text
    assert reverse("relatives:detail", args=[family["partner"].pk]) in text
    assert RELATIVE_GOAL not in text and RELATIVE_REASON not in text


def test_removing_the_link_keeps_both_records_and_every_note_and_is_logged(client, therapist, family):
    client.force_login(therapist)
    the_link = RelativeLink.objects.get()
    notes_before = Note.objects.count()
    response = client.post(reverse("relatives:unlink", args=[the_link.pk]), {"reason": "Separerade."})
    assert response.status_code == 302
    the_link.refresh_from_db()
    assert the_link.removed_at is not None and the_link.removed_by == therapist
    assert Note.objects.count() == notes_before
    assert TherapySession.objects.filter(pk=family["joint"].pk).exists()
    logged = AccessLogEntry.objects.filter(object_type="relatives.relativelink", object_id=str(the_link.pk))
    assert {entry.client_id for entry in logged} == {family["client"].pk, family["partner"].pk}
    # Both still see the couple session they attended.
    for record in (family["client"], family["partner"]):
        text = client.get(reverse("sessions:timeline", args=[record.pk])).content.decode()
        assert reverse("sessions:detail", args=[family["joint"].pk]) in text
