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

from typing import TYPE_CHECKING

from django.db.models import Case, Count, Q, Value, When
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


def _treated(scope: Scope, *, dates: dict[str, object], episode: dict[str, object] | None = None) -> Q:
    """The records with a session held on these dates (lookups on the session's date), on the record itself or as a
    participant; `episode`: lookups on the treatment period the session counts in for that record.

    Two semi-joins (IN, which PostgreSQL hashes once), not a lookup per record: cheaper, and estimated so, which
    keeps the query under PostgreSQL's JIT threshold (correlated EXISTS were estimated at 30 times the cost, and
    compiling cost more than the query: `make bench`'s data, a year of one clinic, 2 s against 0.25 s)."""
    on_episode = {f"episode__{lookup}": value for lookup, value in (episode or {}).items()}
    own = TherapySession.objects.in_record().filter(
        attendance__in=HELD, **{f"date__{lookup}": value for lookup, value in dates.items()}, **on_episode
    )
    joined = SessionParticipant.objects.filter(
        session__voided_at__isnull=True,
        session__attendance__in=HELD,
        **{f"session__date__{lookup}": value for lookup, value in dates.items()},
        **on_episode,
    )
    if scope.clinic is not None:
        # A session is of its record's clinic, as are its participants (sessions.services): the clinic's index.
        own = own.filter(clinic=scope.clinic)
        joined = joined.filter(session__clinic=scope.clinic)
    return Q(pk__in=own.values("client_id")) | Q(pk__in=joined.values("client_id"))


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
    treated = _treated(scope, dates={"range": (start, end)})
    before = _treated(scope, dates={"lt": start})
    back = _treated(scope, dates={"range": (start, end)}, episode={"number__gt": 1, "opened_on__range": (start, end)})
    # Each person's way in and age band once, grouped with what the tables count by: a few rows per combination
    # of them, however many persons (the lookups would run once per count if each count asked them itself).
    came = Case(When(~before, then=Value("new")), When(back, then=Value("returning")), default=Value("continuing"))
    band = Case(
        *[
            When(_birth_years(end.year, youngest, oldest), then=Value(name))
            for name, _label, youngest, oldest in AGE_BANDS
            if name != "not_stated"
        ],
        default=Value("not_stated"),
    )
    rows = (
        Client.objects.filter(scope.clients(kind=None), treated)
        .annotate(came=came, band=band)
        .values("came", "band", "kind", "target_groups", "gender", "education")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts = {key(row, column): 0 for row in PERSON_ROWS for column in ["n", *SPLIT]}
    counts |= {key(dimension, value): 0 for dimension, values in PROFILE for value, _label in values}

    def add(figure: str, n: int) -> None:
        if figure in counts:  # a value no longer offered is in no row of the tables
            counts[figure] += n

    for found in rows:
        n = found["n"]
        if found["kind"] == RecordKind.RELATIVE:
            counted = ["relatives"]
        else:
            counted = ["all", *[group for group in CLIENT_GROUPS if group in found["target_groups"]]]
            add(key("age", found["band"]), n)
            add(key("gender", found["gender"]), n)
            add(key("education", found["education"]), n)
        for row in counted:
            add(key(row, "n"), n)
            add(key(row, found["came"]), n)
    return counts


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
