from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from clients.models import Client
from groups.models import GroupMeeting, GroupMember, GroupNote, GroupProgramme, Part, Presence
from groups.selectors import attendance_seen
from kast.forms import OUT_OF_DATE, DateInput
from kast.models import Role, User
from sessions.forms import TimeInput


class ProgrammeForm(forms.ModelForm):
    class Meta:
        model = GroupProgramme
        fields = ["name", "description", "start_date", "leaders", "status"]
        widgets = {"start_date": DateInput(), "leaders": forms.CheckboxSelectMultiple}

    def __init__(self, *args, clinic, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["leaders"].queryset = User.objects.filter(
            clinic=clinic, role=Role.THERAPIST, is_active=True
        ).order_by("first_name", "username")
        self.fields["leaders"].label_from_instance = lambda user: user.get_full_name() or user.username


class MemberForm(forms.ModelForm):
    """A record for the roster, by its code: only records the leader sees through the clients' gate."""

    class Meta:
        model = GroupMember
        fields = ["record", "joined_on"]
        widgets = {"joined_on": DateInput()}

    def __init__(self, *args, user, programme, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.programme = programme
        self.fields["record"].queryset = (
            Client.objects.visible_to(user).exclude(group_memberships__programme=programme).order_by("kind", "code")
        )
        self.fields["record"].label_from_instance = lambda record: f"{record.code} ({record.get_kind_display()})"


class MeetingForm(forms.ModelForm):
    class Meta:
        model = GroupMeeting
        fields = ["date", "start_time", "duration_minutes", "invited"]
        widgets = {"date": DateInput(), "start_time": TimeInput(), "invited": forms.RadioSelect}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["invited"].choices = [c for c in self.fields["invited"].choices if c[0]]


class AttendanceForm(forms.Form):
    """One row per invited participant, each a radio list: all participants in one POST.

    `seen` is the attendance as the page showed it (groups.services.attendance_seen), so that a leader's save
    does not silently replace what another leader recorded meanwhile."""

    seen = forms.CharField(
        max_length=64,
        widget=forms.HiddenInput,
        error_messages={"required": OUT_OF_DATE, "max_length": OUT_OF_DATE},
    )

    def __init__(self, *args, members: list[GroupMember], initial_presence: dict[int, str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["seen"].initial = attendance_seen(initial_presence)
        self.members = members
        for member in members:
            self.fields[f"member_{member.pk}"] = forms.ChoiceField(
                label=f"{member.record.code} ({member.record.get_kind_display()})",
                choices=Presence.choices,
                widget=forms.RadioSelect,
                initial=initial_presence.get(member.pk),
            )

    def presence(self) -> dict[int, str]:
        return {member.pk: self.cleaned_data[f"member_{member.pk}"] for member in self.members}

    def rows(self):
        """(member, its radio list, the presence recorded in words or "") for the page."""
        labels = dict(Presence.choices)
        return [
            (member, self[f"member_{member.pk}"], labels.get(self.fields[f"member_{member.pk}"].initial, ""))
            for member in self.members
        ]


class NoteForm(forms.ModelForm):
    # The version the page was opened at (0: no draft yet), so that a save from a stale page is refused.
    version = forms.IntegerField(
        min_value=0,
        max_value=2**31 - 1,
        widget=forms.HiddenInput,
        error_messages={key: OUT_OF_DATE for key in ("required", "invalid", "min_value", "max_value")},
    )

    class Meta:
        model = GroupNote
        fields = ["client_part", "relative_part"]
        widgets = {"client_part": forms.Textarea(attrs={"rows": 6}), "relative_part": forms.Textarea(attrs={"rows": 6})}

    def __init__(self, *args, meeting: GroupMeeting, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["version"].initial = self.instance.version if self.instance.pk else 0
        # Only the parts of the sides invited: the other would be shown on nobody's record.
        if Part.CLIENTS not in meeting.parts:
            del self.fields["client_part"]
        if Part.RELATIVES not in meeting.parts:
            del self.fields["relative_part"]


class AddendumForm(forms.Form):
    part = forms.ChoiceField(label=_("Part"), choices=Part.choices, widget=forms.RadioSelect)
    text = forms.CharField(label=_("Addendum"), widget=forms.Textarea(attrs={"rows": 3}), max_length=50_000)

    def __init__(self, *args, meeting: GroupMeeting, **kwargs):
        super().__init__(*args, **kwargs)
        part = self.fields["part"]
        assert isinstance(part, forms.ChoiceField)
        part.choices = [c for c in Part.choices if c[0] in meeting.parts]
