"""The activity form: the clinic's own staff and partners only; the model's rules give the field errors."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kast.models import Role, User
from outreach.models import Activity, Partner


class ActivityForm(forms.ModelForm):
    class Meta:
        model = Activity
        fields = ["kind", "date", "hours", "staff", "audience_kind", "audience_size", "partner", "description"]
        widgets = {
            "date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "staff": forms.CheckboxSelectMultiple,
            "description": forms.Textarea(attrs={"rows": 4, "maxlength": 1000}),
        }

    def __init__(self, *args: Any, clinic_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        staff = self.fields["staff"]
        assert isinstance(staff, forms.ModelMultipleChoiceField)
        staff.queryset = User.objects.filter(
            clinic_id=clinic_id, is_active=True, role__in=[Role.THERAPIST, Role.MANAGER]
        ).order_by("first_name", "last_name", "username")
        partner = self.fields["partner"]
        assert isinstance(partner, forms.ModelChoiceField)
        # Another clinic's partner is not a choice here, so it is refused as an invalid choice on the field.
        partner.queryset = Partner.objects.filter(clinic_id=clinic_id, active=True)
        self.instance.clinic_id = clinic_id

    def clean_date(self) -> Any:
        date = self.cleaned_data.get("date")
        if date is not None and date > timezone.localdate():
            raise forms.ValidationError(
                _("An activity is recorded after it took place: the date cannot be in the future.")
            )
        return date
