"""Reads of group programmes through the one gate (GroupProgramme.objects.visible_to: the clinic's therapists), and
what a record shows of the groups it took part in: only its own side of the wall."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404

from clients.models import RecordKind
from groups.models import (
    PART_OF_KIND,
    GroupAddendum,
    GroupAttendance,
    GroupMeeting,
    GroupMember,
    GroupProgramme,
    Part,
)

if TYPE_CHECKING:
    import datetime

    from clients.models import Client
    from kast.models import User


def programme_list(*, user: User) -> QuerySet[GroupProgramme]:
    """The clinic's programmes with how many are on the roster and how many meetings (one query)."""
    return GroupProgramme.objects.visible_to(user).annotate(
        member_count=Count("members", filter=Q(members__left_on__isnull=True), distinct=True),
        meeting_count=Count("meetings", distinct=True),
    )


def get_programme_for(*, user: User, programme_id: int) -> GroupProgramme:
    """One programme of the user's clinic; another clinic's does not exist (404)."""
    return get_object_or_404(GroupProgramme.objects.visible_to(user), pk=programme_id)


def get_meeting_for(*, user: User, meeting_id: int) -> GroupMeeting:
    return get_object_or_404(
        GroupMeeting.objects.filter(programme__in=GroupProgramme.objects.visible_to(user)).select_related("programme"),
        pk=meeting_id,
    )


def roster(programme: GroupProgramme) -> list[GroupMember]:
    return list(programme.members.select_related("record").order_by("record__kind", "record__code"))


def attendance_seen(presence: Mapping[int, str]) -> str:
    """A short fingerprint of a meeting's recorded attendance (member id -> presence), carried by the attendance
    form: if it differs when the form is saved, another leader recorded the attendance meanwhile."""
    recorded = ",".join(f"{member}:{presence[member]}" for member in sorted(presence))
    return hashlib.sha256(recorded.encode()).hexdigest()[:16]


def recorded_attendance(meeting: GroupMeeting) -> dict[int, str]:
    """The meeting's attendance as recorded: member id -> presence."""
    return dict(meeting.attendances.values_list("member_id", "presence"))


def invited_members(meeting: GroupMeeting) -> list[GroupMember]:
    """The participants a meeting is for: on the roster that day, of the kinds invited."""
    return list(
        GroupMember.objects.filter(
            programme_id=meeting.programme_id,
            record__kind__in=meeting.kinds_invited,
            joined_on__lte=meeting.date,
        )
        .filter(Q(left_on__isnull=True) | Q(left_on__gte=meeting.date))
        .select_related("record")
        .order_by("record__kind", "record__code")
    )


@dataclass
class RecordMeeting:
    """A group meeting a record's person attended, with the part of the note their side of the wall allows."""

    programme: str
    date: datetime.date
    start_time: datetime.time
    duration_minutes: int
    text: str | None
    addenda: list[GroupAddendum] = field(default_factory=list)


def record_group_meetings(record: Client) -> list[RecordMeeting]:
    """The group meetings `record` attended, each with its side's part of the signed note and its side's addenda.

    The other side's part is never read: the query names the one column of the record's side. Two queries at
    most, whatever the number of meetings (the addenda only when there is a signed note)."""
    part = PART_OF_KIND[RecordKind(record.kind)]
    column = "meeting__note__client_part" if part == Part.CLIENTS else "meeting__note__relative_part"
    rows = list(
        GroupAttendance.objects.filter(member__record=record, presence="attended")
        .order_by("-meeting__date", "-meeting__start_time")
        .values(
            "meeting__programme__name",
            "meeting__date",
            "meeting__start_time",
            "meeting__duration_minutes",
            "meeting__note__id",
            "meeting__note__signed_at",
            column,
        )
    )
    signed = [row["meeting__note__id"] for row in rows if row["meeting__note__signed_at"] is not None]
    addenda: dict[int, list[GroupAddendum]] = {}
    if signed:
        for addendum in GroupAddendum.objects.filter(note_id__in=signed, part=part).only(
            "note_id", "text", "created_at"
        ):
            addenda.setdefault(addendum.note_id, []).append(addendum)
    return [
        RecordMeeting(
            programme=row["meeting__programme__name"],
            date=row["meeting__date"],
            start_time=row["meeting__start_time"],
            duration_minutes=row["meeting__duration_minutes"],
            text=row[column] if row["meeting__note__signed_at"] is not None else None,
            addenda=addenda.get(row["meeting__note__id"], []),
        )
        for row in rows
    ]
