"""The group tests' data: two couples and Göteborg's programme for them (the 2018 pilot's five meetings)."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from groups import services
from groups.models import Invited
from kast.actor import Actor
from tests.factories import ClientFactory, link, relative_record

TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)


@pytest.fixture
def couples(therapist):
    """Two couples: in each a client and the client's partner, who has a record of their own (kind "relative")."""
    first = ClientFactory(responsible_therapist=therapist, code="GBG-2026-0101")
    second = ClientFactory(responsible_therapist=therapist, code="GBG-2026-0102")
    first_partner = relative_record(therapist, code="GBG-2026-0201")
    second_partner = relative_record(therapist, code="GBG-2026-0202")
    link(first_partner, first)
    link(second_partner, second)
    return {"clients": [first, second], "relatives": [first_partner, second_partner]}


@pytest.fixture
def programme(therapist, couples):
    """ "Gruppsamtal för par" with both couples and the pilot's five meetings: two with everyone, three relatives only."""
    actor = Actor.for_user(therapist)
    programme = services.programme_create(
        actor=actor,
        clinic=therapist.clinic,
        data={
            "name": "Gruppsamtal för par",
            "description": "Två parsamtal, tre samtal med anhöriga.",
            "start_date": TODAY - 40 * DAY,
        },
        leaders=[therapist],
    )
    for record in couples["clients"] + couples["relatives"]:
        services.member_add(actor=actor, programme=programme, record=record, joined_on=TODAY - 40 * DAY)
    for days_ago, invited in (
        (35, Invited.ALL),
        (28, Invited.ALL),
        (21, Invited.RELATIVES),
        (14, Invited.RELATIVES),
        (7, Invited.RELATIVES),
    ):
        services.meeting_plan(
            actor=actor,
            programme=programme,
            data={
                "date": TODAY - days_ago * DAY,
                "start_time": datetime.time(17, 0),
                "duration_minutes": 90,
                "invited": invited,
            },
        )
    return programme
