"""Pages of the clinic's outreach and attitude work: the list, and a form to record or correct an activity."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from kast.access import AuthenticatedHttpRequest
from kast.actor import actor_of
from outreach import selectors, services
from outreach.forms import ActivityForm
from outreach.models import Activity


def activity_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The clinic's activities, newest first (organisational, no client data: not in the access log)."""
    page = Paginator(selectors.activity_list(user=request.user), 25).get_page(request.GET.get("page"))
    return render(request, "outreach/list.html", {"page": page})


def _save(request: AuthenticatedHttpRequest, activity: Activity | None) -> HttpResponse:
    clinic_id = request.user.clinic_id
    assert clinic_id is not None  # therapists and unit managers belong to a clinic
    form = ActivityForm(request.POST or None, instance=activity, clinic_id=clinic_id)
    if request.method == "POST" and form.is_valid():
        fields: dict[str, Any] = {name: form.cleaned_data[name] for name in ActivityForm.Meta.fields}
        if activity is None:
            services.activity_record(actor=actor_of(request), **fields)
            messages.success(request, _("The activity is recorded."))
        else:
            services.activity_update(actor=actor_of(request), activity=activity, **fields)
            messages.success(request, _("The activity is saved."))
        return redirect("outreach:list")
    status = 400 if form.is_bound else 200
    return render(request, "outreach/form.html", {"form": form, "activity": activity}, status=status)


def activity_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    return _save(request, None)


def activity_edit(request: AuthenticatedHttpRequest, activity_id: int) -> HttpResponse:
    return _save(request, selectors.activity_get_for(user=request.user, activity_id=activity_id))
