"""The start page: a therapist's day (app sessions), a manager's counts of the clinic (app figures)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from figures.scope import counted_clinic
from figures.statistics import clinic_session_counts
from sessions.forms import QuickLogForm
from sessions.selectors import start_page_for


def home(request: HttpRequest) -> HttpResponse:
    """The start page: for a therapist, the day's work (sessions, notes to sign, follow-ups due); for a unit
    manager, the clinic's sessions, notes and follow-ups as counts; for everyone, what they can do."""
    context = {}
    if request.user.is_therapist:
        context = {"start": start_page_for(request.user), "quick_log_form": QuickLogForm(user=request.user)}
    elif request.user.is_manager:
        context = {"counts": clinic_session_counts(counted_clinic(request.user))}  # their own clinic
    return render(request, "start/home.html", context)
