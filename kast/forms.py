"""Forms' shared parts: the date widget every app uses, the years figures and logs can be asked for, and the message
for a page that is out of date."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


#: The years figures can be asked for (as for the yearly report): a far date overflowed the period
#: arithmetic into a server error (found by tests/kast/test_fuzzing.py).
FIGURE_DATES = [MinValueValidator(datetime.date(2000, 1, 1)), MaxValueValidator(datetime.date(2100, 12, 31))]


#: A hidden field the page sends (what it showed: a version, a fingerprint) missing or garbled: a page from before a
#: change, or a crafted POST. Shown above the form (clients/_form_errors.html shows hidden fields' errors), since no
#: field is there to mark.
OUT_OF_DATE = _("This page is out of date. Reload it and enter your changes again.")
