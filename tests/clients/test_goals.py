"""The client's goals followed up (issue 18): goals as rows of a treatment period, kept or changed at a session,
reached or not at the end and at follow-up; field errors; only the record's therapists; what the database refuses."""

from __future__ import annotations

import datetime
import io
import zoneinfo

import pytest
import time_machine
from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from pypdf import PdfReader

from archive.services import record_remove
from clients import selectors
from clients.goals import ReviewInput, goal_add, goal_reviews_record
from clients.models import (
    AssessmentConversation,
    CaseStatus,
    Client,
    GoalMoment,
    GoalOutcome,
    GoalReview,
    TreatmentGoal,
)
from clients.services import emergency_access_open
from kast.actor import Actor
from kast.db_roles import owner_connection
from kast.models import AccessLogEntry
from sessions.models import SessionKind
from tests.factories import (
    AssessmentConversationFactory,
    ClientFactory,
    TherapySessionFactory,
    open_first_period,
    put_in_treatment,
)

pytestmark = pytest.mark.django_db

STOCKHOLM = zoneinfo.ZoneInfo("Europe/Stockholm")
YESTERDAY = timezone.localdate() - datetime.timedelta(days=1)


@pytest.fixture
def treated(case):
    return put_in_treatment(case)


def add_goal(record: Client, wording: str) -> TreatmentGoal:
    return goal_add(actor=Actor.for_user(record.responsible_therapist), client=record, wording=wording)


def held_session(record: Client, **kwargs):
    return TherapySessionFactory(client=record, date=YESTERDAY, **kwargs)


def review_url(record: Client, session) -> str:
    return reverse("clients:goal_review", args=[record.pk, session.pk])


def card_fields(session, goal: TreatmentGoal, outcome: str, wording: str = "") -> dict[str, str]:
    prefix = f"goals-{session.pk.hex[:8]}"
    return {f"{prefix}-outcome_{goal.pk}": outcome, f"{prefix}-new_wording_{goal.pk}": wording}


# -- goals as rows on the assessment conversation's page -------------------------------------------------------------


def test_goals_are_added_on_the_assessment_page_and_corrected_until_signed(client, therapist, case):
    client.force_login(therapist)
    response = client.post(reverse("clients:goal_add", args=[case.pk]), {"wording": "  Sluta köpa sex  "})
    assert response.status_code == 302
    client.post(reverse("clients:goal_add", args=[case.pk]), {"wording": "Berätta för partnern"})
    goals = list(TreatmentGoal.objects.filter(client=case).order_by("position"))
    assert [(g.wording, g.position, g.episode_id) for g in goals] == [
        ("Sluta köpa sex", 1, case.current_episode().pk),
        ("Berätta för partnern", 2, case.current_episode().pk),
    ]
    assert (
        AccessLogEntry.objects.filter(user=therapist, action="create", object_type="clients.treatmentgoal").count() == 2
    )

    page = client.get(reverse("clients:assessment", args=[case.pk])).content.decode()
    assert "Sluta köpa sex" in page
    assert reverse("clients:goal_edit", args=[case.pk, goals[0].pk]) in page

    response = client.post(
        reverse("clients:goal_edit", args=[case.pk, goals[0].pk]),
        {"wording": "Sluta köpa sex helt", "set_on": YESTERDAY.isoformat()},
    )
    assert response.status_code == 302
    goals[0].refresh_from_db()
    assert (goals[0].wording, goals[0].set_on) == ("Sluta köpa sex helt", YESTERDAY)

    # Signed: the goals stand as signed; a correction is refused, nothing changes.
    conversation = AssessmentConversationFactory(client=case, goals="Sluta köpa sex.")
    AssessmentConversation.objects.filter(pk=conversation.pk).update(signed_at=timezone.now(), signed_by=therapist)
    response = client.post(
        reverse("clients:goal_edit", args=[case.pk, goals[0].pk]), {"wording": "Annat", "set_on": YESTERDAY}
    )
    assert response.status_code == 302
    goals[0].refresh_from_db()
    assert goals[0].wording == "Sluta köpa sex helt"
    response = client.post(reverse("clients:goal_delete", args=[case.pk, goals[1].pk]))
    assert TreatmentGoal.objects.filter(pk=goals[1].pk).exists()
    # The conversation's own text is kept as its narrative.
    conversation.refresh_from_db()
    assert conversation.goals == "Sluta köpa sex."


def test_goals_written_only_in_the_conversations_text_are_asked_for_as_rows(client, therapist, case):
    AssessmentConversationFactory(client=case, goals="Sluta köpa sex. Berätta för partnern.")
    client.force_login(therapist)
    hint = _(
        "The conversation's text names the client's goals: add each one as a row below, so that it can be followed up."
    )

    assert hint in client.get(reverse("clients:assessment", args=[case.pk])).content.decode()
    add_goal(case, "Sluta köpa sex")
    assert hint not in client.get(reverse("clients:assessment", args=[case.pk])).content.decode()


def test_an_empty_goal_is_a_field_error(client, therapist, case):
    client.force_login(therapist)
    response = client.post(reverse("clients:goal_add", args=[case.pk]), {"wording": "   "})
    assert response.status_code == 400
    assert response.context["form"].errors["wording"]
    assert not TreatmentGoal.objects.exists()


def test_others_cannot_write_the_goals(client, therapist, colleague, other_clinic_therapist, manager, treated):
    goal = add_goal(treated, "Sluta köpa sex")
    session = held_session(treated)
    for user, status in [(colleague, 404), (other_clinic_therapist, 404), (manager, 403)]:
        client.force_login(user)
        assert client.post(reverse("clients:goal_add", args=[treated.pk]), {"wording": "X"}).status_code == status
        assert client.post(reverse("clients:goal_delete", args=[treated.pk, goal.pk])).status_code == status
        response = client.post(review_url(treated, session), card_fields(session, goal, "kept"))
        assert response.status_code == status
    assert TreatmentGoal.objects.count() == 1
    assert not GoalReview.objects.exists()


def test_a_colleague_by_break_the_glass_reads_the_goals_but_does_not_follow_them_up(
    client, therapist, colleague, treated
):
    goal = add_goal(treated, "Sluta köpa sex")
    session = held_session(treated)
    emergency_access_open(actor=Actor.for_user(colleague), client=treated, reason="Akut")
    client.force_login(colleague)
    assert "Sluta köpa sex" in client.get(reverse("clients:detail", args=[treated.pk])).content.decode()
    response = client.post(review_url(treated, session), card_fields(session, goal, "kept"))
    assert response.status_code == 302  # nothing to follow up for them: no form is offered
    assert not GoalReview.objects.exists()


# -- kept and changed at a session -----------------------------------------------------------------------------------


def test_goals_are_kept_or_changed_at_a_session_and_the_history_is_kept(client, therapist, treated):
    stop = add_goal(treated, "Sluta köpa sex")
    tell = add_goal(treated, "Berätta för partnern")
    session = held_session(treated)
    client.force_login(therapist)
    page = client.get(reverse("sessions:detail", args=[session.pk])).content.decode()
    assert review_url(treated, session) in page
    assert "Sluta köpa sex" in page

    response = client.post(
        review_url(treated, session),
        {
            **card_fields(session, stop, GoalOutcome.KEPT),
            **card_fields(session, tell, GoalOutcome.CHANGED, "Berätta för partnern före sommaren"),
        },
    )

    assert response.status_code == 302
    reviews = {r.goal_id: r for r in GoalReview.objects.all()}
    assert (reviews[stop.pk].outcome, reviews[stop.pk].moment, reviews[stop.pk].new_wording) == ("kept", "session", "")
    assert reviews[tell.pk].outcome == "changed"
    assert reviews[tell.pk].new_wording == "Berätta för partnern före sommaren"
    assert (reviews[tell.pk].reviewed_on, reviews[tell.pk].session_id, reviews[tell.pk].by) == (
        YESTERDAY,
        session.pk,
        therapist,
    )
    tell.refresh_from_db()
    assert tell.wording == "Berätta för partnern"  # not overwritten: the change is a review row
    record = client.get(reverse("clients:detail", args=[treated.pk])).content.decode()
    assert "Berätta för partnern före sommaren" in record
    assert "Berätta för partnern</span>" in record  # the first wording stays in the history
    # The session's card now shows what was recorded, with no second form for the same goals.
    page = client.get(reverse("sessions:detail", args=[session.pk])).content.decode()
    assert review_url(treated, session) not in page
    assert "Berätta för partnern före sommaren" in page


def test_a_follow_up_without_a_choice_or_a_change_without_wording_is_a_field_error(client, therapist, treated):
    stop = add_goal(treated, "Sluta köpa sex")
    tell = add_goal(treated, "Berätta för partnern")
    session = held_session(treated)
    client.force_login(therapist)

    response = client.post(
        review_url(treated, session),
        {**card_fields(session, stop, ""), **card_fields(session, tell, GoalOutcome.CHANGED, "  ")},
    )

    assert response.status_code == 400
    form = response.context["card"].form
    assert form.errors[f"outcome_{stop.pk}"] == [_("Choose how this goal stands.")]
    assert form.errors[f"new_wording_{tell.pk}"] == [_("Write the goal's new wording.")]
    assert not GoalReview.objects.exists()  # nothing half-saved
    # A value outside the list is a field error too, never a 500.
    response = client.post(review_url(treated, session), card_fields(session, stop, "reached"))
    assert response.status_code == 400
    assert not GoalReview.objects.exists()


def test_reached_is_not_a_session_outcome_and_a_booked_session_offers_no_form(client, therapist, treated):
    goal = add_goal(treated, "Sluta köpa sex")
    session = held_session(treated)
    with pytest.raises(Exception, match=_("Choose how this goal stands.")):
        goal_reviews_record(
            actor=Actor.for_user(therapist),
            client=treated,
            moment=GoalMoment.SESSION,
            reviews=[ReviewInput(goal, GoalOutcome.REACHED)],
            reviewed_on=YESTERDAY,
            session=session,
        )
    booked = TherapySessionFactory(
        client=treated, date=timezone.localdate() + datetime.timedelta(days=7), attendance="booked"
    )
    client.force_login(therapist)
    assert review_url(treated, booked) not in client.get(reverse("sessions:detail", args=[booked.pk])).content.decode()


# -- reached at the end and at follow-up ----------------------------------------------------------------------------


def test_the_end_of_treatment_asks_whether_each_goal_was_reached(client, therapist, treated):
    stop = add_goal(treated, "Sluta köpa sex")
    tell = add_goal(treated, "Berätta för partnern")
    client.force_login(therapist)
    url = reverse("sessions:end_treatment", args=[treated.pk])
    page = client.get(url).content.decode()
    assert "Sluta köpa sex" in page and _("Partly reached") in page
    today = timezone.localdate()  # the period opened today
    data = {"ended_on": today.isoformat(), "reason": "goal_reached", "long_term_check": "on"}

    # One goal without a choice: an error on it, and the treatment is not ended.
    response = client.post(url, {**data, f"goals-outcome_{stop.pk}": "reached"})
    assert response.status_code == 200
    assert response.context["goal_form"].errors == {f"outcome_{tell.pk}": [_("Choose how this goal stands.")]}
    treated.refresh_from_db()
    assert treated.status == CaseStatus.IN_TREATMENT
    assert not GoalReview.objects.exists()

    response = client.post(url, {**data, f"goals-outcome_{stop.pk}": "reached", f"goals-outcome_{tell.pk}": "partly"})

    assert response.status_code == 302
    treated.refresh_from_db()
    assert treated.status == CaseStatus.ENDED
    assert sorted(GoalReview.objects.values_list("goal_id", "moment", "outcome", "reviewed_on", "session")) == sorted(
        [(stop.pk, "end", "reached", today, None), (tell.pk, "end", "partly", today, None)]
    )


def test_the_follow_up_conversation_asks_whether_each_goal_was_reached(client, therapist, treated):
    goal = add_goal(treated, "Sluta köpa sex")
    session = held_session(treated, kind=SessionKind.FOLLOW_UP)
    client.force_login(therapist)
    page = client.get(reverse("sessions:detail", args=[session.pk])).content.decode()
    assert _("Partly reached") in page and _("Kept as it is") not in page

    response = client.post(review_url(treated, session), card_fields(session, goal, GoalOutcome.NOT_REACHED))

    assert response.status_code == 302
    review = GoalReview.objects.get()
    assert (review.moment, review.outcome, review.session_id) == ("follow_up", "not_reached", session.pk)


def test_the_goals_are_in_the_intake_summary_and_the_right_of_access_extract(client, therapist, treated):
    goal = add_goal(treated, "Sluta köpa sex")
    session = held_session(treated)
    goal_reviews_record(
        actor=Actor.for_user(therapist),
        client=treated,
        moment=GoalMoment.SESSION,
        reviews=[ReviewInput(goal, GoalOutcome.CHANGED, "Sluta köpa sex och porr")],
        reviewed_on=YESTERDAY,
        session=session,
    )
    client.force_login(therapist)
    for url in (
        reverse("clients:intake_pdf", args=[treated.pk]),
        reverse("archive:right_of_access", args=[treated.pk]),
    ):
        response = client.post(url)
        assert response.status_code == 200, url
        text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
        assert "Sluta köpa sex" in text, url
        assert "Sluta köpa sex och porr" in text, url


# -- what the database refuses -------------------------------------------------------------------------------------


def _review(goal: TreatmentGoal, **fields) -> None:
    row = {"goal": goal, "moment": "end", "outcome": "reached", "reviewed_on": YESTERDAY, "by": goal.created_by}
    with transaction.atomic():
        GoalReview.objects.create(**{**row, **fields})


def test_the_database_holds_the_goal_rules_for_the_runtime_role(treated):
    goal = add_goal(treated, "Sluta köpa sex")
    session = held_session(treated)
    for fields in (
        {"outcome": "nonsense"},
        {"moment": "nonsense"},
        {"moment": "session", "outcome": "reached", "session": session},  # reached only at the end or follow-up
        {"moment": "session", "outcome": "kept"},  # a session's review names its session
        {"moment": "end", "outcome": "kept"},
        {"moment": "session", "outcome": "changed", "session": session},  # changed without a new wording
        {"moment": "session", "outcome": "kept", "session": session, "new_wording": "X"},
    ):
        with pytest.raises(IntegrityError):
            _review(goal, **fields)
    with pytest.raises(IntegrityError), transaction.atomic():
        TreatmentGoal.objects.create(
            client=treated, episode=goal.episode, wording="", position=9, created_by=goal.created_by
        )

    _review(goal)
    with pytest.raises(IntegrityError):
        _review(goal)  # the end is reviewed once
    # Reviews are final, and a reviewed goal's wording is too (the tests run as the runtime role).
    with pytest.raises(DatabaseError), transaction.atomic():
        GoalReview.objects.update(outcome="partly")
    with pytest.raises(DatabaseError), transaction.atomic():
        GoalReview.objects.all().delete()
    with pytest.raises(DatabaseError), transaction.atomic():
        TreatmentGoal.objects.filter(pk=goal.pk).update(wording="Något annat")
    with pytest.raises(DatabaseError), transaction.atomic():
        TreatmentGoal.objects.filter(pk=goal.pk).delete()
    goal.refresh_from_db()
    assert goal.wording == "Sluta köpa sex"


# -- query counts -----------------------------------------------------------------------------------------------------


def _goals_with_changes(record: Client, therapist, numbers: range) -> None:
    for n in numbers:
        goal = add_goal(record, f"Mål {n}")
        goal_reviews_record(
            actor=Actor.for_user(therapist),
            client=record,
            moment=GoalMoment.SESSION,
            reviews=[ReviewInput(goal, GoalOutcome.CHANGED, f"Mål {n}, ändrat")],
            reviewed_on=YESTERDAY,
            session=held_session(record),
        )


def _page_queries(client, urls: list[str]) -> list[int]:
    counts = []
    for url in urls:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        counts.append(len(queries))
    return counts


def test_the_goal_parts_of_the_pages_take_a_fixed_number_of_queries(
    client, therapist, treated, django_assert_num_queries
):
    session = held_session(treated)
    client.force_login(therapist)
    urls = [
        reverse("clients:detail", args=[treated.pk]),
        reverse("clients:assessment", args=[treated.pk]),
        reverse("sessions:detail", args=[session.pk]),
    ]
    _goals_with_changes(treated, therapist, range(1))
    # The record's goals: the goals, then their reviews with who wrote them and at which session.
    with django_assert_num_queries(2):
        assert [g.current_wording for g in selectors.record_goals(treated)] == ["Mål 0, ändrat"]
    # The session's card: the goals, their reviews (the responsible therapist needs no look at the co-therapists).
    with django_assert_num_queries(2):
        assert len(selectors.goal_card(therapist, treated, session).form.goals) == 1
    with_one = _page_queries(client, urls)

    _goals_with_changes(treated, therapist, range(1, 6))

    with django_assert_num_queries(2):
        assert len(selectors.record_goals(treated)) == 6
    with django_assert_num_queries(2):
        assert len(selectors.goal_card(therapist, treated, session).form.goals) == 6
    assert _page_queries(client, urls) == with_one


def test_a_client_of_another_record_cannot_be_given_a_goal_review(therapist, treated):
    other = put_in_treatment(open_first_period(ClientFactory(responsible_therapist=therapist)))
    goal = add_goal(other, "Annan klients mål")
    session = held_session(treated)
    with pytest.raises(PermissionDenied):
        goal_reviews_record(
            actor=Actor.for_user(therapist),
            client=treated,
            moment=GoalMoment.SESSION,
            reviews=[ReviewInput(goal, GoalOutcome.KEPT)],
            reviewed_on=YESTERDAY,
            session=session,
        )


def test_retention_removes_the_goals_with_their_reviews(therapist):
    with time_machine.travel(datetime.datetime(2019, 3, 1, 10, tzinfo=STOCKHOLM), tick=False):
        record = put_in_treatment(open_first_period(ClientFactory(responsible_therapist=therapist)))
        session = TherapySessionFactory(client=record)
        goal = TreatmentGoal.objects.create(
            client=record, episode=record.episodes.get(), wording="Sluta köpa sex", created_by=therapist
        )
        GoalReview.objects.create(
            goal=goal, moment="session", outcome="kept", session=session, reviewed_on=session.date, by=therapist
        )
        GoalReview.objects.create(goal=goal, moment="end", outcome="reached", reviewed_on=session.date, by=therapist)

    with owner_connection():
        removal = record_remove(record_id=record.pk, today=datetime.date(2026, 1, 1))

    assert removal.counts["clients.GoalReview"] == 2
    assert removal.counts["clients.TreatmentGoal"] == 1
    assert not TreatmentGoal.objects.exists()
    assert not apps.get_model("clients", "TreatmentGoalEvent").objects.filter(client_id=record.pk).exists()
