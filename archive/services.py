"""Writes of the records office: retention holds, and removing a record whose retention time has run out.

Removal is the one place where signed notes and addenda are deleted: their triggers refuse it
everywhere else, and are set aside here, by name, inside the removal's own transaction.
"""

from __future__ import annotations

import datetime
import logging
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypedDict

import pghistory.trigger
import pgtrigger
from django.apps import apps
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from pghistory.models import Context, Event
from pgtrigger import registry

from archive.models import RemovalRecord, RetentionHold
from archive.selectors import retention_cutoff, with_last_entry
from assessments.models import Administration
from clients.models import Client, GoalReview, PartAddendum
from groups.models import GroupMember
from kast.actor import Actor
from kast.models import AccessLogEntry
from kast.services import access_log_record
from relatives.models import RelativeLink
from sessions.models import Addendum, FollowUp, Note, SessionParticipant, TherapySession

if TYPE_CHECKING:
    pass  # the types only: django-stubs-ext is a development requirement

logger = logging.getLogger(__name__)

#: The triggers that keep signed notes, their themes, methods and addenda final, the signed assessment conversation
#: and deep interview with their addenda, and a locked family map's rows and error marks. Removal, and nothing else,
#: sets them aside.
FINAL_NOTE_TRIGGERS = (
    "therapy_sessions.Note:signed_note_is_final",
    "therapy_sessions.NoteTheme:signed_note_themes_are_final",
    "therapy_sessions.NoteMethod:signed_note_methods_are_final",
    "therapy_sessions.Addendum:addendum_is_final",
    "clients.AssessmentConversation:signed_assessment_is_final",
    "clients.DeepInterviewSection:signed_section_is_final",
    "clients.PartAddendum:part_addendum_is_final",
    "clients.GoalReview:goal_review_is_final",
    "clients.TreatmentGoal:reviewed_goal_is_final",
    "clients.FamilyMember:family_member_error_mark_is_final",
    "clients.FamilyMember:family_member_kept_once_locked",
    "clients.FamilyRelationship:relationship_error_mark_is_final",
    "clients.FamilyRelationship:relationship_kept_once_locked",
)


class RecordIds(TypedDict):
    """The removed record's id and the ids of its treatment periods, for finding their history rows."""

    client: uuid.UUID
    episodes: list[int]


class RetentionAnnotations(TypedDict):
    """What archive.selectors.with_last_entry adds to a record: its last entry's date, and whether it is held."""

    last_entry: datetime.date
    held: bool


#: Each history table (django-pghistory's event models) and how its rows name the removed record.
#: `ids` holds the record's id and the ids of its treatment periods. tests/archive/test_retention.py
#: fails when a tracked model that belongs to a record is missing here.
HISTORY: dict[str, Callable[[RecordIds], Q]] = {
    "clients.ClientEvent": lambda ids: Q(pgh_obj_id=ids["client"]),
    "clients.AssessmentConversationEvent": lambda ids: Q(episode_id__in=ids["episodes"]),
    "clients.DeepInterviewSectionEvent": lambda ids: Q(client_id=ids["client"]),
    "clients.FamilyMemberEvent": lambda ids: Q(client_id=ids["client"]),
    "clients.FamilyRelationshipEvent": lambda ids: Q(client_id=ids["client"]),
    "clients.TreatmentGoalEvent": lambda ids: Q(client_id=ids["client"]),
    "therapy_sessions.TherapySessionEvent": lambda ids: Q(client_id=ids["client"]),
    "therapy_sessions.FollowUpEvent": lambda ids: Q(client_id=ids["client"]),
    "relatives.RelativeEvent": lambda ids: Q(record_id=ids["client"]),
    "relatives.RelativeLinkEvent": lambda ids: Q(relative_id=ids["client"]) | Q(client_id=ids["client"]),
    "relatives.GoalEvent": lambda ids: Q(relative_id=ids["client"]),
    "relatives.ChildPerspectiveEvent": lambda ids: Q(record_id=ids["client"]),
}


class NotDue(Exception):
    """The record is held, or has had a new entry since it was listed: it is not removed."""


def _hold_logged(*, actor: Actor, hold: RetentionHold, what: str) -> None:
    access_log_record(
        actor=actor,
        action=AccessLogEntry.Action.UPDATE,
        obj=hold,
        client_id=hold.client_id,
        reason=f"retention_hold_{what}",
    )


@transaction.atomic
def retention_hold_save(*, actor: Actor, hold: RetentionHold) -> RetentionHold:
    """Place a hold (or change its reason): the record is kept past its retention time until the hold is lifted."""
    placed = hold.pk is None
    if placed:
        hold.placed_by = actor.acting_user()
    hold.full_clean()
    hold.save()
    _hold_logged(actor=actor, hold=hold, what="placed" if placed else "changed")
    return hold


@transaction.atomic
def retention_hold_lift(*, actor: Actor, hold: RetentionHold) -> None:
    """Lift a hold: the record goes at the next retention run if its time has run out."""
    _hold_logged(actor=actor, hold=hold, what="lifted")
    hold.delete()


@dataclass
class Removal:
    """What removing one record deletes (or, in a dry run, would delete): codes and counts only."""

    code: str
    kind: str
    last_entry: datetime.date
    counts: Counter[str] = field(default_factory=Counter)
    joint_sessions_kept: int = 0

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _deleted(counts: Counter[str], result: tuple[int, dict[str, int]]) -> None:
    counts.update({label: n for label, n in result[1].items() if n})


def record_remove(*, record_id: uuid.UUID, today: datetime.date, dry_run: bool = False) -> Removal:
    """Remove one record whose retention time has run out, with everything that hangs on it, in one transaction.

    Deleted: the record and its treatment periods, status history, assessment conversations, deep interview,
    family map, follow-ups, questionnaires with their answers and tablet codes, a relative's profile, reactions,
    goals and child perspective, the links between the record and others (the other record stays), sessions
    logged on it with their notes (drafts and signed) and addenda, its places in others' couple or group
    sessions, and the history rows of all of these. A couple or group session logged on the record whose other
    participants remain is kept for them: it moves to one of them (the first by code), since it is part of
    their records too. Kept: the access log (ids only, kept at least as long), and a RemovalRecord.

    Under a lock on the record, the last entry and the hold are looked at again, so a session written since the
    record was listed, or a hold placed since, saves it (`NotDue`). With `dry_run` everything is done and
    then rolled back, so the counts are exactly what `--apply` would remove.
    """
    with transaction.atomic():
        record = (
            with_last_entry(Client.objects.select_for_update(of=("self",)).filter(pk=record_id))
            .only("id", "code", "kind", "clinic_id")
            .first()
        )
        if record is None or record.held or record.last_entry >= retention_cutoff(today):
            raise NotDue(record_id)
        removal = Removal(code=record.code, kind=record.kind, last_entry=record.last_entry)
        _remove(record, removal)
        if dry_run:
            transaction.set_rollback(True)
        else:
            RemovalRecord.objects.create(
                code=record.code,
                client_id=record.pk,
                kind=record.kind,
                clinic_id=record.clinic_id,
                last_entry=record.last_entry,
                counts=dict(sorted(removal.counts.items())),
                joint_sessions_kept=removal.joint_sessions_kept,
            )
            logger.info(
                "Retention removed %s (%s, last entry %s): %s rows %s; %s joint sessions kept for other participants.",
                record.code,
                record.kind,
                record.last_entry,
                removal.total,
                dict(sorted(removal.counts.items())),
                removal.joint_sessions_kept,
            )
    return removal


def _remove(record: Client, removal: Removal) -> None:
    counts = removal.counts
    ids: RecordIds = {"client": record.pk, "episodes": list(record.episodes.values_list("pk", flat=True))}

    # Joint sessions logged here that others attended stay with them: logged on the first other participant.
    own = TherapySession.objects.filter(client=record)
    others = (
        SessionParticipant.objects.filter(session__in=own)
        .exclude(client=record)
        .order_by("session_id", "client__code")
        .values_list("pk", "session_id", "client_id", "episode_id")
    )
    moved: dict[uuid.UUID, tuple[int, uuid.UUID, int]] = {}
    for pk, session_id, client_id, episode_id in others:
        moved.setdefault(session_id, (pk, client_id, episode_id))
    for session_id, (participant_id, client_id, episode_id) in moved.items():
        TherapySession.objects.filter(pk=session_id).update(client_id=client_id, episode_id=episode_id)
        SessionParticipant.objects.filter(pk=participant_id).delete()
    removal.joint_sessions_kept = len(moved)

    # Its places in couple and group sessions logged on other records (those sessions stay there).
    _deleted(counts, SessionParticipant.objects.filter(client=record).delete())
    # Its places in group programmes, with its attendance (cascading); the programme, its meetings and their notes
    # stay with the group (a note's parts are each side's, not this person's own record).
    _deleted(counts, GroupMember.objects.filter(record=record).delete())
    _deleted(counts, FollowUp.objects.filter(client=record).delete())
    sessions = TherapySession.objects.filter(client=record)
    # Signed notes and addenda are final everywhere else; and a removal writes no history snapshot of what it removes.
    with pgtrigger.ignore(*FINAL_NOTE_TRIGGERS, *_history_delete_triggers()):
        _deleted(counts, Addendum.objects.filter(note__session__in=sessions).delete())
        _deleted(counts, Note.objects.filter(session__in=sessions).delete())
        # The goals' reviews point at the goals and at sessions, which they keep (PROTECT): they go before both.
        _deleted(counts, GoalReview.objects.filter(goal__client=record).delete())
        _deleted(counts, sessions.delete())
        _deleted(counts, Administration.objects.filter(client=record).delete())
        _deleted(counts, RelativeLink.objects.filter(Q(relative=record) | Q(client=record)).delete())
        _deleted(
            counts,
            PartAddendum.objects.filter(Q(section__client=record) | Q(conversation__episode__client=record)).delete(),
        )
        # The rest cascades from the record: periods, status changes, assessment, interview, family map, a
        # relative's profile, reactions, goals, child perspective, co-therapists.
        _deleted(counts, Client.objects.filter(pk=record.pk).delete())
    _history_remove(ids, counts)


def _history_delete_triggers() -> list[str]:
    """django-pghistory's triggers that copy a row into its history table when the row is deleted."""
    return [
        trigger.get_uri(model)
        for model, trigger in registry.registered()
        if isinstance(trigger, pghistory.trigger.Event) and "DELETE" in str(trigger.operation)
    ]


def _history_remove(ids: RecordIds, counts: Counter[str]) -> None:
    """The record's history rows (last: deleting a session writes one), and contexts no other history row uses."""
    contexts: set[uuid.UUID] = set()
    for label, rows_of in HISTORY.items():
        rows = apps.get_model(label).objects.filter(rows_of(ids))
        contexts.update(c for c in rows.values_list("pgh_context_id", flat=True).distinct() if c is not None)
        _deleted(counts, rows.delete())
    if contexts:
        unused = Context.objects.filter(pk__in=contexts)
        for model in event_models():
            # Each of our event models has pghistory's context field; the abstract Event does not declare it.
            unused = unused.exclude(Exists(model.objects.filter(pgh_context_id=OuterRef("pk"))))  # type: ignore[misc]
        _deleted(counts, unused.delete())


def event_models() -> list[type[Event]]:
    return [model for model in apps.get_models() if issubclass(model, Event)]
