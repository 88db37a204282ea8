"""The questionnaire as a form: one field per item, built from the version, with "don't want to answer"."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from assessments.models import Item, ItemKind, TimePoint
from assessments.services import DECLINED
from kast.forms import OUT_OF_DATE, DateInput
from kast.validators import not_before_1900

DECLINED_LABEL = _("Don't want to answer")
#: Items answered by picking one option: "don't want to answer" is one more option.
RADIO_KINDS = (ItemKind.YES_NO, ItemKind.SCALE, ItemKind.FREQUENCY, ItemKind.SINGLE)


def _encode(value: object) -> str:
    """A stored value as the radio button's value."""
    if value is True:
        return "yes"
    if value is False:
        return "no"
    return str(value)


class QuestionnaireForm(forms.Form):
    """Leaving an item empty is "not answered"; "don't want to answer" is an answer of its own.

    `answers_version` is the fingerprint of the stored answers the page was read with
    (assessments.services.answers_digest): a save replaces every answer, so one made from a page read before
    someone else's save (the clinic tablet, another tab, a colleague) must replace nothing.
    """

    answers_version = forms.CharField(
        max_length=64, widget=forms.HiddenInput, error_messages={"required": OUT_OF_DATE, "max_length": OUT_OF_DATE}
    )

    def __init__(
        self, *args, items: list[Item], stored: dict[str, object] | None = None, answers_version: str = "", **kwargs
    ):
        super().__init__(*args, **kwargs)
        self.initial["answers_version"] = answers_version
        self.items = items
        stored = stored or {}
        for item in items:
            name = f"item_{item.code}"
            value = stored.get(item.code)
            if item.kind in RADIO_KINDS:
                choices = [(_encode(v), label) for v, label in item.options()] + [(DECLINED, DECLINED_LABEL)]
                self.fields[name] = forms.ChoiceField(
                    label=item.localized_text, choices=choices, widget=forms.RadioSelect, required=False
                )
                self.initial[name] = _encode(value) if value is not None else None
                continue
            if item.kind == ItemKind.MULTIPLE:
                field = forms.MultipleChoiceField(
                    choices=item.options(), widget=forms.CheckboxSelectMultiple, required=False
                )
            elif item.kind == ItemKind.NUMBER:
                field = forms.IntegerField(min_value=item.min_value, max_value=item.max_value, required=False)
            elif item.kind == ItemKind.LAST_OCCURRENCE:
                field = forms.DateField(widget=DateInput(), required=False, validators=[not_before_1900])
            else:
                field = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=4000)
            field.label = item.localized_text
            self.fields[name] = field
            self.fields[f"declined_{item.code}"] = forms.BooleanField(label=DECLINED_LABEL, required=False)
            if value == DECLINED:
                self.initial[f"declined_{item.code}"] = True
            elif value is not None:
                self.initial[name] = value

    def clean(self):
        data = super().clean()
        for item in self.items:
            name = f"item_{item.code}"
            if item.kind == ItemKind.LAST_OCCURRENCE and data.get(name) and data[name] > timezone.localdate():
                self.add_error(name, _("The date cannot be in the future."))
            if data.get(f"declined_{item.code}") and data.get(name) not in (None, "", []):
                self.add_error(name, _("Give an answer or tick “don't want to answer”, not both."))
        return data

    def answers(self) -> dict[str, object]:
        """item code -> typed value, DECLINED, or None (not answered)."""
        result: dict[str, object] = {}
        for item in self.items:
            value = self.cleaned_data.get(f"item_{item.code}")
            if self.cleaned_data.get(f"declined_{item.code}"):
                value = DECLINED
            elif item.kind == ItemKind.YES_NO and value in ("yes", "no"):
                value = value == "yes"
            elif item.kind in (ItemKind.SCALE, ItemKind.FREQUENCY) and value not in ("", None, DECLINED):
                value = int(value)
            result[item.code] = value if value not in ("", []) else None
        return result

    def free_texts(self, stored: dict[str, object]) -> list[tuple[str, str]]:
        """(question, answer) of the free-text items among `stored` answers: what the autosave's conflict shows."""
        return [
            (str(item.localized_text), str(stored[item.code]))
            for item in self.items
            if item.kind == ItemKind.TEXT and isinstance(stored.get(item.code), str) and stored[item.code]
        ]

    def sections(self) -> list[tuple[str, list]]:
        """The bound fields grouped under the version's section headings, in order."""
        grouped: list[tuple[str, list]] = []
        for item in self.items:
            fields = [self[f"item_{item.code}"]]
            if f"declined_{item.code}" in self.fields:
                fields.append(self[f"declined_{item.code}"])
            if not grouped or grouped[-1][0] != item.localized_section:
                grouped.append((item.localized_section, []))
            grouped[-1][1].append((item, fields))
        return grouped


class StartForm(forms.Form):
    time_point = forms.ChoiceField(label=_("Time point"), choices=TimePoint.choices)


class TabletCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=12,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}),
    )


class EnteredInErrorForm(forms.Form):
    reason = forms.CharField(
        label=_("Why was the questionnaire entered in error?"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=500,
        help_text=_(
            "For example: given to the wrong client, or at the wrong time point. The questionnaire and its answers "
            "are kept in the record but no longer count in any figure."
        ),
    )
