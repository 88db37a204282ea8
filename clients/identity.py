"""Swedish personal identity numbers: personnummer and samordningsnummer, normalised to 12 digits."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum import luhn
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.se import personnummer

# A samordningsnummer is a personnummer with 60 added to the day of birth.
COORDINATION_DAY_OFFSET = 60


def normalize_personnummer(value: str, *, today: datetime.date | None = None) -> str:
    """'811218-9876', '198112189876' or '19811278-9873' -> 'YYYYMMDD-NNNN', or ValidationError.

    The 12-digit form is what is stored, so the same person entered with 10 or 12 digits is
    caught by the per-clinic uniqueness constraint.
    """
    today = today or datetime.date.today()  # noqa: DTZ011 (a calendar date, not a moment)
    compact = personnummer.compact(value)
    digits = compact.replace("-", "").replace("+", "")
    if len(compact) not in (11, 13) or not digits.isdigit() or compact[-5] not in "-+":
        raise ValidationError(_("Enter the number as YYYYMMDD-NNNN or YYMMDD-NNNN."), code="personnummer_format")
    day_index = -7  # position of the day's first digit in the compact form
    coordination = int(compact[day_index]) >= COORDINATION_DAY_OFFSET // 10
    as_birth = compact
    if coordination:
        day = int(compact[day_index : day_index + 2]) - COORDINATION_DAY_OFFSET
        as_birth = f"{compact[:day_index]}{day:02d}{compact[day_index + 2 :]}"
    try:
        born = personnummer.get_birth_date(as_birth)
        luhn.validate(digits[-10:])
    except StdnumError as exc:
        raise ValidationError(
            _("This is not a valid personnummer or samordningsnummer (check the date and the last digit)."),
            code="personnummer_invalid",
        ) from exc
    if born > today:
        raise ValidationError(_("The date of birth in the number is in the future."), code="personnummer_future")
    day_part = compact[-9:-5] if len(compact) == 13 else compact[2:6]
    return f"{born.year:04d}{day_part}-{digits[-4:]}"
