"""Self-assessment questionnaires: versioned instruments, administrations at fixed time points, answers.

Comparability is the point. Every item has a stable code that survives rewording, so answers
pair across versions; a published version is frozen by PostgreSQL triggers, never edited.
"""

from __future__ import annotations

import hashlib

import pgtrigger
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from clients.models import TargetGroup
from kast.triggers import FiguresChanged


class TimePoint(models.TextChoices):
    START = "start", _("Treatment start")
    END = "end", _("Treatment end")
    FOLLOW_UP = "follow_up", _("Follow-up after six months")
    LONG_TERM = "long_term", _("Long-term follow-up")


#: The item codes the reports count at a time point (the evaluation's Tables 1 and 2, in figures.reports): a version
#: given then without one of them leaves that row of the tables without new answers, so publishing such a version
#: needs the administrator's explicit confirmation (assessments.services.version_publish).
REPORTED_CODES: dict[str, tuple[str, ...]] = {
    TimePoint.START: (
        "bought_sex_ever",
        "bought_sex_last_year",
        "has_partner",
        "has_children",
        "behaviour_harms_self",
        "thoughts_harm_self",
        "behaviour_harms_relations",
    ),
    TimePoint.END: (
        "bought_sex_last_year",
        "came_as_often",
        "came_as_long",
        "staff_respectful",
        "staff_non_judgmental",
        "staff_dignified",
        "talk_sexual_issues",
        "got_help_needed",
        "stop_impulses_due_to_treatment",
    ),
}


class ItemKind(models.TextChoices):
    YES_NO = "yes_no", _("Yes or no")
    SCALE = "scale", _("Five-step scale")
    FREQUENCY = "frequency", _("Frequency")
    LAST_OCCURRENCE = "last_occurrence", _("Date of the last time")
    NUMBER = "number", _("Number")
    SINGLE = "single", _("One choice")
    MULTIPLE = "multiple", _("Several choices")
    TEXT = "text", _("Free text")


class Scale(models.TextChoices):
    """The anchors of a five-step item. Stored 1 to 5, 5 the top anchor ("very good", "agree completely")."""

    WELLBEING = "wellbeing", _("Very good … very bad")
    AGREEMENT = "agreement", _("Agree completely … do not agree at all")
    # The follow-up's "how satisfied are you" (the evaluation interview's questions 15 and 16), graded as the
    # clinic's forms grade what once was yes or no.
    SATISFIED = "satisfied", _("Very satisfied … very dissatisfied")


#: Labels of the five steps, shown best first as on the paper forms ("mycket god" … "mycket dålig").
SCALE_STEPS = {
    Scale.WELLBEING: [
        (5, _("Very good")),
        (4, _("Good")),
        (3, _("Neither good nor bad")),
        (2, _("Bad")),
        (1, _("Very bad")),
    ],
    Scale.AGREEMENT: [
        (5, _("Agree completely")),
        (4, _("Agree partly")),
        (3, _("Neither agree nor disagree")),
        (2, _("Hardly agree")),
        (1, _("Do not agree at all")),
    ],
    Scale.SATISFIED: [
        (5, _("Very satisfied")),
        (4, _("Satisfied")),
        (3, _("Neither satisfied nor dissatisfied")),
        (2, _("Dissatisfied")),
        (1, _("Very dissatisfied")),
    ],
}

#: How often: 0 never … 4 daily.
FREQUENCY_STEPS = [
    (0, _("Never")),
    (1, _("Less than monthly")),
    (2, _("Monthly")),
    (3, _("Weekly")),
    (4, _("Daily")),
]


class Instrument(models.Model):
    """A questionnaire, e.g. "KAST självskattning vid start"; its content lives in its versions."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)
    name_en = models.CharField(_("name in English"), max_length=120, blank=True)

    class Meta:
        verbose_name = _("instrument")
        verbose_name_plural = _("instruments")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.localized_name

    @property
    def localized_name(self) -> str:
        return self.name_en if get_language() == "en" and self.name_en else self.name


class InstrumentVersion(models.Model):
    """One edition of an instrument. Publishing freezes it (a trigger); a change is a new version."""

    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveSmallIntegerField(_("version"))
    time_points = ArrayField(
        models.CharField(max_length=10, choices=TimePoint.choices),
        verbose_name=_("used at"),
        help_text=_("The time points this version is given at."),
    )
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    changes = models.TextField(_("what changed from the previous version"), blank=True)

    class Meta:
        verbose_name = _("instrument version")
        verbose_name_plural = _("instrument versions")
        ordering = ["instrument", "-number"]
        constraints = [models.UniqueConstraint(fields=["instrument", "number"], name="version_number_unique")]
        triggers = [
            pgtrigger.Protect(
                name="published_version_is_final",
                operation=pgtrigger.Update | pgtrigger.Delete,
                condition=pgtrigger.Q(old__published_at__isnull=False),
            ),
            FiguresChanged(name="figures_changed"),
        ]

    def __str__(self) -> str:
        return f"{self.instrument} v{self.number}"

    @property
    def is_published(self) -> bool:
        return self.published_at is not None


class Item(models.Model):
    """One question. `code` names its meaning: a rewording keeps it, a change of meaning gets a new one."""

    version = models.ForeignKey(InstrumentVersion, on_delete=models.CASCADE, related_name="items")
    code = models.CharField(
        _("item code"),
        max_length=40,
        validators=[RegexValidator(r"^[a-z][a-z0-9_]*$", _("Lower-case letters, digits and underscores."))],
    )
    position = models.PositiveSmallIntegerField(_("position"))
    section = models.CharField(_("section"), max_length=80, blank=True)
    section_en = models.CharField(_("section in English"), max_length=80, blank=True)
    kind = models.CharField(_("type"), max_length=16, choices=ItemKind.choices)
    text = models.CharField(_("question"), max_length=300)
    text_en = models.CharField(_("question in English"), max_length=300, blank=True)
    scale = models.CharField(_("scale"), max_length=10, choices=Scale.choices, blank=True)
    #: For single and multiple choice: [[value, Swedish label, English label], ...].
    choices = models.JSONField(_("choices"), default=list, blank=True)
    min_value = models.IntegerField(_("lowest number"), null=True, blank=True)
    max_value = models.IntegerField(_("highest number"), null=True, blank=True)
    #: Which way is better, for comparing answers over time: True when a higher value is (a "yes",
    #: "very good"), False when lower is (less often; agreeing less with "it harms my relationships").
    higher_is_better = models.BooleanField(_("a higher answer is better"), null=True, blank=True)
    #: Targeted questions: shown only to clients in one of these groups (empty: to everyone).
    target_groups = ArrayField(
        models.CharField(max_length=12, choices=TargetGroup.choices),
        verbose_name=_("only for target groups"),
        default=list,
        blank=True,
    )

    class Meta:
        verbose_name = _("item")
        verbose_name_plural = _("items")
        ordering = ["version", "position"]
        constraints = [
            models.UniqueConstraint(fields=["version", "code"], name="item_code_once_per_version"),
            models.UniqueConstraint(fields=["version", "position"], name="item_position_once_per_version"),
            models.CheckConstraint(condition=Q(kind__in=ItemKind.values), name="item_kind_valid"),
            models.CheckConstraint(
                condition=~Q(kind=ItemKind.SCALE) | Q(scale__in=Scale.values), name="item_scale_has_anchors"
            ),
        ]
        triggers = [
            # Items of a published version are as final as the version (the version row cannot
            # change, and neither can what it is made of).
            pgtrigger.Trigger(
                name="published_items_are_final",
                when=pgtrigger.Before,
                operation=pgtrigger.Insert | pgtrigger.Update | pgtrigger.Delete,
                func="""
                IF EXISTS (
                    SELECT 1 FROM assessments_instrumentversion
                    WHERE id IN (NEW.version_id, OLD.version_id) AND published_at IS NOT NULL
                ) THEN
                    RAISE EXCEPTION 'The items of a published version cannot change; make a new version.'
                        USING ERRCODE = 'integrity_constraint_violation';
                END IF;
                IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
                RETURN NEW;
                """,
            ),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def localized_text(self) -> str:
        return self.text_en if get_language() == "en" and self.text_en else self.text

    @property
    def localized_section(self) -> str:
        return self.section_en if get_language() == "en" and self.section_en else self.section

    def options(self) -> list[tuple[object, str]]:
        """(stored value, label) of a closed item, in the order shown."""
        if self.kind == ItemKind.YES_NO:
            return [(True, str(_("Yes"))), (False, str(_("No")))]
        if self.kind == ItemKind.SCALE:
            return [(value, str(label)) for value, label in SCALE_STEPS[self.scale]]
        if self.kind == ItemKind.FREQUENCY:
            return [(value, str(label)) for value, label in FREQUENCY_STEPS]
        if self.kind in (ItemKind.SINGLE, ItemKind.MULTIPLE):
            english = get_language() == "en"
            return [(value, (en if english and en else sv)) for value, sv, en in self.choices]
        return []

    def applies_to(self, target_groups: list[str]) -> bool:
        return not self.target_groups or bool(set(self.target_groups) & set(target_groups))


class AdministrationQuerySet(models.QuerySet["Administration"]):
    def visible_to(self, user) -> AdministrationQuerySet:
        """The one gate for reading answers: those of clients the user may see."""
        from clients.models import Client

        return self.filter(client__in=Client.objects.visible_to(user))

    def counted(self) -> AdministrationQuerySet:
        """Those that count: every figure, report, file and baseline leaves out the ones entered in error."""
        return self.filter(counted())


def counted(prefix: str = "") -> Q:
    """The one rule of which questionnaires count: not marked as entered in error. `prefix` reaches
    Administration from another model ("administration__" from an Answer)."""
    return Q(**{f"{prefix}entered_in_error_at__isnull": True})


class FilledBy(models.TextChoices):
    THERAPIST = "therapist", _("The therapist, with the client")
    CLIENT = "client", _("The client, on the clinic's tablet")


class Administration(models.Model):
    """One questionnaire given to one client, at one time point of one treatment period."""

    client = models.ForeignKey("clients.Client", on_delete=models.PROTECT, related_name="administrations")
    episode = models.ForeignKey("clients.Episode", on_delete=models.PROTECT, related_name="administrations")
    time_point = models.CharField(_("time point"), max_length=10, choices=TimePoint.choices)
    version = models.ForeignKey(
        InstrumentVersion, verbose_name=_("version"), on_delete=models.PROTECT, related_name="administrations"
    )
    filled_by = models.CharField(_("filled in by"), max_length=10, choices=FilledBy.choices, default=FilledBy.THERAPIST)
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # Entered in error (given to the wrong client, at the wrong time point): kept in the record with the reason,
    # left out of every figure, and its time point free for the right questionnaire. Never un-marked.
    entered_in_error_at = models.DateTimeField(_("marked as entered in error"), null=True, blank=True)
    entered_in_error_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    error_reason = models.TextField(_("why it was entered in error"), blank=True, max_length=500)

    objects = AdministrationQuerySet.as_manager()

    class Meta:
        verbose_name = _("questionnaire")
        verbose_name_plural = _("questionnaires")
        ordering = ["started_at"]
        indexes = [models.Index(fields=["time_point", "submitted_at"], name="administration_point_submitted")]
        constraints = [
            # One that counts per period and time point: one marked as entered in error leaves room for the right one.
            models.UniqueConstraint(
                fields=["episode", "time_point"],
                condition=Q(entered_in_error_at__isnull=True),
                name="administration_once_per_period_and_point",
                violation_error_message=_("This treatment period already has a questionnaire for that time point."),
            ),
            models.CheckConstraint(condition=Q(time_point__in=TimePoint.values), name="administration_point_valid"),
            # Marked means when, by whom and why; unmarked means none of them.
            models.CheckConstraint(
                condition=Q(entered_in_error_at__isnull=True, entered_in_error_by__isnull=True, error_reason="")
                | (Q(entered_in_error_at__isnull=False, entered_in_error_by__isnull=False) & ~Q(error_reason="")),
                name="administration_error_has_reason",
            ),
        ]
        triggers = [
            FiguresChanged(name="figures_changed", client="client_id"),
            # A questionnaire taken out of the figures stays out: un-marking it (or rewriting when, by whom or why)
            # would put it back in silently. kast.db_roles doubles this for the runtime role, beyond pgtrigger.ignore.
            pgtrigger.Protect(
                name="entered_in_error_is_final",
                operation=pgtrigger.Update,
                condition=pgtrigger.Q(old__entered_in_error_at__isnull=False)
                & (
                    pgtrigger.Q(old__entered_in_error_at__df=pgtrigger.F("new__entered_in_error_at"))
                    | pgtrigger.Q(old__entered_in_error_by_id__df=pgtrigger.F("new__entered_in_error_by_id"))
                    | pgtrigger.Q(old__error_reason__df=pgtrigger.F("new__error_reason"))
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.client_id} {self.time_point}"

    @property
    def is_submitted(self) -> bool:
        return self.submitted_at is not None

    @property
    def is_entered_in_error(self) -> bool:
        return self.entered_in_error_at is not None


class Answer(models.Model):
    """The answer to one item. "Don't want to answer" (`declined`) is an answer; no row is "not answered"."""

    administration = models.ForeignKey(Administration, on_delete=models.CASCADE, related_name="answers")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="answers")
    declined = models.BooleanField(_("does not want to answer"), default=False)
    value_bool = models.BooleanField(null=True, blank=True)
    value_int = models.IntegerField(null=True, blank=True)
    value_date = models.DateField(null=True, blank=True)
    value_text = models.TextField(blank=True)
    value_choices = ArrayField(models.CharField(max_length=40), default=list, blank=True)

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        indexes = [models.Index(fields=["item", "value_int"], name="answer_item_value")]
        constraints = [
            models.UniqueConstraint(fields=["administration", "item"], name="answer_once_per_item"),
            # An answer is either declined or carries exactly one kind of value.
            models.CheckConstraint(
                condition=(
                    Q(declined=True, value_bool__isnull=True, value_int__isnull=True, value_date__isnull=True)
                    & Q(value_text="", value_choices=[])
                )
                | Q(declined=False),
                name="answer_declined_has_no_value",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.administration_id}:{self.item_id}"


class TabletCode(models.Model):
    """A one-time code that lets a clinic tablet show one questionnaire and nothing else.

    Only a hash is stored. It stops working when the questionnaire is submitted or after two hours.
    """

    administration = models.ForeignKey(Administration, on_delete=models.CASCADE, related_name="tablet_codes")
    code_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    # The first device to open the code holds it: a second device (a client's own phone, a passer-by who
    # read the code) gets "already in use" and never sees the answers typed on the first.
    opened_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("tablet code")
        verbose_name_plural = _("tablet codes")

    def __str__(self) -> str:
        return f"{self.administration_id} until {self.expires_at:%H:%M}"

    @staticmethod
    def hash(code: str) -> str:
        return hashlib.sha256(code.strip().upper().encode()).hexdigest()

    def is_valid(self, now=None) -> bool:
        return self.used_at is None and (now or timezone.now()) < self.expires_at


class WrongTabletCode(models.Model):
    """One wrong code typed on the tablet page: counted per address and in all, over a short window.

    In the database, not in a per-process cache, so every worker of every server counts the same tries.
    Holds no code (not even a hash: a near miss must not be kept) and no client; rows older than the
    window are deleted as new ones come.
    """

    address = models.GenericIPAddressField(null=True, blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("wrong tablet code")
        verbose_name_plural = _("wrong tablet codes")
        indexes = [models.Index(fields=["address", "at"], name="wrong_tablet_code_address_at")]

    def __str__(self) -> str:
        return f"{self.address} {self.at:%Y-%m-%d %H:%M}"
