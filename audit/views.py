"""Pages of the log review ("loggkontroll"): the access log with filters, and the review queue."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from audit import selectors, services
from audit.forms import LogFilterForm, ReviewForm
from audit.models import ReviewKind


def access_log(request: HttpRequest) -> HttpResponse:
    """Every read and write of client data, filtered by record, user and period. Codes only, never content."""
    form = LogFilterForm(request.GET or None, reviewer=request.user)
    filters = form.cleaned_data if form.is_valid() else {}
    entries = selectors.filtered_log(request.user, **filters)
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "kast/access_log.html", {"page": page, "form": form}, status=status)


def review_queue(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.review_queue(request.user), 25).get_page(request.GET.get("page"))
    reasons = selectors.emergency_reasons(page.object_list)
    for entry in page.object_list:
        entry.emergency_reason = reasons.get(entry.pk, "")
        entry.kind_label = ReviewKind(entry.kind).label  # `kind` is the queue's annotation, not a field
    return render(request, "audit/review_queue.html", {"page": page, "form": ReviewForm()})


@require_POST
def review(request: HttpRequest, entry_id: int) -> HttpResponse:
    entry = selectors.queued_entry(request.user, entry_id)
    if entry is None:  # not in this reviewer's queue (another clinic's, or already reviewed)
        raise Http404
    form = ReviewForm(request.POST)
    if form.is_valid():
        try:
            services.review_record(actor=request.actor, entry=entry, **form.cleaned_data)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("The review is saved."))
    else:
        messages.error(request, _("Choose an outcome."))
    return redirect("audit:queue")
