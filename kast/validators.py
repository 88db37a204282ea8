"""Bounds for the dates a record holds: a typo such as 0202 or 2206 is refused on the field, not stored or crashed on."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

EARLIEST = datetime.date(1900, 1, 1)
#: How far ahead a booking or a planned contact may lie.
AHEAD = datetime.timedelta(days=2 * 366)


def not_before_1900(value: datetime.date) -> None:
    if value < EARLIEST:
        raise ValidationError(_("The date cannot be before 1900."), code="too_early")


def not_in_future(value: datetime.date) -> None:
    if value > timezone.localdate():
        raise ValidationError(_("The date cannot be in the future."), code="in_future")


def within_two_years(value: datetime.date) -> None:
    if value > timezone.localdate() + AHEAD:
        raise ValidationError(_("The date cannot be more than two years ahead."), code="too_far_ahead")


#: A day that has happened: a first contact, an assessment, a review.
PAST_DATE = [not_before_1900, not_in_future]
#: A day that may be booked ahead: a session, a planned contact.
BOOKABLE_DATE = [not_before_1900, within_two_years]
