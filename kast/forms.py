"""Forms of the cross-cutting part: the dashboard's choice of period and clinic."""

from __future__ import annotations

import datetime

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clients.forms import DateInput
from kast.models import Clinic, Role, User


class Period:
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"
    CUSTOM = "custom"
    CHOICES = [
        (MONTH, _("Month")),
        (QUARTER, _("Quarter")),
        (YEAR, _("Year")),
        (CUSTOM, _("Custom")),
    ]


def period_bounds(period: str, day: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The first and last day of the month, quarter or year that `day` falls in."""
    if period == Period.YEAR:
        return day.replace(month=1, day=1), day.replace(month=12, day=31)
    if period == Period.QUARTER:
        first_month = 3 * ((day.month - 1) // 3) + 1
        start = day.replace(month=first_month, day=1)
    else:
        start = day.replace(day=1)
    months = 3 if period == Period.QUARTER else 1
    following = start.replace(
        year=start.year + (start.month + months - 1) // 12, month=(start.month + months - 1) % 12 + 1
    )
    return start, following - datetime.timedelta(days=1)


#: The years figures can be asked for (as for the yearly report): a far date overflowed the period
#: arithmetic into a server error (found by tests/kast/test_fuzzing.py).
FIGURE_DATES = [MinValueValidator(datetime.date(2000, 1, 1)), MaxValueValidator(datetime.date(2100, 12, 31))]


class ClinicScopedFilterForm(forms.Form):
    """Filters of figures by dates: national follow-up chooses a clinic (or all); clinic staff have their own."""

    clinic = forms.ModelChoiceField(
        label=_("Clinic"), queryset=Clinic.objects.none(), required=False, empty_label=_("All clinics")
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        if user.role == Role.NATIONAL:
            self.fields["clinic"].queryset = Clinic.objects.order_by("name")
        else:
            # A clinic's own staff see their own clinic: there is nothing to choose.
            del self.fields["clinic"]

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            self.add_error("end", _("The end date cannot be before the start date."))
        return data


class DashboardFilterForm(ClinicScopedFilterForm):
    """A month, quarter or year (the one that contains the date given), or any period from one date to another."""

    period = forms.ChoiceField(label=_("Period"), choices=Period.CHOICES, required=False, initial=Period.MONTH)
    start = forms.DateField(
        label=_("Date in the period, or from"),
        required=False,
        widget=DateInput(),
        validators=FIGURE_DATES,
        help_text=_("Leave empty for today's month, quarter or year."),
    )
    end = forms.DateField(
        label=_("To and including"),
        required=False,
        widget=DateInput(),
        validators=FIGURE_DATES,
        help_text=_("For a custom period only."),
    )
    field_order = ["period", "start", "end", "clinic"]

    def clean(self):
        data = super().clean()
        period = data.get("period") or Period.MONTH
        start, end = data.get("start"), data.get("end")
        if self.has_error("end"):
            return data
        if period == Period.CUSTOM:
            if not start:
                self.add_error("start", _("Give the first day of the custom period."))
            if not end:
                self.add_error("end", _("Give the last day of the custom period."))
            if start and end:
                data["bounds"] = (start, end)
        else:
            data["bounds"] = period_bounds(period, start or timezone.localdate())
        return data

    @property
    def bounds(self) -> tuple[datetime.date, datetime.date]:
        return self.cleaned_data["bounds"]

    @property
    def counted_clinic(self) -> Clinic | None:
        """The clinic counted: their own for clinic staff; the chosen one, or all (None), for national follow-up."""
        if self.user.role == Role.NATIONAL:
            return self.cleaned_data.get("clinic")
        return self.user.clinic
