"""The administrators' tool: staff accounts, their logins, and clinics. No client content is registered here."""

from axes.utils import reset as axes_reset
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import Group
from django.db.models import Exists, OuterRef
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from kast.models import Clinic, LoginEvent, Role, StaffSession, User
from kast.services import login_event_record, staff_sessions_end
from kast.views import LogoutView, PasswordChangeView
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
    list_display = ["username", "first_name", "last_name", "role", "clinic", "is_active", "second_factor"]
    list_filter = ["role", "clinic", "is_active"]
    fieldsets = [
        (None, {"fields": ["username", "password"]}),
        (_("Personal info"), {"fields": ["first_name", "last_name", "email"]}),
        (_("Role and clinic"), {"fields": ["role", "clinic", "fte", "is_active"]}),
        (_("Important dates"), {"fields": ["last_login", "date_joined"]}),
        (_("Login sessions"), {"fields": ["login_sessions"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["username", "role", "clinic", "password1", "password2"]}),
    ]
    readonly_fields = ["last_login", "date_joined", "login_sessions"]
    actions = ["end_sessions", "unlock_login"]

    def get_queryset(self, request):
        authenticator = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
        return super().get_queryset(request).annotate(has_authenticator=Exists(authenticator))

    @admin.display(description=_("authenticator set up"), boolean=True)
    def second_factor(self, obj) -> bool:
        return obj.has_authenticator

    @admin.display(description=_("signed in now"))
    def login_sessions(self, obj) -> str:
        sessions = StaffSession.objects.filter(user=obj, session__expire_date__gt=timezone.now()).select_related(
            "session"
        )
        if not sessions:
            return _("No session.")
        return format_html_join(
            "",
            "<p>{}: {}, {}</p>",
            (
                (timezone.localtime(s.started_at).strftime("%Y-%m-%d %H:%M"), s.ip or "-", s.user_agent or "-")
                for s in sessions
            ),
        )

    @admin.action(description=_("End all login sessions of the selected staff"))
    def end_sessions(self, request, queryset):
        for user in queryset:
            staff_sessions_end(user=user, keep_session_key=request.session.session_key)
            login_event_record(
                request=request,
                event=LoginEvent.Event.SESSIONS_ENDED,
                user=user,
                reason=f"by {request.user.get_username()}",
            )
        self.message_user(request, _("Their sessions are ended: they must log in again."))

    @admin.action(description=_("Unlock the login of the selected staff (clear failed attempts)"))
    def unlock_login(self, request, queryset):
        for user in queryset:
            axes_reset(username=user.get_username())
        self.message_user(
            request,
            _("Unlocked. A locked address is unlocked under Axes: Access attempts."),
        )

    def save_model(self, request, obj, form, change):
        # Django's admin flags follow the role; the database refuses any other combination.
        obj.is_staff = obj.is_superuser = obj.role == Role.ADMIN
        super().save_model(request, obj, form, change)
        if change and "is_active" in form.changed_data and not obj.is_active:
            # Refused at the next request anyway (StaffBackend.get_user); this clears the session list too.
            staff_sessions_end(user=obj)


@admin.register(LoginEvent)
class LoginEventAdmin(admin.ModelAdmin):
    """The login log: read only (PostgreSQL refuses changes anyway)."""

    list_display = ["at", "event", "username", "ip", "reason"]
    list_filter = ["event"]
    search_fields = ["username", "ip"]
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# Roles replace Django's groups and permissions; an unused screen is one less to secure.
admin.site.unregister(Group)


def _logout(request, extra_context=None):
    return LogoutView.as_view()(request)


def _password_change(request, extra_context=None):
    return PasswordChangeView.as_view(success_url=reverse_lazy("admin:password_change_done"))(request)


# The admin site's own "Log out" and "Change password" are the app's: they end the user's other sessions and are
# written to the login log.
admin.site.logout = _logout
admin.site.password_change = _password_change
