"""Writes of the client's treatment goals and their reviews: one transaction each, the record's therapists only,
access-logged. Reads are in clients.selectors (goals_of, record_goals)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from clients.models import (
    REACHED_OUTCOMES,
    SESSION_OUTCOMES,
    AssessmentConversation,
    Client,
    Episode,
    GoalMoment,
    GoalOutcome,
    GoalReview,
    TreatmentGoal,
)
from kast.actor import Actor
from kast.models import AccessLogEntry
from kast.services import access_log_record
from sessions.models import TherapySession

Action = AccessLogEntry.Action

#: A goal is changed directly only until it is part of a signed conversation or has been looked at again.
GOAL_IS_SET = _lazy(
    "This goal is part of a signed assessment conversation or has been followed up: record a change at a session."
)


@dataclass(frozen=True)
class ReviewInput:
    """One goal's review as a form gives it."""

    goal: TreatmentGoal
    outcome: str
    new_wording: str = ""


def _check_record_therapist(actor: Actor, client: Client) -> None:
    # The goals are the record's: written and followed up by its therapists (Client.is_record_therapist).
    if not client.is_record_therapist(actor.acting_user()):
        raise PermissionDenied("only the therapists of the record write its goals")


def _locked(client: Client) -> Client:
    """The record's row, locked: goals' positions and a period's end are decided one at a time."""
    return Client.objects.select_for_update().get(pk=client.pk)


def goal_is_editable(goal: TreatmentGoal) -> bool:
    """Before its period's conversation is signed and before any review: afterwards a change is a review."""
    signed = AssessmentConversation.objects.filter(episode_id=goal.episode_id, signed_at__isnull=False).exists()
    return not signed and not goal.reviews.exists()


@transaction.atomic
def goal_add(*, actor: Actor, client: Client, wording: str, set_on: datetime.date | None = None) -> TreatmentGoal:
    """A new goal for the client's current treatment period, last in its list. A period that has closed takes no
    new goals (its follow-up reviews the goals it had)."""
    _check_record_therapist(actor, client)
    client = _locked(client)
    episode = client.current_episode()
    if episode is None or episode.closed_on is not None:
        raise ValidationError(_("Goals are set for a treatment period that is still open."))
    last = TreatmentGoal.objects.filter(episode=episode).aggregate(last=Max("position"))["last"] or 0
    goal = TreatmentGoal(
        client=client,
        episode=episode,
        wording=wording.strip(),
        set_on=set_on or timezone.localdate(),
        position=last + 1,
        created_by=actor.acting_user(),
    )
    goal.full_clean()
    goal.save()
    access_log_record(actor=actor, action=Action.CREATE, obj=goal)
    return goal


def _editable_goal(actor: Actor, client: Client, goal: TreatmentGoal) -> TreatmentGoal:
    _check_record_therapist(actor, client)
    _locked(client)  # a signature or a review of the period waits for this change, or this one sees it
    goal = TreatmentGoal.objects.select_for_update().get(pk=goal.pk)
    if goal.client_id != client.pk:  # never from the pages: they look the goal up on the record
        raise PermissionDenied("not this record's goal")
    if not goal_is_editable(goal):
        raise ValidationError(GOAL_IS_SET)
    return goal


@transaction.atomic
def goal_update(
    *, actor: Actor, client: Client, goal: TreatmentGoal, wording: str, set_on: datetime.date | None = None
) -> TreatmentGoal:
    """Correct a goal's wording or date before the conversation is signed and before any review."""
    goal = _editable_goal(actor, client, goal)
    goal.wording, goal.set_on = wording.strip(), set_on or goal.set_on
    goal.full_clean()
    goal.save(update_fields=["wording", "set_on"])
    access_log_record(actor=actor, action=Action.UPDATE, obj=goal)
    return goal


@transaction.atomic
def goal_delete(*, actor: Actor, client: Client, goal: TreatmentGoal) -> None:
    """Remove a goal written by mistake, under the same rule as a correction (the history keeps it)."""
    goal = _editable_goal(actor, client, goal)
    access_log_record(actor=actor, action=Action.UPDATE, obj=goal, reason="deleted")
    goal.delete()


def _allowed_outcomes(moment: str) -> tuple[GoalOutcome, ...]:
    return SESSION_OUTCOMES if moment == GoalMoment.SESSION else REACHED_OUTCOMES


@transaction.atomic
def goal_reviews_record(
    *,
    actor: Actor,
    client: Client,
    moment: str,
    reviews: list[ReviewInput],
    reviewed_on: datetime.date,
    session: TherapySession | None = None,
) -> list[GoalReview]:
    """Record how the client's goals stand: kept or changed at a session; reached, partly or not at the end of
    treatment and at a follow-up. Errors are keyed by the form's field names (`outcome_<goal id>`,
    `new_wording_<goal id>`), so the page shows each one on its goal; nothing is saved unless all are valid."""
    _check_record_therapist(actor, client)
    _locked(client)
    if moment not in GoalMoment.values:
        raise ValueError(f"no such moment: {moment}")
    if session is not None and session.client_id != client.pk:
        raise PermissionDenied("not this record's session")
    if moment != GoalMoment.END and session is None:
        raise ValueError("a review at a session or a follow-up names the session")
    errors: dict[str, list[str]] = {}
    rows = []
    allowed = _allowed_outcomes(moment)
    for review in reviews:
        goal = review.goal
        if goal.client_id != client.pk or (session is not None and goal.episode_id != session.episode_id):
            raise PermissionDenied("not this record's goal, or not of the session's treatment period")
        if review.outcome not in allowed:
            errors[f"outcome_{goal.pk}"] = [_("Choose how this goal stands.")]
            continue
        wording = review.new_wording.strip() if review.outcome == GoalOutcome.CHANGED else ""
        if review.outcome == GoalOutcome.CHANGED and not wording:
            errors[f"new_wording_{goal.pk}"] = [_("Write the goal's new wording.")]
            continue
        rows.append(
            GoalReview(
                goal=goal,
                moment=moment,
                outcome=review.outcome,
                new_wording=wording,
                reviewed_on=reviewed_on,
                session=session if moment != GoalMoment.END else None,
                by=actor.acting_user(),
            )
        )
    if errors:
        raise ValidationError(errors)
    for row in rows:
        row.full_clean(exclude=["goal", "session", "by"], validate_constraints=False)
    try:
        # A savepoint: a second tab's review of the same end or session meets the unique constraints.
        with transaction.atomic():
            saved = GoalReview.objects.bulk_create(rows)
    except IntegrityError:
        raise ValidationError(_("These goals were followed up here already. Reload the page to see it.")) from None
    for row in saved:
        access_log_record(actor=actor, action=Action.CREATE, obj=row, client_id=client.pk)
    return saved


def goal_reviews_at_end(
    *, actor: Actor, client: Client, episode: Episode, reviews: list[ReviewInput], on: datetime.date
) -> list[GoalReview]:
    """The end of treatment asks of every goal of the period whether it was reached: one missing is an error on it.
    Called inside sessions.services.treatment_end's transaction."""
    given = {review.goal.pk for review in reviews}
    missing = TreatmentGoal.objects.filter(episode=episode).exclude(pk__in=given).values_list("pk", flat=True)
    errors = {f"outcome_{pk}": [_("Choose how this goal stands.")] for pk in missing}
    if errors:
        raise ValidationError(errors)
    if any(review.goal.episode_id != episode.pk for review in reviews):
        raise PermissionDenied("not this period's goal")
    if not reviews:
        return []
    return goal_reviews_record(actor=actor, client=client, moment=GoalMoment.END, reviews=reviews, reviewed_on=on)
