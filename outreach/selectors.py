"""Reads of the outreach activities: the clinic's list, through the one gate (Activity.objects.visible_to)."""

from __future__ import annotations

from django.shortcuts import get_object_or_404

from kast.models import User
from outreach.models import Activity, ActivityQuerySet


def activity_list(*, user: User) -> ActivityQuerySet:
    """The clinic's activities, newest first, with what the list shows fetched in two more queries."""
    return (
        Activity.objects.visible_to(user)
        .select_related("partner", "created_by")
        .prefetch_related("staff")
        .order_by("-date", "-id")
    )


def activity_get_for(*, user: User, activity_id: int) -> Activity:
    """One activity of the user's clinic; another clinic's does not exist (404)."""
    return get_object_or_404(Activity.objects.visible_to(user), pk=activity_id)
