"""Forms of the log review."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from audit.models import Outcome
from kast.forms import FIGURE_DATES, DateInput
from kast.models import User


class LogFilterForm(forms.Form):
    code = forms.CharField(label=_("Record code"), max_length=20, required=False)
    staff = forms.ModelChoiceField(label=_("User"), queryset=User.objects.none(), required=False)
    start = forms.DateField(label=_("From"), required=False, widget=DateInput(), validators=FIGURE_DATES)
    end = forms.DateField(label=_("To"), required=False, widget=DateInput(), validators=FIGURE_DATES)

    def __init__(self, *args, reviewer, **kwargs):
        super().__init__(*args, **kwargs)
        staff = User.objects.order_by("username")
        if reviewer.clinic_id is not None:
            staff = staff.filter(clinic_id=reviewer.clinic_id)
        self.fields["staff"].queryset = staff

    def clean_code(self) -> str:
        return self.cleaned_data["code"].strip().upper()

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            self.add_error("end", _("The end date is before the start date."))
        return data


class ReviewForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Outcome"), choices=Outcome.choices)
    comment = forms.CharField(
        label=_("Comment"),
        max_length=500,
        required=False,
        help_text=_("What was checked or done. No names or client details."),
    )
