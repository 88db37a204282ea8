"""Writes of group programmes. Each is one transaction, validates first and writes the access log."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from clients.models import Client
from groups.models import (
    GroupAddendum,
    GroupAttendance,
    GroupMeeting,
    GroupMember,
    GroupNote,
    GroupProgramme,
    MeetingStatus,
    Part,
    Presence,
)
from groups.selectors import attendance_seen, invited_members, recorded_attendance
from kast.actor import Actor
from kast.locking import EditConflict, save_versioned
from kast.models import AccessLogEntry, Clinic, Role, User
from kast.services import access_log_record
from sessions.models import SessionFee, SessionKind

Action = AccessLogEntry.Action


def _require_therapist_of(actor: Actor, clinic_id: int) -> User:
    by = actor.acting_user()
    if by.role != Role.THERAPIST or by.clinic_id != clinic_id:
        raise PermissionDenied
    return by


def _require_leader(actor: Actor, programme: GroupProgramme) -> User:
    """The programme's leaders keep its roster, meetings, attendance and notes; other therapists of the clinic read."""
    by = _require_therapist_of(actor, programme.clinic_id)
    if not programme.is_leader(by):
        raise PermissionDenied
    return by


@transaction.atomic
def programme_create(*, actor: Actor, clinic: Clinic, data: dict[str, Any], leaders: Iterable[User]) -> GroupProgramme:
    by = _require_therapist_of(actor, clinic.pk)
    leaders = list(leaders)
    if any(leader.clinic_id != clinic.pk or leader.role != Role.THERAPIST for leader in leaders):
        raise ValidationError({"leaders": _("Choose therapists of your clinic.")})
    if not leaders:
        raise ValidationError({"leaders": _("Choose at least one group leader.")})
    programme = GroupProgramme(clinic=clinic, created_by=by, **data)
    programme.full_clean()
    programme.save()
    programme.leaders.set(leaders)
    access_log_record(actor=actor, action=Action.CREATE, obj=programme)
    return programme


@transaction.atomic
def member_add(*, actor: Actor, programme: GroupProgramme, record: Client, joined_on: datetime.date) -> GroupMember:
    """Put a record on the roster. The record comes through the clients' gate (the leader sees it)."""
    _require_leader(actor, programme)
    if record.clinic_id != programme.clinic_id:
        raise ValidationError({"record": _("Choose a record of your clinic.")})
    if programme.members.filter(record=record).exists():
        raise ValidationError({"record": _("This record is already on the roster.")})
    member = GroupMember(programme=programme, record=record, joined_on=joined_on)
    member.full_clean()
    member.save()
    access_log_record(actor=actor, action=Action.CREATE, obj=member, client_id=record.pk)
    return member


@transaction.atomic
def member_remove(*, actor: Actor, member: GroupMember, left_on: datetime.date) -> GroupMember:
    """A member leaves: the row stays (their attendance is part of the record), with the day they left."""
    _require_leader(actor, member.programme)
    member.left_on = left_on
    member.full_clean()
    member.save(update_fields=["left_on"])
    access_log_record(actor=actor, action=Action.UPDATE, obj=member, client_id=member.record_id)
    return member


@transaction.atomic
def meeting_plan(*, actor: Actor, programme: GroupProgramme, data: dict[str, Any]) -> GroupMeeting:
    _require_leader(actor, programme)
    meeting = GroupMeeting(programme=programme, **data)
    meeting.full_clean()
    meeting.save()
    access_log_record(actor=actor, action=Action.CREATE, obj=meeting)
    return meeting


def _group_fee(clinic_id: int) -> Decimal:
    """The clinic's fee for a group session (sessions.SessionFee), 0 where the clinic charges none."""
    fee = (
        SessionFee.objects.filter(clinic_id=clinic_id, kind=SessionKind.GROUP).values_list("amount", flat=True).first()
    )
    return fee if fee is not None else Decimal(0)


class AttendanceChanged(ValidationError):
    """The attendance was recorded differently since the leader's page showed it: nothing was replaced."""


@transaction.atomic
def attendance_record(
    *, actor: Actor, meeting: GroupMeeting, presence: Mapping[int, str], seen: str | None = None
) -> list[GroupAttendance]:
    """Every invited participant's attendance at once (member id -> presence); the meeting is then held.

    A participant who attended is charged the clinic's group fee; one absent is charged nothing. `seen`: the
    attendance the leader's page showed (selectors.attendance_seen); recorded differently meanwhile (another
    leader, another tab), the save is refused and nothing is replaced. Two leaders saving at the same instant
    take turns on the meeting's row, so the second sees the first's attendance, never a half of it."""
    by = _require_leader(actor, meeting.programme)
    meeting = GroupMeeting.objects.select_for_update().select_related("programme").get(pk=meeting.pk)
    if seen is not None and seen != attendance_seen(recorded_attendance(meeting)):
        raise AttendanceChanged(
            _("Another leader recorded the attendance meanwhile. It is shown below: check it and save again.")
        )
    if meeting.date > timezone.localdate():
        raise ValidationError(_("Attendance is recorded once the meeting has taken place."))
    if meeting.status == MeetingStatus.CANCELLED:
        raise ValidationError(_("The meeting was cancelled: there is no attendance to record."))
    if hasattr(meeting, "note") and meeting.note.is_signed:
        raise ValidationError(_("The note is signed: the attendance is final."))
    members = {member.pk: member for member in invited_members(meeting)}
    if set(presence) != set(members):
        raise ValidationError(_("Give the attendance of every participant."))
    fee = _group_fee(meeting.programme.clinic_id)
    rows = []
    for member_id, value in presence.items():
        if value not in Presence.values:
            raise ValidationError(_("Give the attendance of every participant."))
        row, _created = GroupAttendance.objects.update_or_create(
            meeting=meeting,
            member_id=member_id,
            defaults={
                "presence": value,
                "fee_charged": fee if value == Presence.ATTENDED else Decimal(0),
                "recorded_by": by,
            },
        )
        rows.append(row)
    meeting.status = MeetingStatus.HELD
    meeting.full_clean()
    meeting.save(update_fields=["status"])
    for row in rows:
        access_log_record(actor=actor, action=Action.UPDATE, obj=row, client_id=members[row.member_id].record_id)
    return rows


def _check_parts(meeting: GroupMeeting, client_part: str, relative_part: str) -> None:
    """A part is written only for a side that was invited: the relatives' part of a meeting with the clients alone
    would be shown on nobody's record, and the other way round."""
    errors = {}
    if client_part.strip() and Part.CLIENTS not in meeting.parts:
        errors["client_part"] = _("Only relatives were invited: write in the relatives' part.")
    if relative_part.strip() and Part.RELATIVES not in meeting.parts:
        errors["relative_part"] = _("Only clients were invited: write in the clients' part.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def note_save(*, actor: Actor, meeting: GroupMeeting, client_part: str, relative_part: str, version: int) -> GroupNote:
    """Save the draft: the first leader to write it is its author, and only the author writes it further.

    `version`: the draft's version the page was opened at, 0 for none yet. A stale one (saved meanwhile in another
    tab) raises EditConflict with the stored draft, and nothing is overwritten (kast.locking)."""
    by = _require_leader(actor, meeting.programme)
    _check_parts(meeting, client_part, relative_part)
    note = GroupNote.objects.select_for_update().filter(meeting=meeting).first()
    if note is None:
        if version != 0:  # a crafted version: there is no draft it could have been read at
            raise ValidationError(_("The note is not there any more. Reload the page."))
        note = GroupNote(meeting=meeting, author=by, client_part=client_part, relative_part=relative_part)
        note.full_clean()
        note.save()
    elif not note.written_by(by):
        raise PermissionDenied
    elif note.is_signed:
        raise ValidationError(_("The note is signed: add to it with an addendum."))
    elif version != note.version:
        raise EditConflict(note)
    else:
        note.client_part, note.relative_part, note.updated_at = client_part, relative_part, timezone.now()
        note.full_clean()
        save_versioned(note, expected_version=version, fields=["client_part", "relative_part", "updated_at"])
    access_log_record(actor=actor, action=Action.UPDATE, obj=note)
    return note


@transaction.atomic
def note_sign(*, actor: Actor, note: GroupNote) -> GroupNote:
    """Sign the note: refused while any invited participant's attendance is missing (the note tells who was there)."""
    by = _require_leader(actor, note.meeting.programme)
    note = GroupNote.objects.select_for_update().select_related("meeting").get(pk=note.pk)
    if not note.written_by(by):
        raise PermissionDenied
    if note.is_signed:
        raise ValidationError(_("The note is already signed."))
    recorded = set(note.meeting.attendances.values_list("member_id", flat=True))
    if any(member.pk not in recorded for member in invited_members(note.meeting)):
        raise ValidationError(_("Record every participant's attendance before signing the note."))
    if not (note.client_part.strip() or note.relative_part.strip()):
        raise ValidationError(_("An empty note cannot be signed."))
    note.signed_at = timezone.now()
    note.save(update_fields=["signed_at"])
    access_log_record(actor=actor, action=Action.UPDATE, obj=note)
    return note


@transaction.atomic
def addendum_add(*, actor: Actor, note: GroupNote, part: str, text: str) -> GroupAddendum:
    by = _require_leader(actor, note.meeting.programme)
    if not note.written_by(by):
        raise PermissionDenied
    if not note.is_signed:
        raise ValidationError(_("Only a signed note takes an addendum; change the draft instead."))
    if part not in note.meeting.parts:
        raise ValidationError({"part": _("That side of the group was not invited to the meeting.")})
    addendum = GroupAddendum(note=note, part=part, author=by, text=text)
    addendum.full_clean()
    addendum.save()
    access_log_record(actor=actor, action=Action.CREATE, obj=addendum)
    return addendum
