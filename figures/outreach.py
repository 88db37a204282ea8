"""The clinic's outreach and attitude work in figures: activities, hours and audience by kind, for a period.

No small-number suppression here (figures.suppression protects counts of persons): an activity is the clinic's
work, not a person, its hours are staff time, and its audience is an estimate of a group that names nobody; a
clinic's single lecture to the police says nothing about any client or relative. So the counts are shown as they
are, to the clinic and, across clinics, to national follow-up; the activities' descriptions never reach figures.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, Sum

from outreach.models import Activity, Kind


@dataclass(frozen=True)
class OutreachRow:
    kind: str  # a Kind value, or "total"
    label: str
    activities: int
    hours: Decimal
    audience: int


def outreach_by_kind(
    *, clinic_id: int | None, start: datetime.date, end: datetime.date, therapist_id: int | None = None
) -> list[OutreachRow]:
    """One row per kind (in Kind's order, zeros included) and a total, for activities dated in [start, end];
    one clinic's or (clinic_id None) every clinic's; with `therapist_id`, only those the therapist took part in.
    One query."""
    activities = Activity.objects.filter(date__gte=start, date__lte=end)
    if clinic_id is not None:
        activities = activities.filter(clinic_id=clinic_id)
    if therapist_id is not None:
        activities = activities.filter(staff__id=therapist_id)
    # Sums over the activities themselves, not over a join with their staff (an activity of three counts once).
    sums: dict[str, dict[str, Any]] = {
        row["kind"]: dict(row)
        for row in activities.order_by()
        .values("kind")
        .annotate(n=Count("id", distinct=True), hours=Sum("hours"), audience=Sum("audience_size"))
    }
    zero: dict[str, Any] = {"n": 0, "hours": None, "audience": None}
    rows = [
        OutreachRow(
            kind,
            str(label),
            sums.get(kind, zero)["n"],
            sums.get(kind, zero)["hours"] or Decimal(0),
            sums.get(kind, zero)["audience"] or 0,
        )
        for kind, label in Kind.choices
    ]
    total = OutreachRow(
        "total",
        "",
        sum(row.activities for row in rows),
        sum((row.hours for row in rows), Decimal(0)),
        sum(row.audience for row in rows),
    )
    return [*rows, total]
