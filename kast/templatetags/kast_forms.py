"""Template filters for forms, whatever the app."""

from __future__ import annotations

from django import forms, template

register = template.Library()


@register.filter
def marks_fields(form: forms.BaseForm) -> bool:
    """Whether a field the user sees has an error to mark: not so when only the form as a whole (someone saved
    meanwhile) or a hidden field (the page is out of date) has one, and "correct the marked fields" would send
    the user looking for a mark that is not there."""
    return any(field.errors for field in form.visible_fields())
