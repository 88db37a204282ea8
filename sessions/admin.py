"""Sessions and notes are deliberately not in Django's admin: administrators read no client content.

Only the clinic's fees and note themes are kept here, on the clinic's admin page (kast.admin)."""

from django.contrib import admin

from kast.admin import clinic_part_add
from sessions.models import SessionFee, Theme
from sessions.services import clinic_install_themes


class SessionFeeInline(admin.TabularInline):
    model = SessionFee
    extra = 0


class ThemeInline(admin.TabularInline):
    model = Theme
    extra = 0
    fields = ["position", "topic", "name", "questions", "active"]
    can_delete = False  # themes used in notes are taken out of use, never deleted


# First on the clinic's page; a new clinic starts with the conversation guide's topics.
clinic_part_add(position=10, inlines=[SessionFeeInline, ThemeInline], install=clinic_install_themes)
