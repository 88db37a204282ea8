"""Writes of the log review: a reviewer's decision on one flagged access."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from audit.models import LogReview
from kast.actor import Actor
from kast.models import AccessLogEntry

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations  # the types only: django-stubs-ext is a development requirement


class QueuedAnnotations(TypedDict):
    """What audit.selectors.review_queue adds to each entry: why it is queued (a ReviewKind)."""

    kind: str


@transaction.atomic
def review_record(
    *, actor: Actor, entry: WithAnnotations[AccessLogEntry, QueuedAnnotations], outcome: str, comment: str = ""
) -> LogReview:
    """Who reviewed the flagged access, when, and the outcome. Final once written.

    `entry` comes from the review queue (audit.selectors.queued_entry), which says why it is queued."""
    review = LogReview(entry=entry, kind=entry.kind, outcome=outcome, comment=comment.strip(), reviewed_by=actor.user)
    review.full_clean(exclude=["entry"])
    try:
        with transaction.atomic():
            review.save()
    except IntegrityError as error:  # reviewed meanwhile, in another tab or by a colleague
        raise ValidationError(_("Someone has already reviewed this entry.")) from error
    return review
