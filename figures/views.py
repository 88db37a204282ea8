"""Pages and files of figures: the dashboard and its CSV files, the yearly report, the questionnaire reports, the
research file. Counts only, never content; which clinic is counted is figures.scope's to decide."""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from figures import cached_figures, key_figures, research, scope, statistics, suppression, year_report
from figures.forms import DashboardFilterForm, Period, ReportFilterForm, ResearchExportForm
from kast.access import AuthenticatedHttpRequest
from kast.csv_export import csv_response
from kast.models import AccessLogEntry, Clinic
from kast.pdf import print_response
from kast.services import access_log_record


def _dashboard_form(request: AuthenticatedHttpRequest) -> DashboardFilterForm:
    """The period and clinic asked for."""
    scope.refuse_another_clinic(request, object_type="kast.dashboard")
    data = request.GET.copy()
    # No period asked for: the last twelve months, shown as chosen in the form.
    data.setdefault("period", Period.LAST_12_MONTHS)
    return DashboardFilterForm(data, user=request.user)


def _dashboard_figures(
    request: AuthenticatedHttpRequest, form: DashboardFilterForm
) -> cached_figures.Cached[statistics.Dashboard]:
    start, end = form.bounds
    # A therapist sees the small version: their own caseload only.
    therapist = request.user if request.user.is_therapist else None
    return cached_figures.dashboard(form.counted_clinic, start, end, therapist=therapist)


def _dashboard_marks(
    request: AuthenticatedHttpRequest, form: DashboardFilterForm, figures: statistics.Dashboard
) -> tuple[Callable[[], dict[Hashable, str]], str | None]:
    """The counts to hide (figures.suppression), and the key their protection is cached under.

    Every role gets the same rule; national follow-up, who sees every clinic, gets each clinic's figures and all
    clinics' protected together, so that all clinics' less the others' never gives a hidden count away.
    """
    if not scope.sees_every_clinic(request.user):
        return functools.cache(lambda: statistics.dashboard_marks(figures)), "own"
    start, end = figures.scope.start, figures.scope.end
    marks = cached_figures.dashboard_marks(form.counted_clinic, start, end)
    return lambda: marks.value, marks.key


def _dashboard_tables(
    request: AuthenticatedHttpRequest, form: DashboardFilterForm, figures: statistics.Dashboard
) -> tuple[Callable[[], list[statistics.Table]], str | None]:
    """The tables with every count protected (figures.suppression), and the key their protection is cached under."""
    marks, marks_key = _dashboard_marks(request, form, figures)
    return functools.cache(lambda: statistics.dashboard_tables(figures, marks())), marks_key


def _key_figures(
    request: AuthenticatedHttpRequest, form: DashboardFilterForm, figures: statistics.Dashboard
) -> tuple[Callable[[], list[key_figures.KeyFigure]], tuple[str | None, str | None]]:
    """The first screen's cards, against the same period a year earlier (its figures a second computation, cached
    as the period's are), and the keys their figures and marks are cached under."""
    start, end = key_figures.earlier_period(*form.bounds)
    therapist = request.user if request.user.is_therapist else None
    earlier = cached_figures.dashboard(form.counted_clinic, start, end, therapist=therapist)
    marks, _marks_key = _dashboard_marks(request, form, figures)
    earlier_marks, earlier_marks_key = _dashboard_marks(request, form, earlier.value)
    return (
        functools.cache(lambda: key_figures.key_figures(figures, marks(), earlier.value, earlier_marks())),
        (earlier.key, earlier_marks_key),
    )


def dashboard(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The clinic's figures for a period: key figures against a year earlier first, then charts with the numbers
    behind them. Counts only, never content."""
    form = _dashboard_form(request)
    if not form.is_valid():
        return render(request, "figures/dashboard.html", {"form": form}, status=400)
    cached = _dashboard_figures(request, form)
    # Callables, which the template calls only when its cached rendering of them has to be made again.
    tables, marks_key = _dashboard_tables(request, form, cached.value)
    cards, earlier_keys = _key_figures(request, form, cached.value)
    if scope.sees_every_clinic(request.user) and form.counted_clinic is None:
        # National follow-up's first screen across clinics: the clinics side by side.
        start, end = form.bounds
        clinics = cached_figures.clinics_key_figures(start, end).value
        by_clinic = {"clinics": [name for name, _cards in clinics], "rows": key_figures.side_by_side(clinics)}
    else:
        by_clinic = None
    context = {
        "form": form,
        "figures": cached.value,
        "cached": cached,
        # National follow-up's marks move with every clinic's data: none cached, nothing rendered kept.
        "render_timeout": cached.timeout if marks_key and all(earlier_keys) else 0,
        "marks_key": marks_key,
        "earlier_keys": earlier_keys,
        "tables": tables,
        "cards": cards,
        "by_clinic": by_clinic,
        "chart_data": lambda: statistics.chart_data(tables()),
        "query": request.GET.urlencode(),
    }
    return render(request, "figures/dashboard.html", context)


def dashboard_csv(request: AuthenticatedHttpRequest, table: str) -> HttpResponse:
    """One table of the dashboard as CSV, its counts protected as on the page (figures.suppression)."""
    form = _dashboard_form(request)
    if not form.is_valid():
        return render(request, "figures/dashboard.html", {"form": form}, status=400)
    shown, _marks_key = _dashboard_tables(request, form, _dashboard_figures(request, form).value)
    tables = {t.key: t for t in shown()}
    if table not in tables:
        raise Http404
    chosen = tables[table]
    start, end = form.bounds
    clinic = form.counted_clinic
    access_log_record(
        actor=request.actor,
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
def dashboard_year_pdf(request: AuthenticatedHttpRequest, year: int) -> HttpResponse:
    """The yearly report ("verksamhetsberättelse") as PDF: the year's figures, charts and a short summary.

    A POST (the dashboard's button), so a link from elsewhere can neither print nor log a print; national
    follow-up's clinic comes in the query string, as on the dashboard.
    """
    user = request.user
    asked = scope.refuse_another_clinic(request, object_type="kast.year_report")
    if not 2000 <= year <= 2100:
        raise Http404
    chosen = None
    if asked and scope.chooses_clinic(user):
        if not asked.isdigit():
            raise Http404
        chosen = get_object_or_404(Clinic, pk=asked)
    clinic = scope.counted_clinic(user, chosen)
    report = year_report.year_report(clinic, year, national=scope.sees_every_clinic(user))
    return print_response(
        request,
        template="figures/year_report_pdf.html",
        context=lambda: {**report, "printed_by": user},
        filename=f"kast-year-report-{year}-{clinic.code if clinic else 'all'}.pdf",
        log_print=lambda: access_log_record(
            actor=request.actor,
            action=AccessLogEntry.Action.PRINT,
            object_type="kast.year_report",
            reason=f"year={year} clinic={clinic.code if clinic else 'all'}",
        ),
    )


#: Why a selection with answers from fewer than 5 people shows nothing.
REFUSED = gettext_lazy(
    "Fewer than 5 people filled in a questionnaire in this selection, so nothing is shown: it could tell whose "
    "answers they are. Choose a longer period or more target groups."
)


def reports(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Tables 1 and 2 of the evaluation, change on the same people, coverage: counts only."""
    form = ReportFilterForm(request.GET, user=request.user)
    if not form.is_valid():
        return render(request, "figures/reports.html", {"form": form}, status=400)
    cached = cached_figures.questionnaire_report(form.selection(), national=scope.sees_every_clinic(request.user))
    if cached.value.refused:
        # A short period or a narrow group could show one person's answers: none of it is shown (figures.suppression).
        form.add_error(None, REFUSED)
        return render(request, "figures/reports.html", {"form": form}, status=400)
    context = {
        "form": form,
        "report": cached.value,
        "cached": cached,
        "query": request.GET.urlencode(),
    }
    return render(request, "figures/reports.html", context)


def research_export(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The pseudonymised, k-anonymous research file, for the researcher role: the purpose and decision first
    (a POST, recorded with the export in the access log), then the CSV."""
    form = ResearchExportForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        export = research.research_file(
            actor=request.actor,
            selection=form.selection(),
            purpose=form.cleaned_data["purpose"],
            decision=form.cleaned_data["decision"],
        )
        return csv_response(f"kast-research-{timezone.localdate():%Y-%m-%d}.csv", export.header, export.rows)
    context = {"form": form, "limit": suppression.LIMIT, "withheld": research.WITHHELD}
    return render(request, "figures/research_export.html", context, status=400 if form.errors else 200)
