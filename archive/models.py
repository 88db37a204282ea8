"""The records office: holds that keep a record past its retention time, and what retention removed.

Retention ("gallring", SoL 12 kap. 1 §) removes a record five full calendar years after its last
entry (see `archive.selectors.retention_cutoff`); a `RetentionHold` exempts one record, and each
removal leaves a `RemovalRecord`: the code and how many rows of each kind went, never content.
"""

from __future__ import annotations

import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class RetentionHold(models.Model):
    """A record exempted from retention, e.g. while a complaint, an appeal or a request from a court or
    the supervisory authority (IVO) needs it. Placed and lifted by an administrator, with the reason."""

    client = models.OneToOneField(
        "clients.Client", verbose_name=_("record"), on_delete=models.CASCADE, related_name="retention_hold"
    )
    reason = models.CharField(
        _("reason"),
        max_length=300,
        help_text=_("Why the record must be kept past its retention time, e.g. a decision or a case number."),
    )
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("placed by"), on_delete=models.PROTECT, related_name="+"
    )
    placed_at = models.DateTimeField(_("placed"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("retention hold")
        verbose_name_plural = _("retention holds")
        ordering = ["-placed_at"]
        constraints = [models.CheckConstraint(condition=~Q(reason=""), name="retention_hold_has_reason")]

    def __str__(self) -> str:
        return f"{self.client_id}"


class RemovalRecord(models.Model):
    """One record removed by retention: which (its code and id), when, and how many rows of each kind.

    The only trace a removed record leaves besides the access log, so the clinic can show what was
    removed and when. Codes and counts only; PostgreSQL refuses UPDATE and DELETE.
    """

    code = models.CharField(_("record code"), max_length=20)
    # The bare id, as the access log keeps it: the log's rows about the record can still be found.
    client_id = models.UUIDField(_("record id"))
    kind = models.CharField(_("record of"), max_length=10)
    clinic = models.ForeignKey(
        "kast.Clinic", verbose_name=_("clinic"), on_delete=models.PROTECT, related_name="removal_records"
    )
    last_entry = models.DateField(_("last entry"))
    removed_at = models.DateTimeField(_("removed"), default=timezone.now, editable=False)
    #: "<app>.<Model>" (or a many-to-many table's name) -> rows deleted.
    counts = models.JSONField(_("rows removed per kind"), default=dict)
    #: Couple or group sessions logged on the removed record that stay on another participant's record.
    joint_sessions_kept = models.PositiveIntegerField(_("joint sessions kept for other participants"), default=0)

    class Meta:
        verbose_name = _("removed record")
        verbose_name_plural = _("removed records")
        ordering = ["-removed_at", "-id"]
        indexes = [models.Index(fields=["clinic", "-removed_at"], name="removalrecord_clinic_at")]
        triggers = [pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete)]

    def __str__(self) -> str:
        return f"{self.code} {self.removed_at:%Y-%m-%d}"

    @property
    def total(self) -> int:
        return sum(self.counts.values())
