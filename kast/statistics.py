"""Figures for unit managers: counts only, from SQL aggregates, never a word of content."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Count, Q
from django.utils import timezone

from kast.models import Clinic
from sessions.models import HELD, Attendance, FollowUp, Note, TherapySession


@dataclass(frozen=True)
class ClinicSessionCounts:
    month_start: datetime.date
    held_this_month: int
    no_shows_this_month: int
    booked_next_7_days: int
    unsigned_notes: int
    unsigned_notes_waiting_long: int
    follow_ups_overdue: int
    follow_ups_due_30_days: int


def clinic_session_counts(clinic: Clinic, *, today: datetime.date | None = None) -> ClinicSessionCounts:
    """The clinic's sessions this month, bookings ahead, notes not yet signed, follow-ups due. Three queries."""
    today = today or timezone.localdate()
    month_start = today.replace(day=1)
    sessions = (
        TherapySession.objects.in_record()
        .filter(clinic=clinic)
        .aggregate(
            held=Count("pk", filter=Q(date__range=(month_start, today), attendance__in=HELD)),
            no_shows=Count("pk", filter=Q(date__range=(month_start, today), attendance=Attendance.NO_SHOW)),
            booked=Count(
                "pk",
                filter=Q(date__range=(today, today + datetime.timedelta(days=7)), attendance=Attendance.BOOKED),
            ),
        )
    )
    waiting_since = today - datetime.timedelta(days=clinic.draft_reminder_days)
    notes = Note.objects.filter(
        session__clinic=clinic, session__voided_at__isnull=True, signed_at__isnull=True
    ).aggregate(all=Count("pk"), waiting=Count("pk", filter=Q(session__date__lt=waiting_since)))
    follow_ups = FollowUp.objects.filter(client__clinic=clinic, done_on__isnull=True).aggregate(
        overdue=Count("pk", filter=Q(due_on__lt=today)),
        soon=Count("pk", filter=Q(due_on__range=(today, today + datetime.timedelta(days=30)))),
    )
    return ClinicSessionCounts(
        month_start=month_start,
        held_this_month=sessions["held"],
        no_shows_this_month=sessions["no_shows"],
        booked_next_7_days=sessions["booked"],
        unsigned_notes=notes["all"],
        unsigned_notes_waiting_long=notes["waiting"],
        follow_ups_overdue=follow_ups["overdue"],
        follow_ups_due_30_days=follow_ups["soon"],
    )
