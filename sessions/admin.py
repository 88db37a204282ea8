"""Sessions and notes are deliberately not in Django's admin: administrators read no client content.

Only the clinic's fees, note themes and methods are kept here, on the clinic's admin page (kast.admin)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from kast.admin import LabelledTabularInline, clinic_part_add
from sessions.models import Method, SessionFee, Theme
from sessions.services import clinic_install_lists


class SessionFeeInline(LabelledTabularInline):
    model = SessionFee
    extra = 0


class ThemeInline(LabelledTabularInline):
    model = Theme
    extra = 0
    fields = ["position", "topic", "name", "questions", "active"]
    can_delete = False  # themes used in notes are taken out of use, never deleted


class MethodForm(forms.ModelForm):
    class Meta:
        model = Method
        fields = ["position", "code", "name", "active"]

    def clean_code(self) -> str:
        # A saved method's code is what its notes were counted under: changing it would recount the past as
        # another method. A method no longer wanted is taken out of use, and another added.
        code: str = self.cleaned_data["code"]
        if self.instance.pk is not None and code != self.instance.code:
            raise forms.ValidationError(
                _("A saved method keeps its common method: take it out of use and add another instead.")
            )
        return code


class MethodInline(LabelledTabularInline):
    """The methods ticked on notes. The common ones (with a code) count nationally; a method the clinic adds
    (no code, a name) counts under its name at the clinic only, and as "other" where clinics are counted together."""

    model = Method
    form = MethodForm
    extra = 0
    fields = ["position", "code", "name", "active"]
    can_delete = False  # methods used in notes are taken out of use, never deleted


# First on the clinic's page; a new clinic starts with the common note themes and methods.
clinic_part_add(position=10, inlines=[SessionFeeInline, ThemeInline, MethodInline], install=clinic_install_lists)
