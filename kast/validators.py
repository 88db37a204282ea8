"""Bounds for the dates a record holds: a typo such as 0202 or 2206 is refused on the field, not stored or crashed on."""

from __future__ import annotations

import datetime
import re

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


# Free text that must never identify a person (an advice contact's remark, an outreach activity's description):
# what a careless hand types most often is a personnummer, an e-mail address or a phone number. The patterns are
# written in the subset that Python's re and PostgreSQL's regular expressions read alike, so the model's field
# validator (a clear message on the field) and the table's CHECK constraint (the guarantee) refuse the same text.
PERSONAL_NUMBER_PATTERN = r"[0-9]{6}([0-9]{2})?[-+ ]?[0-9]{4}"
EMAIL_PATTERN = r"[^ @]+@[^ @]+[.][A-Za-z]{2,}"
# A Swedish number starts with 0 or +46 and has seven digits or more, spaces and hyphens allowed between them.
PHONE_PATTERN = r"(\+|0)[0-9]([ -]?[0-9]){6,}"
IDENTIFYING_PATTERN = f"{PERSONAL_NUMBER_PATTERN}|{EMAIL_PATTERN}|{PHONE_PATTERN}"

_IDENTIFYING = [
    (re.compile(PERSONAL_NUMBER_PATTERN), _("It looks like a personnummer.")),
    (re.compile(EMAIL_PATTERN), _("It looks like an e-mail address.")),
    (re.compile(PHONE_PATTERN), _("It looks like a phone number.")),
]


def no_identifying_details(value: str) -> None:
    """Refuses text holding a personnummer, an e-mail address or a phone number; the message never repeats it."""
    for pattern, what in _IDENTIFYING:
        if pattern.search(value):
            raise ValidationError(
                _("%(what)s Write nothing here that could identify a person."),
                code="identifying",
                params={"what": what},
            )
