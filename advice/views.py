from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from advice import selectors, services
from advice.forms import AdviceContactForm
from kast.actor import actor_of
from kast.models import AccessLogEntry, Clinic, User
from kast.services import access_log_record

FIELDS = [
    "date",
    "minutes",
    "channel",
    "who",
    "target_group",
    "topic",
    "outcome",
    "referred_to",
    "returning",
    "remark",
]


def _clinic(request: HttpRequest) -> Clinic:
    """The therapist's own clinic (URL_RULES let only therapists in; a therapist always has a clinic)."""
    clinic = cast("User", request.user).clinic
    if clinic is None:
        raise PermissionDenied
    return clinic


def advice_new(request: HttpRequest) -> HttpResponse:
    clinic = _clinic(request)
    form = AdviceContactForm(request.POST or None, clinic=clinic)
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in FIELDS}
        try:
            services.advice_log(actor=actor_of(request), clinic=clinic, data=data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Advice contact logged."))
            return redirect("advice:list")
    return render(request, "advice/advice_new.html", {"form": form})


def advice_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.contact_list(user=cast(User, request.user)), 50).get_page(request.GET.get("page"))
    access_log_record(actor=actor_of(request), action=AccessLogEntry.Action.VIEW, object_type="advice.advicecontact")
    return render(request, "advice/advice_list.html", {"page": page})


@require_POST
def advice_convert(request: HttpRequest, contact_id: int) -> HttpResponse:
    contact = selectors.contact_get_for(user=cast(User, request.user), contact_id=contact_id)
    try:
        client = services.advice_convert(actor=actor_of(request), contact=contact)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("advice:list")
    messages.success(request, _("Client %(code)s registered.") % {"code": client.code})
    return redirect("clients:detail", client_id=client.pk)
