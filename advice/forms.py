from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from advice.models import AdviceContact, AdviceTopic, Outcome
from clients.models import ReferralDestination


class AdviceContactForm(forms.ModelForm):
    """The quick form: fixed choices, radio buttons, nothing that names the person."""

    class Meta:
        model = AdviceContact
        fields = [
            "date",
            "minutes",
            "channel",
            "who",
            "target_group",
            "topic",
            "outcome",
            "referred_to",
            "returning",
            "remark",
        ]
        widgets = {
            "date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "channel": forms.RadioSelect,
            "who": forms.RadioSelect,
            "outcome": forms.RadioSelect,
        }

    def __init__(self, *args, clinic, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.clinic = clinic
        self.fields["topic"].queryset = AdviceTopic.objects.filter(clinic=clinic, active=True)
        self.fields["referred_to"].queryset = ReferralDestination.objects.filter(clinic=clinic, active=True)
        self.fields["referred_to"].help_text = _("Only when the person was referred elsewhere.")
        # Radio lists without Django's empty "---------" choice: a choice is required.
        for name in ("channel", "who", "outcome"):
            self.fields[name].choices = [c for c in self.fields[name].choices if c[0]]

    def clean(self):
        data = super().clean()
        if data.get("outcome") == Outcome.REFERRED and not data.get("referred_to"):
            self.add_error("referred_to", _("Choose where the person was referred."))
        elif data.get("outcome") and data.get("outcome") != Outcome.REFERRED and data.get("referred_to"):
            self.add_error("referred_to", _("A destination is chosen only when the person was referred."))
        return data
