"""The case workflow: registering a contact, moving it along TRANSITIONS, new periods and the assessment conversation."""

from __future__ import annotations

import datetime
import re

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import gettext as _

from clients import services
from clients.models import (
    AssessmentConversation,
    CaseStatus,
    Client,
    Episode,
    FamilyMember,
    FamilyRelation,
    ReferralDestination,
    Sex,
    StatusChange,
)
from kast.actor import Actor
from kast.models import AccessLogEntry
from tests.clients.form_data import assessment_data, register_data

pytestmark = pytest.mark.django_db

REFERRAL_DESTINATION = "Sexualmedicinskt Centrum"


def history(client: Client) -> list[tuple[str, str, int, str]]:
    """(from, to, period, by) of every status change, oldest first."""
    return [
        (c.from_status, c.to_status, c.episode.number, c.by.username)
        for c in client.status_changes.select_related("episode", "by").order_by("at", "id")
    ]


def transition(http, case, to_status, reason="", destination="", referred_to=""):
    return http.post(
        reverse("clients:transition", args=[case.pk]),
        {"to_status": to_status, "reason": reason, "referred_to": referred_to, "destination": destination},
    )


def listed(case, name: str = "Sexualmedicinsk mottagning") -> ReferralDestination:
    """An entry of the case's clinic's list of referral destinations."""
    return ReferralDestination.objects.get(clinic_id=case.clinic_id, name=name)


def step(http, case, to_status, reason=""):
    """Move the case on the way a therapist does: ending a treatment has its own page (date, reason)."""
    if to_status == "ended":
        return http.post(
            reverse("sessions:end_treatment", args=[case.pk]),
            {"ended_on": timezone.localdate().isoformat(), "reason": "goal_reached", "comment": reason},
        )
    return transition(http, case, to_status, reason)


def history_html(response) -> str:
    """The status history list of the detail page."""
    match = re.search(
        r'<h3 class="h6 mt-4">.*?</h3>\s*<ol class="list-unstyled small">(.*?)</ol>', response.content.decode(), re.S
    )
    assert match, "no history list on the page"
    return match.group(1)


# -- Registering a contact ----------------------------------------------------------------------------------


def test_registering_creates_the_client_its_first_period_history_family_node_and_log(client, therapist):
    client.force_login(therapist)

    response = client.post(reverse("clients:register"), register_data(therapist))

    registered = Client.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("clients:detail", args=[registered.pk])
    assert (registered.code, registered.clinic, registered.responsible_therapist) == (
        "GBG-2025-0001",
        therapist.clinic,
        therapist,
    )
    assert (registered.status, registered.target_groups, registered.birth_year) == ("contact", ["buying_sex"], 1980)
    assert list(registered.episodes.values_list("number", "opened_on", "closed_on")) == [
        (1, datetime.date(2025, 5, 1), None)
    ]
    assert history(registered) == [("", "contact", 1, "anna")]
    node = FamilyMember.objects.get(client=registered)
    assert (node.relation, node.label, node.sex, node.birth_year) == (
        FamilyRelation.CLIENT,
        "GBG-2025-0001",
        Sex.MALE,
        1980,
    )
    log = AccessLogEntry.objects.get(action="create")
    assert (log.user, log.client_id, log.object_type, log.object_id) == (
        therapist,
        registered.pk,
        "clients.client",
        str(registered.pk),
    )


def test_client_codes_run_per_clinic_and_year_of_first_contact(client, therapist, other_clinic_therapist):
    client.force_login(therapist)
    client.post(reverse("clients:register"), register_data(therapist))
    client.post(reverse("clients:register"), register_data(therapist, first_contact_date="2025-12-31"))
    client.post(reverse("clients:register"), register_data(therapist, first_contact_date="2024-06-01"))
    client.force_login(other_clinic_therapist)
    client.post(reverse("clients:register"), register_data(other_clinic_therapist))

    assert sorted(Client.objects.values_list("code", flat=True)) == [
        "GBG-2024-0001",
        "GBG-2025-0001",
        "GBG-2025-0002",
        "MLM-2025-0001",
    ]


def co_therapist_boxes(response) -> list[tuple[str, bool]]:
    """(user id, ticked) of each co-therapist checkbox on the page."""
    boxes = re.findall(r'<input type="checkbox"[^>]*name="co_therapists"[^>]*>', response.content.decode())
    return [(re.search(r'value="(\d+)"', box).group(1), " checked" in box) for box in boxes]


def test_the_register_form_offers_the_clinic_s_therapists_as_co_therapists(
    client, therapist, colleague, other_clinic_therapist, manager
):
    client.force_login(therapist)

    response = client.get(reverse("clients:register"))

    assert sorted(co_therapist_boxes(response)) == sorted([(str(therapist.pk), False), (str(colleague.pk), False)])


def test_registering_with_a_co_therapist(client, therapist, colleague):
    client.force_login(therapist)

    client.post(reverse("clients:register"), register_data(therapist, co_therapists=[str(colleague.pk)]))

    assert list(Client.objects.get().co_therapists.all()) == [colleague]


def test_the_edit_form_shows_the_co_therapists_ticked(client, therapist, colleague, client_record):
    """A form posted back as shown must keep the co-therapists (they lose the record otherwise)."""
    client_record.co_therapists.add(colleague)
    client.force_login(therapist)

    response = client.get(reverse("clients:edit", args=[client_record.pk]))

    assert sorted(co_therapist_boxes(response)) == sorted([(str(therapist.pk), False), (str(colleague.pk), True)])


# -- Moving along the workflow --------------------------------------------------------------------------------


def test_the_whole_treatment_path_records_who_when_and_why(client, therapist, colleague, case):
    case.co_therapists.add(colleague)
    steps = [
        (therapist, "assessment", "Första samtalet bokat"),
        (colleague, "in_treatment", "Motiverad, vill börja"),
        (therapist, "ended", "Tio samtal klara"),
        (colleague, "followed_up", "Uppföljning efter tre månader"),
    ]
    before = timezone.now()

    for user, to_status, reason in steps:
        client.force_login(user)
        response = step(client, case, to_status, reason)
        assert response.status_code == 302, to_status
        if to_status != "ended":  # ending goes on to the end questionnaire
            assert response["Location"] == reverse("clients:detail", args=[case.pk])

    after = timezone.now()
    case.refresh_from_db()
    assert case.status == "followed_up"
    changes = list(case.status_changes.order_by("at", "id"))
    assert [(c.from_status, c.to_status, c.by, c.reason) for c in changes] == [
        ("", "contact", therapist, ""),
        ("contact", "assessment", therapist, "Första samtalet bokat"),
        ("assessment", "in_treatment", colleague, "Motiverad, vill börja"),
        ("in_treatment", "ended", therapist, "Tio samtal klara"),
        ("ended", "followed_up", colleague, "Uppföljning efter tre månader"),
    ]
    assert all(before <= c.at <= after for c in changes[1:])
    # Ending the treatment closes the period; following up happens after it.
    assert list(case.episodes.values_list("number", "closed_on")) == [(1, timezone.localdate())]

    client.force_login(therapist)
    shown = history_html(client.get(reverse("clients:detail", args=[case.pk])))
    assert shown.count("<li") == 5
    for _user, to_status, reason in steps:
        assert escape(reason) in shown
        assert escape(str(CaseStatus(to_status).label)) in shown
    assert shown.count(str(therapist)) == 3  # registration (by the factory's responsible therapist) + 2 steps
    assert shown.count(str(colleague)) == 2


def test_a_referral_needs_a_destination(client, therapist, case):
    client.force_login(therapist)

    response = transition(client, case, "referred", "Behöver specialistvård")

    assert response.status_code == 400
    assert response.context["transition_form"].errors == {"referred_to": [_("Say where the client is referred to.")]}
    assert escape(_("Say where the client is referred to.")) in response.content.decode()
    case.refresh_from_db()
    assert case.status == "contact"
    assert history(case) == [("", "contact", 1, "anna")]
    assert Episode.objects.get(client=case).closed_on is None


def test_a_referral_with_a_destination_closes_the_period(client, therapist, case):
    client.force_login(therapist)

    response = transition(
        client, case, "referred", "Behöver specialistvård", f"  {REFERRAL_DESTINATION} ", listed(case).pk
    )

    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == "referred"
    change = case.status_changes.get(to_status="referred")
    assert (change.from_status, change.referred_to, change.destination, change.reason) == (
        "contact",
        listed(case),
        REFERRAL_DESTINATION,
        "Behöver specialistvård",
    )
    assert list(case.episodes.values_list("number", "closed_on")) == [(1, timezone.localdate())]


def test_a_referral_out_during_treatment_records_its_destination_and_ends_the_period_as_referred_on(
    client, therapist, case
):
    client.force_login(therapist)
    for to_status in ("assessment", "in_treatment"):
        assert step(client, case, to_status).status_code == 302

    response = transition(client, case, "referred", "Behöver beroendevård", "", listed(case).pk)

    assert response.status_code == 302
    case.refresh_from_db()
    change = case.status_changes.get(to_status="referred")
    assert (case.status, change.from_status, change.referred_to) == ("referred", "in_treatment", listed(case))
    assert list(case.episodes.values_list("closed_on", "end_reason")) == [(timezone.localdate(), "referred_on")]


@pytest.mark.parametrize(
    ("path", "impossible"),
    [
        ([], "ended"),
        ([], "followed_up"),
        (["assessment"], "contact"),
        (["assessment", "in_treatment"], "contact"),
        (["assessment", "in_treatment"], "closed"),
        (["assessment", "in_treatment", "ended", "followed_up"], "in_treatment"),
        (["closed"], "assessment"),
    ],
)
def test_an_impossible_transition_is_refused_and_changes_nothing(client, therapist, case, path, impossible):
    client.force_login(therapist)
    for to_status in path:
        assert step(client, case, to_status).status_code == 302
    case.refresh_from_db()
    current = case.status
    before = history(case)
    episodes_before = list(case.episodes.values_list("number", "closed_on"))

    response = transition(client, case, impossible, "Försök")

    assert response.status_code == 400
    message = _("A case cannot go from “%(from)s” to “%(to)s”.") % {
        "from": CaseStatus(current).label,
        "to": CaseStatus(impossible).label,
    }
    assert response.context["transition_form"].errors == {"to_status": [message]}
    assert escape(message) in response.content.decode()
    case.refresh_from_db()
    assert case.status == current
    assert history(case) == before
    assert list(case.episodes.values_list("number", "closed_on")) == episodes_before


def test_ending_a_treatment_goes_through_its_own_page(client, therapist, case):
    """The status form does not end a treatment: the end page asks for the date and the reason."""
    client.force_login(therapist)
    for to_status in ("assessment", "in_treatment"):
        assert step(client, case, to_status).status_code == 302

    response = transition(client, case, "ended", "Klart")

    assert response.status_code == 400
    assert response.context["transition_form"].errors == {
        "to_status": [_("End the treatment with “End the treatment”, which asks for the date and reason.")]
    }
    case.refresh_from_db()
    assert case.status == "in_treatment"


def test_an_unknown_status_is_refused(client, therapist, case):
    client.force_login(therapist)

    response = transition(client, case, "paused")

    assert response.status_code == 400
    assert list(response.context["transition_form"].errors) == ["to_status"]
    case.refresh_from_db()
    assert (case.status, case.status_changes.count()) == ("contact", 1)


def test_the_form_offers_only_the_allowed_next_statuses(client, therapist, case):
    client.force_login(therapist)

    response = client.get(reverse("clients:detail", args=[case.pk]))

    select = re.search(r'<select name="to_status".*?</select>', response.content.decode(), re.S).group()
    assert re.findall(r'<option value="([a-z_]+)"', select) == ["assessment", "referred", "closed"]


@pytest.mark.parametrize(
    ("from_status", "to_status"),
    [("contact", "ended"), ("in_treatment", "contact"), ("followed_up", "contact"), ("", "assessment")],
)
def test_the_database_refuses_a_disallowed_pair(case, therapist, from_status, to_status):
    episode = case.episodes.get()

    with pytest.raises(IntegrityError, match="statuschange_allowed_transition"), transaction.atomic():
        StatusChange.objects.create(
            client=case, episode=episode, from_status=from_status, to_status=to_status, by=therapist
        )

    assert case.status_changes.count() == 1


def test_the_database_refuses_a_referral_without_destination(case, therapist):
    with pytest.raises(IntegrityError, match="statuschange_referral_has_destination"), transaction.atomic():
        StatusChange.objects.create(
            client=case, episode=case.episodes.get(), from_status="contact", to_status="referred", by=therapist
        )


# -- A returning client: a new treatment period ---------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        ["closed"],
        ["assessment", "in_treatment", "ended"],
        ["assessment", "in_treatment", "ended", "followed_up"],
    ],
)
def test_reopening_a_finished_client_opens_period_two_at_contact(client, therapist, case, path):
    client.force_login(therapist)
    for to_status in path:
        assert step(client, case, to_status).status_code == 302

    # After an ended treatment the page also asks what becomes of the follow-ups still open (tests/clients/test_return.py).
    data = {"reason": "Återfall, hör av sig igen", "follow_ups": "keep"}
    response = client.post(reverse("clients:reopen", args=[case.pk]), data)

    assert response.status_code == 302
    assert response["Location"] == reverse("clients:detail", args=[case.pk])
    case.refresh_from_db()
    assert case.status == "contact"
    today = timezone.localdate()
    assert list(case.episodes.values_list("number", "opened_on", "closed_on")) == [
        (1, case.first_contact_date, today),
        (2, today, None),
    ]
    latest = case.status_changes.order_by("-at", "-id").first()
    assert (latest.from_status, latest.to_status, latest.episode.number, latest.by, latest.reason) == (
        "",
        "contact",
        2,
        therapist,
        "Återfall, hör av sig igen",
    )
    assert case.status_changes.count() == 1 + len(path) + 1


@pytest.mark.parametrize("path", [[], ["assessment"], ["assessment", "in_treatment"]])
def test_reopening_is_refused_while_a_period_is_open(client, therapist, case, path):
    client.force_login(therapist)
    for to_status in path:
        assert step(client, case, to_status).status_code == 302
    case.refresh_from_db()
    status = case.status

    response = client.post(reverse("clients:reopen", args=[case.pk]), {"reason": "Försök"}, follow=True)

    message = _("A new treatment period can only start when the current one has finished.")
    assert [str(m) for m in response.context["messages"] if m.level_tag == "error"] == [message]
    assert escape(message) in response.content.decode()
    case.refresh_from_db()
    assert case.status == status
    assert list(case.episodes.values_list("number", "closed_on")) == [(1, None)]
    assert case.status_changes.count() == 1 + len(path)


# -- The assessment conversation ----------------------------------------------------------------------------


def test_the_first_save_of_the_assessment_moves_contact_to_assessment(client, therapist, case):
    client.force_login(therapist)

    response = client.post(reverse("clients:assessment", args=[case.pk]), assessment_data())

    assert response.status_code == 302
    conversation = AssessmentConversation.objects.get()
    assert (conversation.episode.number, conversation.problem, conversation.decision, conversation.updated_by) == (
        1,
        "Köper sex när han är stressad",
        "",
        therapist,
    )
    assert conversation.held_on == datetime.date(2025, 5, 8)
    case.refresh_from_db()
    assert case.status == "assessment"
    assert history(case) == [("", "contact", 1, "anna"), ("contact", "assessment", 1, "anna")]


def test_saving_again_without_a_decision_keeps_the_status(client, therapist, case):
    client.force_login(therapist)
    client.post(reverse("clients:assessment", args=[case.pk]), assessment_data())

    response = client.post(
        reverse("clients:assessment", args=[case.pk]), assessment_data(goals="Färre återfall", version="1")
    )

    assert response.status_code == 302
    conversation = AssessmentConversation.objects.get()
    assert (conversation.goals, conversation.version) == ("Färre återfall", 2)
    case.refresh_from_db()
    assert case.status == "assessment"
    assert case.status_changes.count() == 2


@pytest.mark.parametrize(
    ("decision", "destination", "status", "period_closed"),
    [
        ("accepted", "", "in_treatment", False),
        ("referred", REFERRAL_DESTINATION, "referred", True),
        ("not_now", "", "closed", True),
    ],
)
def test_the_decision_moves_the_case_on(client, therapist, case, decision, destination, status, period_closed):
    client.force_login(therapist)
    client.post(reverse("clients:assessment", args=[case.pk]), assessment_data())
    referred_to = listed(case) if destination else None

    response = client.post(
        reverse("clients:assessment", args=[case.pk]),
        assessment_data(
            decision=decision, destination=destination, referred_to=referred_to.pk if referred_to else "", version="1"
        ),
    )

    assert response.status_code == 302
    assert AssessmentConversation.objects.get().decision == decision
    case.refresh_from_db()
    assert case.status == status
    last = case.status_changes.order_by("at", "id").last()
    assert (last.from_status, last.to_status, last.by, last.referred_to, last.destination, last.reason) == (
        "assessment",
        status,
        therapist,
        referred_to,
        destination,
        _("Decision of the assessment conversation"),
    )
    assert case.episodes.get().closed_on == (timezone.localdate() if period_closed else None)


def test_a_decision_in_the_first_save_goes_through_assessment(client, therapist, case):
    client.force_login(therapist)

    response = client.post(reverse("clients:assessment", args=[case.pk]), assessment_data(decision="accepted"))

    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == "in_treatment"
    assert history(case) == [
        ("", "contact", 1, "anna"),
        ("contact", "assessment", 1, "anna"),
        ("assessment", "in_treatment", 1, "anna"),
    ]


def test_a_referral_decision_without_destination_saves_nothing(client, therapist, case):
    client.force_login(therapist)

    response = client.post(reverse("clients:assessment", args=[case.pk]), assessment_data(decision="referred"))

    assert response.status_code == 200
    assert response.context["form"].errors == {"referred_to": [_("Say where the client is referred to.")]}
    assert escape(_("Say where the client is referred to.")) in response.content.decode()
    assert AssessmentConversation.objects.count() == 0
    case.refresh_from_db()
    assert case.status == "contact"
    assert case.status_changes.count() == 1


def test_the_assessment_service_is_one_transaction(therapist, case):
    """Past the form: the conversation and the move to assessment are written, then the referral fails; all is undone."""
    actor = Actor.for_user(therapist)
    data = {
        "held_on": datetime.date(2025, 5, 8),
        "problem": "P",
        "goals": "G",
        "assessment": "A",
        "decision": "referred",
    }

    with pytest.raises(ValidationError) as error:
        services.assessment_save(actor=actor, client=case, version=0, data=data, destination="")

    assert error.value.message_dict == {"referred_to": [_("Say where the client is referred to.")]}
    assert AssessmentConversation.objects.count() == 0
    case.refresh_from_db()
    assert case.status == "contact"
    assert case.status_changes.count() == 1
    assert AccessLogEntry.objects.count() == 0


def test_once_the_case_has_moved_on_the_decision_stays(client, therapist, case):
    """Changing 'accepted' to 'referred' in treatment would leave the decision and the status disagreeing."""
    client.force_login(therapist)
    client.post(reverse("clients:assessment", args=[case.pk]), assessment_data(decision="accepted"))

    response = client.post(
        reverse("clients:assessment", args=[case.pk]),
        assessment_data(
            decision="referred", referred_to=listed(case).pk, destination="SMC", goals="Nya mål", version="1"
        ),
    )

    assert response.status_code == 302
    conversation = AssessmentConversation.objects.get()
    assert (conversation.decision, conversation.goals) == ("accepted", "Nya mål")
    case.refresh_from_db()
    assert case.status == "in_treatment"
    form = client.get(reverse("clients:assessment", args=[case.pk])).context["form"]
    assert form.fields["decision"].disabled
    assert "destination" not in form.fields and "referred_to" not in form.fields


def test_a_referral_goes_to_the_clinics_own_list_only(client, therapist, case, mlm):
    """A destination of another clinic's list is refused; the form offers only this clinic's entries in use."""
    client.force_login(therapist)
    retired = listed(case, "Privat terapeut")
    retired.active = False
    retired.save(update_fields=["active"])

    elsewhere = transition(client, case, "referred", "", "", listed(Client(clinic_id=mlm.pk)).pk)
    to_retired = transition(client, case, "referred", "", "", retired.pk)
    offered = client.get(reverse("clients:detail", args=[case.pk])).context["transition_form"]

    assert (elsewhere.status_code, to_retired.status_code) == (400, 400)
    assert "referred_to" in elsewhere.context["transition_form"].errors
    assert set(offered.fields["referred_to"].queryset) == set(
        ReferralDestination.objects.filter(clinic_id=case.clinic_id, active=True)
    )
    assert retired not in offered.fields["referred_to"].queryset
    case.refresh_from_db()
    assert case.status == "contact"


def test_the_service_refuses_a_destination_no_longer_in_use_whoever_calls_it(case, therapist):
    retired = listed(case, "Privat terapeut")
    retired.active = False
    retired.save(update_fields=["active"])
    actor = Actor.for_user(therapist)
    steps_before = case.status_changes.count()

    with pytest.raises(ValidationError) as refused:
        services.client_transition(actor=actor, client=case, to_status="referred", referred_to=retired)

    assert refused.value.message_dict == {"referred_to": [_("Choose a destination of the clinic's list.")]}
    assert case.status_changes.count() == steps_before
