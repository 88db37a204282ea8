"""Reads of client records. Every one goes through Client.objects.visible_to and is access-logged."""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db.models import F, Prefetch, Q, QuerySet
from django.http import Http404, QueryDict
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from clients import genogram
from clients.models import (
    FINISHED,
    INTERVIEW_GUIDANCE,
    REACHED_OUTCOMES,
    SESSION_OUTCOMES,
    AssessmentConversation,
    Client,
    DeepInterviewSection,
    FamilyMember,
    FamilyRelationship,
    GoalMoment,
    GoalOutcome,
    GoalReview,
    InterviewSection,
    PartAddendum,
    StatusChange,
    TreatmentGoal,
)
from kast.access import AuthenticatedHttpRequest
from kast.models import AccessLogEntry, User
from kast.services import access_log_record
from sessions.models import HELD, FollowUp, SessionKind, TherapySession

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

    from clients.forms import GoalReviewForm


def caseload_for(user: User) -> QuerySet[Client]:
    """The therapist's caseload, next planned contact first (clients with none last)."""
    return (
        Client.objects.visible_to(user)
        .select_related("responsible_therapist")
        .order_by(F("next_contact_date").asc(nulls_last=True), "code")
    )


def caseload_search(user: User, query: str) -> QuerySet[Client]:
    """By code or alias; protected identities are only searched by alias for their responsible therapist."""
    query = query.strip()
    by_alias = Q(alias__icontains=query) & (Q(protected_identity=False) | Q(responsible_therapist=user))
    return caseload_for(user).filter(Q(code__icontains=query) | by_alias)


def records_by_code(clinic_id: int, codes: list[str]) -> dict[str, Client]:
    """The clinic's records named by code, to refer to them (a link, a joint session), not to read them.

    Deliberately outside the gate: a therapist may name a partner who is on a colleague's caseload.
    Only the id, code, kind and clinic are loaded, and nothing of them is shown but the code.
    """
    if not codes:
        return {}
    records = Client.objects.filter(clinic_id=clinic_id, code__in=codes).only("id", "code", "kind", "clinic_id")
    return {record.code: record for record in records}


def get_client_for(
    request: AuthenticatedHttpRequest,
    client_id: uuid.UUID,
    *,
    action: str | None = AccessLogEntry.Action.VIEW,
    kind: str | None = None,
) -> Client:
    """The client, if the user may see it; writes the access-log entry either way.

    Not visible and not existing look the same (404), so ids cannot be probed. `action=None`
    leaves the success entry to the caller (which knows better what is being read). `kind`
    narrows to clients' or to relatives' records.
    """
    visible = Client.objects.visible_to(request.user)
    if kind is not None:
        visible = visible.filter(kind=kind)
    client = visible.filter(pk=client_id).select_related("clinic", "responsible_therapist").first()
    if client is None:
        access_log_record(
            actor=request.actor, action=AccessLogEntry.Action.DENIED, client_id=client_id, object_type="clients.client"
        )
        raise Http404
    if action is not None:
        access_log_record(actor=request.actor, action=action, obj=client)
    return client


class IdentityProtected(PermissionDenied):
    """The client is visible, but a protected identity keeps the details from this user."""

    def __init__(self, client: Client):
        super().__init__("protected identity")
        self.client = client


def get_client_identity_for(request: AuthenticatedHttpRequest, client_id: uuid.UUID) -> Client:
    """The client, for showing or changing identifying details: logged as "reveal", or as
    "denied" when a protected identity keeps them from anyone but the responsible therapist."""
    client = get_client_for(request, client_id, action=None)
    if not client.can_see_identity(request.user):
        access_log_record(
            actor=request.actor, action=AccessLogEntry.Action.DENIED, obj=client, reason="protected_identity"
        )
        raise IdentityProtected(client)
    access_log_record(actor=request.actor, action=AccessLogEntry.Action.REVEAL, obj=client)
    return client


def open_follow_ups(client: Client) -> int:
    """How many follow-ups of the client's earlier periods are still due (asked when the client returns)."""
    return FollowUp.objects.open().filter(client=client).count()


def status_history(client: Client) -> QuerySet[StatusChange]:
    return client.status_changes.select_related("by", "episode", "referred_to").order_by("at", "id")


def _addenda() -> Prefetch[str, QuerySet[PartAddendum], str]:
    """A signed part's addenda with their authors, oldest first: one query for all the parts read."""
    return Prefetch("addenda", queryset=PartAddendum.objects.select_related("author").order_by("created_at", "id"))


def assessments_of(client: Client) -> QuerySet[AssessmentConversation]:
    """The record's assessment conversations, with who saved and signed them and their addenda."""
    return (
        AssessmentConversation.objects.filter(episode__client=client)
        .select_related("episode", "updated_by", "signed_by")
        .prefetch_related(_addenda())
    )


def current_assessment(client: Client) -> AssessmentConversation | None:
    """The latest period's conversation, with who saved and signed it (the record's page; the addenda are read where
    the text is shown)."""
    return (
        AssessmentConversation.objects.filter(episode__client=client)
        .select_related("episode", "updated_by", "signed_by")
        .order_by("-episode__number")
        .first()
    )


def assessment_on_page(client: Client) -> AssessmentConversation | None:
    """The conversation the assessment page shows and signs: the current period's. A new period opened after a
    finished one has none yet (the earlier one stays with its period)."""
    conversation = current_assessment(client)
    if conversation is not None and conversation.episode.closed_on is not None and client.status not in FINISHED:
        return None
    return conversation


@dataclass(frozen=True)
class SectionRow:
    key: str
    title: StrOrPromise
    guidance: str
    entry: DeepInterviewSection | None

    @property
    def done(self) -> bool:
        return bool(self.entry and self.entry.done)

    @property
    def started(self) -> bool:
        return bool(self.entry and self.entry.text.strip())

    @property
    def signed(self) -> bool:
        return bool(self.entry and self.entry.is_signed)


def interview_sections(client: Client, *, addenda: bool = False) -> list[SectionRow]:
    """All template sections in the template's order, with what has been written so far (and, where the texts are
    shown, the signed ones' addenda)."""
    entries_read = client.interview_sections.select_related("updated_by", "signed_by")
    if addenda:
        entries_read = entries_read.prefetch_related(_addenda())
    entries = {e.section: e for e in entries_read}
    return [
        SectionRow(key, label, str(INTERVIEW_GUIDANCE[key]), entries.get(key))
        for key, label in InterviewSection.choices
    ]


def get_interview_section(client: Client, section: str) -> SectionRow:
    if section not in InterviewSection.values:
        raise Http404
    entry = client.interview_sections.filter(section=section).select_related("updated_by", "signed_by").first()
    return SectionRow(section, InterviewSection(section).label, str(INTERVIEW_GUIDANCE[section]), entry)


def family_members(client: Client) -> list[FamilyMember]:
    """The people of the map as it stands: those marked as entered in error are out of it (and out of everyone's
    parents)."""
    in_map = FamilyMember.objects.filter(entered_in_error_at__isnull=True)
    return list(
        in_map.filter(client=client)
        .prefetch_related(Prefetch("parents", queryset=in_map.order_by("birth_year", "label", "id")))
        .order_by("birth_year", "label", "id")
    )


def family_relationships(client: Client) -> list[FamilyRelationship]:
    """The lines of the map as it stands: neither the line nor either person marked as entered in error."""
    return list(
        client.family_relationships.filter(
            entered_in_error_at__isnull=True, a__entered_in_error_at__isnull=True, b__entered_in_error_at__isnull=True
        )
        .select_related("a", "b")
        .order_by("id")
    )


@dataclass(frozen=True)
class EnteredInError:
    """What was taken out of the family map as entered in error: kept, listed with who, when and why."""

    members: list[FamilyMember]
    relationships: list[FamilyRelationship]

    def __bool__(self) -> bool:
        return bool(self.members or self.relationships)


def family_entered_in_error(client: Client) -> EnteredInError:
    members = client.family_members.filter(entered_in_error_at__isnull=False).select_related("entered_in_error_by")
    relationships = client.family_relationships.filter(entered_in_error_at__isnull=False).select_related(
        "a", "b", "entered_in_error_by"
    )
    return EnteredInError(
        list(members.order_by("entered_in_error_at", "id")), list(relationships.order_by("entered_in_error_at", "id"))
    )


def get_family_member(client: Client, member_id: int) -> FamilyMember:
    return get_object_or_404(client.family_members, pk=member_id)


def get_family_relationship(client: Client, relationship_id: int) -> FamilyRelationship:
    return get_object_or_404(client.family_relationships, pk=relationship_id)


def genogram_svg(client: Client, members: list[FamilyMember], relationships: list[FamilyRelationship]) -> SafeString:
    """The family map drawn on the server, so the page and the PDF show the same picture."""
    people = [
        genogram.Person(
            id=str(m.pk),
            label=m.label,
            sex=m.sex,
            generation=m.generation,
            birth_year=m.birth_year,
            death_year=m.death_year,
            deceased=m.deceased,
            is_client=m.relation == "client",
            parents=tuple(str(p.pk) for p in m.parents.all()),
        )
        for m in members
    ]
    lines = [genogram.Relationship(a=str(r.a_id), b=str(r.b_id), kind=r.kind) for r in relationships]
    svg = genogram.render_svg(
        genogram.layout(people, lines),
        title=_("Family map of %(code)s") % {"code": client.code},
        description=ngettext(
            "Genogram with %(count)s person over the generations.",
            "Genogram with %(count)s people over the generations.",
            len(people),
        )
        % {"count": len(people)},
        labels=genogram_legend_labels(),
    )
    # render_svg escapes every label (user input); tests/clients/test_genogram.py proves it.
    return mark_safe(svg)  # noqa: S308


def intake_summary(client: Client, *, include_name: bool) -> dict[str, object]:
    """Everything the intake PDF shows, read in a fixed number of queries."""
    from assessments.selectors import answers_over_time

    members = family_members(client)
    relationships = family_relationships(client)
    return {
        "client": client,
        "include_name": include_name,
        "history": list(status_history(client)),
        "assessment": assessments_of(client).order_by("-episode__number").first(),
        "sections": interview_sections(client, addenda=True),
        "members": members,
        "family_map": _printed_family_map(genogram_svg(client, members, relationships)) if members else None,
        "over_time": answers_over_time(client),
        "goals": record_goals(client),
    }


#: The room for the family map on its page, in mm: an A4 page's width less the margins of static/css/print.css,
#: and most of its height (a heading and the history's first lines fit under it).
FAMILY_MAP_PRINT_WIDTH, FAMILY_MAP_PRINT_HEIGHT = 174.0, 230.0


def _printed_family_map(svg: SafeString) -> genogram.PrintedMap:
    """The family map for the intake summary: its shapes as SVG, its texts as HTML over it (genogram.for_print)."""
    printed = genogram.for_print(str(svg), width=FAMILY_MAP_PRINT_WIDTH, max_height=FAMILY_MAP_PRINT_HEIGHT)
    # Our own drawing, every label escaped by render_svg (tests/clients/test_genogram.py proves it).
    return dataclasses.replace(printed, svg=mark_safe(printed.svg))  # noqa: S308


def genogram_legend_labels() -> dict[str, str]:
    """The genogram legend in the user's language (the drawing module itself knows no gettext)."""
    return {
        "heading": _("Legend"),
        "empty": _("The family map is empty."),
        "male": _("man"),
        "female": _("woman"),
        "other": _("other or unknown"),
        "deceased": _("deceased"),
        "client": _("the client"),
        "married": _("married"),
        "cohabiting": _("cohabiting"),
        "separated": _("separated"),
        "divorced": _("divorced"),
        genogram.UNSPECIFIED: _("parents, relationship not given"),
        "close": _("close"),
        "distant": _("distant"),
        "conflict": _("conflict"),
        "cut_off": _("cut off"),
        "abuse": _("abuse"),
    }


# -- the client's treatment goals ---------------------------------------------------------------------------------


def _with_reviews(goals: QuerySet[TreatmentGoal]) -> list[TreatmentGoal]:
    """The goals with their reviews (oldest first) and `current_wording`: the latest change's, or the first.

    Two queries, whatever the number of goals and reviews."""
    reviews = GoalReview.objects.select_related("by", "session").order_by("reviewed_on", "created_at", "id")
    rows = list(goals.prefetch_related(Prefetch("reviews", queryset=reviews)))
    for goal in rows:
        changes = [r.new_wording for r in goal.reviews.all() if r.outcome == GoalOutcome.CHANGED]
        goal.current_wording = changes[-1] if changes else goal.wording  # type: ignore[attr-defined]
    return rows


def goals_of(episode_id: int) -> list[TreatmentGoal]:
    """One treatment period's goals, in their order, with their reviews. The caller holds the record's gate."""
    return _with_reviews(TreatmentGoal.objects.filter(episode_id=episode_id).order_by("position", "id"))


def record_goals(client: Client) -> list[TreatmentGoal]:
    """Every goal of the record, period by period, with its reviews (the record page and the prints)."""
    return _with_reviews(
        TreatmentGoal.objects.filter(client=client).select_related("episode").order_by("episode__number", "position")
    )


def get_goal(client: Client, goal_id: int) -> TreatmentGoal:
    """A goal of a record the caller already passed the gate for; 404 for another record's."""
    return get_object_or_404(TreatmentGoal, pk=goal_id, client=client)


def get_session_of(client: Client, session_id: uuid.UUID) -> TherapySession:
    """A session logged on a record the caller already passed the gate for; 404 for any other."""
    return get_object_or_404(TherapySession, pk=session_id, client=client)


@dataclass
class GoalCard:
    """The goals card of a session's page: the period's goals, the reviews made at this session, and the form for
    the goals not yet followed up here (None when there is nothing to record, or the user may not)."""

    goals: list[TreatmentGoal]
    moment: str
    reviewed_here: list[GoalReview]
    form: GoalReviewForm | None


def goal_card(user: User, client: Client, session: TherapySession, *, data: QueryDict | None = None) -> GoalCard:
    """Three queries: the goals, their reviews, and whether the user is a therapist of the record. A follow-up
    conversation asks whether each goal was reached; any other held session whether it was kept or changed."""
    from clients.forms import GoalReviewForm

    moment = GoalMoment.FOLLOW_UP if session.kind == SessionKind.FOLLOW_UP else GoalMoment.SESSION
    goals = goals_of(session.episode_id) if session.episode_id else []
    reviewed_here = [r for goal in goals for r in goal.reviews.all() if r.session_id == session.pk]
    open_goals = [goal for goal in goals if all(r.session_id != session.pk for r in goal.reviews.all())]
    held = session.attendance in HELD and session.voided_at is None and session.date <= timezone.localdate()
    form = None
    if open_goals and held and client.is_record_therapist(user):
        outcomes = SESSION_OUTCOMES if moment == GoalMoment.SESSION else REACHED_OUTCOMES
        choices = [(o.value, o.label) for o in outcomes]
        form = GoalReviewForm(data, goals=open_goals, outcomes=choices, prefix=f"goals-{session.pk.hex[:8]}")
    return GoalCard(goals=goals, moment=moment, reviewed_here=reviewed_here, form=form)


def end_goals_form(user: User, client: Client, data: QueryDict | None = None) -> GoalReviewForm | None:
    """The end-of-treatment page's question for each goal of the period: reached, partly or not (None when the
    period has no goals, or the user is not a therapist of the record, who alone follows goals up)."""
    from clients.forms import GoalReviewForm

    episode = client.current_episode()
    goals = goals_of(episode.pk) if episode is not None else []
    if not goals or not client.is_record_therapist(user):
        return None
    choices = [(o.value, o.label) for o in REACHED_OUTCOMES]
    return GoalReviewForm(data, goals=goals, outcomes=choices, prefix="goals")
