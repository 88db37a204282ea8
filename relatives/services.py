"""Writes of relatives' records, links and support content. Each is one transaction and logged."""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from clients.models import Client, RecordKind, TargetGroup
from clients.services import client_register, client_update, constraint_violated
from kast.actor import Actor
from kast.locking import EditConflict, save_versioned
from kast.models import AccessLogEntry
from kast.services import access_log_record
from relatives.models import ChildPerspective, Goal, GoalStatus, ReactionReview, Relative, RelativeLink

Action = AccessLogEntry.Action


@transaction.atomic
def relative_register(
    *, actor: Actor, data: dict[str, Any], relation: str, link_to: Client | None = None, **consents: bool
) -> Client:
    """A relative's own record (code, treatment period, optional identity) and, when they come with
    a registered client, the link with each one's consent. A relative may come without one."""
    record = client_register(
        actor=actor, data={**data, "target_groups": [TargetGroup.RELATIVE]}, kind=RecordKind.RELATIVE
    )
    relative = Relative(record=record, relation=relation)
    relative.full_clean(exclude=["record"])
    relative.save()
    if link_to is not None:
        link_add(actor=actor, relative=record, client=link_to, **consents)
    return record


@transaction.atomic
def relative_update(*, actor: Actor, record: Client, version: int, data: dict[str, Any], relation: str) -> Client:
    """The relative's details and relation together; refused with EditConflict if saved since `version`."""
    record = client_update(actor=actor, client=record, version=version, data=data)
    relative = Relative.objects.select_for_update().get(record=record)
    relative.relation = relation
    relative.full_clean(exclude=["record"])
    relative.save(update_fields=["relation"])
    return record


@transaction.atomic
def link_add(
    *,
    actor: Actor,
    relative: Client,
    client: Client,
    client_consents: bool = False,
    relative_consents: bool = False,
) -> RelativeLink:
    """Link a relative to a client of the same clinic. Refused across clinics and when already linked."""
    if not relative.is_relative:
        raise ValidationError({"client_code": _("Only a relative's record can be linked to a client.")})
    if client.is_relative:
        raise ValidationError(
            {"client_code": _("%(code)s is a relative's record, not a client's.") % {"code": client.code}}
        )
    if client.clinic_id != relative.clinic_id:
        raise ValidationError(
            {
                "client_code": _("%(code)s is registered at another clinic; a link is only possible within one clinic.")
                % {"code": client.code}
            }
        )
    # Serialise links of one relative, so two tabs cannot both pass the check below.
    Client.objects.select_for_update().filter(pk=relative.pk).first()
    if RelativeLink.objects.active().filter(relative=relative, client=client).exists():
        raise ValidationError({"client_code": _("The relative is already linked to %(code)s.") % {"code": client.code}})
    link = RelativeLink(
        relative=relative,
        client=client,
        client_consents=client_consents,
        relative_consents=relative_consents,
        created_by=actor.user,
    )
    try:
        with transaction.atomic():
            link.save()
    except IntegrityError as error:  # the constraint, should a concurrent request win after all
        raise ValidationError({"client_code": _("The relative is already linked to this client.")}) from error
    access_log_record(actor=actor, action=Action.CREATE, obj=link)
    access_log_record(actor=actor, action=Action.UPDATE, obj=link, client_id=relative.pk)
    return link


@transaction.atomic
def link_consents_update(
    *, actor: Actor, link: RelativeLink, version: int, client_consents: bool, relative_consents: bool
) -> RelativeLink:
    if link.removed_at is not None:
        raise ValidationError(_("The link has been removed."))
    link.client_consents = client_consents
    link.relative_consents = relative_consents
    save_versioned(link, expected_version=version, fields=["client_consents", "relative_consents"])
    _log_both_sides(actor, link, Action.UPDATE)
    return link


@transaction.atomic
def link_remove(*, actor: Actor, link: RelativeLink, reason: str) -> RelativeLink:
    """End a link. Both records, every note and every joint session stay as they were."""
    link = RelativeLink.objects.select_for_update().get(pk=link.pk)
    if link.removed_at is not None:
        raise ValidationError(_("The link has already been removed."))
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the link is removed.")})
    link.removed_at = timezone.now()
    link.removed_by = actor.user
    link.removal_reason = reason.strip()
    link.save(update_fields=["removed_at", "removed_by", "removal_reason"])
    _log_both_sides(actor, link, Action.UPDATE)
    return link


def _log_both_sides(actor: Actor, link: RelativeLink, action: str) -> None:
    access_log_record(actor=actor, action=action, obj=link)
    access_log_record(actor=actor, action=action, obj=link, client_id=link.relative_id)


@transaction.atomic
def reactions_record(*, actor: Actor, record: Client, data: dict[str, Any]) -> ReactionReview:
    review = ReactionReview(relative=record, recorded_by=actor.user, **data)
    if ReactionReview.objects.filter(relative=record, reviewed_on=review.reviewed_on).exists():
        raise ValidationError({"reviewed_on": _("The reactions are already recorded for this date.")})
    review.full_clean()
    try:
        # The check above cannot see a review another request is saving right now; the constraint can.
        with transaction.atomic():
            review.save()
    except IntegrityError as error:
        if constraint_violated(error) != "reaction_review_once_a_day":
            raise
        raise ValidationError({"reviewed_on": _("The reactions are already recorded for this date.")}) from error
    access_log_record(actor=actor, action=Action.CREATE, obj=review, client_id=record.pk)
    return review


@transaction.atomic
def goal_add(*, actor: Actor, record: Client, text: str, set_on: datetime.date | None = None) -> Goal:
    goal = Goal(relative=record, text=text.strip(), created_by=actor.user)
    if set_on is not None:
        goal.set_on = set_on
    goal.full_clean()
    goal.save()
    access_log_record(actor=actor, action=Action.CREATE, obj=goal, client_id=record.pk)
    return goal


@transaction.atomic
def goal_status_set(*, actor: Actor, goal: Goal, status: str) -> Goal:
    goal.status = status
    goal.status_on = None if status == GoalStatus.OPEN else timezone.localdate()
    goal.full_clean()
    goal.save(update_fields=["status", "status_on"])
    access_log_record(actor=actor, action=Action.UPDATE, obj=goal, client_id=goal.relative_id)
    return goal


@transaction.atomic
def child_perspective_save(*, actor: Actor, record: Client, version: int, data: dict[str, Any]) -> ChildPerspective:
    """Create or update the record's child perspective; a stale save is refused (EditConflict)."""
    current = ChildPerspective.objects.filter(record=record).first()
    perspective = current or ChildPerspective(record=record)
    for name, value in data.items():
        setattr(perspective, name, value)
    perspective.updated_by = actor.acting_user()
    perspective.updated_at = timezone.now()
    perspective.full_clean(exclude=["record"])
    if current is None:
        try:
            with transaction.atomic():
                perspective.save(force_insert=True)
        except IntegrityError as error:  # another tab saved the first version meanwhile
            raise EditConflict(ChildPerspective.objects.get(record=record)) from error
        access_log_record(actor=actor, action=Action.CREATE, obj=perspective, client_id=record.pk)
    else:
        save_versioned(perspective, expected_version=version, fields=[*data, "updated_by", "updated_at"])
        access_log_record(actor=actor, action=Action.UPDATE, obj=perspective, client_id=record.pk)
    return perspective
