"""Forms of sessions and notes. Friendly messages here; the database guarantees the same rules."""

from __future__ import annotations

import calendar
import datetime
import re
from typing import TYPE_CHECKING, Any

from django import forms
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from clients.models import Client, EndReason
from clients.selectors import records_by_code
from kast.forms import DateInput
from kast.models import TEXT_MAX_LENGTH, Role, User
from kast.profile import clinic_offers
from kast.validators import BOOKABLE_DATE, not_before_1900
from sessions.models import MAX_DURATION_MINUTES, Attendance, Method, SessionKind, Theme, TherapySession
from sessions.selectors import quick_log_start

if TYPE_CHECKING:
    from sessions.services import SessionNeedsConfirming


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, **kwargs):
        super().__init__(format="%H:%M", **kwargs)


class OverlapMixin:
    """The "save anyway" box stays hidden until the service has found a time to confirm: an overlap with
    another session, or a time outside the clinic's opening hours."""

    def setup_overlap(self) -> None:
        self.fields["allow_overlap"] = forms.BooleanField(
            label=_("Save anyway: I have checked the time"), required=False, widget=forms.HiddenInput
        )

    def show_overlap_box(self) -> None:
        self.fields["allow_overlap"].widget = forms.CheckboxInput()

    def ask_to_confirm(self, warning: SessionNeedsConfirming) -> None:
        self.show_overlap_box()
        if warning.overlapping:
            times = ", ".join(
                f"{s.start_time:%H:%M}–{s.ends_at // 60:02d}:{s.ends_at % 60:02d}" for s in warning.overlapping
            )
            self.add_error(
                "start_time",
                _(
                    "Overlaps another session of the same therapist on this day (%(times)s). Check the time, or "
                    "tick “save anyway”."
                )
                % {"times": times},
            )
        if warning.outside_hours:
            self.add_error(
                "start_time",
                _(
                    "Outside the clinic's opening hours (weekdays %(opens)s–%(closes)s). Check the date and time, "
                    "or tick “save anyway”."
                )
                % {"opens": f"{warning.clinic.opens_at:%H:%M}", "closes": f"{warning.clinic.closes_at:%H:%M}"},
            )


class SessionForm(OverlapMixin, forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0, required=False)
    participants = forms.CharField(
        label=_("Other participants"),
        required=False,
        max_length=500,
        help_text=_(
            "Couple and group sessions only: the codes of the other people present, separated by commas. "
            "Each must have a record of their own."
        ),
    )

    class Meta:
        model = TherapySession
        fields = [
            "date",
            "start_time",
            "duration_minutes",
            "kind",
            "attendance",
            "therapists",
            "fee_charged",
            "fee_paid",
        ]
        widgets = {
            "date": DateInput(),
            "start_time": TimeInput(),
            "duration_minutes": forms.NumberInput(attrs={"min": 1, "max": MAX_DURATION_MINUTES, "step": 5}),
            "therapists": forms.CheckboxSelectMultiple(),
        }
        error_messages = {
            "duration_minutes": {
                "min_value": _("A session lasts at least one minute."),
                "max_value": _("A session lasts at most %(limit_value)s minutes (8 hours)."),
            },
            "fee_charged": {"min_value": _("The fee cannot be negative.")},
        }

    def __init__(self, *args, clinic, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["therapists"].queryset = User.objects.filter(
            clinic=clinic, role=Role.THERAPIST, is_active=True
        ).order_by("first_name", "last_name")
        self.fields["fee_charged"].required = False
        self.fields["fee_charged"].help_text = _("Leave empty for the clinic's fee for this type of session.")
        if not clinic_offers(clinic, "fees"):
            # A clinic that does not charge asks for no fee (kast.profile); the service charges nothing.
            del self.fields["fee_charged"], self.fields["fee_paid"]
        self.fields["kind"].choices = kind_choices(clinic, keep=self.instance.kind if self.instance.pk else None)
        self.fields["version"].initial = self.instance.version if self.instance.pk else 0
        self.clinic = clinic
        if self.instance.pk:
            self.fields["participants"].initial = ", ".join(
                self.instance.participants.order_by("client__code").values_list("client__code", flat=True)
            )
        self.setup_overlap()

    def clean_date(self) -> datetime.date:
        # A session before the first contact is a typing error, and would make waiting times negative.
        date = self.cleaned_data["date"]
        first_contact = self.instance.client.first_contact_date
        if date < first_contact:
            raise forms.ValidationError(
                _("The record's first contact was %(date)s: a session cannot be dated before it.")
                % {"date": formats.date_format(first_contact, "SHORT_DATE_FORMAT")}
            )
        return date

    def clean_participants(self) -> list:
        codes = list(
            dict.fromkeys(code.strip().upper() for code in re.split(r"[,\s]+", self.cleaned_data["participants"]))
        )
        codes = [code for code in codes if code]
        found = records_by_code(self.clinic.pk, codes)
        missing = [code for code in codes if code not in found]
        if missing:
            raise forms.ValidationError(
                _("No record with the code %(codes)s at this clinic.") % {"codes": ", ".join(missing)}
            )
        return [found[code] for code in codes]

    def service_data(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if k not in ("version", "allow_overlap")}


def kind_choices(clinic, *, keep: str | None = None) -> list[tuple[str, str]]:
    """The kinds of session the clinic holds: a session with a relative alone only where it supports relatives
    (kast.profile). A saved session keeps its kind, so that switching the support off leaves the past as it was."""
    return [
        (value, label)
        for value, label in SessionKind.choices
        if value != SessionKind.RELATIVE or value == keep or clinic_offers(clinic, "relatives")
    ]


class NoteForm(forms.Form):
    text = forms.CharField(
        label=_("Note"), widget=forms.Textarea(attrs={"rows": 14}), required=False, max_length=TEXT_MAX_LENGTH
    )
    themes = forms.ModelMultipleChoiceField(
        label=_("Themes touched"), queryset=Theme.objects.none(), widget=forms.CheckboxSelectMultiple, required=False
    )
    methods = forms.ModelMultipleChoiceField(
        label=_("Methods used"),
        queryset=Method.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("From the clinic's list, so that methods are recorded the same way at every clinic."),
        error_messages={"invalid_choice": _("%(value)s is not one of the clinic's methods.")},
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)

    def has_text(self) -> bool:
        return bool(self.cleaned_data["text"].strip())

    def __init__(self, *args, themes, methods, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["themes"].queryset = themes
        self.fields["methods"].queryset = methods
        # The clinic's own methods say so, beside the common list.
        own = _("(the clinic's own)")
        self.fields["methods"].label_from_instance = lambda method: f"{method} {own}" if method.is_own else str(method)


class QuickLogForm(forms.Form):
    """The start page's "log a session": the session just held, for one of my clients."""

    client = forms.ModelChoiceField(label=_("Client"), queryset=None, empty_label=_("Choose a client"))
    kind = forms.ChoiceField(label=_("Type"), choices=SessionKind.choices, initial=SessionKind.INDIVIDUAL)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["client"].queryset = Client.objects.visible_to(user).only("id", "code").order_by("code")
        self.fields["client"].label_from_instance = lambda client: client.code
        if user.clinic is not None:
            self.fields["kind"].choices = kind_choices(user.clinic)

    def service_data(self) -> dict:
        """Held today, about an hour ago and clear of the therapist's other sessions: the usual case; the
        note page lets it be corrected."""
        now = timezone.localtime()
        minutes = TherapySession._meta.get_field("duration_minutes").default
        return {
            "kind": self.cleaned_data["kind"],
            "date": now.date(),
            "start_time": quick_log_start(self.user, now=now, minutes=minutes),
            "duration_minutes": minutes,
            "attendance": Attendance.ATTENDED,
        }


class PaymentForm(forms.Form):
    fee_paid = forms.BooleanField(label=_("Fee paid"), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)


class AddendumForm(forms.Form):
    text = forms.CharField(
        label=_("Addendum"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=TEXT_MAX_LENGTH,
        help_text=_("A dated correction or addition. The signed note stays as it was."),
    )


class AddendumDraftForm(forms.Form):
    """The addendum as autosaved while its author writes (js/autosave.js); empty is a draft too."""

    text = forms.CharField(label=_("Addendum"), required=False, max_length=TEXT_MAX_LENGTH)
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)


class VoidForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is the entry wrongly recorded?"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=500,
        help_text=_("For example: written on the wrong client. The entry is kept and stays in the history."),
    )


class BookNextForm(OverlapMixin, forms.Form):
    date = forms.DateField(label=_("Date"), widget=DateInput(), validators=BOOKABLE_DATE)
    start_time = forms.TimeField(label=_("Start time"), widget=TimeInput())

    def __init__(self, *args, after: TherapySession, **kwargs):
        super().__init__(*args, **kwargs)
        # Same time next week: how most treatments run.
        self.fields["date"].initial = after.date + datetime.timedelta(days=7)
        self.fields["start_time"].initial = after.start_time
        self.setup_overlap()

    def clean_date(self) -> datetime.date:
        date = self.cleaned_data["date"]
        if date < timezone.localdate():
            raise forms.ValidationError(_("A booking is for today or later."))
        return date


class EndTreatmentForm(forms.Form):
    ended_on = forms.DateField(
        # Not in the future: clean_ended_on says so in its own words.
        label=_("Treatment ended on"),
        widget=DateInput(),
        initial=timezone.localdate,
        validators=[not_before_1900],
    )
    reason = forms.ChoiceField(label=_("Why the treatment ended"), choices=[("", "—"), *EndReason.choices])
    comment = forms.CharField(label=_("Comment"), widget=forms.Textarea(attrs={"rows": 2}), required=False)
    long_term_check = forms.BooleanField(
        label=_("Also plan a long-term check"),
        required=False,
        initial=True,
        help_text=_("Years after the end, as the evaluation of KAST recommends."),
    )
    keep_bookings = forms.BooleanField(
        label=_("Keep the sessions booked ahead"),
        required=False,
        help_text=_("Otherwise they are cancelled by the clinic, in the calendar too (e.g. keep an agreed last one)."),
    )

    def __init__(self, *args: Any, relative: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.relative = relative
        if relative:  # a relative's record ends its support: the same form in the words of support
            self.fields["ended_on"].label = _("Support ended on")
            self.fields["reason"].label = _("Why the support ended")

    def clean_ended_on(self) -> datetime.date:
        ended_on = self.cleaned_data["ended_on"]
        if ended_on > timezone.localdate():
            if self.relative:
                raise forms.ValidationError(_("The support cannot end in the future."))
            raise forms.ValidationError(_("A treatment cannot end in the future."))
        return ended_on


class BookingsForm(forms.Form):
    """Which bookings to show: a week or a month from a day, the therapist's own or the clinic's."""

    WEEK, MONTH = "week", "month"
    MINE, CLINIC = "mine", "clinic"

    start = forms.DateField(label=_("From"), required=False, widget=DateInput(), validators=BOOKABLE_DATE)
    span = forms.ChoiceField(
        label=_("Show"), choices=[(WEEK, _("A week")), (MONTH, _("A month"))], required=False, initial=WEEK
    )
    scope = forms.ChoiceField(
        label=_("Whose"),
        choices=[(MINE, _("My bookings")), (CLINIC, _("The clinic's bookings"))],
        required=False,
        initial=MINE,
    )

    def period(self) -> tuple[datetime.date, int]:
        """The first day and the number of days: the week from its Monday, or the whole month."""
        day = self.cleaned_data.get("start") or timezone.localdate()
        if self.cleaned_data.get("span") == self.MONTH:
            first = day.replace(day=1)
            return first, calendar.monthrange(first.year, first.month)[1]
        return day - datetime.timedelta(days=day.weekday()), 7

    @property
    def clinic_wide(self) -> bool:
        return self.cleaned_data.get("scope") == self.CLINIC
