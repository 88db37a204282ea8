"""The wall's side entrances (issue 15): links the relative has not consented to, joint sessions
without consented links, and joint sessions changed from another participant's record."""

from __future__ import annotations

import datetime
import io
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from relatives.models import Relation
from sessions.models import Attendance, SessionKind, SessionParticipant, TherapySession
from tests.factories import (
    ClientFactory,
    NoteFactory,
    TherapySessionFactory,
    link,
    open_first_period,
    put_in_treatment,
    relative_record,
    working_day,
)

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


def pdf_text(response) -> str:
    assert response["Content-Type"] == "application/pdf"
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    return re.sub(r"\s+", " ", text)


@pytest.fixture
def case(client_record):
    return put_in_treatment(open_first_period(client_record))


@pytest.fixture
def partner(therapist):
    return relative_record(therapist, relation=Relation.SPOUSE)


def client_side(http, case) -> dict[str, str]:
    return {
        "page": http.get(reverse("clients:detail", args=[case.pk])).content.decode(),
        "timeline": http.get(reverse("sessions:timeline", args=[case.pk])).content.decode(),
        "extract": pdf_text(http.post(reverse("archive:right_of_access", args=[case.pk]))),
    }


@pytest.mark.parametrize(
    ("client_consents", "relative_consents", "removed"),
    [(True, False, False), (False, False, False), (True, True, True)],
    ids=["client-only", "nobody", "removed"],
)
def test_a_link_the_relative_has_not_consented_to_shows_nothing_on_the_clients_side(
    client, therapist, case, partner, client_consents, relative_consents, removed
):
    the_link = link(partner, case)
    the_link.client_consents, the_link.relative_consents = client_consents, relative_consents
    if removed:
        the_link.removed_at, the_link.removed_by = timezone.now(), therapist
    the_link.save()
    client.force_login(therapist)

    side = client_side(client, case)
    for where, text in side.items():
        assert partner.code not in text, where
    assert "En anhörig (" not in side["extract"]
    assert "Ingen anhörig är kopplad." in side["extract"]
    # The relative's own record shows the link, so the pages above were looked at with a link in place.
    relative_page = client.get(reverse("relatives:detail", args=[partner.pk])).content.decode()
    assert case.code in relative_page


def test_once_the_relative_consents_the_link_shows_on_the_clients_page_and_extract(client, therapist, case, partner):
    link(partner, case)  # both consent
    client.force_login(therapist)

    side = client_side(client, case)
    assert partner.code in side["page"]
    assert "En anhörig (Make eller maka) kopplad" in side["extract"]


def group_post(codes: str, therapists, kind: str = SessionKind.GROUP) -> dict:
    return {
        "date": timezone.localdate().isoformat(),  # the records' first contact is today
        "start_time": "13:00",
        "duration_minutes": 90,
        "kind": kind,
        "attendance": "attended",
        "therapists": [t.pk for t in therapists],
        "participants": codes,
    }


def test_a_group_session_with_an_unlinked_relative_is_refused_with_a_form_error(
    client, therapist, colleague, case, partner
):
    stranger = relative_record(colleague)
    link(partner, case)
    client.force_login(therapist)

    response = client.post(
        reverse("sessions:new", args=[case.pk]),
        group_post(f"{partner.code}, {stranger.code}", [therapist, colleague]),
    )

    assert response.status_code == 200
    assert response.context["form"].errors["participants"] == [
        f"{case.code} och {stranger.code} är inte kopplade som klient och anhörig: koppla dem först, med deras samtycke."
    ]
    assert not TherapySession.objects.exists()
    assert not SessionParticipant.objects.exists()


def test_a_group_session_with_a_link_the_relative_has_not_consented_to_is_refused(
    client, therapist, colleague, case, partner
):
    other = put_in_treatment(open_first_period(ClientFactory(responsible_therapist=colleague)))
    unconsented = link(partner, case)
    unconsented.relative_consents = False
    unconsented.save()
    client.force_login(therapist)

    response = client.post(
        reverse("sessions:new", args=[case.pk]), group_post(f"{other.code}, {partner.code}", [therapist])
    )

    assert response.status_code == 200
    assert response.context["form"].errors["participants"] == [
        f"{case.code} och {partner.code} har inte båda samtyckt till gemensamt arbete än."
    ]
    assert not TherapySession.objects.exists()


def test_a_group_of_two_couples_is_refused_while_the_cross_pairs_are_not_linked(client, therapist, colleague, case):
    """The rule as issue 15 words it: every client and relative in one room must be linked with consent."""
    partner_a = relative_record(therapist)
    other_client = put_in_treatment(open_first_period(ClientFactory(responsible_therapist=colleague)))
    partner_b = relative_record(colleague)
    link(partner_a, case)
    link(partner_b, other_client)
    client.force_login(therapist)

    codes = ", ".join(p.code for p in (partner_a, other_client, partner_b))
    response = client.post(reverse("sessions:new", args=[case.pk]), group_post(codes, [therapist, colleague]))

    assert response.status_code == 200
    assert "participants" in response.context["form"].errors
    assert not TherapySession.objects.exists()


def test_a_group_session_of_clients_and_their_consented_relatives_is_saved(client, therapist, case, partner):
    other = put_in_treatment(open_first_period(ClientFactory(responsible_therapist=therapist)))
    link(partner, case)
    link(partner, other)
    client.force_login(therapist)

    response = client.post(
        reverse("sessions:new", args=[case.pk]), group_post(f"{partner.code}, {other.code}", [therapist])
    )

    assert response.status_code == 302
    session = TherapySession.objects.get()
    assert set(session.participants.values_list("client_id", flat=True)) == {partner.pk, other.pk}


@pytest.fixture
def joint(therapist, colleague, case, partner):
    """A couple session logged on Anna's client; the partner's record is Bertil's (the colleague's)."""
    partner.responsible_therapist = colleague
    partner.save(update_fields=["responsible_therapist"])
    link(partner, case)
    session = TherapySessionFactory(
        client=case, kind=SessionKind.COUPLE, date=timezone.localdate() - DAY, attendance=Attendance.ATTENDED
    )
    session.therapists.set([therapist, colleague])
    SessionParticipant.objects.create(session=session, client=partner, episode=partner.current_episode())
    NoteFactory(session=session, author=therapist, text="Parsamtal.")
    return TherapySession.objects.get(pk=session.pk)


def stored(session) -> tuple:
    fresh = TherapySession.objects.get(pk=session.pk)
    return (fresh.voided_at, fresh.fee_paid, fresh.version, TherapySession.objects.count())


def test_the_other_participants_therapist_sees_the_session_but_cannot_void_book_or_change_it(client, colleague, joint):
    client.force_login(colleague)
    before = stored(joint)
    detail = reverse("sessions:detail", args=[joint.pk])

    page = client.get(detail)
    assert page.status_code == 200
    assert reverse("sessions:void", args=[joint.pk]) not in page.content.decode()
    assert reverse("sessions:book_next", args=[joint.pk]) not in page.content.decode()
    assert reverse("sessions:payment", args=[joint.pk]) not in page.content.decode()

    assert client.get(reverse("sessions:void", args=[joint.pk])).status_code == 403
    assert client.post(reverse("sessions:void", args=[joint.pk]), {"reason": "Fel klient"}).status_code == 403
    tomorrow = working_day(1).isoformat()
    booked = client.post(reverse("sessions:book_next", args=[joint.pk]), {"date": tomorrow, "start_time": "10:00"})
    assert booked.status_code == 403
    paid = client.post(reverse("sessions:payment", args=[joint.pk]), {"fee_paid": "on", "version": joint.version})
    assert paid.status_code == 403
    edited = client.post(detail, {"session-kind": SessionKind.INDIVIDUAL, "session-version": joint.version})
    assert edited.status_code == 403

    assert stored(joint) == before


def test_the_records_own_therapist_may_void_book_next_and_change_it(client, therapist, joint):
    client.force_login(therapist)
    tomorrow = working_day(1).isoformat()

    booked = client.post(reverse("sessions:book_next", args=[joint.pk]), {"date": tomorrow, "start_time": "10:00"})
    assert booked.status_code == 302
    assert TherapySession.objects.count() == 2
    paid = client.post(reverse("sessions:payment", args=[joint.pk]), {"fee_paid": "on", "version": joint.version})
    assert paid.status_code == 302
    assert TherapySession.objects.get(pk=joint.pk).fee_paid is True
    voided = client.post(reverse("sessions:void", args=[joint.pk]), {"reason": "Fel klient"})
    assert voided.status_code == 302
    assert TherapySession.objects.get(pk=joint.pk).voided_at is not None
