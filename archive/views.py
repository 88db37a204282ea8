"""Pages of the records office: a record's change history, and the extract of a whole record for the person it
is about (right of access)."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from archive import selectors
from archive.history import PAGE_SIZE, Change, RecordHistory
from clients.selectors import IdentityProtected, get_client_for, get_client_identity_for
from kast.access import AuthenticatedHttpRequest
from kast.models import AccessLogEntry
from kast.pdf import print_response
from kast.services import access_log_record

Action = AccessLogEntry.Action


@require_http_methods(["GET", "POST"])
def record_history(request: AuthenticatedHttpRequest, record_id: uuid.UUID) -> HttpResponse:
    """Who changed what in the record and when, newest first; for those who may open the record, logged as read.

    The identifying details are listed as changed, without their values, until the user shows them: a POST
    here is the record page's "Show identity" (the same selector, logged as "reveal"), for this page view only.
    """
    reveal = request.method == "POST"
    if reveal:
        try:
            record = get_client_identity_for(request, record_id)
        except IdentityProtected as protected:
            messages.error(
                request, _("This record has a protected identity; only the responsible therapist can see it.")
            )
            return redirect("archive:history", record_id=protected.client.pk)
        access_log_record(actor=request.actor, action=Action.HISTORY, obj=record)
    else:
        record = get_client_for(request, record_id, action=Action.HISTORY)
    can_see_identity = record.can_see_identity(request.user)
    history = RecordHistory(record, reveal=reveal, can_reveal=can_see_identity)
    changes: Paginator[Change] = Paginator(history, PAGE_SIZE)
    page = changes.get_page(request.GET.get("page"))
    context = {"client": record, "page": page, "revealed": reveal, "can_see_identity": can_see_identity}
    return render(request, "archive/record_history.html", context)


@require_POST
def right_of_access(request: AuthenticatedHttpRequest, record_id: uuid.UUID) -> HttpResponse:
    """The complete record, identity and access log included, as a PDF to hand to the person (GDPR art. 15).

    Logged as a print marked as this extract, before the log is read, so the extract shows its own printing;
    the entry is rolled back if the PDF cannot be made in time (kast.pdf.print_response).
    """
    record = get_client_for(request, record_id, action=None)
    if not record.can_see_identity(request.user):
        # The extract names the person: with a protected identity, only the responsible therapist prints it.
        access_log_record(actor=request.actor, action=Action.DENIED, obj=record, reason=selectors.RIGHT_OF_ACCESS)
        messages.error(
            request, _("This record has a protected identity; only the responsible therapist can print the extract.")
        )
        return redirect("clients:detail", client_id=record.pk)
    return print_response(
        request,
        template="archive/right_of_access_pdf.html",
        context=lambda: {
            "extract": selectors.right_of_access_extract(record),
            "client": record,
            "printed_by": request.user,
        },
        filename=f"{record.code}-extract.pdf",
        log_print=lambda: access_log_record(
            actor=request.actor, action=Action.PRINT, obj=record, reason=selectors.RIGHT_OF_ACCESS
        ),
    )
