from __future__ import annotations

import datetime
import functools
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.views import INTERNAL_RESET_SESSION_TOKEN
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, connection
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render, resolve_url
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_otp.forms import OTPAuthenticationFormMixin
from two_factor import views as two_factor_views

from kast import cached_figures, statistics, year_report
from kast.auth import account_reset_tokens
from kast.csv_export import csv_response
from kast.forms import DashboardFilterForm
from kast.login_throttle import login_wait_seconds
from kast.middleware import LOGGED_IN_AT
from kast.models import AccessLogEntry, Clinic, LoginEvent
from kast.pdf import print_response
from kast.selectors import account_changes_notice, account_changes_untold
from kast.services import (
    access_log_record,
    account_reset_complete,
    client_ip,
    login_event_record,
    staff_session_record,
    staff_sessions_end,
)
from kast.statistics import clinic_session_counts
from sessions.forms import QuickLogForm
from sessions.selectors import start_page_for


def home(request: HttpRequest) -> HttpResponse:
    """The start page: for a therapist, the day's work (sessions, notes to sign, follow-ups due)."""
    context = {}
    if request.user.is_therapist:
        context = {"start": start_page_for(request.user), "quick_log_form": QuickLogForm(user=request.user)}
    elif request.user.is_manager:
        context = {"counts": clinic_session_counts(request.user.clinic)}
    return render(request, "kast/home.html", context)


@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return HttpResponse("database unavailable", status=503, content_type="text/plain")
    return HttpResponse("ok", content_type="text/plain")


def _refuse_another_clinic(request: HttpRequest, *, object_type: str) -> str:
    """The clinic asked for (`?clinic=`). Clinic staff asking for another clinic are refused and logged."""
    asked = request.GET.get("clinic", "")
    if not request.user.is_national and asked and asked != str(request.user.clinic_id):
        access_log_record(request=request, action=AccessLogEntry.Action.DENIED, object_type=object_type)
        raise PermissionDenied
    return asked


def _dashboard_form(request: HttpRequest) -> DashboardFilterForm:
    """The period and clinic asked for."""
    _refuse_another_clinic(request, object_type="kast.dashboard")
    return DashboardFilterForm(request.GET, user=request.user)


def _dashboard_figures(request: HttpRequest, form: DashboardFilterForm) -> cached_figures.Cached[statistics.Dashboard]:
    start, end = form.bounds
    # A therapist sees the small version: their own caseload only.
    therapist = request.user if request.user.is_therapist else None
    return cached_figures.dashboard(form.counted_clinic, start, end, therapist=therapist)


def _dashboard_tables(
    request: HttpRequest, form: DashboardFilterForm, figures: statistics.Dashboard
) -> tuple[Callable[[], list[statistics.Table]], str | None]:
    """The tables with every count protected (kast.suppression), and the key their protection is cached under.

    Every role gets the same rule; national follow-up, who sees every clinic, gets each clinic's figures and all
    clinics' protected together, so that all clinics' less the others' never gives a hidden count away.
    """
    if not request.user.is_national:
        return functools.cache(lambda: statistics.dashboard_tables(figures)), "own"
    start, end = form.bounds
    marks = cached_figures.dashboard_marks(form.counted_clinic, start, end)
    return functools.cache(lambda: statistics.dashboard_tables(figures, marks.value)), marks.key


def dashboard(request: HttpRequest) -> HttpResponse:
    """The clinic's figures for a period, as charts with the numbers behind them: counts only, never content."""
    form = _dashboard_form(request)
    if not form.is_valid():
        return render(request, "kast/dashboard.html", {"form": form}, status=400)
    cached = _dashboard_figures(request, form)
    # Callables, which the template calls only when its cached rendering of them has to be made again.
    tables, marks_key = _dashboard_tables(request, form, cached.value)
    context = {
        "form": form,
        "figures": cached.value,
        "cached": cached,
        # National follow-up's marks move with every clinic's data: none cached, nothing rendered kept.
        "render_timeout": cached.timeout if marks_key else 0,
        "marks_key": marks_key,
        "tables": tables,
        "chart_data": lambda: statistics.chart_data(tables()),
        "query": request.GET.urlencode(),
    }
    return render(request, "kast/dashboard.html", context)


def dashboard_csv(request: HttpRequest, table: str) -> HttpResponse:
    """One table of the dashboard as CSV, its counts protected as on the page (kast.suppression)."""
    form = _dashboard_form(request)
    if not form.is_valid():
        return render(request, "kast/dashboard.html", {"form": form}, status=400)
    shown, _marks_key = _dashboard_tables(request, form, _dashboard_figures(request, form).value)
    tables = {t.key: t for t in shown()}
    if table not in tables:
        raise Http404
    chosen = tables[table]
    start, end = form.bounds
    clinic = form.counted_clinic
    access_log_record(
        request=request,
        action=AccessLogEntry.Action.EXPORT,
        object_type="kast.dashboard",
        reason=f"table={table} from={start:%Y-%m-%d} to={end:%Y-%m-%d} clinic={clinic.code if clinic else 'all'}",
    )
    return csv_response(
        f"kast-{table}-{start:%Y-%m-%d}-{end:%Y-%m-%d}.csv",
        [chosen.row_heading, *chosen.columns],
        ([row.label, *(cell.plain for cell in row.cells)] for row in chosen.rows),
    )


@require_POST
def dashboard_year_pdf(request: HttpRequest, year: int) -> HttpResponse:
    """The yearly report ("verksamhetsberättelse") as PDF: the year's figures, charts and a short summary.

    A POST (the dashboard's button), so a link from elsewhere can neither print nor log a print; national
    follow-up's clinic comes in the query string, as on the dashboard.
    """
    user = request.user
    asked = _refuse_another_clinic(request, object_type="kast.year_report")
    if not 2000 <= year <= 2100:
        raise Http404
    if user.is_national:
        clinic = None
        if asked:
            if not asked.isdigit():
                raise Http404
            clinic = get_object_or_404(Clinic, pk=asked)
    else:
        clinic = user.clinic
    report = year_report.year_report(clinic, year, national=user.is_national)
    return print_response(
        request,
        template="kast/year_report_pdf.html",
        context=lambda: {**report, "printed_by": user},
        filename=f"kast-year-report-{year}-{clinic.code if clinic else 'all'}.pdf",
        log_print=lambda: access_log_record(
            request=request,
            action=AccessLogEntry.Action.PRINT,
            object_type="kast.year_report",
            reason=f"year={year} clinic={clinic.code if clinic else 'all'}",
        ),
    )


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

    def get_redirect_url(self):
        url = super().get_redirect_url()
        return url if url.startswith("/") else ""


class LoginView(PathOnlyRedirectMixin, two_factor_views.LoginView):
    """Step one the password (axes counts the failures), step two the code or a backup code. Every outcome
    goes to the login log; a user without an authenticator is sent on to set one up."""

    template_name = "registration/login.html"

    def post(self, *args, **kwargs):
        # The library jumps to the code step for any posted `challenge_device`, even before the password
        # step or for a user without an authenticator (a server error, found by fuzzing): start over instead.
        if "challenge_device" in self.request.POST and not (self.get_user() and self.has_token_step()):
            return self.render_goto_step(self.FIRST_STEP)
        # Any post carrying a password, whatever step it claims: an address that has failed too often waits
        # (kast.login_throttle), and a password refused here is not checked, so it is not counted either.
        if f"{self.AUTH_STEP}-password" in self.request.POST:
            wait = login_wait_seconds(client_ip(self.request))
            if wait:
                login_event_record(
                    request=self.request,
                    event=LoginEvent.Event.THROTTLED,
                    username=self.request.POST.get(f"{self.AUTH_STEP}-username", ""),
                    reason=f"wait {wait} s",
                )
                return login_throttled(self.request, wait)
        return super().post(*args, **kwargs)

    def dispatch(self, request, *args, **kwargs):
        # Signed in with both factors: on to the page asked for. With the password only: log in again here.
        if request.user.is_authenticated and request.user.is_verified():
            target = self.get_success_url()
            return redirect(resolve_url(settings.LOGIN_REDIRECT_URL) if target == request.path else target)
        return super().dispatch(request, *args, **kwargs)

    def get_device(self, step=None):
        # The library checks a backup code against the user's first backup device only; an administrator
        # can add a second one in the admin site, and its codes must work too: pick the device holding it.
        if step == self.BACKUP_STEP and not self.device_cache:
            token = self.request.POST.get(f"{self.BACKUP_STEP}-otp_token", "").strip()
            devices = self.get_user().staticdevice_set.order_by("pk")
            self.device_cache = (token and devices.filter(token_set__token=token).first()) or devices.first()
        return super().get_device(step)

    def get_form(self, step=None, **kwargs):
        form = super().get_form(step=step, **kwargs)
        if "otp_token" in form.fields:
            backup = (step or self.steps.current) == self.BACKUP_STEP
            form.fields["otp_token"].label = _("Backup code") if backup else CODE_LABEL
            form.otp_error_messages = CODE_ERRORS
        return form

    def render(self, form=None, **kwargs):
        if form is not None and form.is_bound and form.errors and self.steps.current != self.AUTH_STEP:
            login_event_record(
                request=self.request,
                event=LoginEvent.Event.CODE_FAILED,
                user=self.get_user() or None,
                reason=self.steps.current,
            )
        return super().render(form, **kwargs)

    def done(self, form_list, **kwargs):
        response = super().done(form_list, **kwargs)
        user = self.get_user()
        if getattr(user, "otp_device", None) is not None:
            tell_account_changes(self.request, user)
            login_event_record(request=self.request, event=LoginEvent.Event.LOGIN, user=user)
            return response
        login_event_record(request=self.request, event=LoginEvent.Event.PASSWORD_ONLY, user=user)
        return redirect("two_factor:setup")


class SetupView(PathOnlyRedirectMixin, two_factor_views.SetupView):
    """Setting up the authenticator app: scan the QR code (or type the key), then confirm with a code."""

    def get_form(self, step=None, **kwargs):
        form = super().get_form(step=step, **kwargs)
        if "token" in form.fields:
            form.fields["token"].label = CODE_LABEL
            form.error_messages = {"invalid_token": CODE_ERRORS["invalid_token"]}
        return form

    def done(self, form_list, **kwargs):
        response = super().done(form_list, **kwargs)
        tell_account_changes(self.request, self.request.user)  # after a reset, this is the login that gets in
        login_event_record(request=self.request, event=LoginEvent.Event.SECOND_FACTOR_SET_UP, user=self.request.user)
        return response


def tell_account_changes(request: HttpRequest, user) -> None:
    """Tell the user, once, what was changed on her account (a reset, a removed authenticator, a new role or
    clinic) since she last signed in. Before this login is written to the log, which marks them told."""
    changes = account_changes_untold(user)
    if changes:
        messages.warning(request, account_changes_notice(changes))


class BackupTokensView(two_factor_views.BackupTokensView):
    """The library's page, also for a user with more than one backup device (its get_or_create() then fails).

    Codes are stored hashed (kast.otp_secrets), so they can be shown only when they are made: the answer to
    the POST shows them, once; the page shows afterwards how many are left."""

    def get_device(self):
        devices = self.request.user.staticdevice_set.order_by("pk")
        # The wizard's own device first (the one it names "backup"), else any, else a new one.
        device = devices.filter(name="backup").first() or devices.first()
        return device or self.request.user.staticdevice_set.create(name="backup")  # the related manager sets the user

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["remaining"] = context["device"].token_set.count()
        return context

    def form_valid(self, form):
        device = self.get_device()
        device.token_set.all().delete()
        codes = [device.token_set.model.random_token() for _number in range(self.number_of_tokens)]
        device.token_set.bulk_create([device.token_set.model(device=device, token=code) for code in codes])
        return self.render_to_response(self.get_context_data(form=form, codes=codes))


class QRCodeView(two_factor_views.QRGeneratorView):
    """The QR code of the key being set up, as SVG from our own server (no CDN, nothing inline)."""

    def get_issuer(self):
        return settings.SITE_NAME


class AccountResetConfirmView(auth_views.PasswordResetConfirmView):
    """The one-time link of a reset an administrator started: the user sets a new password here; her
    authenticator and backup codes go with the old one (kast.services.account_reset_complete), and she sets up
    new ones at her next login. Not in a signed-in browser: the link is for its user, not for whoever is
    signed in there (an administrator testing the link would otherwise set the password for the user)."""

    token_generator = account_reset_tokens
    template_name = "registration/account_reset_confirm.html"
    success_url = reverse_lazy("password_reset_complete")
    post_reset_login = False

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            return render(request, "registration/account_reset_signed_in.html")
        return super().dispatch(request, *args, **kwargs)

    def get_user(self, uidb64):
        user = super().get_user(uidb64)
        return user if user is not None and user.is_active else None

    def form_valid(self, form):
        request = self.request
        account_reset_complete(
            user=self.user, password=form.cleaned_data["new_password1"], ip=client_ip(request), path=request.path
        )
        del request.session[INTERNAL_RESET_SESSION_TOKEN]
        return HttpResponseRedirect(self.get_success_url())


class AccountResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "registration/account_reset_complete.html"


class LogoutView(auth_views.LogoutView):
    """Logging out ends every session of the user, on every computer (one left open in a clinic room too)."""

    def post(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            login_event_record(request=request, event=LoginEvent.Event.LOGOUT, user=request.user)
            staff_sessions_end(user=request.user)
        return super().post(request, *args, **kwargs)


class PasswordChangeView(auth_views.PasswordChangeView):
    """A new password ends the user's other sessions everywhere; this one goes on."""

    def form_valid(self, form):
        logged_in_at = self.request.session.get(LOGGED_IN_AT)
        response = super().form_valid(form)  # also gives this session a new key
        user = form.user
        staff_sessions_end(user=user, keep_session_key=self.request.session.session_key)
        staff_session_record(
            request=self.request,
            user=user,
            started_at=datetime.datetime.fromtimestamp(logged_in_at, tz=datetime.UTC) if logged_in_at else None,
        )
        login_event_record(request=self.request, event=LoginEvent.Event.PASSWORD_CHANGED, user=user)
        return response


def login_throttled(request: HttpRequest, seconds: int) -> HttpResponse:
    """The answer to a password sent before its address's wait (kast.login_throttle) is over."""
    response = render(request, "registration/login_throttled.html", {"seconds": seconds}, status=429)
    response["Retry-After"] = str(seconds)
    return response


def locked_out(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """The answer to a login attempt while locked out (django-axes' AXES_LOCKOUT_CALLABLE)."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(request, "registration/locked_out.html", {"minutes": minutes}, status=429)
