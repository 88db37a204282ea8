"""Log review ("loggkontroll"): what a reviewer decided about an access the review queue flagged.

The queue itself is computed from the access log (audit.selectors.review_queue); a review is the
only thing stored, one per log entry, and like the log it is never changed or deleted.
"""

from __future__ import annotations

import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ReviewKind(models.TextChoices):
    EMERGENCY = "emergency", _("Opened outside the caseload (break the glass)")
    DENIED = "denied", _("Refused attempt to open a record")
    VOLUME = "volume", _("Many records opened within one hour")
    PRINT = "print", _("Printed")
    EXPORT = "export", _("Exported")
    ACCOUNT = "account", _("Change to a staff account (password reset, second factor, role or clinic)")


class Outcome(models.TextChoices):
    JUSTIFIED = "justified", _("Justified: nothing to follow up")
    FOLLOWED_UP = "followed_up", _("Followed up with the user or their manager")
    REPORTED = "reported", _("Reported as a possible breach of confidentiality")


class LogReview(models.Model):
    entry = models.OneToOneField("kast.AccessLogEntry", on_delete=models.PROTECT, related_name="review")
    kind = models.CharField(_("flagged as"), max_length=10, choices=ReviewKind.choices)
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices)
    comment = models.CharField(_("comment"), max_length=500, blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reviewed_at = models.DateTimeField(_("reviewed"), default=timezone.now)

    class Meta:
        verbose_name = _("log review")
        verbose_name_plural = _("log reviews")
        ordering = ["-reviewed_at"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=ReviewKind.values), name="logreview_kind_valid"),
            models.CheckConstraint(condition=Q(outcome__in=Outcome.values), name="logreview_outcome_valid"),
        ]
        triggers = [pgtrigger.Protect(name="review_is_final", operation=pgtrigger.Update | pgtrigger.Delete)]

    def __str__(self) -> str:
        return f"{self.entry_id} {self.outcome}"
