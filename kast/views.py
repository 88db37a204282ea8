from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any, cast

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.views import INTERNAL_RESET_SESSION_TOKEN
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django_otp.forms import OTPAuthenticationFormMixin
from django_otp.middleware import is_verified
from two_factor import views as two_factor_views

from kast.actor import actor_of, client_ip
from kast.auth import account_reset_tokens
from kast.login_throttle import login_wait_seconds
from kast.middleware import LOGGED_IN_AT
from kast.models import LoginEvent
from kast.selectors import account_changes_notice, account_changes_untold
from kast.services import (
    account_reset_complete,
    login_event_record,
    staff_session_record,
    staff_sessions_end,
)

if TYPE_CHECKING:
    from django.contrib.auth.forms import PasswordChangeForm, SetPasswordForm
    from django.forms import BaseForm
    from django_otp.models import Device
    from django_otp.plugins.otp_static.models import StaticDevice

    from kast.models import User


@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return HttpResponse("database unavailable", status=503, content_type="text/plain")
    return HttpResponse("ok", content_type="text/plain")


@never_cache
def still_signed_in(request: HttpRequest) -> HttpResponse:
    """204 while the sign-in lasts, the login redirect after it (the role table): the idle warning's "Continue"
    on a page with no draft to save (js/autosave.js). The request itself keeps the sign-in alive."""
    return HttpResponse(status=204)


# Login: password, then the code from an authenticator app (django-two-factor-auth's wizards, in our layout).

CODE_LABEL = _("Code from the authenticator app")
#: django-otp ships no Swedish; its messages are replaced by ours.
CODE_ERRORS = {
    **OTPAuthenticationFormMixin.otp_error_messages,
    "token_required": _("Enter the code."),
    "invalid_token": _("The code is not valid. Try the app's next code, or a backup code."),
    "n_failed_attempts": _("Too many wrong codes: wait a minute and try again."),
    "verification_not_allowed": _("Too many wrong codes: wait a minute and try again."),
}


class PathOnlyRedirectMixin:
    """`next` must be a path on this site. django-two-factor-auth hands it to redirect(), which reads a bare
    word as a URL name and fails with a server error on any other (found by tests/kast/test_fuzzing.py)."""

    def get_redirect_url(self) -> str:
        url: str = super().get_redirect_url()  # type: ignore[misc]  # a mixin: the view it goes into has it
        return url if url.startswith("/") else ""


class LoginView(PathOnlyRedirectMixin, two_factor_views.LoginView):  # type: ignore[misc]  # django-two-factor-auth ships no types
    """Step one the password (axes counts the failures), step two the code or a backup code. Every outcome
    goes to the login log; a user without an authenticator is sent on to set one up."""

    template_name = "registration/login.html"
    device_cache: Device | None

    def post(self, *args: Any, **kwargs: Any) -> HttpResponse:
        # The library jumps to the code step for any posted `challenge_device`, even before the password
        # step or for a user without an authenticator (a server error, found by fuzzing): start over instead.
        if "challenge_device" in self.request.POST and not (self.get_user() and self.has_token_step()):
            restart: HttpResponse = self.render_goto_step(self.FIRST_STEP)
            return restart
        # Any post carrying a password, whatever step it claims: an address that has failed too often waits
        # (kast.login_throttle), and a password refused here is not checked, so it is not counted either.
        if f"{self.AUTH_STEP}-password" in self.request.POST:
            wait = login_wait_seconds(client_ip(self.request))
            if wait:
                login_event_record(
                    actor=self.request.actor,
                    event=LoginEvent.Event.THROTTLED,
                    username=self.request.POST.get(f"{self.AUTH_STEP}-username", ""),
                    reason=f"wait {wait} s",
                )
                return login_throttled(self.request, wait)
        response: HttpResponse = super().post(*args, **kwargs)
        return response

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        # Signed in with both factors: on to the page asked for. With the password only: log in again here.
        if request.user.is_authenticated and is_verified(request.user):
            target: str = self.get_success_url()
            return redirect(resolve_url(settings.LOGIN_REDIRECT_URL) if target == request.path else target)
        response: HttpResponseBase = super().dispatch(request, *args, **kwargs)
        return response

    def get_device(self, step: str | None = None) -> Device | None:
        # The library checks a backup code against the user's first backup device only; an administrator
        # can add a second one in the admin site, and its codes must work too: pick the device holding it.
        if step == self.BACKUP_STEP and not self.device_cache:
            token = self.request.POST.get(f"{self.BACKUP_STEP}-otp_token", "").strip()
            devices = self.get_user().staticdevice_set.order_by("pk")
            self.device_cache = (token and devices.filter(token_set__token=token).first()) or devices.first()
        return super().get_device(step)

    def get_form(self, step: str | None = None, **kwargs: Any) -> BaseForm:
        form = super().get_form(step=step, **kwargs)
        if "otp_token" in form.fields:
            backup = (step or self.steps.current) == self.BACKUP_STEP
            form.fields["otp_token"].label = _("Backup code") if backup else CODE_LABEL
            form.otp_error_messages = CODE_ERRORS
        return cast("BaseForm", form)  # the library's form (untyped), changed above

    def render(self, form: BaseForm | None = None, **kwargs: Any) -> HttpResponse:
        if form is not None and form.is_bound and form.errors and self.steps.current != self.AUTH_STEP:
            login_event_record(
                actor=self.request.actor,
                event=LoginEvent.Event.CODE_FAILED,
                user=self.get_user() or None,
                reason=self.steps.current,
            )
        response: HttpResponse = super().render(form, **kwargs)
        return response

    def done(self, form_list: list[BaseForm], **kwargs: Any) -> HttpResponseBase:
        response: HttpResponseBase = super().done(form_list, **kwargs)
        user = self.get_user()
        if getattr(user, "otp_device", None) is not None:
            tell_account_changes(self.request, user)
            login_event_record(actor=self.request.actor, event=LoginEvent.Event.LOGIN, user=user)
            return response
        login_event_record(actor=self.request.actor, event=LoginEvent.Event.PASSWORD_ONLY, user=user)
        return redirect("two_factor:setup")


class SetupView(PathOnlyRedirectMixin, two_factor_views.SetupView):  # type: ignore[misc]  # django-two-factor-auth ships no types
    """Setting up the authenticator app: scan the QR code (or type the key), then confirm with a code."""

    def get_form(self, step: str | None = None, **kwargs: Any) -> BaseForm:
        form = super().get_form(step=step, **kwargs)
        if "token" in form.fields:
            form.fields["token"].label = CODE_LABEL
            form.error_messages = {"invalid_token": CODE_ERRORS["invalid_token"]}
        return cast("BaseForm", form)  # the library's form (untyped), changed above

    def done(self, form_list: list[BaseForm], **kwargs: Any) -> HttpResponseBase:
        response: HttpResponseBase = super().done(form_list, **kwargs)
        tell_account_changes(self.request, self.request.user)  # after a reset, this is the login that gets in
        login_event_record(
            actor=self.request.actor, event=LoginEvent.Event.SECOND_FACTOR_SET_UP, user=self.request.user
        )
        return response


def tell_account_changes(request: HttpRequest, user: User) -> None:
    """Tell the user, once, what was changed on her account (a reset, a removed authenticator, a new role or
    clinic) since she last signed in. Before this login is written to the log, which marks them told."""
    changes = account_changes_untold(user)
    if changes:
        messages.warning(request, account_changes_notice(changes))


class BackupTokensView(two_factor_views.BackupTokensView):  # type: ignore[misc]  # django-two-factor-auth ships no types
    """The library's page, also for a user with more than one backup device (its get_or_create() then fails).

    Codes are stored hashed (kast.otp_secrets), so they can be shown only when they are made: the answer to
    the POST shows them, once; the page shows afterwards how many are left."""

    def get_device(self) -> StaticDevice:
        devices = self.request.user.staticdevice_set.order_by("pk")
        # The wizard's own device first (the one it names "backup"), else any, else a new one.
        device = devices.filter(name="backup").first() or devices.first()
        return device or self.request.user.staticdevice_set.create(name="backup")  # the related manager sets the user

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context: dict[str, Any] = super().get_context_data(**kwargs)
        context["remaining"] = context["device"].token_set.count()
        return context

    def form_valid(self, form: BaseForm) -> HttpResponse:
        device = self.get_device()
        device.token_set.all().delete()
        codes = [device.token_set.model.random_token() for _number in range(self.number_of_tokens)]
        device.token_set.bulk_create([device.token_set.model(device=device, token=code) for code in codes])
        response: HttpResponse = self.render_to_response(self.get_context_data(form=form, codes=codes))
        return response


class QRCodeView(two_factor_views.QRGeneratorView):  # type: ignore[misc]  # django-two-factor-auth ships no types
    """The QR code of the key being set up, as SVG from our own server (no CDN, nothing inline)."""

    def get_issuer(self) -> str:
        site_name: str = settings.SITE_NAME
        return site_name


class AccountResetConfirmView(auth_views.PasswordResetConfirmView):
    """The one-time link of a reset an administrator started: the user sets a new password here; her
    authenticator and backup codes go with the old one (kast.services.account_reset_complete), and she sets up
    new ones at her next login. Not in a signed-in browser: the link is for its user, not for whoever is
    signed in there (an administrator testing the link would otherwise set the password for the user)."""

    token_generator = account_reset_tokens
    template_name = "registration/account_reset_confirm.html"
    success_url = reverse_lazy("password_reset_complete")
    post_reset_login = False

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.user.is_authenticated:
            return render(request, "registration/account_reset_signed_in.html")
        return super().dispatch(request, *args, **kwargs)

    def get_user(self, uidb64: str) -> User | None:
        user = super().get_user(uidb64)
        return user if user is not None and user.is_active else None

    def form_valid(self, form: SetPasswordForm[User]) -> HttpResponse:
        request = self.request
        account_reset_complete(
            user=form.user,  # self.user, which the view gives its form
            password=form.cleaned_data["new_password1"],
            ip=client_ip(request),
            path=request.path,
        )
        del request.session[INTERNAL_RESET_SESSION_TOKEN]
        return HttpResponseRedirect(self.get_success_url())


class AccountResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "registration/account_reset_complete.html"


class LogoutView(auth_views.LogoutView):
    """Logging out ends every session of the user, on every computer (one left open in a clinic room too)."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated:
            login_event_record(actor=actor_of(request), event=LoginEvent.Event.LOGOUT, user=request.user)
            staff_sessions_end(user=request.user)
        return super().post(request, *args, **kwargs)


class PasswordChangeView(auth_views.PasswordChangeView):
    """A new password ends the user's other sessions everywhere; this one goes on."""

    def form_valid(self, form: PasswordChangeForm) -> HttpResponse:
        logged_in_at = self.request.session.get(LOGGED_IN_AT)
        response = super().form_valid(form)  # also gives this session a new key
        user = form.user
        staff_sessions_end(user=user, keep_session_key=self.request.session.session_key)
        staff_session_record(
            user=user,
            session_key=self.request.session.session_key,
            ip=actor_of(self.request).address,
            user_agent=self.request.META.get("HTTP_USER_AGENT", ""),
            started_at=datetime.datetime.fromtimestamp(logged_in_at, tz=datetime.UTC) if logged_in_at else None,
        )
        login_event_record(actor=actor_of(self.request), event=LoginEvent.Event.PASSWORD_CHANGED, user=user)
        return response


def login_throttled(request: HttpRequest, seconds: int) -> HttpResponse:
    """The answer to a password sent before its address's wait (kast.login_throttle) is over."""
    response = render(request, "registration/login_throttled.html", {"seconds": seconds}, status=429)
    response["Retry-After"] = str(seconds)
    return response


def locked_out(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict[str, Any] | None = None
) -> HttpResponse:
    """The answer to a login attempt while locked out (django-axes' AXES_LOCKOUT_CALLABLE)."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(request, "registration/locked_out.html", {"minutes": minutes}, status=429)
