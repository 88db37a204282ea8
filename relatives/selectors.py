"""Reads of relatives' records and the family around a record. Each goes through its model's gate.

The wall: a relative's page reads only the relative's own record, the links (codes, relation,
consents) and the support content; a client's page reads only the links. Notes, the deep
interview and questionnaire answers of one person are never read for the other's page.
"""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest

from clients.models import Client, RecordKind
from clients.selectors import get_client_for
from kast.access import AuthenticatedHttpRequest
from kast.models import AccessLogEntry, User
from kast.selectors import get_client_owned_or_404
from relatives.models import ChildPerspective, Goal, Reaction, ReactionReview, Relative, RelativeLink

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

Action = AccessLogEntry.Action


def get_relative_for(
    request: AuthenticatedHttpRequest, record_id: uuid.UUID, *, action: str | None = Action.VIEW
) -> Client:
    """The relative's record, if the user works with it; 404 (logged) otherwise, also for a client's."""
    return get_client_for(request, record_id, action=action, kind=RecordKind.RELATIVE)


def get_link_for(request: HttpRequest, link_id: int, *, action: str | None = Action.UPDATE) -> RelativeLink:
    visible = RelativeLink.objects.visible_to(request.user).select_related("relative", "client")
    return get_client_owned_or_404(request, visible, link_id, action=action)


def get_goal_for(request: HttpRequest, goal_id: int) -> Goal:
    visible = Goal.objects.visible_to(request.user).select_related("relative")
    return get_client_owned_or_404(request, visible, goal_id, action=Action.UPDATE, owner="relative_id")


def relative_profile(record: Client) -> Relative:
    return Relative.objects.get(record=record)


def links_of_relative(user: User, record: Client) -> QuerySet[RelativeLink]:
    """The relative's links, newest state first; the client is named by code only."""
    return (
        RelativeLink.objects.visible_to(user)
        .filter(relative=record)
        .select_related("client", "removed_by")
        .annotate(client_visible=Exists(Client.objects.visible_to(user).filter(pk=OuterRef("client_id"))))
        .order_by("removed_at", "-created_at")
    )


def seen_from_client(links: QuerySet[RelativeLink]) -> QuerySet[RelativeLink]:
    """The wall's one rule for the client's side: a link exists there only once the relative has
    consented to it, and only while it stands. Until then it is the relative's alone: their record
    may say that they came because of someone, without the client learning that they came at all.

    Every read of links for a client's page, timeline or extract goes through here.
    """
    return links.filter(removed_at__isnull=True, relative_consents=True)


def client_side_links(record: Client) -> QuerySet[RelativeLink]:
    """The links a client's own record shows (its extract too), without a user's gate."""
    return seen_from_client(RelativeLink.objects.filter(client=record))


def links_of_client(user: User, record: Client) -> QuerySet[RelativeLink]:
    """The client's relatives who consented to the link: code, relation and consents; their page only
    for their own therapists."""
    return (
        seen_from_client(RelativeLink.objects.visible_to(user).filter(client=record))
        .select_related("relative", "relative__relative_profile", "removed_by")
        .annotate(relative_visible=Exists(Client.objects.visible_to(user).filter(pk=OuterRef("relative_id"))))
        .order_by("removed_at", "-created_at")
    )


def reaction_reviews(record: Client) -> list[ReactionReview]:
    return list(ReactionReview.objects.filter(relative=record).order_by("reviewed_on"))


def goals(record: Client) -> list[Goal]:
    return list(Goal.objects.filter(relative=record).order_by("set_on", "id"))


def child_perspective(record: Client) -> ChildPerspective | None:
    return ChildPerspective.objects.filter(record=record).select_related("updated_by").first()


@dataclass
class ReactionChart:
    """The reviews as rows per reaction, oldest first: how each reaction changed over time."""

    dates: list[datetime.date] = field(default_factory=list)
    rows: list[tuple[StrOrPromise, list[int]]] = field(default_factory=list)


def reaction_chart(reviews: list[ReactionReview]) -> ReactionChart:
    return ReactionChart(
        dates=[review.reviewed_on for review in reviews],
        rows=[(Reaction(name).label, [getattr(review, name) for review in reviews]) for name in Reaction.values],
    )
