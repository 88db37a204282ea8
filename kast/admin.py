"""The administrators' tool: staff accounts and clinics. No client content is registered here."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _

from kast.models import Clinic, Role, User
from sessions.models import SessionFee, Theme
from sessions.services import clinic_install_themes

admin.site.site_header = _("KAST administration")
admin.site.site_title = _("KAST administration")


class ThemeInline(admin.TabularInline):
    model = Theme
    extra = 0
    fields = ["position", "topic", "name", "questions", "active"]
    can_delete = False  # themes used in notes are taken out of use, never deleted


class SessionFeeInline(admin.TabularInline):
    model = SessionFee
    extra = 0


@admin.register(Clinic)
class ClinicAdmin(admin.ModelAdmin):
    list_display = ["name", "code"]
    search_fields = ["name", "code"]
    fieldsets = [
        (None, {"fields": ["name", "code"]}),
        (
            _("Follow-up and reminders"),
            {"fields": ["follow_up_months", "long_term_follow_up_months", "draft_reminder_days"]},
        ),
    ]
    inlines = [SessionFeeInline, ThemeInline]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change:
            clinic_install_themes(obj)  # a new clinic starts with the conversation guide's topics


@admin.register(User)
class StaffAdmin(UserAdmin):
    list_display = ["username", "first_name", "last_name", "role", "clinic", "is_active"]
    list_filter = ["role", "clinic", "is_active"]
    fieldsets = [
        (None, {"fields": ["username", "password"]}),
        (_("Personal info"), {"fields": ["first_name", "last_name", "email"]}),
        (_("Role and clinic"), {"fields": ["role", "clinic", "fte", "is_active"]}),
        (_("Important dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["username", "role", "clinic", "password1", "password2"]}),
    ]
    readonly_fields = ["last_login", "date_joined"]

    def save_model(self, request, obj, form, change):
        # Django's admin flags follow the role; the database refuses any other combination.
        obj.is_staff = obj.is_superuser = obj.role == Role.ADMIN
        super().save_model(request, obj, form, change)


# Roles replace Django's groups and permissions; an unused screen is one less to secure.
admin.site.unregister(Group)
