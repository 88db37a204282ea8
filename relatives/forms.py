"""Forms of relatives' records and support. Friendly messages here; the database guarantees the same rules."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from clients.forms import IDENTITY_FIELDS, ClientFormMixin
from clients.models import Client
from kast.forms import DateInput
from relatives.models import ChildAction, ChildPerspective, Goal, GoalStatus, ReactionReview, Relation

RELATIVE_DETAIL_FIELDS = [
    "first_contact_date",
    "contact_method",
    "reason",
    "birth_year",
    "gender",
    "has_children",
    "children_ages",
    "responsible_therapist",
    "co_therapists",
    "next_contact_date",
]
_WIDGETS = {
    "first_contact_date": DateInput(),
    "next_contact_date": DateInput(),
    "reason": forms.Textarea(attrs={"rows": 3}),
}


class RelativeRegisterForm(ClientFormMixin, forms.ModelForm):
    """A relative's own record: like a client's (code, optional identity), plus the relation."""

    relation = forms.ChoiceField(label=_("Relation to the client"), choices=Relation.choices)
    client_consents = forms.BooleanField(label=_("The client consents to joint work"), required=False)
    relative_consents = forms.BooleanField(label=_("The relative consents to joint work"), required=False)

    class Meta:
        model = Client
        fields = [*RELATIVE_DETAIL_FIELDS, *IDENTITY_FIELDS]
        widgets = _WIDGETS

    def __init__(self, *args, clinic, user, linked: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.clinic = clinic
        self.setup(clinic)
        self.fields["responsible_therapist"].initial = user.pk
        self.fields["responsible_therapist"].required = True
        self.fields["reason"].label = _("What brings the relative, in their own words")
        if not linked:
            del self.fields["client_consents"], self.fields["relative_consents"]
        # The relation first: it is what the relative says first.
        self.order_fields(["relation"])

    def record_data(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if k in self._meta.fields}


class RelativeDetailsForm(ClientFormMixin, forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
    relation = forms.ChoiceField(label=_("Relation to the client"), choices=Relation.choices)

    class Meta:
        model = Client
        fields = RELATIVE_DETAIL_FIELDS
        widgets = _WIDGETS

    def __init__(self, *args, clinic, relation: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.setup(clinic)
        self.fields["version"].initial = self.instance.version
        self.fields["relation"].initial = relation
        self.order_fields(["relation"])


class LinkForm(forms.Form):
    client_code = forms.CharField(
        label=_("The client's code"), max_length=20, help_text=_("For example GBG-2026-0042.")
    )
    client_consents = forms.BooleanField(label=_("The client consents to joint work"), required=False)
    relative_consents = forms.BooleanField(label=_("The relative consents to joint work"), required=False)

    def clean_client_code(self) -> str:
        return self.cleaned_data["client_code"].strip().upper()


class ConsentForm(forms.Form):
    client_consents = forms.BooleanField(label=_("The client consents to joint work"), required=False)
    relative_consents = forms.BooleanField(label=_("The relative consents to joint work"), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)


class LinkRemoveForm(forms.Form):
    reason = forms.CharField(label=_("Why the link is removed"), max_length=300)


class ReactionForm(forms.ModelForm):
    class Meta:
        model = ReactionReview
        fields = ["reviewed_on", "loss_of_control", "guilt", "shame", "displaced_anger"]
        widgets = {"reviewed_on": DateInput()}


class GoalForm(forms.ModelForm):
    class Meta:
        model = Goal
        fields = ["text", "set_on"]
        widgets = {"set_on": DateInput()}
        labels = {"text": _("The relative's goal, in their own words")}


class GoalStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=GoalStatus.choices)


class ChildPerspectiveDraftForm(forms.ModelForm):
    """The comment as autosaved while the therapist writes; the facts (children, date, actions) stay with the
    page's own submit, where their checks are answered together."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)

    class Meta:
        model = ChildPerspective
        fields = ["comment"]


class ChildPerspectiveForm(forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
    actions = forms.MultipleChoiceField(
        label=_("What was done"), choices=ChildAction.choices, widget=forms.CheckboxSelectMultiple, required=False
    )

    class Meta:
        model = ChildPerspective
        fields = ["children_in_household", "considered_on", "actions", "comment"]
        widgets = {
            "considered_on": DateInput(),
            "children_in_household": forms.NumberInput(attrs={"min": 0, "max": 20}),
            "comment": forms.Textarea(attrs={"rows": 3}),
        }
        error_messages = {
            "children_in_household": {"max_value": _("Give at most 20 children.")},
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["version"].initial = self.instance.version if self.instance.pk else 0

    def clean(self):
        data = super().clean()
        if data.get("actions") and not data.get("considered_on"):
            self.add_error("considered_on", _("Give the date the children's need was considered."))
        return data

    def service_data(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if k != "version"}
