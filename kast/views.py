from __future__ import annotations

import csv
import datetime

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import DatabaseError, connection
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from kast import charts as charts_module
from kast import statistics
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


def _dashboard_form(request: HttpRequest) -> DashboardFilterForm:
    """The period and clinic asked for; clinic staff asking for another clinic are refused and logged."""
    user = request.user
    asked = request.GET.get("clinic", "")
    if not user.is_national and asked and asked != str(user.clinic_id):
        access_log_record(request=request, action=AccessLogEntry.Action.DENIED, object_type="kast.dashboard")
        raise PermissionDenied
    return DashboardFilterForm(request.GET, user=user)


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


#: The dashboard tables drawn as charts in the yearly report, each with its first count column only (the total
#: where a table has one), so that every chart stays readable on paper.
YEAR_REPORT_CHARTS = [
    "sessions_by_kind",
    "contacts_by_group",
    "attendance",
    "lengths",
    "end_reasons",
    "follow_ups",
    "referred",
]


def _year_report_summary(figures: statistics.Dashboard, year: int, *, all_clinics: bool) -> list[str]:
    """A few plain sentences on the year, every figure as the report shows it (counts under 5 as "<5")."""

    def shown(cell: statistics.Cell) -> str:
        return cell.shown(suppress=True)

    held = statistics.Cell(figures.held)
    per_fte = statistics.Cell(figures.held_per_fte, "number", basis=figures.held)
    values = {"year": year, "held": shown(held), "per_fte": shown(per_fte)}
    if per_fte.suppressed(True) or figures.held_per_fte is None:
        if all_clinics:
            first = _("In %(year)s the clinics held %(held)s sessions.")
        else:
            first = _("In %(year)s the clinic held %(held)s sessions.")
    elif all_clinics:
        first = _("In %(year)s the clinics held %(held)s sessions, %(per_fte)s per full-time therapist.")
    else:
        first = _("In %(year)s the clinic held %(held)s sessions, %(per_fte)s per full-time therapist.")
    new = sum(row["total"] for row in figures.contacts_by_month)
    second = _("%(new)s new contacts were registered and %(ended)s treatment periods ended.") % {
        "new": shown(statistics.Cell(new)),
        "ended": shown(statistics.Cell(figures.lengths["n"])),
    }
    median = statistics.Cell(figures.waiting["median"], "days", basis=figures.waiting["n"])
    if median.suppressed(True) or median.value is None:
        third = _("Too few clients had their first session this year for a waiting time to be given.")
    else:
        third = _("The median waiting time from first contact to first session was %(days)s days.") % {
            "days": shown(median)
        }
    return [first % values, second, third]


def _year_report_charts(tables: list[statistics.Table]) -> dict[str, str]:
    """The SVG chart of each table in YEAR_REPORT_CHARTS, by table key."""
    by_key = {table.key: table for table in tables}
    charts = {}
    for key in YEAR_REPORT_CHARTS:
        table = by_key[key]
        labels = [row.label for row in table.rows]
        cells = [row.cells[0] for row in table.rows]
        series = charts_module.Series(
            table.columns[0],
            [cell.chart_value(suppress=True) for cell in cells],
            [cell.shown(suppress=True) for cell in cells],
        )
        description = _("%(title)s: %(column)s, per row of the table below.") % {
            "title": table.title,
            "column": table.columns[0],
        }
        svg = charts_module.bar_chart_svg(
            table.title,
            labels,
            [series],
            description=description,
            empty_text=_("No data for this year"),
            id_prefix=f"chart-{key}",
        )
        # bar_chart_svg escapes every label and title (tests/kast/test_year_report.py proves it).
        charts[key] = mark_safe(svg)  # noqa: S308
    return charts


def dashboard_year_pdf(request: HttpRequest, year: int) -> HttpResponse:
    """The yearly report ("verksamhetsberättelse") as PDF: the year's figures, charts and a short summary.

    It leaves the clinic, so every count under 5 is "<5", in the tables, the charts and the summary alike.
    """
    user = request.user
    asked = request.GET.get("clinic", "")
    if not user.is_national and asked and asked != str(user.clinic_id):
        access_log_record(request=request, action=AccessLogEntry.Action.DENIED, object_type="kast.year_report")
        raise PermissionDenied
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
    start, end = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
    figures = statistics.dashboard(clinic, start, end)
    tables = statistics.dashboard_tables(figures)
    access_log_record(
        request=request,
        action=AccessLogEntry.Action.PRINT,
        object_type="kast.year_report",
        reason=f"year={year} clinic={clinic.code if clinic else 'all'}",
    )
    charts = {} if figures.is_empty else _year_report_charts(tables)
    context = {
        "year": year,
        "clinic": clinic,
        "figures": figures,
        "sections": [(table, charts.get(table.key)) for table in tables],
        "summary": _year_report_summary(figures, year, all_clinics=clinic is None),
        "printed_by": user,
    }
    pdf = render_pdf("kast/year_report_pdf.html", context, request=request)
    return pdf_response(pdf, filename=f"kast-year-report-{year}-{clinic.code if clinic else 'all'}.pdf")
