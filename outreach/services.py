"""Writes of the outreach activities: keyword-only, an actor, one transaction, full_clean before saving."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.db import transaction

from kast.actor import Actor
from kast.models import Role, User
from outreach.models import Activity, Partner

#: Who records the clinic's outreach: its therapists, who do most of it, and its unit manager, who gives many of
#: the lectures and meets the police and health care. The activities are the clinic's, not a client's, so any of
#: them may correct one another's entries (the list shows who recorded each).
RECORDERS = frozenset({Role.THERAPIST, Role.MANAGER})


def _recorder(actor: Actor) -> User:
    user = actor.acting_user()
    if user.role not in RECORDERS or user.clinic_id is None:
        raise PermissionDenied
    return user


def _staff_of(clinic_id: int, staff: Iterable[User]) -> list[User]:
    chosen = list(staff)
    if any(member.clinic_id != clinic_id for member in chosen):
        raise PermissionDenied  # the form offers the clinic's staff only; anything else is not a slip
    return chosen


@transaction.atomic
def activity_record(
    *,
    actor: Actor,
    kind: str,
    date: datetime.date,
    hours: Decimal,
    staff: Iterable[User],
    audience_kind: str,
    audience_size: int,
    partner: Partner | None = None,
    description: str = "",
) -> Activity:
    """Record an activity of the actor's clinic."""
    user = _recorder(actor)
    assert user.clinic_id is not None
    activity = Activity(
        clinic_id=user.clinic_id,
        kind=kind,
        date=date,
        hours=hours,
        audience_kind=audience_kind,
        audience_size=audience_size,
        partner=partner,
        description=description,
        created_by=user,
    )
    activity.full_clean()
    activity.save()
    activity.staff.set(_staff_of(user.clinic_id, staff))
    return activity


@transaction.atomic
def activity_update(
    *,
    actor: Actor,
    activity: Activity,
    kind: str,
    date: datetime.date,
    hours: Decimal,
    staff: Iterable[User],
    audience_kind: str,
    audience_size: int,
    partner: Partner | None = None,
    description: str = "",
) -> Activity:
    """Correct an activity of the actor's own clinic."""
    user = _recorder(actor)
    if activity.clinic_id != user.clinic_id:
        raise PermissionDenied
    activity.kind = kind
    activity.date = date
    activity.hours = hours
    activity.audience_kind = audience_kind
    activity.audience_size = audience_size
    activity.partner = partner
    activity.description = description
    activity.full_clean()
    activity.save()
    activity.staff.set(_staff_of(activity.clinic_id, staff))
    return activity
