"""Pages of the records office: the extract of a whole record for the person it is about (right of access)."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from archive import selectors
from clients.selectors import get_client_for
from kast.access import AuthenticatedHttpRequest
from kast.models import AccessLogEntry
from kast.pdf import print_response
from kast.services import access_log_record

Action = AccessLogEntry.Action


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
