"""Reads of client records. Every one goes through Client.objects.visible_to and is access-logged."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet
from django.http import Http404, HttpRequest

from clients.models import Client
from kast.models import AccessLogEntry
from kast.services import access_log_record


def client_list_for(user) -> QuerySet[Client]:
    return Client.objects.visible_to(user).select_related("responsible_therapist").order_by("code")


def get_client_for(request: HttpRequest, client_id: uuid.UUID, *, action: str = AccessLogEntry.Action.VIEW) -> Client:
    """The client, if the user may see it; writes the access-log entry either way.

    Not visible and not existing look the same (404), so ids cannot be probed.
    """
    client = (
        Client.objects.visible_to(request.user)
        .filter(pk=client_id)
        .select_related("clinic", "responsible_therapist")
        .first()
    )
    if client is None:
        access_log_record(
            request=request, action=AccessLogEntry.Action.DENIED, client_id=client_id, object_type="clients.client"
        )
        raise Http404
    access_log_record(request=request, action=action, obj=client)
    return client
