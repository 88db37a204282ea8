"""Thin views of group programmes: the gate, a form, one service, a redirect or a page."""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from groups import selectors, services
from groups.forms import AddendumForm, AttendanceForm, MeetingForm, MemberForm, NoteForm, ProgrammeForm
from groups.models import GroupMeeting, GroupMember, GroupNote, GroupProgramme, Part
from kast.actor import actor_of
from kast.locking import EditConflict
from kast.models import AccessLogEntry, User
from kast.services import access_log_record

Action = AccessLogEntry.Action


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def programme_list(request: HttpRequest) -> HttpResponse:
    programmes = list(selectors.programme_list(user=_user(request)))
    return render(request, "groups/programme_list.html", {"programmes": programmes})


def programme_new(request: HttpRequest) -> HttpResponse:
    clinic = _user(request).clinic
    if clinic is None:
        raise PermissionDenied
    form = ProgrammeForm(request.POST or None, clinic=clinic, initial={"leaders": [request.user.pk]})
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in ("name", "description", "start_date", "status")}
        try:
            programme = services.programme_create(
                actor=actor_of(request), clinic=clinic, data=data, leaders=form.cleaned_data["leaders"]
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Group programme created."))
            return redirect("groups:detail", programme_id=programme.pk)
    return render(request, "groups/programme_form.html", {"form": form}, status=400 if form.errors else 200)


def _programme_page(request: HttpRequest, programme: GroupProgramme, status: int = 200, **forms) -> HttpResponse:
    user = _user(request)
    access_log_record(actor=actor_of(request), action=Action.VIEW, obj=programme)
    leader = programme.is_leader(user)
    return render(
        request,
        "groups/programme_detail.html",
        {
            "programme": programme,
            "leaders": list(programme.leaders.all()),
            "members": selectors.roster(programme),
            "meetings": list(programme.meetings.all()),
            "is_leader": leader,
            "member_form": forms.get("member_form") or (MemberForm(user=user, programme=programme) if leader else None),
            "meeting_form": forms.get("meeting_form") or (MeetingForm() if leader else None),
            "today": timezone.localdate(),
        },
        status=status,
    )


def programme_detail(request: HttpRequest, programme_id: int) -> HttpResponse:
    return _programme_page(request, selectors.get_programme_for(user=_user(request), programme_id=programme_id))


@require_POST
def member_add(request: HttpRequest, programme_id: int) -> HttpResponse:
    programme = selectors.get_programme_for(user=_user(request), programme_id=programme_id)
    form = MemberForm(request.POST, user=_user(request), programme=programme)
    if form.is_valid():
        try:
            services.member_add(
                actor=actor_of(request),
                programme=programme,
                record=form.cleaned_data["record"],
                joined_on=form.cleaned_data["joined_on"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Added to the group."))
            return redirect("groups:detail", programme_id=programme.pk)
    return _programme_page(request, programme, status=400, member_form=form)


@require_POST
def member_leave(request: HttpRequest, member_id: int) -> HttpResponse:
    member = get_object_or_404(
        GroupMember.objects.filter(programme__in=GroupProgramme.objects.visible_to(_user(request))).select_related(
            "programme"
        ),
        pk=member_id,
    )
    try:
        services.member_remove(actor=actor_of(request), member=member, left_on=timezone.localdate())
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The participant has left the group."))
    return redirect("groups:detail", programme_id=member.programme_id)


def meeting_new(request: HttpRequest, programme_id: int) -> HttpResponse:
    programme = selectors.get_programme_for(user=_user(request), programme_id=programme_id)
    form = MeetingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            meeting = services.meeting_plan(actor=actor_of(request), programme=programme, data=form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Meeting planned."))
            return redirect("groups:meeting", meeting_id=meeting.pk)
    return render(
        request,
        "groups/meeting_form.html",
        {"form": form, "programme": programme},
        status=400 if form.errors else 200,
    )


def _note(meeting: GroupMeeting) -> GroupNote | None:
    return GroupNote.objects.filter(meeting=meeting).prefetch_related("addenda").first()


def _meeting_page(request: HttpRequest, meeting: GroupMeeting, status: int = 200, **forms) -> HttpResponse:
    user = _user(request)
    members = selectors.invited_members(meeting)
    recorded = selectors.recorded_attendance(meeting)
    note = _note(meeting)
    access_log_record(actor=actor_of(request), action=Action.VIEW, obj=meeting)
    leader = meeting.programme.is_leader(user)
    conflict = forms.get("conflict")
    writes = leader and (note is None or note.written_by(user))
    return render(
        request,
        "groups/meeting_detail.html",
        {
            "meeting": meeting,
            "programme": meeting.programme,
            "note": note,
            "recorded": recorded,
            "attendance_form": forms.get("attendance_form")
            or AttendanceForm(members=members, initial_presence=recorded),
            "note_form": forms.get("note_form")
            or (NoteForm(instance=note, meeting=meeting) if writes and not (note and note.is_signed) else None),
            "addendum_form": forms.get("addendum_form")
            or (AddendumForm(meeting=meeting) if writes and note and note.is_signed else None),
            "is_leader": leader,
            "can_sign": writes and note is not None and not note.is_signed,
            "sign_error": forms.get("sign_error"),
            "conflict": conflict,
            # The saved draft's parts, for the side or sides the meeting invited (as the form has them).
            "saved_parts": [
                (Part(part).label, conflict.part_text(part))
                for part in (Part.CLIENTS, Part.RELATIVES)
                if part in meeting.parts
            ]
            if conflict
            else [],
        },
        status=status,
    )


def meeting_detail(request: HttpRequest, meeting_id: int) -> HttpResponse:
    return _meeting_page(request, selectors.get_meeting_for(user=_user(request), meeting_id=meeting_id))


@require_POST
def attendance(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting = selectors.get_meeting_for(user=_user(request), meeting_id=meeting_id)
    members = selectors.invited_members(meeting)
    form = AttendanceForm(request.POST, members=members, initial_presence={})
    if form.is_valid():
        try:
            services.attendance_record(
                actor=actor_of(request), meeting=meeting, presence=form.presence(), seen=form.cleaned_data["seen"]
            )
        except services.AttendanceChanged as error:
            # Recorded meanwhile: the page shows what is recorded now, with the message, to check and save again.
            recorded = selectors.recorded_attendance(meeting)
            now = {f"member_{member_id}": presence for member_id, presence in recorded.items()}
            form = AttendanceForm(
                {"seen": selectors.attendance_seen(recorded), **now}, members=members, initial_presence=recorded
            )
            form.is_valid()
            form.add_error(None, error)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Attendance saved."))
            return redirect("groups:meeting", meeting_id=meeting.pk)
    return _meeting_page(request, meeting, status=400, attendance_form=form)


@require_POST
def note_save(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting = selectors.get_meeting_for(user=_user(request), meeting_id=meeting_id)
    form = NoteForm(request.POST, meeting=meeting)
    if form.is_valid():
        try:
            services.note_save(
                actor=actor_of(request),
                meeting=meeting,
                client_part=form.cleaned_data.get("client_part", ""),
                relative_part=form.cleaned_data.get("relative_part", ""),
                version=form.cleaned_data["version"],
            )
        except EditConflict as conflict:
            # The text typed here stays in the form, now at the stored version; the saved draft is shown above it.
            saved = cast(GroupNote, conflict.current)
            data = request.POST.copy()
            data["version"] = str(saved.version)
            form = NoteForm(data, meeting=meeting)
            return _meeting_page(request, meeting, status=409, note_form=form, conflict=saved)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Draft saved."))
            return redirect("groups:meeting", meeting_id=meeting.pk)
    return _meeting_page(request, meeting, status=400, note_form=form)


@require_POST
def note_sign(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting = selectors.get_meeting_for(user=_user(request), meeting_id=meeting_id)
    note = get_object_or_404(GroupNote, meeting=meeting)
    try:
        services.note_sign(actor=actor_of(request), note=note)
    except ValidationError as error:
        return _meeting_page(request, meeting, status=400, sign_error=" ".join(error.messages))
    messages.success(request, _("The note is signed."))
    return redirect("groups:meeting", meeting_id=meeting.pk)


@require_POST
def addendum(request: HttpRequest, meeting_id: int) -> HttpResponse:
    meeting = selectors.get_meeting_for(user=_user(request), meeting_id=meeting_id)
    note = get_object_or_404(GroupNote, meeting=meeting)
    form = AddendumForm(request.POST, meeting=meeting)
    if form.is_valid():
        try:
            services.addendum_add(
                actor=actor_of(request), note=note, part=form.cleaned_data["part"], text=form.cleaned_data["text"]
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Addendum added."))
            return redirect("groups:meeting", meeting_id=meeting.pk)
    return _meeting_page(request, meeting, status=400, addendum_form=form)
