"""A fake case as the generators plan it: the status steps of each treatment period, before any row is written.

`demo.clients` makes the cases and hands them to `demo.sessions` and `demo.assessments`, which plan on them. Their
shape lives here, below all three, so the generators import one way only: clients, then assessments, then sessions,
then this module (relatives stand on clients).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils import timezone

from clients.models import CaseStatus, Client

S = CaseStatus

#: Leaving treatment, or never entering it, closes the treatment period (as clients.services does).
CLOSES_EPISODE = (S.ENDED, S.REFERRED, S.CLOSED)


@dataclass
class Step:
    to_status: str
    at: datetime.datetime
    reason: str = ""
    destination: str = ""


@dataclass
class Period:
    steps: list[Step]

    @property
    def opened_on(self) -> datetime.date:
        return timezone.localdate(self.steps[0].at)

    @property
    def closed_on(self) -> datetime.date | None:
        closing = [step for step in self.steps if step.to_status in CLOSES_EPISODE]
        return timezone.localdate(closing[0].at) if closing else None


@dataclass
class Case:
    client: Client
    periods: list[Period]
