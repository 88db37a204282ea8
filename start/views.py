"""The start page: a therapist's day (app sessions), a manager's counts of the clinic (app figures)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render

from figures.scope import counted_clinic
from figures.statistics import clinic_session_counts
from kast.access import AuthenticatedHttpRequest
from sessions.forms import QuickLogForm
from sessions.selectors import start_page_for


def home(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The start page: for a therapist, the day's work (sessions, notes to sign, follow-ups due); for a unit
    manager, the clinic's sessions, notes and follow-ups as counts; for everyone, what they can do."""
    context: dict[str, Any] = {}
    if request.user.is_therapist:
        context = {"start": start_page_for(request.user), "quick_log_form": QuickLogForm(user=request.user)}
    elif request.user.is_manager:
        clinic = counted_clinic(request.user)  # their own clinic: a manager never chooses "all clinics"
        if clinic is None:
            raise PermissionDenied
        context = {"counts": clinic_session_counts(clinic)}
    return render(request, "start/home.html", context)
