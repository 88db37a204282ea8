"""Which clinics a user's figures count: the one place that decides it, for every page and file of figures.

- National follow-up chooses a clinic, or all of them (None).
- A researcher exports the research file of the clinic they are attached to, or, attached to none, of the
  clinic they choose, or all.
- Therapists and managers count their own clinic, whatever they ask for: a forged `clinic` parameter changes
  nothing (and is refused, logged, where a page takes one: `refuse_another_clinic`).
- Anyone else (an administrator) counts nothing.

The role table (kast.access) already lets only the right roles in; this is the second lock. Which *records*
within the clinic a therapist's dashboard counts (their own caseload) is the dashboard's own narrowing.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from kast.access import AuthenticatedHttpRequest
from kast.models import AccessLogEntry, Clinic, Role, User
from kast.services import access_log_record

#: Who reads figures (the dashboard, the yearly report, the questionnaire reports).
FIGURE_READERS = frozenset({Role.THERAPIST, Role.MANAGER, Role.NATIONAL})
#: Who makes the research file.
RESEARCH_READERS = frozenset({Role.RESEARCHER})


def chooses_clinic(user: User) -> bool:
    """May `user` choose the clinic counted (or all)? National follow-up, and a researcher attached to none."""
    return user.role == Role.NATIONAL or (user.role == Role.RESEARCHER and user.clinic_id is None)


def sees_every_clinic(user: User) -> bool:
    """Does `user` see every clinic's figures, and all clinics' together? Then the figures are protected
    together (figures.suppression.protect_across), so that all clinics' less the others' gives nothing away."""
    return user.role == Role.NATIONAL


def counted_clinic(user: User, chosen: Clinic | None = None, *, research: bool = False) -> Clinic | None:
    """The clinic whose figures `user` sees (None: all clinics), given the one they `chosen` (None: all).

    `research`: for the research file (the researcher role's), else for figures (therapists, managers,
    national follow-up). Anyone else, or a therapist or manager without a clinic, is refused.
    """
    if user.role not in (RESEARCH_READERS if research else FIGURE_READERS):
        raise PermissionDenied
    if chooses_clinic(user):
        return chosen
    if user.clinic_id is None:
        raise PermissionDenied
    return user.clinic


def refuse_another_clinic(request: AuthenticatedHttpRequest, *, object_type: str) -> str:
    """The clinic asked for in the query string (`?clinic=`), as typed. Clinic staff asking for another clinic
    than their own are refused (403) and the attempt is logged."""
    asked = request.GET.get("clinic", "")
    if not chooses_clinic(request.user) and asked and asked != str(request.user.clinic_id):
        access_log_record(actor=request.actor, action=AccessLogEntry.Action.DENIED, object_type=object_type)
        raise PermissionDenied
    return asked
