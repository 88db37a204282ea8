"""Reads of the advice contacts: the clinic's list and one contact, through the one gate
(AdviceContact.objects.visible_to: the clinic's therapists)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from advice.models import AdviceContact
from kast.models import User


def contact_list(*, user: User) -> QuerySet[AdviceContact]:
    """The clinic's advice contacts, newest first, with what the list shows joined in (one query a page)."""
    return (
        AdviceContact.objects.visible_to(user)
        .select_related("topic", "referred_to", "converted_to")
        .order_by("-date", "-logged_at", "-pk")
    )


def contact_get_for(*, user: User, contact_id: int) -> AdviceContact:
    """One advice contact of the user's clinic; another clinic's does not exist (404)."""
    return get_object_or_404(AdviceContact.objects.visible_to(user), pk=contact_id)
