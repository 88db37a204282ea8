"""The persons treated in a period, counted: per target group, new, continuing and returning; their age band, gender
identity and education. One SQL aggregate over the records, counts only: never a name, a code or a word of content.

Who counts (the evaluation's "36 unique persons in 2019"): a record with at least one session held in the period,
on the record itself or as a participant of a couple or group session (sessions.SessionParticipant); sessions
marked as wrongly recorded do not count. Clients' records are counted per target group and make up the profile; a
relative's own record (support, not treatment) has a row of its own and is not in the clients' figures.

Each person is in exactly one of three, so that the three add up to the persons treated:
- new: no session held before the period (first treatment in the period, whenever the first contact was);
- returning: treated before, and in the period had a session held in a later treatment period opened in the
  period. A returning former client opens a new period on the same record (clients.services.client_reopen), so a
  period numbered 2 or more, opened in the period, is the fact of coming back;
- continuing: the rest, treated before and still in the same period, or in a later one opened before the period.
A person new in the period who also ends and comes back within it counts as new.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import Count, Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from clients.models import Client, Education, Gender, RecordKind, TargetGroup
from figures import suppression
from sessions.models import HELD, SessionParticipant, TherapySession

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

    from figures.statistics import Scope

#: The clients' target groups counted (a relative's record is counted on a row of its own).
CLIENT_GROUPS = [group for group in TargetGroup.values if group != TargetGroup.RELATIVE]
#: The rows of the persons table: all clients, each client target group, relatives' own records.
PERSON_ROWS = ["all", *CLIENT_GROUPS, "relatives"]
#: How each person treated came: they add up to the persons treated.
SPLIT = ["new", "continuing", "returning"]

#: Age bands by the age reached in the year the period ends: (key, label, youngest, oldest).
AGE_BANDS: list[tuple[str, StrOrPromise, int | None, int | None]] = [
    ("under_25", _("Under 25"), None, 24),
    ("25_34", _("25–34"), 25, 34),
    ("35_44", _("35–44"), 35, 44),
    ("45_54", _("45–54"), 45, 54),
    ("55_64", _("55–64"), 55, 64),
    ("65_over", _("65 or older"), 65, None),
    ("not_stated", _("Birth year not stated"), None, None),
]

#: The profile's dimensions: (key, the keys and labels of its rows). Each adds up to the clients treated.
PROFILE: list[tuple[str, list[tuple[str, StrOrPromise]]]] = [
    ("age", [(key, label) for key, label, *_ages in AGE_BANDS]),
    ("gender", list(Gender.choices)),
    ("education", list(Education.choices)),
]


def key(row: str, column: str) -> str:
    """A figure's key (figures.suppression): persons.<row>.<n|new|continuing|returning|value>."""
    return f"persons.{row}.{column}"


#: The clients treated in the period: the total of every profile dimension.
TOTAL_KEY = key("all", "n")


def _held(*, dates: dict[str, object], episode: dict[str, object] | None = None) -> tuple[Exists, Exists]:
    """Whether the record had a session held on these dates (lookups on the session's date), on its own record and
    as a participant; `episode`: lookups on the treatment period the session counts in for this record."""
    on_episode = {f"episode__{lookup}": value for lookup, value in (episode or {}).items()}
    own = TherapySession.objects.in_record().filter(
        client=OuterRef("pk"),
        attendance__in=HELD,
        **{f"date__{lookup}": value for lookup, value in dates.items()},
        **on_episode,
    )
    joined = SessionParticipant.objects.filter(
        client=OuterRef("pk"),
        session__voided_at__isnull=True,
        session__attendance__in=HELD,
        **{f"session__date__{lookup}": value for lookup, value in dates.items()},
        **on_episode,
    )
    return Exists(own), Exists(joined)


def _birth_years(year: int, youngest: int | None, oldest: int | None) -> Q:
    """The birth years of those who reach an age from `youngest` to `oldest` in `year`."""
    q = Q(birth_year__isnull=False)
    if youngest is not None:
        q &= Q(birth_year__lte=year - youngest)
    if oldest is not None:
        q &= Q(birth_year__gte=year - oldest)
    return q


def person_counts(scope: Scope) -> dict[str, int]:
    """The period's persons treated, keyed as key(row, column) for the rows of PERSON_ROWS and the columns "n" and
    SPLIT, and the clients' profile as key(dimension, value). One query, whatever the data size.

    A therapist's own figures count the records they are responsible for (as the rest of their dashboard)."""
    start, end = scope.start, scope.end
    treated_own, treated_joined = _held(dates={"range": (start, end)})
    before_own, before_joined = _held(dates={"lt": start})
    back_own, back_joined = _held(
        dates={"range": (start, end)}, episode={"number__gt": 1, "opened_on__range": (start, end)}
    )
    treated = Q(treated_own=True) | Q(treated_joined=True)
    before = Q(before_own=True) | Q(before_joined=True)
    back = Q(back_own=True) | Q(back_joined=True)
    split = {"new": ~before, "continuing": before & ~back, "returning": before & back}

    counts: dict[str, Any] = {}
    for row in PERSON_ROWS:
        if row == "relatives":
            in_row = Q(kind=RecordKind.RELATIVE)
        elif row == "all":
            in_row = Q(kind=RecordKind.CLIENT)
        else:
            in_row = Q(kind=RecordKind.CLIENT, target_groups__contains=[row])
        counts[key(row, "n")] = Count("pk", filter=in_row)
        for column, condition in split.items():
            counts[key(row, column)] = Count("pk", filter=in_row & condition)
    clients = Q(kind=RecordKind.CLIENT)
    for band, _label, youngest, oldest in AGE_BANDS:
        ages = Q(birth_year__isnull=True) if band == "not_stated" else _birth_years(end.year, youngest, oldest)
        counts[key("age", band)] = Count("pk", filter=clients & ages)
    for value in Gender.values:
        counts[key("gender", value)] = Count("pk", filter=clients & Q(gender=value))
    for value in Education.values:
        counts[key("education", value)] = Count("pk", filter=clients & Q(education=value))
    result: dict[str, int] = (
        Client.objects.filter(scope.clients(kind=None))
        .alias(
            treated_own=treated_own,
            treated_joined=treated_joined,
            before_own=before_own,
            before_joined=before_joined,
            back_own=back_own,
            back_joined=back_joined,
        )
        .filter(treated)
        .aggregate(**counts)
    )
    return result


def relate_persons(figures: suppression.Figures) -> None:
    """The sums a reader can make: each row's new, continuing and returning add up to its persons; a target group's
    figures are some of all clients' (a client may be in several groups, so the groups are no sum); each profile
    dimension adds up to the clients treated."""
    for row in PERSON_ROWS:
        figures.relate(key(row, "n"), [key(row, column) for column in SPLIT])
    for group in CLIENT_GROUPS:
        for column in ["n", *SPLIT]:
            figures.relate(key("all", column), [key(group, column)], rest=True)
    for dimension, rows in PROFILE:
        figures.relate(TOTAL_KEY, [key(dimension, value) for value, _label in rows])

