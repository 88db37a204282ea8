"""Group programmes (app `groups`) in figures: programmes and meetings held, participants by kind, attendance, fees.

Counts only, from one SQL aggregate: neither the programme's description nor a note is read, and no participant is
ever listed. Participants are persons, so their counts are protected like every other (figures.suppression);
programmes and meetings are the clinic's work, not persons, and are shown as they are.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Q, Sum
from django.utils.translation import gettext as _

from clients.models import RecordKind
from figures import suppression
from groups.models import GroupMeeting, MeetingStatus, Presence

if TYPE_CHECKING:
    from figures.statistics import Dashboard, Scope, Table

PARTICIPANTS_KEY = "groups.participants"
RECORDED_KEY = "groups.recorded"
ATTENDED_KEY = "groups.attended"


def participants_key(kind: str) -> str:
    return f"groups.participants.{kind}"


def group_counts(scope: Scope) -> dict[str, Any]:
    """The meetings held in the period and their attendance. One query.

    "programmes" with a meeting held, "meetings" held; "participants" (records that attended at least one of them)
    and "participants_<kind>" per record kind; "recorded" attendances and those "attended"; "fees" charged.
    A therapist's own figures count the programmes they lead."""
    meetings = GroupMeeting.objects.filter(status=MeetingStatus.HELD, date__range=(scope.start, scope.end))
    if scope.clinic is not None:
        meetings = meetings.filter(programme__clinic=scope.clinic)
    if scope.therapist is not None:
        meetings = meetings.filter(programme__leaders=scope.therapist)
    attended = Q(attendances__presence=Presence.ATTENDED)
    record = "attendances__member__record"
    counts: dict[str, Any] = meetings.order_by().aggregate(
        programmes=Count("programme", distinct=True),
        meetings=Count("pk", distinct=True),
        participants=Count(record, filter=attended, distinct=True),
        **{
            f"participants_{kind}": Count(record, filter=attended & Q(**{f"{record}__kind": kind}), distinct=True)
            for kind in RecordKind.values
        },
        recorded=Count("attendances", distinct=True),
        attended=Count("attendances", filter=attended, distinct=True),
        fees=Sum("attendances__fee_charged"),
    )
    counts["fees"] = counts["fees"] or Decimal(0)
    return counts


def groups_table(d: Dashboard) -> Table:
    """Group programmes: what the clinic held, who took part (by kind), how many came, and the fees."""
    from figures.statistics import Cell, Row, Table

    g = d.groups or {}
    recorded, attended = g.get("recorded", 0), g.get("attended", 0)
    rows = [
        Row("programmes", _("Programmes with a meeting held"), [Cell(g.get("programmes", 0), "whole")]),
        Row("meetings", _("Meetings held"), [Cell(g.get("meetings", 0), "whole")]),
        Row("participants", _("Participants"), [Cell(g.get("participants", 0), key=PARTICIPANTS_KEY)]),
        Row(
            "participants_client",
            _("of whom clients"),
            [Cell(g.get("participants_client", 0), key=participants_key(RecordKind.CLIENT))],
        ),
        Row(
            "participants_relative",
            _("of whom relatives or partners"),
            [Cell(g.get("participants_relative", 0), key=participants_key(RecordKind.RELATIVE))],
        ),
        Row("recorded", _("Places at meetings (participant and meeting)"), [Cell(recorded, key=RECORDED_KEY)]),
        Row("attended", _("of which attended"), [Cell(attended, key=ATTENDED_KEY)]),
        Row(
            "attendance_share",
            _("Share attended"),
            [Cell(attended / recorded if recorded else None, "share", rests_on=(ATTENDED_KEY, RECORDED_KEY))],
        ),
        Row(
            "fees",
            _("Fees charged (SEK)"),
            [Cell(g.get("fees", Decimal(0)), "money", rests_on=(ATTENDED_KEY,))],
        ),
    ]
    return Table(
        "groups",
        _("Group programmes"),
        _("Meetings held in the period"),
        [_("Number")],
        rows,
        note=_(
            "Meetings held in the period; a participant is a record that attended at least one of them, counted "
            "once. Clients and relatives add up to the participants."
        ),
    )


def relate_groups(figures: suppression.Figures) -> None:
    """Clients and relatives add up to the participants; the places attended are a part of those recorded."""
    figures.relate(PARTICIPANTS_KEY, [participants_key(kind) for kind in RecordKind.values])
    figures.relate(RECORDED_KEY, [ATTENDED_KEY], rest=True)
