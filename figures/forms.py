"""Forms of the figures: the dashboard's period and clinic, the questionnaire reports' selection, the research file's
purpose and selection. Which clinic is counted is figures.scope's to decide, for all of them."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clients.forms import CLIENT_TARGET_GROUPS
from figures import research, scope
from figures.reports import Selection, selection_for
from kast.forms import FIGURE_DATES, DateInput
from kast.models import Clinic, User

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class Period:
    LAST_12_MONTHS = "last_12_months"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"
    CUSTOM = "custom"
    CHOICES = [
        (LAST_12_MONTHS, _("The last 12 months")),
        (MONTH, _("Month")),
        (QUARTER, _("Quarter")),
        (YEAR, _("Year")),
        (CUSTOM, _("Custom")),
    ]


def period_bounds(period: str, day: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The first and last day of the month, quarter or year that `day` falls in; or of the twelve months up to and
    including `day`'s month."""
    if period == Period.LAST_12_MONTHS:
        _first, end = period_bounds(Period.MONTH, day)
        months = day.year * 12 + day.month - 1 - 11  # eleven months before day's
        return datetime.date(months // 12, months % 12 + 1, 1), end
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


class ClinicScopedFilterForm(forms.Form):
    """Filters of figures by dates: national follow-up chooses a clinic (or all); clinic staff have their own
    (figures.scope decides who chooses)."""

    clinic = forms.ModelChoiceField(
        label=_("Clinic"), queryset=Clinic.objects.none(), required=False, empty_label=_("All clinics")
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        if scope.chooses_clinic(user):
            clinic = cast("forms.ModelChoiceField[Clinic]", self.fields["clinic"])  # the field declared above
            clinic.queryset = Clinic.objects.order_by("name")
        else:
            # A clinic's own staff see their own clinic: there is nothing to choose.
            del self.fields["clinic"]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data  # what Form.clean returns
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            self.add_error("end", _("The end date cannot be before the start date."))
        elif start and end and end >= _years_after(start, MAX_PERIOD_YEARS):
            # A typing error in the year (2062 for 2026) more likely than a question about decades; the
            # figures of a longer span are the sum of shorter ones.
            self.add_error(
                "end",
                _("A period is at most %(years)s years. Choose a later start or an earlier end.")
                % {"years": MAX_PERIOD_YEARS},
            )
        return data


#: The longest period the figures count at once.
MAX_PERIOD_YEARS = 10


def _years_after(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


class DashboardFilterForm(ClinicScopedFilterForm):
    """The last twelve months (by default: a trend, not one bar), a month, quarter or year (the one that contains the
    date given), or any period from one date to another."""

    period = forms.ChoiceField(label=_("Period"), choices=Period.CHOICES, required=False, initial=Period.LAST_12_MONTHS)
    start = forms.DateField(
        label=_("Date in the period, or from"),
        required=False,
        widget=DateInput(),
        validators=FIGURE_DATES,
        help_text=_("Leave empty for the twelve months up to today, or today's month, quarter or year."),
    )
    end = forms.DateField(
        label=_("To and including"),
        required=False,
        widget=DateInput(),
        validators=FIGURE_DATES,
        help_text=_("For a custom period only."),
    )
    field_order = ["period", "start", "end", "clinic"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        period = data.get("period") or Period.LAST_12_MONTHS
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
        bounds: tuple[datetime.date, datetime.date] = self.cleaned_data["bounds"]
        return bounds

    @property
    def counted_clinic(self) -> Clinic | None:
        """The clinic counted: their own for clinic staff; the chosen one, or all (None), for national follow-up."""
        return scope.counted_clinic(self.user, self.cleaned_data.get("clinic"))


def _submitted_between(*, first: StrOrPromise, last: StrOrPromise) -> tuple[forms.DateField, forms.DateField]:
    """The questionnaires' submission dates a report or a file counts, both optional (then from the first, up to
    today); `first` and `last` say so in the form's own words."""
    return (
        forms.DateField(
            label=_("Submitted from"), required=False, widget=DateInput(), validators=FIGURE_DATES, help_text=first
        ),
        forms.DateField(
            label=_("Submitted up to and including"),
            required=False,
            widget=DateInput(),
            validators=FIGURE_DATES,
            help_text=last,
        ),
    )


class ReportFilterForm(ClinicScopedFilterForm):
    """Which questionnaires the reports count. Every field may stay empty: then all of them, in the user's scope."""

    start, end = _submitted_between(
        first=_("Leave empty to count from the first."), last=_("Leave empty to count up to today.")
    )
    target_group = forms.ChoiceField(
        label=_("Target group"), choices=[("", _("All target groups")), *CLIENT_TARGET_GROUPS], required=False
    )
    field_order = ["start", "end", "clinic", "target_group"]

    def selection(self) -> Selection:
        data = self.cleaned_data
        return selection_for(
            self.user,
            start=data.get("start"),
            end=data.get("end"),
            clinic=data.get("clinic"),
            target_group=data.get("target_group", ""),
        )


class ResearchExportForm(forms.Form):
    """The research file: first what it is for and the decision that allows it, then which questionnaires."""

    purpose = forms.CharField(
        label=_("Purpose"),
        min_length=10,
        max_length=research.PURPOSE_MAX_LENGTH,
        help_text=_("What the file is for, e.g. the study's name. Recorded with the export in the access log."),
    )
    decision = forms.CharField(
        label=_("Decision reference"),
        min_length=3,
        max_length=research.DECISION_MAX_LENGTH,
        help_text=_(
            "The reference of the decision that allows this use of the data, e.g. the Swedish Ethical Review "
            "Authority's number (Dnr). Recorded with the export."
        ),
    )
    start, end = _submitted_between(
        first=_("Leave empty to export from the first."), last=_("Leave empty to export up to today.")
    )
    clinic = forms.ModelChoiceField(
        label=_("Clinic"), queryset=Clinic.objects.order_by("name"), required=False, empty_label=_("All clinics")
    )
    target_group = forms.ChoiceField(
        label=_("Target group"), choices=[("", _("All target groups")), *CLIENT_TARGET_GROUPS], required=False
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        if not scope.chooses_clinic(user):
            del self.fields["clinic"]  # a researcher attached to a clinic exports that clinic's only

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data  # what Form.clean returns
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            self.add_error("end", _("The end date cannot be before the start date."))
        return data

    def selection(self) -> Selection:
        data = self.cleaned_data
        return research.research_selection(
            self.user,
            start=data.get("start"),
            end=data.get("end"),
            clinic=data.get("clinic"),
            target_group=data.get("target_group", ""),
        )
