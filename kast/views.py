from __future__ import annotations

import csv

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import DatabaseError, connection
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.cache import never_cache

from kast import statistics, year_report
from kast.forms import DashboardFilterForm
from kast.models import AccessLogEntry, Clinic
from kast.pdf import pdf_response, render_pdf
from kast.selectors import access_log_visible_to
from kast.services import access_log_record
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


def access_log(request: HttpRequest) -> HttpResponse:
    page = Paginator(access_log_visible_to(request.user), 50).get_page(request.GET.get("page"))
    return render(request, "kast/access_log.html", {"page": page})


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


def _dashboard_figures(request: HttpRequest, form: DashboardFilterForm) -> statistics.Dashboard:
    start, end = form.bounds
    # A therapist sees the small version: their own caseload only.
    therapist = request.user if request.user.is_therapist else None
    return statistics.dashboard(form.counted_clinic, start, end, therapist=therapist)


def dashboard(request: HttpRequest) -> HttpResponse:
    """The clinic's figures for a period, as charts with the numbers behind them: counts only, never content."""
    form = _dashboard_form(request)
    if not form.is_valid():
        return render(request, "kast/dashboard.html", {"form": form}, status=400)
    figures = _dashboard_figures(request, form)
    suppress = request.user.is_national
    tables = statistics.dashboard_tables(figures)
    context = {
        "form": form,
        "figures": figures,
        "tables": tables,
        "suppress": suppress,
        "chart_data": statistics.chart_data(tables, suppress=suppress),
        "query": request.GET.urlencode(),
    }
    return render(request, "kast/dashboard.html", context)


def dashboard_csv(request: HttpRequest, table: str) -> HttpResponse:
    """One table of the dashboard as CSV. Files leave the clinic, so counts under 5 are always "<5"."""
    form = _dashboard_form(request)
    if not form.is_valid():
        return render(request, "kast/dashboard.html", {"form": form}, status=400)
    tables = {t.key: t for t in statistics.dashboard_tables(_dashboard_figures(request, form))}
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
