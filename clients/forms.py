"""Forms of the client record. Friendly messages here; the database guarantees the same rules."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.contrib.postgres.forms import SimpleArrayField
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clients.goals import ReviewInput
from clients.identity import normalize_personnummer
from clients.models import (
    INTERVIEW_SECTION_MAX_LENGTH,
    TRANSITIONS,
    AssessmentConversation,
    AssessmentDecision,
    CaseStatus,
    Client,
    FamilyMember,
    FamilyRelation,
    FamilyRelationship,
    GoalOutcome,
    ReferralDestination,
    TargetGroup,
    TreatmentGoal,
    status_label,
)
from kast.forms import DateInput
from kast.models import TEXT_MAX_LENGTH, Role, User

# Relatives get a record of their own (app `relatives`), so a client is never registered as one.
CLIENT_TARGET_GROUPS = [(v, label) for v, label in TargetGroup.choices if v != TargetGroup.RELATIVE]

IDENTITY_FIELDS = ["alias", "full_name", "personnummer", "phone", "email", "protected_identity"]
DETAIL_FIELDS = [
    "first_contact_date",
    "contact_method",
    "referral_source",
    "reason",
    "target_groups",
    "birth_year",
    "gender",
    "in_relationship",
    "has_children",
    "children_ages",
    "occupation",
    "education",
    "responsible_therapist",
    "co_therapists",
    "next_contact_date",
]


class VersionedForm(forms.Form):
    """Carries the version the user opened, so a stale save is detected (optimistic locking)."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)


class ClientFormMixin:
    """Shared set-up: therapists of the user's clinic, ISO dates, the target-group checkboxes."""

    def setup(self, clinic) -> None:
        therapists = User.objects.filter(clinic=clinic, role=Role.THERAPIST, is_active=True).order_by(
            "first_name", "last_name"
        )
        self.clinic = clinic
        if "responsible_therapist" in self.fields:
            self.fields["responsible_therapist"].queryset = therapists
            # The widget first: setting the queryset is what hands the choices to the widget.
            self.fields["co_therapists"].widget = forms.CheckboxSelectMultiple()
            self.fields["co_therapists"].queryset = therapists
        if "target_groups" in self.fields:
            self.fields["target_groups"] = forms.MultipleChoiceField(
                label=_("Target groups"),
                choices=CLIENT_TARGET_GROUPS,
                widget=forms.CheckboxSelectMultiple,
                required=True,
            )
        if "children_ages" in self.fields:
            self.fields["children_ages"] = AgesField(
                forms.IntegerField(min_value=0, max_value=90),
                label=_("Children's ages"),
                required=False,
                help_text=_("Separate with commas, e.g. 4, 9"),
            )

    def clean_personnummer(self) -> str:
        value = self.cleaned_data.get("personnummer", "").strip()
        if not value:
            return ""
        normalised = normalize_personnummer(value)
        others = Client.objects.filter(clinic=self.clinic, personnummer=normalised)
        if self.instance.pk:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            raise forms.ValidationError(_("A client with this personnummer is already registered at the clinic."))
        return normalised


class ClientRegisterForm(ClientFormMixin, forms.ModelForm):
    class Meta:
        model = Client
        fields = [*DETAIL_FIELDS, *IDENTITY_FIELDS]
        widgets = {
            "first_contact_date": DateInput(),
            "next_contact_date": DateInput(),
            "reason": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, clinic, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.clinic = clinic  # model validation checks the therapist against it
        self.setup(clinic)
        self.fields["responsible_therapist"].initial = user.pk
        self.fields["responsible_therapist"].required = True


class ClientDetailsForm(ClientFormMixin, forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)

    class Meta:
        model = Client
        fields = DETAIL_FIELDS
        widgets = ClientRegisterForm.Meta.widgets

    def __init__(self, *args, clinic, **kwargs):
        super().__init__(*args, **kwargs)
        self.setup(clinic)
        self.fields["version"].initial = self.instance.version


class ClientIdentityForm(ClientFormMixin, forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)

    class Meta:
        model = Client
        fields = IDENTITY_FIELDS

    def __init__(self, *args, clinic, **kwargs):
        super().__init__(*args, **kwargs)
        self.setup(clinic)
        self.fields["version"].initial = self.instance.version


def referral_destinations(clinic_id: int):
    """The clinic's list in use: a referral is to one of these, never to typed text (figures group by it)."""
    return ReferralDestination.objects.filter(clinic_id=clinic_id, active=True)


class TransitionForm(forms.Form):
    to_status = forms.ChoiceField(label=_("New status"))
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}), required=False)
    referred_to = forms.ModelChoiceField(
        label=_("Referred to"),
        queryset=ReferralDestination.objects.none(),
        required=False,
        empty_label=_("Only for a referral: choose where"),
    )
    destination = forms.CharField(
        label=_("Details of the referral"),
        required=False,
        max_length=150,
        help_text=_("For the record only, e.g. the unit; never shown in figures."),
    )
    keep_bookings = forms.BooleanField(
        label=_("Keep the sessions booked ahead"),
        required=False,
        help_text=_(
            "When the case ends, is referred or is closed, its sessions booked ahead are otherwise cancelled by the "
            "clinic, in the calendar too."
        ),
    )

    def __init__(self, *args, client: Client, **kwargs):
        super().__init__(*args, **kwargs)
        self.client = client
        self.fields["referred_to"].queryset = referral_destinations(client.clinic_id)
        # Any status is accepted as input, so an impossible step gets the workflow's own message
        # (clean_to_status) instead of "not one of the available choices"; only allowed steps are offered.
        self.fields["to_status"].choices = CaseStatus.choices
        # A blank first option, so no status is changed by a careless click on the button.
        self.fields["to_status"].widget.choices = [
            ("", _("Choose a new status")),
            *((s, status_label(s, client.kind)) for s in self.offered(client)),
        ]

    @staticmethod
    def offered(client: Client) -> list[str]:
        """Ending a treatment has a page of its own (date, reason, follow-ups), so it is not offered here."""
        return [s for s in TRANSITIONS[client.status] if s != CaseStatus.ENDED]

    def clean_to_status(self) -> str:
        to_status = self.cleaned_data["to_status"]
        if to_status not in TRANSITIONS[self.client.status]:
            raise forms.ValidationError(
                _("A case cannot go from “%(from)s” to “%(to)s”."),
                code="transition_not_allowed",
                params={"from": self.client.get_status_display(), "to": status_label(to_status, self.client.kind)},
            )
        if to_status == CaseStatus.ENDED:
            raise forms.ValidationError(
                _("End the treatment with “End the treatment”, which asks for the date and reason."),
                code="use_end_page",
            )
        return to_status

    def clean(self):
        data = super().clean()
        if data.get("to_status") == CaseStatus.REFERRED and not data.get("referred_to"):
            self.add_error("referred_to", _("Say where the client is referred to."))
        return data


class AssessmentForm(forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0, required=False)
    referred_to = TransitionForm.base_fields["referred_to"]
    destination = TransitionForm.base_fields["destination"]

    class Meta:
        model = AssessmentConversation
        fields = ["held_on", "problem", "goals", "assessment", "decision"]
        widgets = {
            "held_on": DateInput(),
            "problem": forms.Textarea(attrs={"rows": 4}),
            "goals": forms.Textarea(attrs={"rows": 4}),
            "assessment": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args, clinic_id: int, decided: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["version"].initial = self.instance.version if self.instance.pk else 0
        self.fields["referred_to"].queryset = referral_destinations(clinic_id)
        self.fields["decision"].help_text = _("A decision moves the case on: to treatment, a referral, or closed.")
        if decided:
            # The case has moved on; its status history, not this field, changes from now on.
            self.fields["decision"].disabled = True
            self.fields["decision"].help_text = _("The case has moved on from the assessment; the decision stays.")
            del self.fields["referred_to"]
            del self.fields["destination"]

    def clean(self):
        data = super().clean()
        if (
            "referred_to" in self.fields
            and data.get("decision") == AssessmentDecision.REFERRED
            and not data.get("referred_to")
        ):
            self.add_error("referred_to", _("Say where the client is referred to."))
        return data


class AssessmentDraftForm(forms.ModelForm):
    """The assessment conversation's texts as autosaved while the therapist writes. The date and the decision
    stay with the page's own submit: a decision moves the case on, never in the background."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)

    class Meta:
        model = AssessmentConversation
        fields = ["problem", "goals", "assessment"]


class InterviewSectionForm(VersionedForm):
    # strip=False: the text is stored exactly as written (leading spaces, blank lines and all).
    text = forms.CharField(
        label=_("Text"),
        widget=forms.Textarea(attrs={"rows": 16}),
        required=False,
        strip=False,
        max_length=INTERVIEW_SECTION_MAX_LENGTH,
    )
    done = forms.BooleanField(label=_("This section is done"), required=False)


class FamilyMemberForm(forms.ModelForm):
    class Meta:
        model = FamilyMember
        fields = ["label", "relation", "sex", "birth_year", "deceased", "death_year", "parents", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 2}), "parents": forms.CheckboxSelectMultiple}

    def __init__(self, *args, client: Client, **kwargs):
        super().__init__(*args, **kwargs)
        self.client = client
        others = client.family_members.filter(entered_in_error_at__isnull=True).order_by("birth_year", "label")
        if self.instance.pk:
            others = others.exclude(pk=self.instance.pk)
        self.fields["parents"].queryset = others
        self.fields["relation"].choices = [c for c in FamilyRelation.choices if c[0] != FamilyRelation.CLIENT]
        if self.instance.relation == FamilyRelation.CLIENT:
            del self.fields["relation"]

    def clean(self):
        data = super().clean()
        this_year = timezone.localdate().year
        birth, death = data.get("birth_year"), data.get("death_year")
        if birth and birth > this_year:
            self.add_error("birth_year", _("The birth year cannot be in the future."))
        if death and not data.get("deceased"):
            self.add_error("death_year", _("A year of death needs 'deceased' to be ticked."))
        if death and (death > this_year or (birth and death < birth)):
            self.add_error("death_year", _("The year of death must be between the birth year and this year."))
        if len(data.get("parents") or []) > 2:
            self.add_error("parents", _("Choose at most two parents."))
        return data


class SignForm(forms.Form):
    """Sign a part as the page showed it: the version it was saved at."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class PartAddendumForm(forms.Form):
    text = forms.CharField(
        label=_("Addendum"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=TEXT_MAX_LENGTH,
        help_text=_("A dated correction or addition. The signed text stays as it was."),
    )


class EnteredInErrorForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is the entry wrong?"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        help_text=_(
            "For example: the wrong person, or a relationship that does not exist. The entry is kept and listed."
        ),
    )


class FamilyRelationshipForm(forms.ModelForm):
    class Meta:
        model = FamilyRelationship
        fields = ["a", "kind", "b"]

    def __init__(self, *args, client: Client, **kwargs):
        super().__init__(*args, **kwargs)
        members = client.family_members.filter(entered_in_error_at__isnull=True).order_by("birth_year", "label")
        self.fields["a"].queryset = members
        self.fields["b"].queryset = members

    def clean(self):
        data = super().clean()
        if data.get("a") and data.get("a") == data.get("b"):
            self.add_error("b", _("Choose two different people."))
        return data


class CaseloadFilter(django_filters.FilterSet):
    # django-filter ships no Swedish catalogue: every label and empty label is ours.
    status = django_filters.ChoiceFilter(label=_("Status"), choices=CaseStatus.choices, empty_label=_("All statuses"))
    target_group = django_filters.ChoiceFilter(
        label=_("Target group"),
        choices=CLIENT_TARGET_GROUPS,
        empty_label=_("All target groups"),
        method="filter_target_group",
    )

    class Meta:
        model = Client
        fields = ["status"]

    def filter_target_group(self, queryset, name, value):
        return queryset.filter(target_groups__contains=[value])


class AgesField(SimpleArrayField):
    """Ages separated by commas, with one plain message instead of Django's "Item 2 in the array did not validate"."""

    def clean(self, value):
        try:
            return super().clean(value)
        except ValidationError as error:
            raise ValidationError(_("Give the ages as whole numbers, e.g. 4, 9"), code="invalid") from error


class ClientSearchForm(forms.Form):
    """Sent by POST, so a searched alias never lands in a URL, a browser history or a log."""

    q = forms.CharField(label=_("Search by code or alias"), max_length=60, required=False)


class ReopenForm(forms.Form):
    """Why a former client returns (optional, as long as the page's field allows), and, when the earlier period
    has follow-ups still open, what becomes of them: an explicit choice, never a default."""

    KEEP, CLOSE = "keep", "close"

    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)
    follow_ups = forms.ChoiceField(
        label=_("The earlier follow-ups still open"),
        choices=[(KEEP, _("Keep them due")), (CLOSE, _("Close them: not needed now the client is back"))],
        widget=forms.RadioSelect,
        required=False,
    )

    def __init__(self, *args: Any, open_follow_ups: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if open_follow_ups:
            self.fields["follow_ups"].required = True
            self.fields["follow_ups"].error_messages["required"] = _(
                "Choose what becomes of the earlier follow-ups still open."
            )
        else:
            del self.fields["follow_ups"]


class IntakePrintForm(forms.Form):
    include_name = forms.BooleanField(
        label=_("Include the name on the printout"),
        required=False,
        help_text=_("Without it, the printout identifies the client by code only."),
    )


class EmergencyAccessForm(forms.Form):
    """Break the glass: the record's code and why it must be opened now."""

    code = forms.CharField(label=_("The record's code"), max_length=20, help_text=_("For example GBG-2026-0042."))
    reason = forms.CharField(
        label=_("Why you must open the record"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("For example: the client called in crisis and their therapist is away. Do not write names."),
    )

    def clean_code(self) -> str:
        return self.cleaned_data["code"].strip().upper()


class GoalForm(forms.ModelForm):
    """A goal of the current treatment period, in the client's words."""

    class Meta:
        model = TreatmentGoal
        fields = ["wording", "set_on"]
        widgets = {"wording": forms.Textarea(attrs={"rows": 2}), "set_on": DateInput()}
        help_texts = {"wording": _("One goal at a time, as the client puts it.")}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The add form on the conversation's page gives only the wording: the goal is set today.
        self.fields["set_on"].required = False

    def clean_wording(self) -> str:
        wording = self.cleaned_data["wording"].strip()
        if not wording:
            raise ValidationError(_("Write the goal."))
        return wording


class GoalReviewForm(forms.Form):
    """How each goal stands, one choice per goal (a goal left without one is an error on it), and a new wording for
    a goal that changed. The fields are named by the goal's id: `outcome_<id>`, `new_wording_<id>`."""

    def __init__(self, *args: Any, goals: list[TreatmentGoal], outcomes: list[tuple[str, Any]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.goals = goals
        self.offers_new_wording = GoalOutcome.CHANGED in [value for value, _label in outcomes]
        for goal in goals:
            self.fields[f"outcome_{goal.pk}"] = forms.ChoiceField(
                label=getattr(goal, "current_wording", goal.wording),
                choices=outcomes,
                widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
                error_messages={"required": _("Choose how this goal stands.")},
            )
            if self.offers_new_wording:
                self.fields[f"new_wording_{goal.pk}"] = forms.CharField(
                    label=_("New wording, if changed"),
                    required=False,
                    max_length=TreatmentGoal._meta.get_field("wording").max_length,
                    widget=forms.Textarea(attrs={"rows": 2}),
                )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for goal in self.goals:
            if (
                cleaned.get(f"outcome_{goal.pk}") == GoalOutcome.CHANGED
                and not cleaned.get(f"new_wording_{goal.pk}", "").strip()
            ):
                self.add_error(f"new_wording_{goal.pk}", _("Write the goal's new wording."))
        return cleaned

    def rows(self) -> list[tuple[TreatmentGoal, forms.BoundField, forms.BoundField | None]]:
        """Per goal: the goal, its choice and its new wording (None where no change is offered)."""
        return [
            (goal, self[f"outcome_{goal.pk}"], self[f"new_wording_{goal.pk}"] if self.offers_new_wording else None)
            for goal in self.goals
        ]

    def reviews(self) -> list[ReviewInput]:
        return [
            ReviewInput(
                goal=goal,
                outcome=self.cleaned_data[f"outcome_{goal.pk}"],
                new_wording=self.cleaned_data.get(f"new_wording_{goal.pk}", ""),
            )
            for goal in self.goals
        ]
