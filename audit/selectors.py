"""Reads of the log review: the access log filtered, and the queue of accesses that need a look."""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.db.models import Case, CharField, Count, Min, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Cast, TruncHour
from django.utils import timezone

from audit.models import ReviewKind
from clients.models import Client, EmergencyAccess
from clients.services import EMERGENCY_REASON_PREFIX
from kast.models import CALENDAR_FEED, AccessLogEntry, Role, User

Action = AccessLogEntry.Action
#: One user opening this many different records within one clock hour is unusual enough to look at.
VOLUME_LIMIT = 20


def access_log_visible_to(user: User) -> QuerySet[AccessLogEntry]:
    """Managers review their own clinic's log; an administrator without a clinic reviews all."""
    entries = AccessLogEntry.objects.select_related("user", "clinic")
    if user.role not in (Role.MANAGER, Role.ADMIN):
        return entries.none()
    if user.clinic_id is not None:
        # The clinic's own staff's entries, and anyone's refused attempt on one of the clinic's records:
        # a user of another clinic probing this clinic's records concerns this clinic's reviewer.
        tried_here = Q(
            action=AccessLogEntry.Action.DENIED,
            client_id__in=Client.objects.filter(clinic_id=user.clinic_id).values("pk"),
        )
        # And changes to the accounts of the clinic's staff, whoever made them (an administrator has no clinic).
        staff_changed = Q(
            action=AccessLogEntry.Action.ACCOUNT,
            object_type=User._meta.label_lower,
            object_id__in=User.objects.filter(clinic_id=user.clinic_id).values(pk_text=Cast("pk", CharField())),
        )
        entries = entries.filter(Q(clinic_id=user.clinic_id) | tried_here | staff_changed)
    # The client's code, not a foreign key: log rows outlive the records they name.
    return entries.annotate(client_code=Subquery(Client.objects.filter(pk=OuterRef("client_id")).values("code")[:1]))


def filtered_log(
    user: User,
    *,
    code: str = "",
    staff: User | None = None,
    start: datetime.date | None = None,
    end: datetime.date | None = None,
) -> QuerySet[AccessLogEntry]:
    """The reviewer's log, narrowed to one record (by code), one user and a period."""
    entries = access_log_visible_to(user)
    if code:
        entries = entries.filter(client_id__in=Client.objects.filter(code=code).values("pk"))
    if staff is not None:
        entries = entries.filter(user=staff)
    if start is not None:
        entries = entries.filter(at__gte=_midnight(start))
    if end is not None:
        entries = entries.filter(at__lt=_midnight(end + datetime.timedelta(days=1)))
    return entries


def _midnight(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def review_queue(user: User) -> QuerySet[AccessLogEntry]:
    """Entries waiting for review, oldest first: break-the-glass openings, refused attempts to open a record,
    bursts of many records within one hour (the burst's first entry), prints and exports, and changes to staff
    accounts (a password reset started or completed, a second factor removed, a new role or clinic)."""
    entries = access_log_visible_to(user)
    views = AccessLogEntry.objects.filter(action=Action.VIEW, client_id__isnull=False)
    if user.clinic_id is not None:
        views = views.filter(clinic_id=user.clinic_id)
    bursts = (
        views.annotate(hour=TruncHour("at"))
        .values("user_id", "hour")
        .annotate(records=Count("client_id", distinct=True), first=Min("pk"))
        .filter(records__gte=VOLUME_LIMIT)
        .values("first")
    )
    emergency = Q(reason__startswith=EMERGENCY_REASON_PREFIX)
    return (
        entries.filter(
            emergency
            # A calendar app fetching the therapist's feed every few minutes is routine, not an export to review.
            | (Q(action__in=[Action.PRINT, Action.EXPORT]) & ~Q(object_type=CALENDAR_FEED))
            | Q(action=Action.DENIED, client_id__isnull=False)
            | Q(action=Action.ACCOUNT)
            | Q(pk__in=bursts),
            review__isnull=True,
        )
        .annotate(
            kind=Case(
                When(emergency, then=Value(ReviewKind.EMERGENCY)),
                When(action=Action.DENIED, then=Value(ReviewKind.DENIED)),
                When(action=Action.PRINT, then=Value(ReviewKind.PRINT)),
                When(action=Action.EXPORT, then=Value(ReviewKind.EXPORT)),
                When(action=Action.ACCOUNT, then=Value(ReviewKind.ACCOUNT)),
                default=Value(ReviewKind.VOLUME),
                output_field=CharField(),
            )
        )
        .order_by("at", "pk")
    )


def emergency_reasons(entries: Iterable[AccessLogEntry]) -> dict[int, str]:
    """The stated reasons of the break-the-glass openings among `entries` (one query), by entry id."""
    ids = {
        entry.pk: int(entry.reason.removeprefix(EMERGENCY_REASON_PREFIX))
        for entry in entries
        if entry.reason.startswith(EMERGENCY_REASON_PREFIX)
    }
    reasons = dict(EmergencyAccess.objects.filter(pk__in=ids.values()).values_list("pk", "reason"))
    return {entry_id: reasons.get(access_id, "") for entry_id, access_id in ids.items()}


def queued_entry(user: User, entry_id: int) -> AccessLogEntry | None:
    return review_queue(user).filter(pk=entry_id).first()
