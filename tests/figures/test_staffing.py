"""Sessions per full-time therapist divide by the staff as it stood at the period's end, not by today's staff.

A period a year earlier (the first screen's change, the yearly report of a past year) counts each account as its
history (kast.UserEvent, django-pghistory) shows it then, and only accounts that had joined by then. Exact figures
on four therapists whose FTE, activity and clinic changed at known dates.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.apps import apps
from django.utils import timezone, translation

from figures import statistics
from figures.key_figures import key_figures
from figures.statistics import Scope, dashboard, dashboard_marks
from kast.db_roles import owner_connection
from kast.models import Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

Q1_2024 = (datetime.date(2024, 1, 1), datetime.date(2024, 3, 31))
Q1_2025 = (datetime.date(2025, 1, 1), datetime.date(2025, 3, 31))


def at(day: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(day).replace(tzinfo=timezone.get_current_timezone())


def was_then(user, day: str, **changes) -> None:
    """A row of the account's history dated `day`: the account as it is, with `changes` (as pghistory writes one at
    a change; its own rows are dated when they are written, now)."""
    event_model = apps.get_model("kast", "UserEvent")
    fields = {
        f.attname: getattr(user, f.attname) for f in event_model._meta.concrete_fields if not f.name.startswith("pgh_")
    }
    event = event_model._default_manager.create(pgh_obj=user, pgh_label="update", **{**fields, **changes})
    # Dated back (its field is set to now on creation), as the tables' owner: the app may only add to a history.
    with owner_connection():
        event_model._default_manager.filter(pk=event.pk).update(pgh_created_at=at(day))


@pytest.fixture
def staff(gbg, mlm):
    """Anna: half time until June 2024, full time since. Bertil: joined in September 2024, full time. Cecilia: 0.8,
    left in December 2024. David: at Göteborg until October 2024, at Malmö since. A manager, never counted."""
    anna = UserFactory(role=Role.THERAPIST, clinic=gbg, fte=Decimal("1.00"))
    was_then(anna, "2023-12-01", fte=Decimal("0.50"))
    was_then(anna, "2024-06-01", fte=Decimal("1.00"))
    bertil = UserFactory(role=Role.THERAPIST, clinic=gbg, fte=Decimal("1.00"), date_joined=at("2024-09-01"))
    cecilia = UserFactory(role=Role.THERAPIST, clinic=gbg, fte=Decimal("0.80"), is_active=False)
    was_then(cecilia, "2022-01-10", is_active=True)
    was_then(cecilia, "2024-12-15", is_active=False)
    david = UserFactory(role=Role.THERAPIST, clinic=mlm, fte=Decimal("1.00"))
    was_then(david, "2020-01-01", clinic_id=gbg.pk)
    was_then(david, "2024-10-01", clinic_id=mlm.pk)
    UserFactory(role=Role.MANAGER, clinic=gbg)
    return anna, bertil, cecilia, david


def staffing(clinic, period: tuple[datetime.date, datetime.date]) -> tuple[Decimal | None, int]:
    start, end = period
    counted = statistics._staffing(Scope(start, end, clinic=clinic))
    return counted["fte"], counted["n"]


def test_each_period_counts_the_staff_as_it_stood_at_its_end(staff, gbg, mlm):
    # Anna half time, Cecilia still there, David still at Göteborg; Bertil not yet joined.
    assert staffing(gbg, Q1_2024) == (Decimal("2.30"), 3)
    # Anna full time, Bertil joined; Cecilia gone, David at Malmö.
    assert staffing(gbg, Q1_2025) == (Decimal("2.00"), 2)
    assert staffing(mlm, Q1_2024) == (None, 0)
    assert staffing(mlm, Q1_2025) == (Decimal("1.00"), 1)
    # All clinics: Anna, Bertil and David in 2025; Anna, Cecilia and David in 2024.
    assert staffing(None, Q1_2025) == (Decimal("3.00"), 3)
    assert staffing(None, Q1_2024) == (Decimal("2.30"), 3)


def test_a_period_not_over_yet_counts_todays_staff(staff, gbg):
    today = timezone.localdate()

    assert staffing(gbg, (today.replace(day=1), today + datetime.timedelta(days=40))) == (Decimal("2.00"), 2)


def test_the_first_screens_change_divides_each_year_by_its_own_staff(staff, gbg):
    """24 sessions held in the first quarter of 2025 and 18 in 2024's: 12.0 per full-time therapist (24 / 2.0)
    against 7.8 (18 / 2.3) a year earlier. With today's staff both years would divide by 2.0 (+3.0)."""
    from tests.factories import ClientFactory, TherapySessionFactory, open_first_period

    anna = staff[0]
    record = open_first_period(ClientFactory(responsible_therapist=anna))
    for day in range(24):
        TherapySessionFactory(client=record, date=datetime.date(2025, 1, 2) + datetime.timedelta(days=day * 3))
    for day in range(18):
        TherapySessionFactory(client=record, date=datetime.date(2024, 1, 2) + datetime.timedelta(days=day * 4))

    now, earlier = dashboard(gbg, *Q1_2025), dashboard(gbg, *Q1_2024)

    assert (now.sessions["held"], now.fte, now.held_per_fte) == (24, Decimal("2.00"), 12.0)
    assert (earlier.sessions["held"], earlier.fte, earlier.held_per_fte) == (18, Decimal("2.30"), 7.8)
    with translation.override("en"):
        cards = {card.key: card for card in key_figures(now, dashboard_marks(now), earlier, dashboard_marks(earlier))}
        assert (cards["held_per_fte"].text, cards["held_per_fte"].change) == (
            "12.0",
            "+4.2 compared with the same period a year earlier",
        )
