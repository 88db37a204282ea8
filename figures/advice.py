"""Advice contacts without a record (app `advice`), counted: by channel, who made contact, target group and outcome.

Counts only, from one SQL aggregate: the remark is never read, and no contact is ever listed one by one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.db.models import Count, Q

from advice.models import AdviceContact, Channel, Outcome, Who
from clients.models import TargetGroup
from figures import suppression

if TYPE_CHECKING:
    from figures.statistics import Scope

#: The dimensions of the advice table, each a sum of the period's contacts: (key, the choices).
DIMENSIONS: list[tuple[str, type[models.TextChoices]]] = [
    ("channel", Channel),
    ("who", Who),
    ("target_group", TargetGroup),
    ("outcome", Outcome),
]


def advice_counts(scope: Scope) -> dict[str, int]:
    """The period's advice contacts: "total" and "<dimension>_<value>" for each DIMENSIONS choice. One query.

    A therapist's own figures count the contacts they logged."""
    contacts = AdviceContact.objects.filter(date__range=(scope.start, scope.end))
    if scope.clinic is not None:
        contacts = contacts.filter(clinic=scope.clinic)
    if scope.therapist is not None:
        contacts = contacts.filter(logged_by=scope.therapist)
    counts: dict[str, Count] = {"total": Count("pk")}
    for dimension, choices in DIMENSIONS:
        for value in choices.values:
            counts[f"{dimension}_{value}"] = Count("pk", filter=Q(**{dimension: value}))
    result: dict[str, int] = contacts.aggregate(**counts)
    return result


def advice_key(dimension: str, value: str) -> str:
    return f"advice.{dimension}.{value}"


#: The key of the period's advice contacts in the dashboard's figures (figures.suppression).
ADVICE_TOTAL_KEY = "advice.total"


def relate_advice(figures: suppression.Figures) -> None:
    """Each dimension's counts add up to the period's contacts: hiding one small count hides another of its sum."""
    for dimension, choices in DIMENSIONS:
        figures.relate(ADVICE_TOTAL_KEY, [advice_key(dimension, value) for value in choices.values])
