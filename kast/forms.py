"""Forms' shared parts: the date widget every app uses, and the years figures and logs can be asked for."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


#: The years figures can be asked for (as for the yearly report): a far date overflowed the period
#: arithmetic into a server error (found by tests/kast/test_fuzzing.py).
FIGURE_DATES = [MinValueValidator(datetime.date(2000, 1, 1)), MaxValueValidator(datetime.date(2100, 12, 31))]
