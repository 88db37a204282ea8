"""Reads of the records office: which records retention is due to remove, and a record's complete extract.

Retention is decided in SQL, one query for every record (`records_due`); the extract for the right
of access reads one record in a fixed number of queries, however long its history.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypedDict
from zoneinfo import ZoneInfo

from django.apps import apps
from django.conf import settings
from django.db.models import (
    Count,
    DateField,
    Exists,
    F,
    Max,
    Min,
    OuterRef,
    Prefetch,
    QuerySet,
    Subquery,
)
from django.db.models.expressions import Combinable
from django.db.models.functions import Greatest, TruncDate
from django.db.models.manager import Manager

from archive.history import PartSummary, history_summary
from archive.models import RetentionHold
from assessments.models import Administration, Answer, Item
from assessments.selectors import AnswersOverTime, answers_over_time, in_words, value_of
from assessments.services import DECLINED
from clients.models import (
    AssessmentConversation,
    Client,
    DeepInterviewSection,
    Episode,
    FamilyMember,
    FamilyRelationship,
    PartAddendum,
    StatusChange,
    TreatmentGoal,
)
from clients.selectors import (
    EnteredInError,
    SectionRow,
    assessments_of,
    family_entered_in_error,
    family_members,
    family_relationships,
    interview_sections,
    record_goals,
)
from groups.models import GroupMember
from groups.selectors import RecordMeeting, record_group_meetings
from kast.models import AccessLogEntry, Role, User
from relatives import selectors as relative_selectors
from relatives.models import ChildPerspective, Goal, ReactionReview, Relative, RelativeLink
from sessions.models import Addendum, FollowUp, SessionParticipant, TherapySession

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

#: SoL 12 kap. 1 §: a record is kept five years after its last entry.
RETENTION_YEARS = 5


def retention_cutoff(today: datetime.date) -> datetime.date:
    """Records whose last entry is before this date are due for removal on `today`.

    A record whose last entry falls in year Y is removed from 1 January of year Y + 6: by then five
    full calendar years have passed since the entry (however late in Y it was made), and the law's
    "by the end of the following calendar year" is met with the rest of year Y + 6 to spare.
    """
    return datetime.date(today.year - RETENTION_YEARS, 1, 1)


def _day(field_name: str) -> TruncDate:
    """A timestamp's date in the clinics' time zone: an entry at 00:10 on New Year's Day belongs to the new year."""
    return TruncDate(field_name, tzinfo=ZoneInfo(settings.TIME_ZONE))


def _latest(queryset: Manager[Any], owner: str, *dates: Combinable) -> Subquery:
    """The latest of `dates` over the rows of `queryset` that belong to the outer record through `owner`."""
    latest = Greatest(*[Max(d) for d in dates]) if len(dates) > 1 else Max(dates[0])
    rows = queryset.filter(**{owner: OuterRef("pk")}).order_by().values(owner).annotate(latest=latest)
    return Subquery(rows.values("latest"), output_field=DateField())


def last_entry() -> Greatest:
    """The date of a record's last entry: the latest date of anything written on it, or that it records.

    Counted: first contact, registration and the next planned contact; treatment periods opened and
    closed; status changes; the assessment conversation (held, last saved, signed) and deep-interview sections
    (last saved, signed), and their addenda; family-map entries marked as entered in error; sessions logged on the record and couple or group sessions it took part in (the date,
    when it was logged, when it was marked as wrongly recorded); their notes (last saved, signed) and
    addenda; questionnaires (started, submitted); follow-ups (due, done); a relative's reaction reviews,
    goals (set, status changed) and links to clients (made, removed, from either side); the child
    perspective (considered, last saved); places in group programmes (joined, left, meetings attended or
    missed). Not counted: reads (the access log), the family map otherwise (it
    has no dates), and the change history, which a bulk change or a migration could move for every record.
    """
    # A session, its note and the note's addenda in one subquery (left joins): one pass over the record's sessions.
    notes = ("note__updated_at", "note__signed_at", "note__addenda__created_at")
    return Greatest(
        F("first_contact_date"),
        _day("created_at"),
        F("next_contact_date"),
        _latest(Episode.objects, "client", F("opened_on"), F("closed_on")),
        _latest(StatusChange.objects, "client", _day("at")),
        _latest(AssessmentConversation.objects, "episode__client", F("held_on"), _day("updated_at"), _day("signed_at")),
        _latest(DeepInterviewSection.objects, "client", _day("updated_at"), _day("signed_at")),
        _latest(PartAddendum.objects, "conversation__episode__client", _day("created_at")),
        _latest(PartAddendum.objects, "section__client", _day("created_at")),
        _latest(FamilyMember.objects, "client", _day("entered_in_error_at")),
        _latest(FamilyRelationship.objects, "client", _day("entered_in_error_at")),
        _latest(
            TherapySession.objects,
            "client",
            F("date"),
            _day("created_at"),
            _day("voided_at"),
            *[_day(name) for name in notes],
        ),
        _latest(SessionParticipant.objects, "client", F("session__date"), *[_day(f"session__{n}") for n in notes]),
        # A place in a group programme: joined, left, and the meetings whose attendance was recorded for it.
        _latest(
            GroupMember.objects,
            "record",
            F("joined_on"),
            F("left_on"),
            F("attendances__meeting__date"),
            _day("attendances__recorded_at"),
        ),
        _latest(Administration.objects, "client", _day("started_at"), _day("submitted_at")),
        _latest(FollowUp.objects, "client", F("due_on"), F("done_on")),
        _latest(ReactionReview.objects, "relative", F("reviewed_on")),
        _latest(Goal.objects, "relative", F("set_on"), F("status_on")),
        _latest(ChildPerspective.objects, "record", F("considered_on"), _day("updated_at")),
        _latest(RelativeLink.objects, "relative", _day("created_at"), _day("removed_at")),
        _latest(RelativeLink.objects, "client", _day("created_at"), _day("removed_at")),
        output_field=DateField(),
    )


@dataclass(frozen=True)
class RecordDue:
    id: object
    code: str
    kind: str
    clinic_id: int
    last_entry: datetime.date
    hold: RetentionHold | None

    @property
    def held(self) -> bool:
        return self.hold is not None


class LastEntry(TypedDict):
    last_entry: datetime.date
    held: bool


def with_last_entry(records: QuerySet[Client]) -> QuerySet[WithAnnotations[Client, LastEntry]]:
    return records.annotate(last_entry=last_entry(), held=Exists(RetentionHold.objects.filter(client=OuterRef("pk"))))


def records_due(today: datetime.date) -> list[RecordDue]:
    """Every record whose last entry is older than the retention time, held ones included (marked), in one query."""
    due = list(
        with_last_entry(Client.objects.all())
        .filter(last_entry__lt=retention_cutoff(today))
        .values("id", "code", "kind", "clinic_id", "last_entry", "held")
        .order_by("clinic_id", "code")
    )
    held = [row["id"] for row in due if row["held"]]
    holds = {h.client_id: h for h in RetentionHold.objects.filter(client__in=held).select_related("placed_by")}
    return [
        RecordDue(row["id"], row["code"], row["kind"], row["clinic_id"], row["last_entry"], holds.get(row["id"]))
        for row in due
    ]


# The right of access (GDPR art. 15): everything held about one record.

#: The access-log reason that marks a print as the extract handed to the person.
RIGHT_OF_ACCESS = "right_of_access"


@dataclass(frozen=True)
class AnswerLine:
    item: Item
    shown: str
    declined: bool


@dataclass(frozen=True)
class Questionnaire:
    administration: Administration
    answers: list[AnswerLine]


@dataclass(frozen=True)
class LogLine:
    """Reads and writes of one kind by one person on one day, with how many and from when to when."""

    day: datetime.date
    first: datetime.datetime
    last: datetime.datetime
    who: str
    role: str
    action: str
    what: str
    times: int


@dataclass
class Extract:
    client: Client
    co_therapists: list[User] = field(default_factory=list)
    hold: RetentionHold | None = None
    episodes: list[Episode] = field(default_factory=list)
    history: list[StatusChange] = field(default_factory=list)
    assessments: list[AssessmentConversation] = field(default_factory=list)
    treatment_goals: list[TreatmentGoal] = field(default_factory=list)
    sections: list[SectionRow] = field(default_factory=list)
    members: list[FamilyMember] = field(default_factory=list)
    relationships: list[FamilyRelationship] = field(default_factory=list)
    entered_in_error: EnteredInError | None = None
    sessions: list[TherapySession] = field(default_factory=list)
    voided: int = 0
    group_meetings: list[RecordMeeting] = field(default_factory=list)
    follow_ups: list[FollowUp] = field(default_factory=list)
    questionnaires: list[Questionnaire] = field(default_factory=list)
    over_time: AnswersOverTime | None = None
    profile: Relative | None = None
    links: list[RelativeLink] = field(default_factory=list)
    reviews: list[ReactionReview] = field(default_factory=list)
    goals: list[Goal] = field(default_factory=list)
    child_perspective: ChildPerspective | None = None
    access_log: list[LogLine] = field(default_factory=list)
    changes: list[PartSummary] = field(default_factory=list)


def right_of_access_extract(client: Client) -> Extract:
    """The record as the person may ask for it: all of it, and nobody else's.

    Couple and group sessions the person attended are in it with their joint note; other people's
    records are not (other participants and linked people are not named, not even by code). Sessions
    marked as wrongly recorded are left out: they are about someone else; only their number is given.
    A fixed number of queries, whatever the size of the record.
    """
    extract = Extract(client=client)
    extract.co_therapists = list(client.co_therapists.all())
    extract.hold = RetentionHold.objects.filter(client=client).first()
    extract.episodes = list(client.episodes.order_by("number"))
    extract.history = list(client.status_changes.select_related("by", "episode", "referred_to").order_by("at", "id"))
    # Each with whether and by whom it is signed, and its addenda.
    extract.assessments = list(assessments_of(client).order_by("episode__number"))
    # The client's goals, each with its follow-ups (kept, changed, reached).
    extract.treatment_goals = record_goals(client)
    extract.sections = interview_sections(client, addenda=True)
    # The family map as it stands, and what was taken out of it as entered in error (kept, with the reason).
    extract.members = family_members(client)
    extract.relationships = family_relationships(client)
    extract.entered_in_error = family_entered_in_error(client)
    extract.sessions = _sessions(client)
    extract.voided = TherapySession.objects.filter(client=client, voided_at__isnull=False).count()
    # Group meetings attended, with the part of the note for the person's side of the wall only.
    extract.group_meetings = record_group_meetings(client)
    extract.follow_ups = list(client.follow_ups.select_related("episode").order_by("due_on"))
    extract.questionnaires = _questionnaires(client)
    # A relative's record has no questionnaires: nothing to set side by side.
    extract.over_time = None if client.is_relative else answers_over_time(client)
    related = ("relative__relative_profile", "removed_by")
    if client.is_relative:
        extract.profile = Relative.objects.filter(record=client).first()
        extract.links = list(
            RelativeLink.objects.filter(relative=client).select_related(*related).order_by("created_at")
        )
        extract.reviews = relative_selectors.reaction_reviews(client)
        extract.goals = relative_selectors.goals(client)
    else:
        # The wall: a link the relative has not consented to is not the client's to read.
        extract.links = list(
            relative_selectors.client_side_links(client).select_related(*related).order_by("created_at")
        )
    extract.child_perspective = relative_selectors.child_perspective(client)
    extract.access_log = access_log_lines(client)
    extract.changes = history_summary(client)
    return extract


def _sessions(client: Client) -> list[TherapySession]:
    own = TherapySession.objects.filter(client=client).values("pk")
    joined = SessionParticipant.objects.filter(client=client).values("session_id")
    return list(
        TherapySession.objects.filter(pk__in=own.union(joined, all=True))
        .in_record()
        .select_related("episode", "note", "note__author")
        .prefetch_related(
            "therapists",
            "note__themes",
            "note__methods",
            Prefetch("note__addenda", queryset=Addendum.objects.select_related("author").order_by("created_at", "id")),
        )
        .order_by("date", "start_time", "pk")
    )


def _questionnaires(client: Client) -> list[Questionnaire]:
    """Every questionnaire with its answers in words, in the form's order (an item left unanswered holds nothing)."""
    administrations = list(
        Administration.objects.filter(client=client)
        .select_related("episode", "version__instrument", "entered_in_error_by")
        .order_by("episode__number", "started_at")
    )
    answers: dict[int, list[AnswerLine]] = {}
    # One entered in error is listed with its mark and reason, but not its answers: like a session marked as wrongly
    # recorded, they may be another person's (given to the wrong client), and an extract must not disclose them.
    for answer in (
        Answer.objects.filter(administration__in=[a for a in administrations if not a.is_entered_in_error])
        .select_related("item")
        .order_by("item__position")
    ):
        answers.setdefault(answer.administration_id, []).append(_answer_line(answer.item, answer))
    return [Questionnaire(a, answers.get(a.pk, [])) for a in administrations]


def _answer_line(item: Item, answer: Answer) -> AnswerLine:
    """As assessments.selectors.answer_rows words it (which reads per questionnaire; this reads per record)."""
    return AnswerLine(item, in_words(item, DECLINED if answer.declined else value_of(answer)), answer.declined)


def access_log_lines(client: Client) -> list[LogLine]:
    """Who read or changed the record, or was refused it: per day, person, action and kind of entry, oldest first.

    Only the log's rows about this record (by its id); never the address or the IP.
    """
    rows = (
        AccessLogEntry.objects.filter(client_id=client.pk)
        .annotate(day=_day("at"))
        .values("day", "user__username", "user__first_name", "user__last_name", "role", "action", "object_type")
        .annotate(first=Min("at"), last=Max("at"), times=Count("id"))
        .order_by("day", "first")
    )
    roles, actions = dict(Role.choices), dict(AccessLogEntry.Action.choices)
    return [
        LogLine(
            day=row["day"],
            first=row["first"],
            last=row["last"],
            who=f"{row['user__first_name']} {row['user__last_name']}".strip() or row["user__username"],
            role=str(roles.get(row["role"], row["role"])),
            action=str(actions.get(row["action"], row["action"])),
            what=_record_type(row["object_type"]),
            times=row["times"],
        )
        for row in rows
    ]


def _record_type(label: str) -> str:
    """ "clients.client" -> "client", in the reader's language; a type no longer known stays as stored."""
    try:
        return str(apps.get_model(label)._meta.verbose_name)
    except (LookupError, ValueError):
        return label
