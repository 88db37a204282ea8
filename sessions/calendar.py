"""The therapist's sessions as an iCalendar feed (RFC 5545), for any calendar app.

Client codes only: a phone's calendar is no place for a name or a word of the note.
"""

from __future__ import annotations

import datetime
import zoneinfo

import icalendar
from django.conf import settings
from django.utils.translation import gettext as _

from kast.models import User
from sessions.models import Attendance, TherapySession

CANCELLED = (Attendance.CANCELLED_BY_CLIENT, Attendance.CANCELLED_BY_CLINIC)


def ics(user: User, sessions: list[TherapySession]) -> bytes:
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//KAST//sessions//SV")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", _("KAST sessions"))
    calendar.add("x-wr-timezone", settings.TIME_ZONE)
    stamp = datetime.datetime.now(tz=datetime.UTC)
    for session in sessions:
        start = datetime.datetime.combine(session.date, session.start_time, tzinfo=zone)
        event = icalendar.Event()
        event.add("uid", f"{session.pk}@kast")
        event.add("dtstamp", stamp)
        event.add("dtstart", start)
        event.add("dtend", start + datetime.timedelta(minutes=session.duration_minutes))
        event.add("summary", f"{session.client.code} · {session.get_kind_display()}")
        event.add("status", "CANCELLED" if session.attendance in CANCELLED else "CONFIRMED")
        event.add("class", "CONFIDENTIAL")
        calendar.add_component(event)
    return calendar.to_ical()
