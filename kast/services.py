"""Writes of the cross-cutting part: the access log."""

from __future__ import annotations

import uuid

from django.db import models
from django.http import HttpRequest

from kast.models import AccessLogEntry


def client_ip(request: HttpRequest) -> str | None:
    # REMOTE_ADDR only: the reverse proxy must set it (e.g. gunicorn --forwarded-allow-ips);
    # X-Forwarded-For from the client would let anyone write any address into the log.
    return request.META.get("REMOTE_ADDR") or None


def access_log_record(
    *,
    request: HttpRequest,
    action: str,
    obj: models.Model | None = None,
    client_id: uuid.UUID | str | None = None,
    object_type: str = "",
    reason: str = "",
    path: str | None = None,
    user=None,
) -> AccessLogEntry:
    """Write one access-log row for the signed-in user's request.

    `obj` is the record touched; a client-owned record passes its client through `client_id`
    (a Client passes itself, records with a `client_id` field pass theirs). Only ids and the
    path go into the log, never content.
    """
    user = user or request.user  # `user`: whose key opened an anonymous request (a tablet code)
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        if client_id is None:
            client_id = obj.pk if obj._meta.label_lower == "clients.client" else getattr(obj, "client_id", None)
    if client_id is not None:
        try:
            client_id = uuid.UUID(str(client_id))
        except ValueError:
            client_id = None
    return AccessLogEntry.objects.create(
        user=user,
        role=user.role,
        clinic_id=user.clinic_id,
        action=action,
        client_id=client_id,
        object_type=object_type,
        object_id=str(obj.pk) if obj is not None else "",
        path=(request.path if path is None else path)[:300],
        ip=client_ip(request),
        reason=reason,
    )
