"""The client record from first contact to treatment plan.

Anonymous by design: the system-generated code (GBG-2026-0042) is the identity; names,
personnummer and contact details are optional and hidden until deliberately shown.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import pghistory
import pgtrigger
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kast.models import TEXT_MAX_LENGTH, Role
from kast.triggers import FiguresChanged
from kast.validators import BOOKABLE_DATE, PAST_DATE

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class Gender(models.TextChoices):
    MAN = "man", _("Man")
    WOMAN = "woman", _("Woman")
    NON_BINARY = "non_binary", _("Non-binary")
    OTHER = "other", _("Other")
    NOT_STATED = "not_stated", _("Not stated")


class Education(models.TextChoices):
    GYMNASIUM = "gymnasium", _("Upper secondary school (gymnasium)")
    UNIVERSITY = "university", _("University")
    OTHER = "other", _("Other")
    NOT_STATED = "not_stated", _("Not stated")


class ContactMethod(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("E-mail")
    WALK_IN = "walk_in", _("Walk-in")
    OTHER = "other", _("Other")


class ReferralSource(models.TextChoices):
    SELF = "self", _("Self")
    PARTNER = "partner", _("Partner's demand")
    POLICE = "police", _("Police, after an intervention")
    KRISCENTRUM = "kriscentrum", _("Kriscentrum för män")
    HEALTH_CARE = "health_care", _("Health care")
    SOCIAL_SERVICES = "social_services", _("Social services")
    OTHER_AGENCY = "other_agency", _("Other agency")
    OTHER = "other", _("Other")


class TargetGroup(models.TextChoices):
    BUYING_SEX = "buying_sex", _("Buying sexual services")
    COMPULSIVE = "compulsive", _("Compulsive sexual behaviour")
    RELATIVE = "relative", _("Relative or partner")
    OTHER = "other", _("Other")


class RecordKind(models.TextChoices):
    """Whose record it is. A relative or partner who gets support of their own has a record of
    their own, with its own code, sessions and notes, walled off from the client's (see `relatives`)."""

    CLIENT = "client", _("Client")
    RELATIVE = "relative", _("Relative or partner")


class CaseStatus(models.TextChoices):
    CONTACT = "contact", _("Contact")
    ASSESSMENT = "assessment", _("Assessment")
    IN_TREATMENT = "in_treatment", _("In treatment")
    ENDED = "ended", _("Ended")
    FOLLOWED_UP = "followed_up", _("Followed up")
    REFERRED = "referred", _("Referred elsewhere")
    CLOSED = "closed", _("Closed without treatment")


#: A relative's record gets support, not treatment: the statuses that name treatment, in the words of support.
RELATIVE_STATUS_LABELS = {
    CaseStatus.IN_TREATMENT: _("In support"),
    CaseStatus.CLOSED: _("Closed without support"),
}


def status_label(status: str, kind: str) -> str:
    """A status as the record's own person is described: a relative is "in support", a client "in treatment"."""
    if kind == RecordKind.RELATIVE and status in RELATIVE_STATUS_LABELS:
        return str(RELATIVE_STATUS_LABELS[CaseStatus(status)])
    return str(CaseStatus(status).label)


#: The case workflow: status -> the statuses it may move to. The database enforces the same
#: pairs on StatusChange (see its constraint), so no code path can skip a step.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    CaseStatus.CONTACT: (CaseStatus.ASSESSMENT, CaseStatus.REFERRED, CaseStatus.CLOSED),
    CaseStatus.ASSESSMENT: (CaseStatus.IN_TREATMENT, CaseStatus.REFERRED, CaseStatus.CLOSED),
    # A referral out can come during treatment too (then the period ends as "referred on").
    CaseStatus.IN_TREATMENT: (CaseStatus.ENDED, CaseStatus.REFERRED),
    CaseStatus.ENDED: (CaseStatus.FOLLOWED_UP,),
    CaseStatus.FOLLOWED_UP: (),
    CaseStatus.REFERRED: (),
    CaseStatus.CLOSED: (),
}
#: While a case is here, the assessment conversation's decision can still be made or changed.
UNDECIDED = (CaseStatus.CONTACT, CaseStatus.ASSESSMENT)
#: From these a returning client opens a new treatment period, which starts at CONTACT.
FINISHED = (CaseStatus.ENDED, CaseStatus.FOLLOWED_UP, CaseStatus.REFERRED, CaseStatus.CLOSED)


class ClientQuerySet(models.QuerySet["Client"]):
    def visible_to(self, user) -> ClientQuerySet:
        """The one gate for reading clients: a therapist sees the cases they work on, in their clinic.

        Managers and administrators see no client record at all (they get figures, not files).
        """
        rule = visible_record_ids_sql(user)
        if rule is None:
            return self.none()
        return self.filter(pk__in=RawSQL(*rule))  # noqa: S611  (parameters bound)


def visible_record_ids_sql(user) -> tuple[str, list] | None:
    """The ids of the records a therapist may see, as SQL and its parameters: the rule of both gates.
    None for everyone else: managers and administrators see no record at all.

    In their clinic: the records they are responsible for, those they are co-therapist on, and those opened
    by break-the-glass until the access expires (logged, reviewed). A UNION of the user's own rows, so
    PostgreSQL walks the caseload (an OR of the three made it filter every client of the clinic, in every
    query built on the gate). Written as SQL because Django compiled the same three querysets again into
    every query built on the gate, about 5 ms each, several times a page (`make bench`, docs/performance.md).
    The table names are the models' own; only the parameters vary.
    """
    if not (user.is_authenticated and user.is_active and user.role == Role.THERAPIST):
        return None
    sql = f"""
        SELECT id FROM {Client._meta.db_table} WHERE clinic_id = %s AND id IN (
            SELECT id FROM {Client._meta.db_table} WHERE responsible_therapist_id = %s
            UNION ALL SELECT client_id FROM {Client.co_therapists.through._meta.db_table} WHERE user_id = %s
            UNION ALL SELECT client_id FROM {EmergencyAccess._meta.db_table} WHERE user_id = %s AND expires_at > %s
        )
    """  # noqa: S608
    return sql, [user.clinic_id, user.pk, user.pk, user.pk, timezone.now()]


@pghistory.track()
class Client(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    clinic = models.ForeignKey(
        "kast.Clinic", verbose_name=_("clinic"), on_delete=models.PROTECT, related_name="clients"
    )
    code = models.CharField(_("client code"), max_length=20, unique=True, editable=False)
    kind = models.CharField(
        _("record of"), max_length=10, choices=RecordKind.choices, default=RecordKind.CLIENT, editable=False
    )
    responsible_therapist = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("responsible therapist"),
        on_delete=models.PROTECT,
        related_name="responsible_for",
    )
    co_therapists = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("co-therapists"), related_name="co_therapist_for", blank=True
    )

    # Identifying details: all optional, hidden on every screen until deliberately shown.
    alias = models.CharField(_("first name or alias"), max_length=60, blank=True)
    full_name = models.CharField(_("full name"), max_length=150, blank=True)
    personnummer = models.CharField(
        _("personnummer or samordningsnummer"), max_length=13, blank=True, help_text=_("YYYYMMDD-NNNN")
    )
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    protected_identity = models.BooleanField(
        _("protected identity"),
        default=False,
        help_text=_("Only the responsible therapist can see the identifying details."),
    )

    birth_year = models.PositiveSmallIntegerField(_("birth year"), null=True, blank=True)
    gender = models.CharField(_("gender identity"), max_length=12, choices=Gender.choices, default=Gender.NOT_STATED)
    in_relationship = models.BooleanField(_("lives in a relationship"), null=True, blank=True)
    has_children = models.BooleanField(_("has children"), null=True, blank=True)
    children_ages = ArrayField(
        models.PositiveSmallIntegerField(), verbose_name=_("children's ages"), default=list, blank=True
    )
    occupation = models.CharField(_("occupation"), max_length=150, blank=True)
    education = models.CharField(_("education"), max_length=12, choices=Education.choices, default=Education.NOT_STATED)

    # Contact and referral
    first_contact_date = models.DateField(_("date of first contact"), default=timezone.localdate, validators=PAST_DATE)
    contact_method = models.CharField(
        _("contact made by"), max_length=10, choices=ContactMethod.choices, default=ContactMethod.PHONE
    )
    referral_source = models.CharField(
        _("referred by"), max_length=20, choices=ReferralSource.choices, default=ReferralSource.SELF
    )
    reason = models.TextField(_("reason for contact, in the person's own words"), blank=True, max_length=5000)
    target_groups = ArrayField(
        models.CharField(max_length=12, choices=TargetGroup.choices),
        verbose_name=_("target groups"),
        default=list,
        blank=True,
    )

    status = models.CharField(_("status"), max_length=12, choices=CaseStatus.choices, default=CaseStatus.CONTACT)
    # Set once, when the family map first became part of a signed text or left the system on paper (the
    # assessment conversation or a deep-interview section signed, the intake summary printed). From then on
    # its people and relationships are never deleted, only marked as entered in error (see FamilyMember).
    family_map_locked_at = models.DateTimeField(_("family map locked"), null=True, blank=True, editable=False)
    next_contact_date = models.DateField(_("next planned contact"), null=True, blank=True, validators=BOOKABLE_DATE)
    # Optimistic locking: a save carries the version it was read at (see services).
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    objects = ClientQuerySet.as_manager()

    class Meta:
        verbose_name = _("client")
        verbose_name_plural = _("clients")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["clinic", "responsible_therapist"], name="client_clinic_therapist"),
            models.Index(fields=["clinic", "status"], name="client_clinic_status"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "personnummer"],
                condition=~Q(personnummer=""),
                name="client_personnummer_unique_per_clinic",
                violation_error_message=_("A client with this personnummer is already registered at the clinic."),
            ),
            models.CheckConstraint(condition=Q(status__in=CaseStatus.values), name="client_status_valid"),
            models.CheckConstraint(condition=Q(kind__in=RecordKind.values), name="client_kind_valid"),
            models.CheckConstraint(
                condition=Q(birth_year__isnull=True) | Q(birth_year__gte=1900), name="client_birth_year_plausible"
            ),
            models.CheckConstraint(
                condition=Q(personnummer="") | Q(personnummer__regex=r"^[0-9]{8}-[0-9]{4}$"),
                name="client_personnummer_normalised",
            ),
        ]
        triggers = [
            FiguresChanged(name="figures_changed", clinic="clinic_id"),
            # The lock is one-way: unset, the map's people could be deleted after all.
            pgtrigger.Protect(
                name="family_map_lock_is_final",
                operation=pgtrigger.Update,
                condition=pgtrigger.Q(old__family_map_locked_at__isnull=False)
                & pgtrigger.Q(new__family_map_locked_at__df=pgtrigger.F("old__family_map_locked_at")),
            ),
        ]

    def __str__(self) -> str:
        return self.code

    def clean(self) -> None:
        errors: dict[str, str] = {}
        this_year = timezone.localdate().year
        if self.birth_year and self.birth_year > this_year:
            errors["birth_year"] = _("The birth year cannot be in the future.")
        elif self.birth_year and self.children_ages:
            # A parent is at least about 12 years older than their child.
            oldest_possible = this_year - self.birth_year - 12
            if max(self.children_ages) > oldest_possible:
                errors["children_ages"] = _(
                    "A child of %(age)s does not fit a client born in %(year)s. Check the ages and the birth year."
                ) % {"age": max(self.children_ages), "year": self.birth_year}
        if self.children_ages and self.has_children is False:
            errors["children_ages"] = _("Ages are given, but 'has children' says no.")
        therapist = self.responsible_therapist if self.responsible_therapist_id else None
        if therapist is not None and (therapist.clinic_id != self.clinic_id or therapist.role != Role.THERAPIST):
            errors["responsible_therapist"] = _("The responsible therapist must be a therapist at the client's clinic.")
        if errors:
            raise ValidationError(errors)

    def is_record_therapist(self, user) -> bool:
        """Who signs the assessment conversation and the deep interview and adds to them once signed: the
        therapists of the record (responsible, co-therapists) — the one place this is said. A colleague who opened
        the record by break-the-glass may read and write under review, but does not attest it as theirs."""
        if not (user is not None and user.is_authenticated and user.is_active and user.role == Role.THERAPIST):
            return False
        if user.clinic_id != self.clinic_id:
            return False
        return self.responsible_therapist_id == user.pk or self.co_therapists.filter(pk=user.pk).exists()

    @property
    def family_map_locked(self) -> bool:
        return self.family_map_locked_at is not None

    def can_see_identity(self, user) -> bool:
        """Protected identity: only the responsible therapist; otherwise everyone on the case."""
        return not self.protected_identity or self.responsible_therapist_id == user.pk

    @property
    def is_relative(self) -> bool:
        return self.kind == RecordKind.RELATIVE

    def get_status_display(self) -> str:  # Django's own would say "In treatment" on a relative's record too
        return status_label(self.status, self.kind)

    def allowed_transitions(self) -> tuple[str, ...]:
        return TRANSITIONS[self.status]

    def current_episode(self) -> Episode:
        """The latest treatment period (open, or the one that finished last)."""
        return self.episodes.order_by("-number").first()

    @property
    def target_group_labels(self) -> list[str]:
        return [TargetGroup(value).label for value in self.target_groups]


class EndReason(models.TextChoices):
    GOAL_REACHED = "goal_reached", _("Goal reached")
    CLIENT_ENDED = "client_ended", _("The client chose to end")
    MOVED = "moved", _("Moved")
    REFERRED_ON = "referred_on", _("Referred on")
    OTHER = "other", _("Other")


class Episode(models.Model):
    """A treatment period. A returning former client opens a new one on the same record."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="episodes")
    number = models.PositiveSmallIntegerField(_("period"))
    opened_on = models.DateField(_("opened"), default=timezone.localdate)
    closed_on = models.DateField(_("closed"), null=True, blank=True)
    end_reason = models.CharField(_("why the treatment ended"), max_length=14, choices=EndReason.choices, blank=True)

    class Meta:
        verbose_name = _("treatment period")
        verbose_name_plural = _("treatment periods")
        ordering = ["client", "number"]
        constraints = [
            models.UniqueConstraint(fields=["client", "number"], name="episode_number_unique"),
            models.UniqueConstraint(
                fields=["client"], condition=Q(closed_on__isnull=True), name="episode_one_open_per_client"
            ),
            models.CheckConstraint(
                condition=Q(closed_on__isnull=True) | Q(closed_on__gte=models.F("opened_on")),
                name="episode_closes_after_it_opens",
            ),
            models.CheckConstraint(
                condition=Q(end_reason="") | Q(end_reason__in=EndReason.values, closed_on__isnull=False),
                name="episode_end_reason_when_closed",
            ),
        ]
        triggers = [FiguresChanged(name="figures_changed", client="client_id")]

    def __str__(self) -> str:
        return f"{self.client_id} #{self.number}"


def _allowed_transition_pairs() -> Q:
    pairs = Q(from_status="", to_status=CaseStatus.CONTACT)  # a new period starts at contact
    for source, targets in TRANSITIONS.items():
        if targets:
            pairs |= Q(from_status=source, to_status__in=list(targets))
    return pairs


#: A new clinic's referral destinations, in Swedish as the clinic's own data (the administrator renames,
#: adds and retires them). The names are the clinic's list, never text typed into a record, so figures
#: may show them; "other" is counted but its details stay in the record.
DEFAULT_REFERRAL_DESTINATIONS = [
    "Psykiatrin",
    "Beroendevården",
    "Socialtjänsten",
    "Primärvården",
    "Sexualmedicinsk mottagning",
    "Annan KAST-mottagning",
    "Privat terapeut",
]
#: The name of the "other" entry of a new clinic's list.
OTHER_REFERRAL_DESTINATION = "Annat"


#: A section of the deep interview holds a part of a life story written over several meetings: twice a note's room.
INTERVIEW_SECTION_MAX_LENGTH = 100_000


class ReferralDestination(models.Model):
    """Where a clinic refers clients: a fixed list per clinic, so figures group by it and never by free text."""

    clinic = models.ForeignKey(
        "kast.Clinic", verbose_name=_("clinic"), on_delete=models.CASCADE, related_name="referral_destinations"
    )
    name = models.CharField(_("name"), max_length=80)
    is_other = models.BooleanField(
        _("other"), default=False, help_text=_("Counted in figures as “other”; the record's details are never shown.")
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    active = models.BooleanField(_("in use"), default=True)

    class Meta:
        verbose_name = _("referral destination")
        verbose_name_plural = _("referral destinations")
        ordering = ["clinic", "is_other", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["clinic", "name"], name="referraldestination_name_once"),
            models.UniqueConstraint(
                fields=["clinic"], condition=Q(is_other=True), name="referraldestination_one_other"
            ),
        ]
        # The figures show these names: a renamed destination must not be served from the cache.
        triggers = [FiguresChanged(name="figures_changed", clinic="clinic_id")]

    def __str__(self) -> str:
        return self.name


class StatusChange(models.Model):
    """One step of the case workflow: who, when and why. Append-only by convention and by service."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="status_changes")
    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(_("from"), max_length=12, choices=CaseStatus.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=12, choices=CaseStatus.choices)
    at = models.DateTimeField(_("time"), default=timezone.now)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT, related_name="+")
    reason = models.TextField(_("reason"), blank=True, max_length=5000)
    referred_to = models.ForeignKey(
        ReferralDestination, verbose_name=_("referred to"), on_delete=models.PROTECT, null=True, blank=True
    )
    # Details for the record only (a unit, a name): never grouped or shown in figures.
    destination = models.CharField(_("details of the referral"), max_length=150, blank=True)

    class Meta:
        verbose_name = _("status change")
        verbose_name_plural = _("status changes")
        ordering = ["at", "id"]
        constraints = [
            models.CheckConstraint(condition=_allowed_transition_pairs(), name="statuschange_allowed_transition"),
            models.CheckConstraint(
                condition=~Q(to_status=CaseStatus.REFERRED) | Q(referred_to__isnull=False),
                name="statuschange_referral_has_destination",
            ),
        ]
        triggers = [FiguresChanged(name="figures_changed", client="client_id")]

    def __str__(self) -> str:
        # In words, as the admin's deletion summary shows it: "Bedömning → I behandling", never the stored codes.
        return f"{self.get_from_status_display() or '–'} → {self.get_to_status_display()}"


class AssessmentDecision(models.TextChoices):
    ACCEPTED = "accepted", _("Accepted for treatment")
    REFERRED = "referred", _("Referred elsewhere")
    NOT_NOW = "not_now", _("Not now")


@pghistory.track()
class AssessmentConversation(models.Model):
    """The assessment conversation (bedömningssamtal) of one treatment period."""

    episode = models.OneToOneField(Episode, on_delete=models.CASCADE, related_name="assessment")
    held_on = models.DateField(_("held on"), default=timezone.localdate, validators=PAST_DATE)
    problem = models.TextField(_("the problem, as the client puts it"), blank=True, max_length=20000)
    goals = models.TextField(_("the client's goals for treatment"), blank=True, max_length=20000)
    assessment = models.TextField(_("the therapist's assessment"), blank=True, max_length=20000)
    decision = models.CharField(_("decision"), max_length=10, choices=AssessmentDecision.choices, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # Signed: final. PostgreSQL refuses to change or delete the row from then on (the trigger below, and its
    # guard, kast.db_roles); corrections are dated addenda (PartAddendum).
    signed_at = models.DateTimeField(_("signed"), null=True, blank=True, editable=False)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("signed by"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        editable=False,
    )

    class Meta:
        verbose_name = _("assessment conversation")
        verbose_name_plural = _("assessment conversations")
        constraints = [
            models.CheckConstraint(
                condition=Q(signed_at__isnull=True, signed_by__isnull=True)
                | Q(signed_at__isnull=False, signed_by__isnull=False),
                name="assessment_signed_by_someone",
            ),
        ]
        triggers = [
            pgtrigger.Protect(
                name="signed_assessment_is_final",
                operation=pgtrigger.Update | pgtrigger.Delete,
                condition=pgtrigger.Q(old__signed_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.episode}"

    @property
    def is_signed(self) -> bool:
        return self.signed_at is not None

    @property
    def has_text(self) -> bool:
        return any(text.strip() for text in (self.problem, self.goals, self.assessment))


class InterviewSection(models.TextChoices):
    """The deep-interview template (Mall för djupintervju), in the template's order."""

    CHILDHOOD = "childhood", _("Childhood")
    UPBRINGING = "upbringing", _("Upbringing: patterns and imprinting")
    VULNERABILITY = "vulnerability", _("Vulnerability")
    PUBERTY = "puberty", _("Puberty")
    SEXUAL_DEBUT = "sexual_debut", _("Sexual debut")
    SEXUAL_EXPERIENCES = "sexual_experiences", _("Sexual experiences")
    FIRST_LOVE = "first_love", _("First love")
    RELATIONSHIPS = "relationships", _("Relationships")
    BEHAVIOUR_DEBUT = "behaviour_debut", _("Debut of buying sex or start of the compulsive behaviour")


INTERVIEW_GUIDANCE: dict[str, StrOrPromise] = {
    InterviewSection.CHILDHOOD: _("Where and how was it? Interests, school, friends, experiences."),
    InterviewSection.UPBRINGING: _("Patterns and imprinting: which attitudes, behaviours and norms prevailed?"),
    InterviewSection.VULNERABILITY: _("Experiences of being exposed or harmed, and by whom; losses early in life."),
    InterviewSection.PUBERTY: _("How puberty was lived, and who the client could talk to."),
    InterviewSection.SEXUAL_DEBUT: _("When, with whom and how it was experienced."),
    InterviewSection.SEXUAL_EXPERIENCES: _("Later sexual experiences and what they have meant."),
    InterviewSection.FIRST_LOVE: _("The first time the client fell in love."),
    InterviewSection.RELATIONSHIPS: _("Relationships over the years: closeness, breaks, patterns."),
    InterviewSection.BEHAVIOUR_DEBUT: _(
        "When and how buying sex, or the compulsive behaviour, started; what was going on in life then."
    ),
}


@pghistory.track()
class DeepInterviewSection(models.Model):
    """One section of the deep interview (djupintervju), written over several sessions."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="interview_sections")
    section = models.CharField(_("section"), max_length=20, choices=InterviewSection.choices)
    text = models.TextField(_("text"), blank=True, max_length=INTERVIEW_SECTION_MAX_LENGTH)
    done = models.BooleanField(_("done"), default=False)
    version = models.PositiveIntegerField(default=1, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # Signed: final. PostgreSQL refuses to change or delete the row from then on (the trigger below, and its
    # guard, kast.db_roles); corrections are dated addenda (PartAddendum).
    signed_at = models.DateTimeField(_("signed"), null=True, blank=True, editable=False)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("signed by"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        editable=False,
    )

    class Meta:
        verbose_name = _("deep-interview section")
        verbose_name_plural = _("deep-interview sections")
        constraints = [
            models.UniqueConstraint(fields=["client", "section"], name="interview_section_unique"),
            models.CheckConstraint(condition=Q(section__in=InterviewSection.values), name="interview_section_valid"),
            models.CheckConstraint(
                condition=Q(signed_at__isnull=True, signed_by__isnull=True)
                | Q(signed_at__isnull=False, signed_by__isnull=False, done=True),
                name="interview_section_signed_by_someone",
            ),
        ]
        triggers = [
            pgtrigger.Protect(
                name="signed_section_is_final",
                operation=pgtrigger.Update | pgtrigger.Delete,
                condition=pgtrigger.Q(old__signed_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.get_section_display()

    @property
    def is_signed(self) -> bool:
        return self.signed_at is not None


class PartAddendum(models.Model):
    """A dated correction or addition below a signed assessment conversation or deep-interview section.

    One table for both parts (exactly one of the two keys is set): the same rule, form, display and print for
    each, and one trigger to keep them final, rather than two tables that would have to be kept alike.
    """

    conversation = models.ForeignKey(
        AssessmentConversation, on_delete=models.PROTECT, related_name="addenda", null=True, blank=True
    )
    section = models.ForeignKey(
        DeepInterviewSection, on_delete=models.PROTECT, related_name="addenda", null=True, blank=True
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("author"), on_delete=models.PROTECT, related_name="+"
    )
    text = models.TextField(_("addendum"), max_length=TEXT_MAX_LENGTH)
    created_at = models.DateTimeField(_("written"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("addendum")
        verbose_name_plural = _("addenda")
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(conversation__isnull=False, section__isnull=True)
                | Q(conversation__isnull=True, section__isnull=False),
                name="part_addendum_of_one_part",
            ),
            models.CheckConstraint(condition=~Q(text=""), name="part_addendum_not_empty"),
        ]
        # Unconditional, on UPDATE and DELETE: also what puts the table among the append-only ones (kast.db_roles).
        triggers = [pgtrigger.Protect(name="part_addendum_is_final", operation=pgtrigger.Update | pgtrigger.Delete)]

    def __str__(self) -> str:
        return f"{self.conversation_id or self.section_id} {self.created_at:%Y-%m-%d}"


class MarkedInError(models.Model):
    """A family-map row that can be marked as entered in error: once the map is locked a row is never deleted, only
    marked, with who, when and why. The rules each model adds under its own names: `reason_given`, `mark_is_final`."""

    entered_in_error_at = models.DateTimeField(_("marked as entered in error"), null=True, blank=True, editable=False)
    entered_in_error_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True, editable=False
    )
    error_reason = models.TextField(_("why it is entered in error"), blank=True, max_length=2000, editable=False)

    class Meta:
        abstract = True

    @property
    def is_entered_in_error(self) -> bool:
        return self.entered_in_error_at is not None

    @staticmethod
    def reason_given(name: str) -> models.CheckConstraint:
        """All three of the mark together, the reason not empty; or none of them."""
        return models.CheckConstraint(
            condition=Q(entered_in_error_at__isnull=True, entered_in_error_by__isnull=True, error_reason="")
            | (Q(entered_in_error_at__isnull=False, entered_in_error_by__isnull=False) & ~Q(error_reason="")),
            name=name,
        )

    @staticmethod
    def mark_is_final(name: str) -> pgtrigger.Protect:
        """Unmarked, a row that was wrong would be back in the map without a trace on the page."""
        return pgtrigger.Protect(
            name=name,
            operation=pgtrigger.Update | pgtrigger.Delete,
            condition=pgtrigger.Q(old__entered_in_error_at__isnull=False),
        )


def locked_map_keeps_rows(name: str) -> pgtrigger.Trigger:
    """A family map's row is not deleted once the client's map is locked (Client.family_map_locked_at): a trigger,
    because the rule reads another table, which a check constraint cannot. Retention, which removes the whole
    record, sets it aside by name (archive.services)."""
    return pgtrigger.Trigger(
        name=name,
        when=pgtrigger.Before,
        operation=pgtrigger.Delete,
        func="""
        IF EXISTS (
            SELECT 1 FROM clients_client WHERE id = OLD.client_id AND family_map_locked_at IS NOT NULL
        ) THEN
            RAISE EXCEPTION 'The family map is locked: its people and relationships are marked as entered in error, never deleted.'
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN OLD;
        """,
    )


class FamilyRelation(models.TextChoices):
    """How a person in the family map is related to the client; decides the genogram row."""

    CLIENT = "client", _("The client")
    GRANDPARENT = "grandparent", _("Grandparent")
    PARENT = "parent", _("Parent")
    STEP_PARENT = "step_parent", _("Step-parent")
    PARENTS_PARTNER = "parents_partner", _("Parent's other partner")
    AUNT_UNCLE = "aunt_uncle", _("Aunt or uncle")
    SIBLING = "sibling", _("Sibling")
    HALF_SIBLING = "half_sibling", _("Half-sibling")
    PARTNER = "partner", _("Partner")
    FORMER_PARTNER = "former_partner", _("Former partner")
    COUSIN = "cousin", _("Cousin")
    CHILD = "child", _("Child")
    GRANDCHILD = "grandchild", _("Grandchild")
    OTHER = "other", _("Other important person")


GENERATION = {
    FamilyRelation.GRANDPARENT: 0,
    FamilyRelation.PARENT: 1,
    FamilyRelation.STEP_PARENT: 1,
    FamilyRelation.PARENTS_PARTNER: 1,
    FamilyRelation.AUNT_UNCLE: 1,
    FamilyRelation.CLIENT: 2,
    FamilyRelation.SIBLING: 2,
    FamilyRelation.HALF_SIBLING: 2,
    FamilyRelation.PARTNER: 2,
    FamilyRelation.FORMER_PARTNER: 2,
    FamilyRelation.COUSIN: 2,
    FamilyRelation.OTHER: 2,
    FamilyRelation.CHILD: 3,
    FamilyRelation.GRANDCHILD: 4,
}


class Sex(models.TextChoices):
    """The genogram's symbol: square, circle, or a diamond for anyone else or unknown."""

    MALE = "male", _("Male (square)")
    FEMALE = "female", _("Female (circle)")
    OTHER = "other", _("Other or unknown (diamond)")


@pghistory.track()
class FamilyMember(MarkedInError):
    """A person in the client's family map (familjekarta)."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="family_members")
    label = models.CharField(
        _("name or label"), max_length=60, help_text=_("A first name or a label such as 'Morfar'.")
    )
    relation = models.CharField(_("relation to the client"), max_length=16, choices=FamilyRelation.choices)
    sex = models.CharField(_("sex"), max_length=6, choices=Sex.choices, default=Sex.OTHER)
    birth_year = models.PositiveSmallIntegerField(_("birth year"), null=True, blank=True)
    deceased = models.BooleanField(_("deceased"), default=False)
    death_year = models.PositiveSmallIntegerField(_("year of death"), null=True, blank=True)
    parents = models.ManyToManyField(
        "self", symmetrical=False, related_name="children", blank=True, verbose_name=_("parents in the map")
    )
    notes = models.TextField(_("notes"), blank=True, max_length=2000)

    class Meta:
        verbose_name = _("family member")
        verbose_name_plural = _("family members")
        ordering = ["birth_year", "id"]
        constraints = [
            models.UniqueConstraint(fields=["client"], condition=Q(relation="client"), name="family_one_client_node"),
            models.CheckConstraint(condition=Q(relation__in=FamilyRelation.values), name="family_relation_valid"),
            models.CheckConstraint(
                condition=Q(death_year__isnull=True) | Q(deceased=True), name="family_death_year_only_if_deceased"
            ),
            models.CheckConstraint(
                condition=Q(death_year__isnull=True)
                | Q(birth_year__isnull=True)
                | Q(death_year__gte=models.F("birth_year")),
                name="family_death_after_birth",
            ),
            MarkedInError.reason_given("family_member_error_has_reason"),
        ]
        triggers = [
            MarkedInError.mark_is_final("family_member_error_mark_is_final"),
            locked_map_keeps_rows("family_member_kept_once_locked"),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def generation(self) -> int:
        return GENERATION[self.relation]


class RelationshipKind(models.TextChoices):
    MARRIED = "married", _("Married")
    COHABITING = "cohabiting", _("Cohabiting")
    SEPARATED = "separated", _("Separated")
    DIVORCED = "divorced", _("Divorced")
    CLOSE = "close", _("Close")
    DISTANT = "distant", _("Distant")
    CONFLICT = "conflict", _("Conflict")
    CUT_OFF = "cut_off", _("Cut off")
    ABUSE = "abuse", _("Abuse")


@pghistory.track()
class FamilyRelationship(MarkedInError):
    """A line in the genogram between two people of the same family map."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="family_relationships")
    a = models.ForeignKey(FamilyMember, on_delete=models.CASCADE, related_name="+", verbose_name=_("person"))
    b = models.ForeignKey(FamilyMember, on_delete=models.CASCADE, related_name="+", verbose_name=_("other person"))
    kind = models.CharField(_("relationship"), max_length=12, choices=RelationshipKind.choices)

    class Meta:
        verbose_name = _("relationship")
        verbose_name_plural = _("relationships")
        constraints = [
            models.CheckConstraint(condition=~Q(a=models.F("b")), name="relationship_two_people"),
            models.UniqueConstraint(fields=["a", "b", "kind"], name="relationship_unique"),
            models.CheckConstraint(condition=Q(kind__in=RelationshipKind.values), name="relationship_kind_valid"),
            MarkedInError.reason_given("relationship_error_has_reason"),
        ]
        triggers = [
            MarkedInError.mark_is_final("relationship_error_mark_is_final"),
            locked_map_keeps_rows("relationship_kept_once_locked"),
        ]

    def __str__(self) -> str:
        return f"{self.a_id}-{self.b_id} {self.kind}"


class EmergencyAccess(models.Model):
    """Break-the-glass ("nödåtkomst"): a therapist of the clinic opens a record outside their caseload
    after stating why. The access lasts a few hours, every read in it is logged as usual, and the
    opening itself waits in the log review queue until a manager has looked at it."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="emergency_accesses")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="emergency_accesses")
    reason = models.TextField(_("why the record must be opened"), max_length=2000)
    opened_at = models.DateTimeField(_("opened"), default=timezone.now)
    expires_at = models.DateTimeField(_("open until"))

    class Meta:
        verbose_name = _("emergency access")
        verbose_name_plural = _("emergency accesses")
        indexes = [models.Index(fields=["user", "expires_at"], name="emergency_user_expires")]
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""), name="emergency_has_reason"),
            models.CheckConstraint(condition=Q(expires_at__gt=models.F("opened_at")), name="emergency_expires_later"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.client_id} {self.opened_at:%Y-%m-%d %H:%M}"


# -- the client's treatment goals ---------------------------------------------------------------------------------

#: A goal is a sentence or two in the client's words: room for that, not for a narrative (that stays in the
#: assessment conversation's text).
GOAL_MAX_LENGTH = 500


class GoalFiguresChanged(FiguresChanged):
    """FiguresChanged for a goal's review: the clinic is the goal's record's (kast.triggers)."""

    def get_func(self, model: models.Model) -> str:
        return """
            INSERT INTO kast_figuresstamp AS stamp (clinic_id, txid)
            SELECT DISTINCT c.clinic_id, txid_current()
            FROM clients_treatmentgoal g JOIN clients_client c ON c.id = g.client_id
            WHERE g.id = NEW.goal_id AND NOT EXISTS (
                SELECT 1 FROM kast_figuresstamp WHERE clinic_id = c.clinic_id AND txid = txid_current()
            )
            ON CONFLICT (clinic_id) DO UPDATE SET txid = EXCLUDED.txid;
            RETURN NULL;
        """


class GoalMoment(models.TextChoices):
    """When a goal is looked at again."""

    SESSION = "session", _("At a session")
    END = "end", _("At the end of treatment")
    FOLLOW_UP = "follow_up", _("At a follow-up")


class GoalOutcome(models.TextChoices):
    """What a review says of a goal: at a session whether it stands or was reworded; at the end and at a follow-up,
    whether it was reached."""

    KEPT = "kept", _("Kept as it is")
    CHANGED = "changed", _("Changed")
    REACHED = "reached", _("Reached")
    PARTLY = "partly", _("Partly reached")
    NOT_REACHED = "not_reached", _("Not reached")


#: The outcomes of a session's review, and of a review at the end or at a follow-up.
SESSION_OUTCOMES = (GoalOutcome.KEPT, GoalOutcome.CHANGED)
REACHED_OUTCOMES = (GoalOutcome.REACHED, GoalOutcome.PARTLY, GoalOutcome.NOT_REACHED)


@pghistory.track()
class TreatmentGoal(models.Model):
    """A goal of the client's for one treatment period, set at the assessment conversation (or later in the period).

    Its wording as first set stays here; a later rewording is a review (GoalReview, outcome "changed"), so the goal's
    history reads from the reviews and nothing is overwritten once the goal has been looked at again.
    """

    # The record too, as on sessions and follow-ups: the gate and the figures reach the record without a join.
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="treatment_goals")
    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="goals")
    wording = models.CharField(_("goal, in the client's words"), max_length=GOAL_MAX_LENGTH)
    set_on = models.DateField(_("set on"), default=timezone.localdate, validators=PAST_DATE)
    position = models.PositiveSmallIntegerField(_("position"), default=1)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("written"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("treatment goal")
        verbose_name_plural = _("treatment goals")
        ordering = ["episode", "position", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(wording=""), name="treatment_goal_not_empty"),
            models.UniqueConstraint(fields=["episode", "position"], name="treatment_goal_position_unique"),
        ]
        triggers = [
            FiguresChanged(name="figures_changed", client="client_id"),
            # Once looked at again, a goal's first wording is what the reviews refer to: a rewording is a review.
            pgtrigger.Trigger(
                name="reviewed_goal_is_final",
                when=pgtrigger.Before,
                operation=pgtrigger.Update | pgtrigger.Delete,
                func="""
                IF EXISTS (SELECT 1 FROM clients_goalreview WHERE goal_id = OLD.id) THEN
                    RAISE EXCEPTION 'A reviewed goal is not changed or deleted: a new wording is a review.'
                        USING ERRCODE = 'integrity_constraint_violation';
                END IF;
                IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
                RETURN NEW;
                """,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.episode_id} #{self.position}"


class GoalReview(models.Model):
    """A goal looked at again: kept or reworded at a session; reached, partly or not at the end or at a follow-up.

    Append-only (PostgreSQL refuses UPDATE and DELETE): the reviews are the goal's history, and the figures count the
    latest review at the end or at a follow-up."""

    # PROTECT, not CASCADE: a review is never deleted with its goal or session (a goal with reviews stays; removal
    # of the whole record deletes the reviews first, archive.services). Django then reads before it deletes, where a
    # cascade would send a DELETE the runtime role may not send to an append-only table.
    goal = models.ForeignKey(TreatmentGoal, on_delete=models.PROTECT, related_name="reviews")
    moment = models.CharField(_("when"), max_length=10, choices=GoalMoment.choices)
    outcome = models.CharField(_("outcome"), max_length=12, choices=GoalOutcome.choices)
    new_wording = models.CharField(_("new wording"), max_length=GOAL_MAX_LENGTH, blank=True)
    reviewed_on = models.DateField(_("date"), default=timezone.localdate, validators=PAST_DATE)
    # Held sessions are never deleted, only marked as wrongly recorded.
    session = models.ForeignKey(
        "therapy_sessions.TherapySession",
        verbose_name=_("session"),
        on_delete=models.PROTECT,
        related_name="goal_reviews",
        null=True,
        blank=True,
    )
    by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("written"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("goal review")
        verbose_name_plural = _("goal reviews")
        ordering = ["reviewed_on", "created_at", "id"]
        indexes = [models.Index(fields=["goal", "moment"], name="goal_review_goal_moment")]
        constraints = [
            models.CheckConstraint(condition=Q(moment__in=GoalMoment.values), name="goal_review_moment_valid"),
            # A session's review keeps or rewords; only the end and a follow-up say whether the goal was reached.
            models.CheckConstraint(
                condition=Q(moment=GoalMoment.SESSION, outcome__in=list(SESSION_OUTCOMES), session__isnull=False)
                | Q(moment__in=[GoalMoment.END, GoalMoment.FOLLOW_UP], outcome__in=list(REACHED_OUTCOMES)),
                name="goal_review_outcome_fits_moment",
            ),
            # A new wording exactly when the goal changed.
            models.CheckConstraint(
                condition=Q(outcome=GoalOutcome.CHANGED) & ~Q(new_wording="")
                | ~Q(outcome=GoalOutcome.CHANGED) & Q(new_wording=""),
                name="goal_review_new_wording_iff_changed",
            ),
            # The end of a treatment is reviewed once.
            models.UniqueConstraint(fields=["goal"], condition=Q(moment=GoalMoment.END), name="goal_review_end_once"),
            # A session reviews each goal once.
            models.UniqueConstraint(
                fields=["goal", "session"], condition=Q(session__isnull=False), name="goal_review_once_per_session"
            ),
        ]
        # Unconditional, on UPDATE and DELETE: also what puts the table among the append-only ones (kast.db_roles).
        triggers = [
            pgtrigger.Protect(name="goal_review_is_final", operation=pgtrigger.Update | pgtrigger.Delete),
            GoalFiguresChanged(name="figures_changed", operation=pgtrigger.Insert),
        ]

    def __str__(self) -> str:
        return f"{self.goal_id} {self.moment} {self.reviewed_on}"
