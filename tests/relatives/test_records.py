"""Registering relatives, linking them, their support content, bad input, and constant query counts."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from clients.models import Client, RecordKind, TargetGroup
from kast.models import AccessLogEntry
from relatives.models import ChildPerspective, Goal, GoalStatus, ReactionReview, Relative, RelativeLink
from sessions.models import SessionKind, SessionParticipant, TherapySession
from tests.factories import (
    ClientFactory,
    TherapySessionFactory,
    link,
    open_first_period,
    put_in_treatment,
    relative_record,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(client_record):
    return put_in_treatment(open_first_period(client_record))


@pytest.fixture
def partner(therapist):
    return relative_record(therapist)


def test_registering_a_relative_from_the_clients_page_links_them_with_the_consents(client, therapist, case):
    client.force_login(therapist)
    response = client.post(
        reverse("relatives:register_for", args=[case.pk]),
        {
            "relation": "spouse",
            "first_contact_date": "2026-11-02",
            "contact_method": "phone",
            "responsible_therapist": therapist.pk,
            "gender": "woman",
            "client_consents": "on",
            "relative_consents": "on",
        },
    )
    record = Client.objects.get(kind=RecordKind.RELATIVE)
    assert response.status_code == 302 and response["Location"] == reverse("relatives:detail", args=[record.pk])
    assert record.code.startswith("GBG-2026-") and record.target_groups == [TargetGroup.RELATIVE]
    assert record.episodes.count() == 1 and record.status == "contact"
    assert not record.family_members.exists()  # the family map is the client's tool
    assert Relative.objects.get(record=record).relation == "spouse"
    the_link = RelativeLink.objects.get()
    assert (the_link.relative, the_link.client, the_link.joint_work_agreed) == (record, case, True)


def test_a_relative_can_come_without_a_registered_client(client, therapist):
    client.force_login(therapist)
    response = client.post(
        reverse("relatives:register"),
        {
            "relation": "parent",
            "first_contact_date": "2026-11-02",
            "contact_method": "walk_in",
            "responsible_therapist": therapist.pk,
            "gender": "not_stated",
        },
    )
    assert response.status_code == 302
    record = Client.objects.get(kind=RecordKind.RELATIVE)
    assert not RelativeLink.objects.exists()
    page = client.get(reverse("relatives:detail", args=[record.pk])).content.decode()
    assert "Inte kopplad till en registrerad klient" in page


def test_a_bad_registration_saves_nothing(client, therapist):
    client.force_login(therapist)
    response = client.post(
        reverse("relatives:register"),
        {"relation": "sibling-in-law", "first_contact_date": "3 mars", "responsible_therapist": therapist.pk},
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert "relation" in form.errors and "first_contact_date" in form.errors
    assert not Client.objects.exists()


def test_linking_to_a_client_of_another_clinic_is_refused_plainly(client, therapist, partner, other_clinic_therapist):
    elsewhere = ClientFactory(responsible_therapist=other_clinic_therapist, code="MLM-2026-0007")
    client.force_login(therapist)
    response = client.post(reverse("relatives:link", args=[partner.pk]), {"client_code": elsewhere.code})
    assert response.status_code == 400
    assert "MLM-2026-0007 är inte klient vid den här mottagningen" in response.content.decode()
    assert not RelativeLink.objects.exists()


def test_linking_twice_is_refused_plainly(client, therapist, partner, case):
    link(partner, case)
    client.force_login(therapist)
    response = client.post(reverse("relatives:link", args=[partner.pk]), {"client_code": case.code.lower()})
    assert response.status_code == 400
    assert escape(f"Den anhörige är redan kopplad till {case.code}.") in response.content.decode()
    assert RelativeLink.objects.count() == 1


def test_an_unknown_code_or_a_relatives_code_cannot_be_linked(client, therapist, partner):
    other_relative = relative_record(therapist, code="GBG-2026-0099")
    client.force_login(therapist)
    unknown = client.post(reverse("relatives:link", args=[partner.pk]), {"client_code": "GBG-2026-4711"})
    assert "Ingen klient har koden GBG-2026-4711" in unknown.content.decode()
    relative = client.post(reverse("relatives:link", args=[partner.pk]), {"client_code": other_relative.code})
    assert "GBG-2026-0099 är en anhörigs akt" in relative.content.decode()
    assert not RelativeLink.objects.exists()


def test_linking_is_logged_on_both_records(client, therapist, partner, case):
    client.force_login(therapist)
    response = client.post(
        reverse("relatives:link", args=[partner.pk]), {"client_code": case.code, "client_consents": "on"}
    )
    assert response.status_code == 302
    the_link = RelativeLink.objects.get()
    assert the_link.client_consents and not the_link.relative_consents
    logged = AccessLogEntry.objects.filter(object_type="relatives.relativelink", action="create")
    assert {entry.client_id for entry in logged} == {case.pk}
    assert AccessLogEntry.objects.filter(
        object_type="relatives.relativelink", action="update", client_id=partner.pk
    ).exists()


def couple_post(case, partner_code: str, kind: str = SessionKind.COUPLE) -> dict:
    return {
        "date": timezone.localdate().isoformat(),  # the records' first contact is today
        "start_time": "13:00",
        "duration_minutes": 90,
        "kind": kind,
        "attendance": "attended",
        "therapists": [case.responsible_therapist.pk],
        "participants": partner_code,
    }


def test_a_couple_session_with_two_people_who_are_not_linked_is_refused(client, therapist, case, partner):
    client.force_login(therapist)
    response = client.post(reverse("sessions:new", args=[case.pk]), couple_post(case, partner.code))
    assert response.status_code == 200
    assert response.context["form"].errors["participants"] == [
        f"{case.code} och {partner.code} är inte kopplade som klient och anhörig: koppla dem först, med deras samtycke."
    ]
    assert not TherapySession.objects.exists()


def test_a_couple_session_needs_both_consents(client, therapist, case, partner):
    link(partner, case, consent=False)
    client.force_login(therapist)
    response = client.post(reverse("sessions:new", args=[case.pk]), couple_post(case, partner.code))
    assert "har inte båda samtyckt till gemensamt arbete" in response.content.decode()
    assert not TherapySession.objects.exists()


def test_a_couple_session_of_linked_partners_is_on_both_records(client, therapist, case, partner):
    link(partner, case)
    client.force_login(therapist)
    response = client.post(reverse("sessions:new", args=[case.pk]), couple_post(case, partner.code.lower()))
    session = TherapySession.objects.get()
    assert response.status_code == 302
    assert SessionParticipant.objects.get(session=session).client == partner
    assert SessionParticipant.objects.get(session=session).episode == partner.episodes.get()


def test_participants_are_only_for_joint_sessions_and_unknown_codes_are_named(client, therapist, case, partner):
    client.force_login(therapist)
    individual = client.post(
        reverse("sessions:new", args=[case.pk]), couple_post(case, partner.code, kind=SessionKind.INDIVIDUAL)
    )
    assert individual.context["form"].errors["participants"] == ["Bara par- och gruppsamtal har andra deltagare."]
    unknown = client.post(reverse("sessions:new", args=[case.pk]), couple_post(case, "GBG-2026-7777, nonsense"))
    assert unknown.context["form"].errors["participants"] == [
        "Det finns ingen akt med koden GBG-2026-7777, NONSENSE vid den här mottagningen."
    ]
    assert not TherapySession.objects.exists()


def test_a_group_session_of_relatives_reaches_every_participants_timeline(client, therapist, colleague, case):
    """Relatives alone in a group (no client in the room, so no wall between them)."""
    partner_a = relative_record(therapist)
    other_client = put_in_treatment(open_first_period(ClientFactory(responsible_therapist=colleague)))
    partner_b = relative_record(colleague)
    link(partner_a, case)
    link(partner_b, other_client)
    client.force_login(therapist)
    response = client.post(
        reverse("sessions:new", args=[partner_a.pk]),
        {
            **couple_post(partner_a, partner_b.code, kind=SessionKind.GROUP),
            "therapists": [therapist.pk, colleague.pk],
        },
    )
    assert response.status_code == 302
    session = TherapySession.objects.get()
    url = reverse("sessions:detail", args=[session.pk])
    client.force_login(colleague)
    assert url in client.get(reverse("sessions:timeline", args=[partner_b.pk])).content.decode()
    assert url not in client.get(reverse("sessions:timeline", args=[other_client.pk])).content.decode()
    assert client.get(url).status_code == 200


def test_reactions_are_recorded_once_a_day_and_shown_over_time(client, therapist, partner):
    client.force_login(therapist)
    url = reverse("relatives:reactions", args=[partner.pk])
    first = {"reviewed_on": "2026-09-01", "loss_of_control": 4, "guilt": 3, "shame": 4, "displaced_anger": 2}
    assert client.post(url, first).status_code == 302
    assert client.post(url, {**first, "reviewed_on": "2026-10-15", "loss_of_control": 2}).status_code == 302
    again = client.post(url, first)
    assert again.status_code == 400
    assert "Reaktionerna är redan registrerade för det här datumet." in again.content.decode()
    bad = client.post(url, {**first, "reviewed_on": "2026-11-01", "guilt": 9})
    assert bad.status_code == 400 and "guilt" in bad.context["reaction_form"].errors
    assert list(ReactionReview.objects.values_list("loss_of_control", flat=True)) == [4, 2]
    page = client.get(reverse("relatives:detail", args=[partner.pk]))
    assert page.context["chart"].rows[0][1] == [4, 2]


def test_goals_are_added_and_their_status_changes(client, therapist, partner):
    client.force_login(therapist)
    client.post(reverse("relatives:goal_add", args=[partner.pk]), {"text": "Sova hela nätter", "set_on": "2026-10-01"})
    goal = Goal.objects.get()
    client.post(reverse("relatives:goal_status", args=[goal.pk]), {"status": GoalStatus.REACHED})
    goal.refresh_from_db()
    assert goal.status == GoalStatus.REACHED and goal.status_on == timezone.localdate()
    empty = client.post(reverse("relatives:goal_add", args=[partner.pk]), {"text": "  ", "set_on": "2026-10-01"})
    assert empty.status_code == 400 and Goal.objects.count() == 1


def test_the_child_perspective_on_a_clients_record(client, therapist, case):
    client.force_login(therapist)
    url = reverse("relatives:children", args=[case.pk])
    premature = client.post(url, {"children_in_household": 2, "actions": ["information"], "version": 0})
    assert premature.status_code == 200 and "considered_on" in premature.context["form"].errors
    too_many = client.post(url, {"children_in_household": 21, "version": 0})
    assert "children_in_household" in too_many.context["form"].errors
    assert not ChildPerspective.objects.exists()
    saved = client.post(
        url,
        {
            "children_in_household": 2,
            "considered_on": "2026-11-10",
            "actions": ["information", "child_support"],
            "version": 0,
        },
    )
    assert saved.status_code == 302
    perspective = ChildPerspective.objects.get(record=case)
    assert perspective.actions == ["information", "child_support"] and perspective.version == 1
    stale = client.post(url, {"children_in_household": 3, "version": 0})
    assert "Någon annan sparade medan du redigerade" in stale.content.decode()
    assert ChildPerspective.objects.get(record=case).children_in_household == 2


def grow(partner, case, therapist, size: int) -> None:
    """`size` of everything the relative's pages list: reactions, goals, sessions, joint sessions, links."""
    link(partner, case)
    today = timezone.localdate()
    ReactionReview.objects.bulk_create(
        ReactionReview(
            relative=partner,
            reviewed_on=today - datetime.timedelta(days=n),
            loss_of_control=n % 5,
            guilt=2,
            shame=2,
            displaced_anger=1,
            recorded_by=therapist,
        )
        for n in range(size)
    )
    Goal.objects.bulk_create(Goal(relative=partner, text=f"Mål {n}", created_by=therapist) for n in range(size))
    for n in range(size):
        TherapySessionFactory(client=partner, kind=SessionKind.RELATIVE, date=today - datetime.timedelta(days=n))
        joint = TherapySessionFactory(client=case, kind=SessionKind.COUPLE, date=today - datetime.timedelta(days=n))
        SessionParticipant.objects.create(session=joint, client=partner, episode=partner.episodes.get())
    for _ in range(size - 1):
        link(partner, ClientFactory(responsible_therapist=therapist))


@pytest.mark.parametrize(
    ("url_name", "queries"),
    [
        # 1 session, 2 user and clinic, 3 the second factor's device, 4 the record (gate), 5 the access-log entry,
        # 6 reactions, 7 links with the client's visibility, 8 relation, 9 co-therapists, 10 goals,
        # 11 child perspective, 12 the group meetings attended (none here: no addenda read), 13 status history,
        # 14 the clinic's referral destinations (status form)
        ("relatives:detail", 14),
        # 4 the record, 5 log, 6 count of the timeline, 7 its page (own and joint sessions, status, one UNION),
        # 8 the sessions of the page, 9 the status changes, 10 wrongly recorded count
        ("sessions:timeline", 10),
    ],
)
@pytest.mark.parametrize("size", [1, 50])
def test_relative_pages_keep_their_query_count(
    client, therapist, case, partner, url_name, queries, size, django_assert_num_queries
):
    grow(partner, case, therapist, size)
    client.force_login(therapist)
    with django_assert_num_queries(queries):
        response = client.get(reverse(url_name, args=[partner.pk]))
    assert response.status_code == 200


def test_a_relatives_session_is_of_the_type_relative_alone_and_ending_the_support_asks_no_questionnaire(
    client, therapist, partner
):
    client.force_login(therapist)
    page = client.get(reverse("sessions:new", args=[partner.pk]))
    assert page.context["form"]["kind"].value() == SessionKind.RELATIVE
    Client.objects.filter(pk=partner.pk).update(status="in_treatment")
    response = client.post(
        reverse("sessions:end_treatment", args=[partner.pk]),
        {"ended_on": timezone.localdate().isoformat(), "reason": "goal_reached"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("relatives:detail", args=[partner.pk])
