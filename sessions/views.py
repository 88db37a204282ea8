"""Pages of sessions and notes. Thin: gate, form, one service, then redirect or render."""

from __future__ import annotations

import datetime
import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from assessments.models import TimePoint
from clients.models import CaseStatus
from clients.selectors import end_goals_form, get_client_for
from kast.access import AuthenticatedHttpRequest
from kast.autosave import autosave_response
from kast.locking import EditConflict
from kast.models import CALENDAR_FEED, AccessLogEntry
from kast.services import access_log_record
from sessions import calendar, selectors, services
from sessions.forms import (
    AddendumDraftForm,
    AddendumForm,
    BookingsForm,
    BookNextForm,
    EndTreatmentForm,
    NoteForm,
    PaymentForm,
    QuickLogForm,
    SessionForm,
    VoidForm,
)
from sessions.models import GUIDE, GUIDE_INTRODUCTION, Attendance, Method, Note, SessionKind, Theme, TherapySession

Action = AccessLogEntry.Action
TIMELINE_PAGE_SIZE = 25


def _add_errors(forms_by_field: dict, fallback, error: ValidationError) -> None:
    """Put each of the service's messages on the field it is about, in whichever form holds it."""
    if not hasattr(error, "error_dict"):
        fallback.add_error(None, error)
        return
    for name, errors in error.error_dict.items():
        form = forms_by_field.get(name, fallback)
        form.add_error(name if name in form.fields else None, errors)


def session_new(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    """Book a session, or log one held earlier, for this client."""
    client = get_client_for(request, client_id)
    form = SessionForm(
        request.POST or None,
        clinic=client.clinic,
        instance=TherapySession(client=client, clinic=client.clinic),
        initial={
            "therapists": [request.user.pk],
            "kind": SessionKind.RELATIVE if client.is_relative else SessionKind.INDIVIDUAL,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            session = services.session_create(
                actor=request.actor,
                client=client,
                data=form.service_data(),
                allow_overlap=form.cleaned_data["allow_overlap"],
            )
        except services.SessionNeedsConfirming as warning:
            form.ask_to_confirm(warning)
        except ValidationError as error:
            _add_errors({}, form, error)
        else:
            messages.success(request, _("The session is saved."))
            return redirect("sessions:detail", session_id=session.pk)
    return render(request, "sessions/session_new.html", {"client": client, "form": form})


@require_POST
def quick_log(request: HttpRequest) -> HttpResponse:
    """From the start page straight to the note of the session just held: one click, one page."""
    form = QuickLogForm(request.POST, user=request.user)
    if not form.is_valid():
        messages.error(request, _("Choose one of your clients to log a session."))
        return redirect("home")
    client = get_client_for(request, form.cleaned_data["client"].pk, action=Action.UPDATE)
    session = services.session_create(actor=request.actor, client=client, data=form.service_data(), allow_overlap=True)
    return redirect("sessions:detail", session_id=session.pk)


def session_detail(request: HttpRequest, session_id: uuid.UUID) -> HttpResponse:
    """The note page: the session's facts and the note in one form, the conversation guide beside it."""
    session = selectors.get_session_for(request, session_id)
    if request.method == "POST":
        selectors.check_may_change_session(request.user, session)
    note = selectors.note_of(session)
    writable = (
        selectors.may_change_session(request.user, session)
        and not session.is_voided
        and (note is None or note.draft_writable_by(request.user))
    )
    if not writable:
        return _signed_page(request, session, note)
    chosen = list(note.themes.all()) if note else []
    themes = selectors.clinic_themes(session.clinic_id, keep=[t.pk for t in chosen])
    used = list(note.methods.all()) if note else []
    methods = selectors.clinic_methods(session.clinic_id, keep=[m.pk for m in used])
    session_form = _session_form(request, session)
    note_form = NoteForm(
        request.POST or None,
        themes=themes,
        methods=methods,
        prefix="note",
        initial=(
            {"text": note.text, "themes": chosen, "methods": used, "version": note.version} if note else {"version": 0}
        ),
    )
    conflict = None
    if request.method == "POST" and note_form.is_valid() and not session_form.is_valid() and note_form.has_text():
        # The session's facts are wrong (a date, a length): the text is kept all the same, as a draft.
        conflict = _save_draft_only(request, session, note_form)
        if conflict is None:
            note = selectors.note_of(session)
            messages.warning(request, _("The draft is saved. Correct the session's facts below before signing."))
        # The page goes on from the version now stored, whether ours or the other tab's.
        note_form = _note_form_at(request, themes, methods, (conflict or note).version)
    elif request.method == "POST" and session_form.is_valid() and note_form.is_valid():
        sign = "sign" in request.POST
        try:
            note = services.session_document(
                actor=request.actor,
                session=session,
                session_version=session_form.cleaned_data["version"] or 0,
                session_data=session_form.service_data(),
                note_version=note_form.cleaned_data["version"],
                text=note_form.cleaned_data["text"],
                themes=note_form.cleaned_data["themes"],
                methods=note_form.cleaned_data["methods"],
                sign=sign,
                allow_overlap=session_form.cleaned_data["allow_overlap"],
            )
        except services.SessionNeedsConfirming as warning:
            # Only signing stops at an overlap (the draft saves whatever the times): confirm or fix it.
            session_form.ask_to_confirm(warning)
        except EditConflict as error:
            conflict = error.current
            if isinstance(conflict, Note):
                note_form = _note_form_at(request, themes, methods, conflict.version)
            else:
                session_form.add_error(None, _("Someone else changed this session while you were writing. Reload."))
                conflict = None
        except ValidationError as error:
            _add_errors({name: session_form for name in session_form.fields}, note_form, error)
        else:
            if sign:
                messages.success(request, _("The note is signed."))
            else:
                messages.success(request, _("The draft is saved."))
            return redirect("sessions:detail", session_id=session.pk)
    overlaps = _overlaps_shown(request, session, session_form)
    context = {
        "session": session,
        "client": selectors.session_record_for(request.user, session),
        "participants": selectors.participants_of(session),
        "note": note,
        "session_form": session_form,
        "note_form": note_form,
        "conflict": conflict,
        "saved_parts": [("", conflict.text)] if conflict else [],
        "overlaps": overlaps,
        "guide": _guide(),
        "guide_introduction": GUIDE_INTRODUCTION[0],
        "own_themes": _own_guide(themes),
        "autosave_url": reverse("sessions:autosave", args=[session.pk]),
    }
    return render(request, "sessions/session_detail.html", context, status=409 if conflict else 200)


def _session_form(request: HttpRequest, session: TherapySession) -> SessionForm:
    """The session's facts; a booked session of today or earlier offers "attended" (writing the note: it was held)."""
    session_form = SessionForm(request.POST or None, instance=session, clinic=session.clinic, prefix="session")
    if request.method == "GET" and session.attendance == Attendance.BOOKED and session.date <= timezone.localdate():
        session_form.initial["attendance"] = Attendance.ATTENDED  # writing the note: it was held, usually
    return session_form


def _note_form_at(request: HttpRequest, themes: QuerySet[Theme], methods: QuerySet[Method], version: int) -> NoteForm:
    """The posted note form again, going on from the stored `version` (validated, to show its errors)."""
    # A copy of the QueryDict, not .dict(): that keeps only the last of several ticked themes.
    data = request.POST.copy()
    data["note-version"] = version
    note_form = NoteForm(data=data, themes=themes, methods=methods, prefix="note")
    note_form.is_valid()
    return note_form


def _overlaps_shown(request: HttpRequest, session: TherapySession, session_form: SessionForm) -> list[TherapySession]:
    """On opening the page, the sessions this one overlaps, with the box to confirm them shown when any."""
    overlaps = selectors.overlaps_of(session) if request.method == "GET" else []
    if overlaps:
        session_form.show_overlap_box()
    return overlaps


def _save_draft_only(request: HttpRequest, session: TherapySession, note_form: NoteForm) -> Note | None:
    """Save the note's text alone; answers the stored note when another tab saved it first (a conflict)."""
    try:
        services.note_save(
            actor=request.actor,
            session=session,
            version=note_form.cleaned_data["version"],
            text=note_form.cleaned_data["text"],
            themes=note_form.cleaned_data["themes"],
            methods=note_form.cleaned_data["methods"],
        )
    except EditConflict as error:
        return error.current
    return None


def _theme_ids(values: list[str]) -> list[int]:
    """The ticked themes' (or methods') ids as sent by the page; anything else is left for the form to refuse (not
    a 500)."""
    return [int(value) for value in values if value.isascii() and value.isdigit() and len(value) < 19]


def _guide() -> list[tuple[str, list[tuple[str, str]]]]:
    """The conversation guide as the source has it (sessions.models.GUIDE): per topic, its questions and advice."""
    return [(str(section.topic.label), [(line.kind, str(line.text)) for line in section.lines]) for section in GUIDE]


def _own_guide(themes: QuerySet[Theme]) -> list[tuple[str, list[str]]]:
    """The clinic's own questions, per theme, shown apart from the guide (read from the themes the form lists)."""
    return [(str(theme), theme.question_list()) for theme in themes if theme.question_list()]


def _signed_page(request: HttpRequest, session: TherapySession, note: Note | None, **extra) -> HttpResponse:
    sent_back = bool(extra)  # a form sent back with its errors (400)
    is_author = note is not None and note.written_by(request.user)
    may_change = selectors.may_change_session(request.user, session)
    takes_addendum = is_author and note.is_signed and not session.is_voided
    draft = selectors.addendum_draft(note, request.user) if takes_addendum else None
    addendum_form = AddendumForm(initial={"text": draft.text if draft else ""}) if takes_addendum else None
    addendum_form = extra.pop("addendum_form", addendum_form)
    context = {
        "session": session,
        "client": selectors.session_record_for(request.user, session),
        "participants": selectors.participants_of(session),
        "note": note,
        "themes": list(note.themes.all()) if note else [],
        "methods": list(note.methods.all()) if note else [],
        "therapists": list(session.therapists.all()),
        "addenda": selectors.addenda(note),
        "addendum_form": addendum_form,
        "addendum_draft": draft,
        "may_change": may_change,
        "payment_form": (
            PaymentForm(initial={"fee_paid": session.fee_paid, "version": session.version}) if may_change else None
        ),
        "book_form": BookNextForm(after=session) if may_change and not session.is_voided else None,
        **extra,
    }
    return render(request, "sessions/session_signed.html", context, status=400 if sent_back else 200)


@require_POST
def note_autosave(request: HttpRequest, session_id: uuid.UUID) -> JsonResponse:
    """The draft saved in the background while the therapist writes (kast.autosave answers the page script)."""
    session = selectors.get_session_for(request, session_id, action=None)  # the save itself is logged
    themes = selectors.clinic_themes(session.clinic_id, keep=_theme_ids(request.POST.getlist("note-themes")))
    methods = selectors.clinic_methods(session.clinic_id, keep=_theme_ids(request.POST.getlist("note-methods")))
    return autosave_response(
        NoteForm(request.POST, themes=themes, methods=methods, prefix="note"),
        lambda data: services.note_save(
            actor=request.actor,
            session=session,
            version=data["version"],
            text=data["text"],
            themes=data["themes"],
            methods=data["methods"],
        ),
        texts=lambda note: [(_("Note"), note.text)],
        not_yours=_("Only the author writes the note."),
    )


@require_POST
def addendum_autosave(request: HttpRequest, session_id: uuid.UUID) -> JsonResponse:
    """The author's addendum draft saved in the background (js/autosave.js); the service logs the save."""
    session = selectors.get_session_for(request, session_id, action=None)
    note = selectors.note_of(session)
    if note is None:
        raise Http404
    return autosave_response(
        AddendumDraftForm(request.POST),
        lambda data: services.addendum_draft_save(
            actor=request.actor, note=note, version=data["version"], text=data["text"]
        ),
        texts=lambda draft: [(_("Addendum"), draft.text)],
        not_yours=_("Only the author adds to the note."),
    )


@require_POST
def addendum_add(request: HttpRequest, session_id: uuid.UUID) -> HttpResponse:
    session = selectors.get_session_for(request, session_id, action=None)
    note = selectors.note_of(session)
    if note is None:
        raise Http404
    form = AddendumForm(request.POST)
    if form.is_valid():
        try:
            services.addendum_add(actor=request.actor, note=note, text=form.cleaned_data["text"])
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The addendum is added."))
            return redirect("sessions:detail", session_id=session.pk)
    return _signed_page(request, session, note, addendum_form=form)


@require_POST
def payment(request: HttpRequest, session_id: uuid.UUID) -> HttpResponse:
    session = selectors.get_session_for(request, session_id, action=None)
    selectors.check_may_change_session(request.user, session)
    form = PaymentForm(request.POST)
    if form.is_valid():
        try:
            services.session_update(
                actor=request.actor,
                session=session,
                version=form.cleaned_data["version"],
                data={"fee_paid": form.cleaned_data["fee_paid"]},
            )
        except EditConflict:
            messages.error(request, _("Someone else changed this session just now. Look again and retry."))
        else:
            messages.success(request, _("Saved."))
    return redirect("sessions:detail", session_id=session.pk)


def session_void(request: HttpRequest, session_id: uuid.UUID) -> HttpResponse:
    """Mark as wrongly recorded ("felmarkera"): asks for the reason first."""
    session = selectors.get_session_for(request, session_id)
    selectors.check_may_change_session(request.user, session)
    form = VoidForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.session_void(actor=request.actor, session=session, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The entry is marked as wrongly recorded. It is kept in the history."))
            return redirect("sessions:timeline", client_id=session.client_id)
    return render(request, "sessions/session_void.html", {"session": session, "client": session.client, "form": form})


@require_POST
def book_next(request: HttpRequest, session_id: uuid.UUID) -> HttpResponse:
    session = selectors.get_session_for(request, session_id, action=None)
    selectors.check_may_change_session(request.user, session)
    form = BookNextForm(request.POST, after=session)
    if form.is_valid():
        try:
            booked = services.session_book_next(
                actor=request.actor,
                session=session,
                date=form.cleaned_data["date"],
                start_time=form.cleaned_data["start_time"],
                allow_overlap=form.cleaned_data["allow_overlap"],
            )
        except services.SessionNeedsConfirming as warning:
            form.ask_to_confirm(warning)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _("Next session booked: %(date)s at %(time)s.")
                % {"date": formats.date_format(booked.date, "SHORT_DATE_FORMAT"), "time": f"{booked.start_time:%H:%M}"},
            )
            return redirect("sessions:detail", session_id=session.pk)
    note = selectors.note_of(session)
    return _signed_page(request, session, note, book_form=form)


def timeline(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    """Everything on the case in date order: sessions with their notes, status changes."""
    client = get_client_for(request, client_id)
    include_voided = request.GET.get("voided") == "1"
    page = Paginator(selectors.client_timeline(client, include_voided=include_voided), TIMELINE_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {
        "client": client,
        "page": page,
        "entries": selectors.timeline_entries(page.object_list),
        "include_voided": include_voided,
        "voided_count": selectors.voided_count(client),
        "can_end": client.status == CaseStatus.IN_TREATMENT,
    }
    return render(request, "sessions/timeline.html", context)


def end_treatment(request: HttpRequest, client_id: uuid.UUID) -> HttpResponse:
    """End the treatment: date and reason, then the follow-ups are planned."""
    client = get_client_for(request, client_id)
    if client.status != CaseStatus.IN_TREATMENT:
        messages.error(request, _("Only a treatment in progress can be ended."))
        return redirect("clients:detail", client_id=client.pk)
    form = EndTreatmentForm(request.POST or None, relative=client.is_relative)
    goal_form = end_goals_form(request.user, client, request.POST or None)
    if request.method == "POST" and form.is_valid() and (goal_form is None or goal_form.is_valid()):
        try:
            follow_ups = services.treatment_end(
                actor=request.actor,
                client=client,
                goal_reviews=goal_form.reviews() if goal_form is not None else None,
                **form.cleaned_data,
            )
        except ValidationError as error:
            _add_errors({name: goal_form for name in goal_form.fields} if goal_form else {}, form, error)
        else:
            due = ", ".join(
                f"{f.get_kind_display().lower()} {formats.date_format(f.due_on, 'SHORT_DATE_FORMAT')}"
                for f in follow_ups
            )
            if client.is_relative:  # the questionnaires are the clients' (the start and end forms)
                messages.success(request, _("The support is ended. Planned: %(due)s.") % {"due": due})
                return redirect("relatives:detail", record_id=client.pk)
            messages.success(
                request,
                _("The treatment is ended. Planned: %(due)s. Now give the end questionnaire.") % {"due": due},
            )
            # The end questionnaire is due now: the questionnaires page with that time point marked.
            return redirect(f"{reverse('assessments:client', args=[client.pk])}?point={TimePoint.END}")
    context = {"client": client, "form": form, "goal_form": goal_form}
    return render(request, "sessions/end_treatment.html", context)


@require_GET
def bookings(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The therapist's bookings a week or a month at a time, with the free time of each office day; or the
    clinic's, where a colleague's session shows its client only to those who may see the record."""
    form = BookingsForm(request.GET)  # every field may stay empty: this week, the therapist's own
    if not form.is_valid():
        return render(request, "sessions/bookings.html", {"form": form}, status=400)
    start, days = form.period()
    shown = selectors.bookings_for(request.user, start=start, days=days, clinic_wide=form.clinic_wide)
    span = form.cleaned_data.get("span") or BookingsForm.WEEK
    step = datetime.timedelta(days=7) if span == BookingsForm.WEEK else datetime.timedelta(days=days)
    earlier = (start - datetime.timedelta(days=1)).replace(day=1) if span == BookingsForm.MONTH else start - step
    context = {
        "form": form,
        "bookings": shown,
        "span": span,
        "scope": form.cleaned_data.get("scope") or BookingsForm.MINE,
        "earlier": earlier,
        "later": start + step,
    }
    return render(request, "sessions/bookings.html", context)


def calendar_settings(request: HttpRequest) -> HttpResponse:
    """The therapist's calendar subscription: create a secret address, renew it, or turn it off."""
    token = None
    if request.method == "POST":
        if request.POST.get("action") == "revoke":
            services.calendar_feed_revoke(user=request.user)
            messages.success(request, _("The calendar address is turned off."))
            return redirect("sessions:calendar")
        token = services.calendar_feed_renew(user=request.user)
    context = {
        "feed_url": request.build_absolute_uri(reverse("sessions:calendar_feed", args=[token])) if token else None,
        "has_feed": token is not None or hasattr(request.user, "calendar_feed"),
    }
    return render(request, "sessions/calendar.html", context)


@never_cache
@require_GET
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The .ics a calendar app fetches: no login, the secret address is the key. Codes only, no names."""
    user = selectors.calendar_feed_user(token)
    if user is None:
        raise Http404
    request.user = user
    sessions = list(selectors.calendar_sessions(user))
    # The path holds the secret: log the feed, not the address.
    access_log_record(actor=request.actor.acting_as(user), action=Action.EXPORT, object_type=CALENDAR_FEED, path="")
    return HttpResponse(calendar.ics(user, sessions), content_type="text/calendar; charset=utf-8")
