"""Forms of the records office: a retention hold, with the record named by its code."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from archive.models import RetentionHold
from clients.models import Client


class RetentionHoldForm(forms.ModelForm):
    """A new hold: the administrator names the record by its code (they see no client list and no content)."""

    code = forms.CharField(label=_("Record code"), max_length=20, help_text=_("For example GBG-2019-0042."))

    class Meta:
        model = RetentionHold
        fields = ["reason"]

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].strip().upper()
        # Deliberately outside the clients' gate: only the id is looked up, nothing of the record is shown.
        client_id = Client.objects.filter(code=code).values_list("pk", flat=True).first()
        if client_id is None:
            raise forms.ValidationError(_("No record has this code."))
        if RetentionHold.objects.filter(client_id=client_id).exists():
            raise forms.ValidationError(_("This record is already on hold."))
        self.instance.client_id = client_id
        return code
