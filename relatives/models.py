"""Relatives and partners: support of their own, behind a wall from the client's file.

A relative who gets support has a record of their own: a `clients.Client` row of kind
"relative", so the code, the optional identity, the treatment period and the whole session
and note machinery are the same as a client's. This app adds what only relatives have (their
relation, reactions and goals), the link between a relative and a client with each one's
consent to joint work, and the child perspective, which is asked on every record.

The wall: nothing here joins one person's notes, deep interview or answers to the other's
pages. Only a couple or group session, which both attended, is shown on both records.
"""

from __future__ import annotations

from typing import Self, TypeVar

import pghistory
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kast.triggers import FiguresChanged
from kast.validators import PAST_DATE

_M = TypeVar("_M", bound=models.Model)


class Relation(models.TextChoices):
    PARTNER = "partner", _("Partner")
    SPOUSE = "spouse", _("Spouse")
    FORMER_PARTNER = "former_partner", _("Former partner")
    PARENT = "parent", _("Parent")
    ADULT_CHILD = "adult_child", _("Adult child")
    OTHER = "other", _("Other")


def _visible_records(user):
    from clients.models import Client

    return Client.objects.visible_to(user)


class RecordOwnedQuerySet(models.QuerySet[_M]):
    """The gate of a model that hangs on one record: that record must pass the clients' gate.

    `record_field` names the foreign key to the record (a relative's or any client's).
    """

    record_field = "record"

    def visible_to(self, user) -> Self:
        return self.filter(**{f"{self.record_field}__in": _visible_records(user)})


class RelativeQuerySet(RecordOwnedQuerySet["Relative"]):
    """The relative's own record must be on the user's caseload."""


@pghistory.track()
class Relative(models.Model):
    """What only a relative's record has. The record itself (code, identity, status) is the Client row."""

    record = models.OneToOneField(
        "clients.Client", primary_key=True, on_delete=models.CASCADE, related_name="relative_profile"
    )
    relation = models.CharField(_("relation to the client"), max_length=16, choices=Relation.choices)

    objects = RelativeQuerySet.as_manager()

    class Meta:
        verbose_name = _("relative or partner")
        verbose_name_plural = _("relatives and partners")
        constraints = [
            models.CheckConstraint(condition=Q(relation__in=Relation.values), name="relative_relation_valid")
        ]

    def __str__(self) -> str:
        return f"{self.record_id}"


class LinkQuerySet(models.QuerySet["RelativeLink"]):
    def visible_to(self, user) -> LinkQuerySet:
        """A link is seen from either side: from the client's record or from the relative's."""
        records = _visible_records(user)
        return self.filter(Q(client__in=records) | Q(relative__in=records))

    def active(self) -> LinkQuerySet:
        return self.filter(removed_at__isnull=True)


@pghistory.track()
class RelativeLink(models.Model):
    """A relative linked to a client of the same clinic, with each one's consent to joint work.

    A removed link is kept (removed_at, by whom, why): both records and every note stay intact.
    """

    relative = models.ForeignKey(
        "clients.Client", verbose_name=_("relative"), on_delete=models.PROTECT, related_name="client_links"
    )
    client = models.ForeignKey(
        "clients.Client", verbose_name=_("client"), on_delete=models.PROTECT, related_name="relative_links"
    )
    client_consents = models.BooleanField(_("the client consents to joint work"), default=False)
    relative_consents = models.BooleanField(_("the relative consents to joint work"), default=False)
    created_at = models.DateTimeField(_("linked"), default=timezone.now, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    removed_at = models.DateTimeField(_("link removed"), null=True, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    removal_reason = models.CharField(_("why the link was removed"), max_length=300, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = LinkQuerySet.as_manager()

    class Meta:
        verbose_name = _("link between relative and client")
        verbose_name_plural = _("links between relatives and clients")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["relative", "client"],
                condition=Q(removed_at__isnull=True),
                name="relative_link_once",
                violation_error_message=_("The relative is already linked to this client."),
            ),
            models.CheckConstraint(condition=~Q(relative=models.F("client")), name="relative_link_two_people"),
            models.CheckConstraint(
                condition=Q(removed_at__isnull=True, removed_by__isnull=True)
                | Q(removed_at__isnull=False, removed_by__isnull=False),
                name="relative_link_removal_recorded",
            ),
        ]
        triggers = [FiguresChanged(name="figures_changed", client="relative_id")]

    def __str__(self) -> str:
        return f"{self.relative_id} – {self.client_id}"

    @property
    def joint_work_agreed(self) -> bool:
        return self.client_consents and self.relative_consents


class Reaction(models.TextChoices):
    """The typical reactions of a relative after the discovery (the seed's "Anhörigstöd")."""

    LOSS_OF_CONTROL = "loss_of_control", _("Loss of control")
    GUILT = "guilt", _("Takes on guilt")
    SHAME = "shame", _("Takes on shame")
    DISPLACED_ANGER = "displaced_anger", _("Becomes the target of displaced anger")


class Level(models.IntegerChoices):
    NONE = 0, _("Not at all")
    LITTLE = 1, _("A little")
    SOME = 2, _("Somewhat")
    MUCH = 3, _("Much")
    VERY_MUCH = 4, _("Very much")


class SupportQuerySet(RecordOwnedQuerySet[_M]):
    """Reactions and goals: the relative's record must be on the user's caseload."""

    record_field = "relative"


class ReactionReview(models.Model):
    """How strongly each reaction is present, on one date: at first contact, then reviewed over time."""

    relative = models.ForeignKey("clients.Client", on_delete=models.CASCADE, related_name="reaction_reviews")
    reviewed_on = models.DateField(_("date"), default=timezone.localdate, validators=PAST_DATE)
    loss_of_control = models.PositiveSmallIntegerField(Reaction.LOSS_OF_CONTROL.label, choices=Level.choices)
    guilt = models.PositiveSmallIntegerField(Reaction.GUILT.label, choices=Level.choices)
    shame = models.PositiveSmallIntegerField(Reaction.SHAME.label, choices=Level.choices)
    displaced_anger = models.PositiveSmallIntegerField(Reaction.DISPLACED_ANGER.label, choices=Level.choices)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    objects = SupportQuerySet.as_manager()

    class Meta:
        verbose_name = _("review of reactions")
        verbose_name_plural = _("reviews of reactions")
        ordering = ["reviewed_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["relative", "reviewed_on"],
                name="reaction_review_once_a_day",
                violation_error_message=_("The reactions are already recorded for this date."),
            ),
            *[
                models.CheckConstraint(condition=Q(**{f"{name}__lte": Level.VERY_MUCH}), name=f"reaction_{name}_range")
                for name in Reaction.values
            ],
        ]

    def __str__(self) -> str:
        return f"{self.relative_id} {self.reviewed_on}"

    def levels(self) -> list[tuple[str, int, str]]:
        return [
            (Reaction(name).label, getattr(self, name), Level(getattr(self, name)).label) for name in Reaction.values
        ]


class GoalStatus(models.TextChoices):
    OPEN = "open", _("Working on it")
    REACHED = "reached", _("Reached")
    CHANGED = "changed", _("Changed or no longer relevant")


@pghistory.track()
class Goal(models.Model):
    """A goal the relative sets for their own support, in their own words."""

    relative = models.ForeignKey("clients.Client", on_delete=models.CASCADE, related_name="support_goals")
    text = models.CharField(_("goal"), max_length=500)
    set_on = models.DateField(_("set on"), default=timezone.localdate, validators=PAST_DATE)
    status = models.CharField(_("status"), max_length=10, choices=GoalStatus.choices, default=GoalStatus.OPEN)
    status_on = models.DateField(_("status since"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    objects = SupportQuerySet.as_manager()

    class Meta:
        verbose_name = _("goal")
        verbose_name_plural = _("goals")
        ordering = ["set_on", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=GoalStatus.values), name="goal_status_valid"),
            models.CheckConstraint(condition=~Q(text=""), name="goal_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.relative_id} {self.set_on}"


class ChildAction(models.TextChoices):
    INFORMATION = "information", _("Information to the parent about the children's needs")
    CONVERSATION = "conversation", _("Conversation about the children in the sessions")
    CHILD_SUPPORT = "child_support", _("Referral to support for children")
    CHILD_SERVICES = "child_services", _("Contact with child and youth services")
    REPORT_OF_CONCERN = "report_of_concern", _("Report of concern to social services")
    OTHER = "other", _("Other")


#: More children than this in one household is a typing error.
MAX_CHILDREN = 20


class ChildPerspectiveQuerySet(RecordOwnedQuerySet["ChildPerspective"]):
    """The child perspective of a client's or a relative's record on the user's caseload."""


@pghistory.track()
class ChildPerspective(models.Model):
    """Children in the household of a client or a relative, whether their need of support has been
    considered, and what was done. One per record, kept current; the history keeps earlier states."""

    record = models.OneToOneField(
        "clients.Client", primary_key=True, on_delete=models.CASCADE, related_name="child_perspective"
    )
    children_in_household = models.PositiveSmallIntegerField(
        _("children in the household"), default=0, validators=[MaxValueValidator(MAX_CHILDREN)]
    )
    considered_on = models.DateField(
        _("the children's need of support considered on"),
        null=True,
        blank=True,
        validators=PAST_DATE,
        help_text=_("Empty until it has been considered."),
    )
    actions = ArrayField(
        models.CharField(max_length=20, choices=ChildAction.choices),
        verbose_name=_("what was done"),
        default=list,
        blank=True,
    )
    comment = models.TextField(_("comment"), blank=True, max_length=5000)
    version = models.PositiveIntegerField(default=1, editable=False)
    updated_at = models.DateTimeField(_("last saved"), default=timezone.now)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    objects = ChildPerspectiveQuerySet.as_manager()

    class Meta:
        verbose_name = _("child perspective")
        verbose_name_plural = _("child perspectives")
        constraints = [
            models.CheckConstraint(
                condition=Q(children_in_household__lte=MAX_CHILDREN), name="child_perspective_children_plausible"
            ),
            # Something done for the children presupposes that their need was considered.
            models.CheckConstraint(
                condition=Q(considered_on__isnull=False) | Q(actions=[]), name="child_perspective_actions_considered"
            ),
        ]
        triggers = [FiguresChanged(name="figures_changed", client="record_id")]

    def __str__(self) -> str:
        return f"{self.record_id}"

    @property
    def considered(self) -> bool:
        return self.considered_on is not None

    def action_labels(self) -> list[str]:
        return [ChildAction(value).label for value in self.actions]
