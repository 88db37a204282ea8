"""Reads of the cross-cutting part: the access log as a reviewer may see it, and the gates' common step."""

from __future__ import annotations

from django.db import models
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import Http404, HttpRequest

from kast.models import AccessLogEntry, Role
from kast.services import access_log_record


def get_client_owned_or_404(
    request: HttpRequest,
    visible: QuerySet,
    pk: object,
    *,
    action: str | None = AccessLogEntry.Action.VIEW,
    owner: str = "client_id",
) -> models.Model:
    """The record `pk` from `visible` (a model's gate queryset, already narrowed to the user), logged.

    Not visible and not existing look the same (404), so ids cannot be probed; the refusal is
    logged with the client it concerns, for the log review (never shown to the user). `owner`
    names the field that holds that client (a relative's goal: `relative_id`).
    """
    record = visible.filter(pk=pk).first()
    model = visible.model
    if record is None:
        client_id = model._default_manager.filter(pk=pk).values_list(owner, flat=True).first()
        access_log_record(
            request=request,
            action=AccessLogEntry.Action.DENIED,
            client_id=client_id,
            object_type=model._meta.label_lower,
            reason=f"{model._meta.model_name}:{pk}",
        )
        raise Http404
    if action is not None:
        access_log_record(request=request, action=action, obj=record, client_id=getattr(record, owner))
    return record


def access_log_visible_to(user) -> QuerySet[AccessLogEntry]:
    """Managers review their own clinic's log; an administrator without a clinic reviews all."""
    from clients.models import Client

    entries = AccessLogEntry.objects.select_related("user", "clinic")
    if user.role not in (Role.MANAGER, Role.ADMIN):
        return entries.none()
    if user.clinic_id is not None:
        entries = entries.filter(clinic_id=user.clinic_id)
    # The client's code, not a foreign key: log rows outlive the records they name.
    return entries.annotate(client_code=Subquery(Client.objects.filter(pk=OuterRef("client_id")).values("code")[:1]))
