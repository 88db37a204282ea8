from __future__ import annotations

import csv
import datetime
import functools

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, connection
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render, resolve_url
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django_otp.forms import OTPAuthenticationFormMixin
from two_factor import views as two_factor_views

from kast import cached_figures, statistics, year_report
from kast.forms import DashboardFilterForm
from kast.middleware import LOGGED_IN_AT
from kast.models import AccessLogEntry, Clinic, LoginEvent
from kast.pdf import pdf_response, render_pdf
from kast.services import access_log_record, login_event_record, staff_session_record, staff_sessions_end
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


def dashboard(request: HttpRequest) -> HttpResponse:
    """The clinic's figures for a period, as charts with the numbers behind them: counts only, never content."""
    form = _dashboard_form(request)
    if not form.is_valid():
        return render(request, "kast/dashboard.html", {"form": form}, status=400)
    cached = _dashboard_figures(request, form)
    suppress = request.user.is_national
    # Callables, which the template calls only when its cached rendering of them has to be made again.
    tables = functools.cache(lambda: statistics.dashboard_tables(cached.value))
    context = {
        "form": form,
        "figures": cached.value,
        "cached": cached,
        "tables": tables,
        "suppress": suppress,
        "chart_data": lambda: statistics.chart_data(tables(), suppress=suppress),
        "query": request.GET.urlencode(),
    }
    return render(request, "kast/dashboard.html", context)


def dashboard_csv(request: HttpRequest, table: str) -> HttpResponse:
    """One table of the dashboard as CSV. Files leave the clinic, so counts under 5 are always "<5"."""
    form = _dashboard_form(request)
    if not form.is_valid():
        return render(request, "kast/dashboard.html", {"form": form}, status=400)
    tables = {t.key: t for t in statistics.dashboard_tables(_dashboard_figures(request, form).value)}
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
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="kast-{table}-{start:%Y-%m-%d}-{end:%Y-%m-%d}.csv"'
    response["Cache-Control"] = "no-store"
    writer = csv.writer(response)
    writer.writerow([chosen.row_heading, *chosen.columns])
    for row in chosen.rows:
        writer.writerow([row.label, *(cell.shown(suppress=True, plain=True) for cell in row.cells)])
    return response


def dashboard_year_pdf(request: HttpRequest, year: int) -> HttpResponse:
    """The yearly report ("verksamhetsberättelse") as PDF: the year's figures, charts and a short summary."""
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
    report = year_report.year_report(clinic, year)
    access_log_record(
        request=request,
        action=AccessLogEntry.Action.PRINT,
        object_type="kast.year_report",
        reason=f"year={year} clinic={clinic.code if clinic else 'all'}",
    )
    pdf = render_pdf("kast/year_report_pdf.html", {**report, "printed_by": user}, request=request)
    return pdf_response(pdf, filename=f"kast-year-report-{year}-{clinic.code if clinic else 'all'}.pdf")


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
        return super().post(*args, **kwargs)

    def dispatch(self, request, *args, **kwargs):
        # Signed in with both factors: on to the page asked for. With the password only: log in again here.
        if request.user.is_authenticated and request.user.is_verified():
            target = self.get_success_url()
            return redirect(resolve_url(settings.LOGIN_REDIRECT_URL) if target == request.path else target)
        return super().dispatch(request, *args, **kwargs)

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
        login_event_record(request=self.request, event=LoginEvent.Event.SECOND_FACTOR_SET_UP, user=self.request.user)
        return response


class QRCodeView(two_factor_views.QRGeneratorView):
    """The QR code of the key being set up, as SVG from our own server (no CDN, nothing inline)."""

    def get_issuer(self):
        return settings.SITE_NAME


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


def locked_out(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """The answer to a login attempt while locked out (django-axes' AXES_LOCKOUT_CALLABLE)."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(request, "registration/locked_out.html", {"minutes": minutes}, status=429)
