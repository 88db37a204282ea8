"""Walking the role table's URLs as someone allowed in, with the record in a state where the page does its work."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from assessments.models import Administration
from clients.models import AssessmentConversation, CaseStatus, DeepInterviewSection
from clients.models import Client as Record
from sessions.models import TherapySession
from tests.factories import NoteFactory, open_first_period, put_in_treatment
from tests.kast.test_role_matrix import KWARGS, LOGIN, MATRIX, PERSONAS


def allowed_persona(statuses) -> str:
    """Anonymous for public pages, else the first of therapist (the responsible one), manager, admin let in."""
    by_persona = dict(zip(PERSONAS, statuses, strict=True))
    if by_persona["anonymous"] != LOGIN:
        return "anonymous"
    # A page that refuses everyone in the matrix's state (e.g. a QR code before a setup is begun): a therapist.
    return next((p for p in ("therapist", "manager", "admin") if by_persona[p] not in (LOGIN, 403, 404)), "therapist")


def _registered(record: Record, kwargs) -> None:
    if not record.episodes.exists():
        open_first_period(record)


def _in_treatment(record: Record, kwargs) -> None:
    _registered(record, kwargs)
    put_in_treatment(record)


def _finished(record: Record, kwargs) -> None:
    _registered(record, kwargs)
    record.episodes.update(closed_on=timezone.localdate())
    Record.objects.filter(pk=record.pk).update(status=CaseStatus.CLOSED)


def _signed_note(record: Record, kwargs) -> None:
    NoteFactory(session=TherapySession.objects.get(pk=kwargs["session_id"]))


def _assessment_saved(record: Record, kwargs) -> None:
    _registered(record, kwargs)
    AssessmentConversation.objects.create(
        episode=record.episodes.get(), problem="Problemet.", updated_by=record.responsible_therapist
    )


def _assessment_signed(record: Record, kwargs) -> None:
    _assessment_saved(record, kwargs)
    AssessmentConversation.objects.filter(episode__client=record).update(
        signed_at=timezone.now(), signed_by=record.responsible_therapist
    )


def _section_saved(record: Record, kwargs) -> None:
    DeepInterviewSection.objects.create(
        client=record, section=kwargs["section"], text="Barndomen.", updated_by=record.responsible_therapist
    )


def _section_signed(record: Record, kwargs) -> None:
    _section_saved(record, kwargs)
    DeepInterviewSection.objects.filter(client=record).update(
        signed_at=timezone.now(), signed_by=record.responsible_therapist, done=True
    )


def _family_map_locked(record: Record, kwargs) -> None:
    Record.objects.filter(pk=record.pk).update(family_map_locked_at=timezone.now())


#: What a page needs of the record to do more than send the user back (the role matrix's record is a new contact
#: without a treatment period). Pages not named here get the record as the role matrix makes it.
PREPARE = {
    "clients:detail": _registered,
    "clients:transition": _registered,
    "clients:assessment": _registered,
    "clients:assessment_autosave": _registered,
    "clients:family": _registered,
    "clients:relationship_add": _registered,
    "clients:reopen": _finished,
    "clients:goal_add": _registered,
    "clients:assessment_sign": _assessment_saved,
    "clients:assessment_addendum": _assessment_signed,
    "clients:interview_section_sign": _section_saved,
    "clients:interview_section_addendum": _section_signed,
    "clients:family_member_error": _family_map_locked,
    "clients:relationship_error": _family_map_locked,
    "sessions:new": _registered,
    "sessions:quick_log": _registered,
    "sessions:end_treatment": _in_treatment,
    "sessions:addendum": _signed_note,
    "sessions:addendum_autosave": _signed_note,
    "sessions:book_next": _signed_note,
    "assessments:start": _registered,
    "archive:history": _in_treatment,  # status changes to list, not only the registration
    "assessments:tablet_form": lambda record, kwargs: KWARGS["administration"](record),
}

CASES = [(name, kwargs, allowed_persona(statuses)) for name, kwargs, statuses in MATRIX]


def prepared_url(url_name: str, kwargs_key, record: Record) -> str:
    url_kwargs = KWARGS[kwargs_key](record)
    PREPARE.get(url_name, lambda record, kwargs: None)(record, url_kwargs)
    return reverse(url_name, kwargs=url_kwargs)


def open_tablet(browser: Client, therapist) -> None:
    """Put a questionnaire on the tablet as the clinic does: the therapist makes a code, the tablet takes it."""
    administration = Administration.objects.filter(client__responsible_therapist=therapist).latest("pk")
    staff = Client()
    staff.force_login(therapist)
    code = staff.post(reverse("assessments:tablet_code", args=[administration.pk])).context["code"]
    assert browser.post(reverse("assessments:tablet"), {"code": code}).status_code == 302
