"""Reads of the cross-cutting part: the gates' common step, and the changes to an account its user is told about.
(The access log as a reviewer may see it is the log review's: audit.selectors.access_log_visible_to.)"""

from __future__ import annotations

from typing import TypeVar

from django.db import models
from django.db.models import QuerySet, Subquery
from django.http import Http404, HttpRequest
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from kast.actor import actor_of
from kast.models import AccessLogEntry, LoginEvent, User
from kast.services import access_log_record

M = TypeVar("M", bound=models.Model)


def get_client_owned_or_404(
    request: HttpRequest,
    visible: QuerySet[M],
    pk: object,
    *,
    action: str | None = AccessLogEntry.Action.VIEW,
    owner: str = "client_id",
) -> M:
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
            actor=actor_of(request),
            action=AccessLogEntry.Action.DENIED,
            client_id=client_id,
            object_type=model._meta.label_lower,
            reason=f"{model._meta.model_name}:{pk}",
        )
        raise Http404
    if action is not None:
        access_log_record(actor=actor_of(request), action=action, obj=record, client_id=getattr(record, owner))
    return record


def account_changes_untold(user: User) -> list[LoginEvent]:
    """Changes made to `user`'s account since she last signed in with both factors, oldest first. Asked once per
    login, before that login is written to the log, so each change is told once."""
    signed_in = [LoginEvent.Event.LOGIN, LoginEvent.Event.SECOND_FACTOR_SET_UP]
    last = LoginEvent.objects.filter(user=user, event__in=signed_in).order_by("-at", "-id").values("at")[:1]
    changes = LoginEvent.objects.filter(user=user, event__in=LoginEvent.ACCOUNT_CHANGES)
    if last.exists():
        changes = changes.filter(at__gt=Subquery(last))
    return list(changes.order_by("at", "id"))


def account_changes_notice(changes: list[LoginEvent]) -> str:
    """The message that tells a user what was changed on her account, and when."""
    listed = "; ".join(
        f"{formats.date_format(timezone.localtime(change.at), 'SHORT_DATETIME_FORMAT')} {change.get_event_display()}"
        for change in changes
    )
    return _(
        "Changes to your account since your last login: %(changes)s. If a change is unexpected, contact your unit "
        "manager or the system administrator."
    ) % {"changes": listed}
