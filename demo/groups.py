"""One group programme in Göteborg, as the 2018 pilot ran it: two couples, two meetings with the couples and three
with the relatives alone, attendance per participant and a signed note for each meeting held.

Development only, like the rest of demo/. Written through the groups app's services, as a leader would, so that the
wall, the fees and the access log are what the app makes them (a programme is a handful of rows: no bulk insert).
"""

from __future__ import annotations

import datetime
import random
from uuid import UUID

from django.utils import timezone

from clients.models import Client
from groups.models import GroupProgramme, Invited, Presence
from groups.selectors import invited_members as invited_members_of
from groups.services import attendance_record, meeting_plan, member_add, note_save, note_sign, programme_create
from kast.actor import Actor
from kast.models import Clinic, Role, User
from relatives.models import RelativeLink

#: The clinic whose demo runs a group programme (the pilot was Göteborg's).
GROUP_CLINIC = "GBG"
NAME = "Gruppsamtal för par"
DESCRIPTION = (
    "Två träffar för paren tillsammans och tre träffar för de anhöriga på egen hand, varannan vecka. "
    "Två behandlare leder gruppen."
)
#: The five meetings: weeks before today, who is invited, and whether it has been held yet.
MEETINGS = [
    (10, Invited.ALL),
    (8, Invited.RELATIVES),
    (6, Invited.RELATIVES),
    (4, Invited.ALL),
    (-1, Invited.RELATIVES),  # next week's: planned, no attendance yet
]
CLIENT_NOTES = [
    "Paren presenterade sig och gruppens ramar gicks igenom. Samtal om hur det varit att söka hjälp.",
    "Uppföljning av målen. Samtal om att återuppbygga förtroende och hur vardagen ser ut nu.",
]
RELATIVE_NOTES = [
    "Samtal om reaktioner när det blev känt och om vad de anhöriga behöver för egen del.",
    "Tema: att sätta gränser och ta hand om sig själv. Deltagarna delade erfarenheter.",
    "Samtal om barnens situation och vilket stöd som finns i kommunen.",
    "Gemensam avslutning med paren: vad har förändrats, vad behövs framåt.",
]


def _couples(clinic: Clinic, count: int) -> list[tuple[Client, Client]]:
    """Couples of the clinic: a client and a linked relative who both consented to joint work."""
    links = (
        RelativeLink.objects.filter(
            client__clinic=clinic, client_consents=True, relative_consents=True, relative__clinic=clinic
        )
        .select_related("client", "relative")
        .order_by("client__code", "relative__code")
    )
    couples: list[tuple[Client, Client]] = []
    used: set[UUID] = set()
    for link in links:
        if link.client_id in used or link.relative_id in used:
            continue
        couples.append((link.client, link.relative))
        used |= {link.client_id, link.relative_id}
        if len(couples) == count:
            break
    return couples


def seed_group_programme(clinics: list[Clinic], *, seed: int | str) -> int:
    """The programme with its roster, meetings, attendance and notes; returns the meetings written (0 if there)."""
    clinic = next((c for c in clinics if c.code == GROUP_CLINIC), None)
    if clinic is None or GroupProgramme.objects.filter(clinic=clinic).exists():
        return 0
    leaders = list(User.objects.filter(clinic=clinic, role=Role.THERAPIST, is_active=True).order_by("username")[:2])
    couples = _couples(clinic, 2)
    if not leaders or len(couples) < 2:
        return 0
    rng = random.Random(f"groups-{seed}-{clinic.code}")  # noqa: S311  (fake attendance, not security)
    actor = Actor.for_user(leaders[0])
    today = timezone.localdate()
    days = []
    for weeks_ago, _invited in MEETINGS:
        day = today - datetime.timedelta(weeks=weeks_ago)
        days.append(day - datetime.timedelta(days=(day.weekday() - 2) % 7))  # that week's Wednesday, or the last one
    start = days[0]
    programme = programme_create(
        actor=actor,
        clinic=clinic,
        data={"name": NAME, "description": DESCRIPTION, "start_date": start},
        leaders=leaders,
    )
    members = {}
    for client, relative in couples:
        for record in (client, relative):
            members[record.pk] = member_add(actor=actor, programme=programme, record=record, joined_on=start)
    client_notes, relative_notes = iter(CLIENT_NOTES), iter(RELATIVE_NOTES)
    for day, (_weeks_ago, invited) in zip(days, MEETINGS, strict=True):
        meeting = meeting_plan(
            actor=actor,
            programme=programme,
            data={"date": day, "start_time": datetime.time(17, 0), "duration_minutes": 90, "invited": invited},
        )
        if day >= today:
            continue
        invited_members = invited_members_of(meeting)
        absent = [Presence.ABSENT_NOTICE, Presence.ABSENT_NO_NOTICE]
        presence = {m.pk: Presence.ATTENDED if rng.random() < 0.85 else rng.choice(absent) for m in invited_members}
        attendance_record(actor=actor, meeting=meeting, presence=presence)
        client_part = next(client_notes, "") if invited != Invited.RELATIVES else ""
        relative_part = next(relative_notes, "") if invited != Invited.CLIENTS else ""
        note = note_save(actor=actor, meeting=meeting, client_part=client_part, relative_part=relative_part, version=0)
        note_sign(actor=actor, note=note)
    return len(MEETINGS)
