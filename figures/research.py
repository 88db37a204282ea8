"""The pseudonymised research file: one row per submitted questionnaire, for a researcher acting on a stated purpose.

A key made for one file is no anonymity: gender, birth years, clinic and target groups together can still
point at a person (GDPR art. 4(5): pseudonymised data is personal data). So only the researcher role makes the
file (kast.access), each export records its purpose and the decision behind it in the access log, and the
combinations of those four that fewer than figures.suppression.LIMIT people share are coarsened step by step
(STEPS), or left out, until every combination in the file is shared by at least that many people (k-anonymity,
k = 5). Each row says in its `coarsened` column what was coarsened for it.
"""

from __future__ import annotations

import datetime
import secrets
from collections import Counter, defaultdict
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import TypedDict, TypeVar

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from assessments.models import Administration, Answer, Item, ItemKind, TimePoint
from clients.models import TargetGroup
from figures import scope, suppression
from figures.reports import Selection, _submitted_in
from kast.actor import Actor
from kast.models import AccessLogEntry, Clinic, Role, User
from kast.services import access_log_record
from sessions.models import HELD, MethodCode, NoteMethod

#: A person's key in k_anonymous (the export's: the client's id).
K = TypeVar("K", bound=Hashable)

#: Columns before the items. No client code, name, id or free text: a subject is a key made for one file.
EXPORT_COLUMNS = [
    "subject",
    "gender",
    "birth_years",
    "clinic",
    "target_groups",
    "coarsened",
    "time_point",
    "instrument",
    "version",
    "submitted_month",
]
#: After the items: per common method (sessions.models.MethodCode, the same code at every clinic), the number of
#: sessions held in the questionnaire's treatment period whose note has it ticked; then the clinics' own methods
#: together ("other": their names mean nothing across clinics, and could name a clinic).
METHOD_COLUMNS = [*(f"method_{code}" for code in MethodCode.values), "method_other"]
#: The columns that together could single a person out, as (gender, birth years, clinic, target groups).
QUASI_IDENTIFIERS = ("gender", "birth_years", "clinic", "target_groups")
#: A value withheld to keep a combination common enough (an unknown value stays empty).
WITHHELD = "*"
#: Each step coarsens the people the step before left in a combination of fewer than LIMIT; the columns it changes,
#: with the birth-year band it gives (5 or 10 years, or None: withheld). Whoever the last step leaves is left out.
STEPS: tuple[tuple[tuple[str, ...], int | None], ...] = (
    ((), 5),
    (("birth_years",), 10),
    (("birth_years", "clinic"), 10),
    (("birth_years", "clinic"), None),
    (("birth_years", "clinic", "target_groups"), None),
)
#: The most a stated purpose and decision reference may hold: with the counts and filters they fit the access
#: log's reason (300 characters).
PURPOSE_MAX_LENGTH = 120
DECISION_MAX_LENGTH = 30


@dataclass(frozen=True)
class Person:
    """What the file says about one person that could, in combination, point at them."""

    gender: str
    birth_year: int | None
    clinic: str
    target_groups: str


@dataclass(frozen=True)
class ResearchFile:
    header: list[str]
    rows: list[list[str]]
    people: int  # in the file
    coarsened: int  # of them, with a coarsened combination
    left_out: int  # people whose combination stayed rarer than LIMIT after every step


def research_selection(
    user: User,
    *,
    start: datetime.date | None = None,
    end: datetime.date | None = None,
    clinic: Clinic | None = None,
    target_group: str = "",
) -> Selection:
    """What a researcher may export: all clinics, or one; a researcher attached to a clinic, that clinic only
    (figures.scope)."""
    clinic = scope.counted_clinic(user, clinic, research=True)
    return Selection(start=start, end=end, clinic=clinic, target_group=target_group)


def birth_years(year: int | None, width: int | None = 5) -> str:
    """Bands of `width` years ("1975-1979", "1970-1979"); WITHHELD without a width; empty when not known."""
    if year is None:
        return ""
    if width is None:
        return WITHHELD
    first = year - year % width
    return f"{first}-{first + width - 1}"


def k_anonymous(people: Mapping[K, Person], k: int = suppression.LIMIT) -> dict[K, tuple[tuple[str, ...], str]]:
    """Each person kept: (gender, birth years, clinic, target groups) as the file shows them, and what was coarsened.

    Deterministic: the same people give the same file. Step by step (STEPS), the people whose combination is shared
    by at least k of those still left keep it; the others go on to the next, coarser step. So every combination in
    the result is shared by at least k people, and a person is coarsened only as far as their rarity needs.
    """
    kept: dict[K, tuple[tuple[str, ...], str]] = {}
    left = dict(people)
    for coarsened, width in STEPS:
        combinations = {
            key: (
                person.gender,
                birth_years(person.birth_year, width),
                WITHHELD if "clinic" in coarsened else person.clinic,
                WITHHELD if "target_groups" in coarsened else person.target_groups,
            )
            for key, person in left.items()
        }
        shared = Counter(combinations.values())
        for key, combination in combinations.items():
            if shared[combination] >= k:
                kept[key] = (combination, "|".join(coarsened))
                del left[key]
    return kept


class _ExportedAnswer(TypedDict):
    """The fields of an answer _export_value reads (the export's .values() row has these and more)."""

    declined: bool
    item__kind: str
    value_bool: bool | None
    value_int: int | None
    value_date: datetime.date | None
    value_choices: list[str]


def _export_value(answer: _ExportedAnswer) -> str:
    if answer["declined"]:
        return "declined"
    kind = answer["item__kind"]
    if kind == ItemKind.YES_NO:
        return "" if answer["value_bool"] is None else str(int(answer["value_bool"]))
    if kind == ItemKind.LAST_OCCURRENCE:
        # The month is enough to measure time since; an exact date adds to recognisability.
        return answer["value_date"].strftime("%Y-%m") if answer["value_date"] else ""
    if kind in (ItemKind.SINGLE, ItemKind.MULTIPLE):
        return "|".join(answer["value_choices"])
    return "" if answer["value_int"] is None else str(answer["value_int"])


def _subject_keys() -> defaultdict[object, str]:
    """A fresh random key per client, the same for the same client within this one file only."""
    used: set[str] = set()

    def new_key() -> str:
        key = secrets.token_hex(4)
        while key in used:
            key = secrets.token_hex(4)
        used.add(key)
        return key

    return defaultdict(new_key)


def _target_groups(groups: list[str]) -> str:
    """In the fixed order of the list, so the same groups always read the same."""
    order = {value: index for index, value in enumerate(TargetGroup.values)}
    return "|".join(sorted(groups, key=lambda group: order.get(group, len(order))))


@transaction.atomic
def research_file(*, actor: Actor, selection: Selection, purpose: str, decision: str) -> ResearchFile:
    """The submitted questionnaires in the selection, pseudonymised and k-anonymous; five queries whatever the size.

    The one write here is the access-log entry ("exported"): the purpose, the decision, and the counts of rows,
    people, coarsened and left out. No research file leaves the system unrecorded. Free-text items are left out
    altogether, whatever their code.
    """
    if actor.user is None or actor.user.role != Role.RESEARCHER:
        raise PermissionDenied  # the role table's second lock
    administrations = list(
        Administration.objects.filter(_submitted_in(selection)).values(
            "pk",
            "client_id",
            "client__birth_year",
            "client__gender",
            "client__target_groups",
            "client__clinic__code",
            "episode_id",
            "time_point",
            "version__instrument__code",
            "version__number",
            "submitted_at",
        )
    )
    people = {
        a["client_id"]: Person(
            gender=a["client__gender"],
            birth_year=a["client__birth_year"],
            clinic=a["client__clinic__code"],
            target_groups=_target_groups(a["client__target_groups"]),
        )
        for a in administrations
    }
    kept = k_anonymous(people)
    administrations = [a for a in administrations if a["client_id"] in kept]
    codes = list(
        dict.fromkeys(
            Item.objects.filter(version__published_at__isnull=False)
            .exclude(kind=ItemKind.TEXT)
            .order_by("version__published_at", "version__instrument_id", "version__number", "position")
            .values_list("code", flat=True)
        )
    )
    answers: dict[int, dict[str, str]] = defaultdict(dict)
    for answer in (
        Answer.objects.filter(administration__in=[a["pk"] for a in administrations])
        .exclude(item__kind=ItemKind.TEXT)
        .values(
            "administration_id",
            "item__code",
            "item__kind",
            "declined",
            "value_bool",
            "value_int",
            "value_date",
            "value_choices",
        )
    ):
        answers[answer["administration_id"]][answer["item__code"]] = _export_value(answer)
    methods = _methods_per_period({a["episode_id"] for a in administrations})
    subjects = _subject_keys()
    point_order = {point: index for index, point in enumerate(TimePoint.values)}
    time_point = EXPORT_COLUMNS.index("time_point")
    submitted = EXPORT_COLUMNS.index("submitted_month")
    rows = [
        [
            subjects[a["client_id"]],
            *kept[a["client_id"]][0],
            kept[a["client_id"]][1],
            a["time_point"],
            a["version__instrument__code"],
            str(a["version__number"]),
            timezone.localtime(a["submitted_at"]).strftime("%Y-%m"),
            *(answers[a["pk"]].get(code, "") for code in codes),
            *(str(methods[a["episode_id"]][column]) for column in METHOD_COLUMNS),
        ]
        for a in administrations
    ]
    # Sorted by the random key, so the order of rows tells nothing about when a client was registered.
    rows.sort(key=lambda row: (row[0], point_order[row[time_point]], row[submitted]))
    export = ResearchFile(
        header=[*EXPORT_COLUMNS, *codes, *METHOD_COLUMNS],
        rows=rows,
        people=len(kept),
        coarsened=sum(1 for _combination, coarsened in kept.values() if coarsened),
        left_out=len(people) - len(kept),
    )
    access_log_record(
        actor=actor,
        action=AccessLogEntry.Action.EXPORT,
        object_type="assessments.research_export",
        reason=export_reason(selection, export, purpose=purpose, decision=decision),
    )
    return export


def _methods_per_period(episodes: set[int]) -> defaultdict[int, Counter[str]]:
    """Per treatment period, the sessions held (not marked as wrongly recorded) that used each method, by its
    METHOD_COLUMNS column. Counts from the notes' ticked methods: never a word of the note."""
    per_period: defaultdict[int, Counter[str]] = defaultdict(Counter)
    for row in (
        NoteMethod.objects.filter(
            note__session__episode__in=episodes,
            note__session__voided_at__isnull=True,
            note__session__attendance__in=HELD,
        )
        .values("note__session__episode_id", "method__code")
        .annotate(n=Count("note__session", distinct=True))
    ):
        column = f"method_{row['method__code'] or 'other'}"
        per_period[row["note__session__episode_id"]][column] += row["n"]
    return per_period


def export_reason(selection: Selection, export: ResearchFile, *, purpose: str, decision: str) -> str:
    """The access log's record of one export: counts, filters, the decision and the purpose (last, as stated)."""
    parts = [
        f"rows={len(export.rows)}",
        f"people={export.people}",
        f"coarsened={export.coarsened}",
        f"left_out={export.left_out}",
    ]
    if selection.start:
        parts.append(f"from={selection.start:%Y-%m-%d}")
    if selection.end:
        parts.append(f"to={selection.end:%Y-%m-%d}")
    parts.append(f"clinic={selection.clinic.code if selection.clinic else 'all'}")
    if selection.target_group:
        parts.append(f"target_group={selection.target_group}")
    parts += [f"decision={decision[:DECISION_MAX_LENGTH]}", f"purpose={purpose[:PURPOSE_MAX_LENGTH]}"]
    return " ".join(parts)
