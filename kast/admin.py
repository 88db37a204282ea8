"""The administrators' tool: staff accounts, their logins, and clinics. No client content is registered here.

The clinic's lists kept by other apps (fees, note themes, referral destinations) are added to its page by those
apps' admin modules (`clinic_part_add`), so kast imports none of them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, TypedDict

from axes.utils import reset as axes_reset
from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse, reverse_lazy
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.html import format_html, format_html_join
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_static.admin import StaticDeviceAdmin
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin
from django_otp.plugins.otp_totp.models import TOTPDevice

from kast import profile
from kast.actor import actor_of, client_ip
from kast.models import AccessLogEntry, Clinic, LoginEvent, Role, StaffSession, User
from kast.services import (
    access_log_record,
    account_reset_start,
    login_event_record,
    second_factor_remove,
    staff_changes_record,
    staff_sessions_end,
)
from kast.views import LogoutView, PasswordChangeView

if TYPE_CHECKING:
    from django.db.models import QuerySet
    from django.urls import URLPattern
    from django_otp.models import Device
    from django_stubs_ext import WithAnnotations  # the types only: django-stubs-ext is a development requirement

    from kast.access import AuthenticatedHttpRequest

    # Django's admin classes and forms take no type arguments at run time: those are for mypy only.
    ClinicModelAdmin = admin.ModelAdmin[Clinic]
    LoginEventModelAdmin = admin.ModelAdmin[LoginEvent]
    StaffUserAdmin = UserAdmin[User]
    StaffUserChangeForm = UserChangeForm[User]
    StaffModelForm = forms.ModelForm[User]
    ClinicInline = type[admin.options.InlineModelAdmin[Any, Clinic]]
else:
    ClinicModelAdmin = LoginEventModelAdmin = admin.ModelAdmin
    StaffUserAdmin = UserAdmin
    StaffUserChangeForm = UserChangeForm
    StaffModelForm = forms.ModelForm


class HasAuthenticator(TypedDict):
    """StaffAdmin.get_queryset's annotation."""

    has_authenticator: bool


def _signed_in(request: HttpRequest) -> User:
    """The administrator at work (the admin site lets no one else in: AdminSite.has_permission)."""
    if not request.user.is_authenticated:
        raise PermissionDenied
    return request.user


admin.site.site_header = _("KAST administration")
admin.site.site_title = _("KAST administration")


@dataclass(frozen=True)
class ClinicPart:
    """What an app shows and sets up on the clinic's admin page (the clinic is kast's; its lists are the app's)."""

    position: int  # where on the page, and in which order a new clinic's lists are installed
    inlines: tuple[ClinicInline, ...]
    install: Callable[[Clinic], object] | None = None  # called with each clinic added in the admin site


@admin.register(Clinic)
class ClinicAdmin(ClinicModelAdmin):
    list_display = ["name", "code"]
    search_fields = ["name", "code"]
    fieldsets = [
        (None, {"fields": ["name", "code"]}),
        (_("Opening hours (weekdays)"), {"fields": ["opens_at", "closes_at"]}),
        (
            _("Follow-up and reminders"),
            {"fields": ["follow_up_months", "long_term_follow_up_months", "draft_reminder_days"]},
        ),
        # kast.profile: a part switched off has no menu item, no page and no figures at the clinic.
        (
            _("What the clinic offers"),
            {"fields": list(profile.PARTS.values())},
        ),
    ]
    #: The lists each clinic keeps in the apps above (fees and note themes: sessions.admin; referral destinations:
    #: clients.admin), each app's inlines with where they stand on the page, and what a new clinic starts with.
    parts: ClassVar[list[ClinicPart]] = []
    inlines: ClassVar[list[ClinicInline]] = []  # the parts' inlines, in their order (clinic_part_add)

    def save_model(self, request: HttpRequest, obj: Clinic, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if not change:
            for part in self.parts:
                if part.install is not None:
                    part.install(obj)


def clinic_part_add(
    *, position: int, inlines: Sequence[ClinicInline], install: Callable[[Clinic], object] | None = None
) -> None:
    """Show an app's inlines on the clinic's admin page, and install a new clinic's starting list (called from the
    app's admin module, which Django's admin imports at start-up)."""
    ClinicAdmin.parts = sorted(
        [*ClinicAdmin.parts, ClinicPart(position=position, inlines=tuple(inlines), install=install)],
        key=lambda part: part.position,
    )
    ClinicAdmin.inlines = [inline for part in ClinicAdmin.parts for inline in part.inlines]


class LabelledInlineFormSet(forms.BaseInlineFormSet):  # type: ignore[type-arg]  # the admin's, untyped here
    """A tabular inline's labels are its column headings, which a screen reader does not tie to the fields in the
    rows below: each field gets its heading as its name, with the row's number ("Belopp, rad 2")."""

    def add_fields(self, form: forms.ModelForm[Any], index: int | None) -> None:
        super().add_fields(form, index)
        for name, field in form.fields.items():
            if field.widget.is_hidden:
                continue
            label = str(field.label or name)
            if index is not None:
                label = gettext("%(field)s, row %(row)s") % {"field": label, "row": index + 1}
            field.widget.attrs["aria-label"] = label


class LabelledTabularInline(admin.TabularInline):  # type: ignore[type-arg]
    """Every tabular inline of the project: its fields named for screen readers (LabelledInlineFormSet)."""

    formset = LabelledInlineFormSet


class StaffChangeForm(StaffUserChangeForm):
    # Django's read-only hash, with its link to set another user's password: not here (None removes a field).
    password = None  # type: ignore[assignment]  # Django's way to remove an inherited form field


class StaffCreationForm(StaffModelForm):
    """A new account has no password: its user sets one with a reset link (StaffAdmin.reset_view), as after
    any reset, so no administrator ever knows a user's password."""

    class Meta:
        model = User
        fields = ["username", "first_name", "last_name", "role", "clinic"]

    def save(self, commit: bool = True) -> User:
        self.instance.set_unusable_password()
        return super().save(commit=commit)


@admin.register(User)
class StaffAdmin(StaffUserAdmin):
    """Staff accounts. An administrator never sets or sees another user's password and cannot sign in as
    anyone else: a forgotten password or a lost phone gets a reset the user completes herself (a one-time link,
    then a new second factor of her own). Resets, removed second factors and changes of role or clinic go to the
    login log and the log review (kast.services.account_change_record)."""

    list_display = ["username", "first_name", "last_name", "role", "clinic", "is_active", "second_factor"]
    list_filter = ["role", "clinic", "is_active"]
    fieldsets = [
        (None, {"fields": ["username", "password_reset"]}),
        (_("Personal info"), {"fields": ["first_name", "last_name", "email"]}),
        (_("Role and clinic"), {"fields": ["role", "clinic", "fte", "is_active"]}),
        (_("Important dates"), {"fields": ["last_login", "date_joined"]}),
        (_("Login sessions"), {"fields": ["login_sessions"]}),
    ]
    form = StaffChangeForm
    add_form = StaffCreationForm
    add_form_template = "admin/change_form.html"  # not Django's, whose script is for the password fields
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["username", "first_name", "last_name", "role", "clinic"]}),
    ]
    readonly_fields = ["last_login", "date_joined", "login_sessions", "password_reset"]
    actions = ["end_sessions", "unlock_login", "remove_second_factor"]

    def get_urls(self) -> list[URLPattern]:
        reset = path("<path:object_id>/reset/", self.admin_site.admin_view(self.reset_view), name="kast_user_reset")
        return [reset, *super().get_urls()]

    @admin.display(description=_("Password"))
    def password_reset(self, obj: User) -> str:
        return format_html(
            '{} <a class="button" href="{}">{}</a>',
            _("Only the user knows it. A forgotten password or a lost phone: start a reset."),
            reverse("admin:kast_user_reset", args=[obj.pk]),
            _("Start a password reset"),
        )

    def reset_view(self, request: AuthenticatedHttpRequest, object_id: str) -> TemplateResponse:
        """Start a reset (POST) and show its one-time link, once: it is never stored, sent or logged."""
        user = self.get_object(request, unquote(object_id))
        if user is None:
            raise Http404
        if not self.has_change_permission(request, user):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": user,
            "title": _("Password reset"),
        }
        if request.method == "POST" and user.is_active:
            token = account_reset_start(user=user, by=request.user, ip=client_ip(request), path=request.path)
            uidb64 = urlsafe_base64_encode(force_bytes(user.pk))
            link = reverse("password_reset_confirm", kwargs={"uidb64": uidb64, "token": token})
            context.update(link=request.build_absolute_uri(link), minutes=settings.PASSWORD_RESET_TIMEOUT // 60)
        return TemplateResponse(request, "admin/kast/user/reset.html", context)

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = "") -> HttpResponse:
        # Django's "set this user's password" page: an administrator's own password is changed as everyone's
        # is (the old one asked); anyone else's, never (a reset instead).
        if str(request.user.pk) == unquote(id):
            return redirect("password_change")
        access_log_record(
            actor=actor_of(request), action=AccessLogEntry.Action.DENIED, object_type="kast.user_password"
        )
        raise PermissionDenied

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        authenticator = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
        return super().get_queryset(request).annotate(has_authenticator=Exists(authenticator))

    @admin.display(description=_("authenticator set up"), boolean=True)
    def second_factor(self, obj: WithAnnotations[User, HasAuthenticator]) -> bool:
        return obj.has_authenticator

    @admin.display(description=_("signed in now"))
    def login_sessions(self, obj: User) -> str:
        sessions = StaffSession.objects.filter(user=obj, session__expire_date__gt=timezone.now()).select_related(
            "session"
        )
        if not sessions:
            return gettext("No session.")
        return format_html_join(
            "",
            "<p>{}: {}, {}</p>",
            (
                (timezone.localtime(s.started_at).strftime("%Y-%m-%d %H:%M"), s.ip or "-", s.user_agent or "-")
                for s in sessions
            ),
        )

    @admin.action(description=_("End all login sessions of the selected staff"))
    def end_sessions(self, request: AuthenticatedHttpRequest, queryset: QuerySet[User]) -> None:
        for user in queryset:
            staff_sessions_end(user=user, keep_session_key=request.session.session_key)
            login_event_record(
                actor=request.actor,
                event=LoginEvent.Event.SESSIONS_ENDED,
                user=user,
                reason=f"by {request.user.get_username()}",
            )
        self.message_user(request, _("Their sessions are ended: they must log in again."))

    @admin.action(description=_("Remove the authenticator and backup codes of the selected staff (a lost phone)"))
    def remove_second_factor(self, request: AuthenticatedHttpRequest, queryset: QuerySet[User]) -> None:
        for user in queryset:
            second_factor_remove(user=user, by=request.user, ip=client_ip(request), path=request.path)
        self.message_user(
            request,
            _("Removed. They set up a new authenticator at their next login, with their own password."),
        )

    @admin.action(description=_("Unlock the login of the selected staff (clear failed attempts)"))
    def unlock_login(self, request: AuthenticatedHttpRequest, queryset: QuerySet[User]) -> None:
        for user in queryset:
            axes_reset(username=user.get_username())
        self.message_user(
            request,
            _("Unlocked. Their failed attempts from every address are cleared."),
        )

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        # Django's admin flags follow the role; the database refuses any other combination.
        obj.is_staff = obj.is_superuser = obj.role == Role.ADMIN
        before = User.objects.filter(pk=obj.pk).values("role", "clinic_id").first() if change else None
        super().save_model(request, obj, form, change)
        if before is not None:
            staff_changes_record(
                user=obj,
                by=_signed_in(request),
                ip=client_ip(request),
                path=request.path,
                role_before=before["role"],
                clinic_before_id=before["clinic_id"],
            )
        if change and "is_active" in form.changed_data and not obj.is_active:
            # Refused at the next request anyway (StaffBackend.get_user); this clears the session list too.
            staff_sessions_end(user=obj)


class SecondFactorDeviceAdmin:
    """django-otp's device pages, to see who has what and to remove a device: never to add or change one (an
    administrator who sets up a device for someone knows its secret). A removal is a change to the account,
    logged and reviewed like one."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Device | None = None) -> bool:
        return False

    def delete_model(self, request: HttpRequest, obj: Device) -> None:
        second_factor_remove(
            user=obj.user, by=_signed_in(request), ip=client_ip(request), path=request.path, devices=[obj]
        )

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Device]) -> None:
        for device in queryset.select_related("user"):
            self.delete_model(request, device)


class StaffTOTPDeviceAdmin(SecondFactorDeviceAdmin, TOTPDeviceAdmin):  # type: ignore[misc]  # django-otp: no types
    pass


class StaffStaticDeviceAdmin(SecondFactorDeviceAdmin, StaticDeviceAdmin):  # type: ignore[misc]  # django-otp: no types
    pass


for _model, _model_admin in ((TOTPDevice, StaffTOTPDeviceAdmin), (StaticDevice, StaffStaticDeviceAdmin)):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)
    admin.site.register(_model, _model_admin)


@admin.register(LoginEvent)
class LoginEventAdmin(LoginEventModelAdmin):
    """The login log: read only (PostgreSQL refuses changes anyway)."""

    list_display = ["at", "event", "username", "ip", "reason"]
    list_filter = ["event"]
    search_fields = ["username", "ip"]
    date_hierarchy = "at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: LoginEvent | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: LoginEvent | None = None) -> bool:
        return False


# Roles replace Django's groups and permissions; an unused screen is one less to secure.
admin.site.unregister(Group)


def _logout(request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponseBase:
    return LogoutView.as_view()(request)


def _password_change(request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponseBase:
    return PasswordChangeView.as_view(success_url=reverse_lazy("admin:password_change_done"))(request)


# The admin site's own "Log out" and "Change password" are the app's: they end the user's other sessions and are
# written to the login log.
# (Replacing the methods of the one site object; the app's views answer with a redirect, not a TemplateResponse.)
admin.site.logout = _logout  # type: ignore[method-assign,assignment]  # see above
admin.site.password_change = _password_change  # type: ignore[method-assign,assignment]  # see above
