"""Reads of the cross-cutting part: the access log as a reviewer may see it."""

from __future__ import annotations

from django.db.models import OuterRef, QuerySet, Subquery

from kast.models import AccessLogEntry, Role


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
