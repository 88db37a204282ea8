"""The client record. Anonymous by design: the system-generated code is the identity."""

from __future__ import annotations

import uuid

import pghistory
from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kast.models import Role


class ClientQuerySet(models.QuerySet):
    def visible_to(self, user) -> ClientQuerySet:
        """The one gate for reading clients: a therapist sees the cases they work on, in their clinic.

        Managers and administrators see no client record at all (they get figures, not files).
        """
        if not (user.is_authenticated and user.is_active and user.role == Role.THERAPIST):
            return self.none()
        on_case = Client.co_therapists.through.objects.filter(client=OuterRef("pk"), user=user)
        return self.filter(clinic_id=user.clinic_id).filter(Q(responsible_therapist=user) | Exists(on_case))


@pghistory.track()
class Client(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    clinic = models.ForeignKey(
        "kast.Clinic", verbose_name=_("clinic"), on_delete=models.PROTECT, related_name="clients"
    )
    code = models.CharField(_("client code"), max_length=20, unique=True)
    responsible_therapist = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("responsible therapist"),
        on_delete=models.PROTECT,
        related_name="responsible_for",
    )
    co_therapists = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("co-therapists"), related_name="co_therapist_for", blank=True
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    objects = ClientQuerySet.as_manager()

    class Meta:
        verbose_name = _("client")
        verbose_name_plural = _("clients")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["clinic", "responsible_therapist"], name="client_clinic_therapist")]

    def __str__(self) -> str:
        return self.code
