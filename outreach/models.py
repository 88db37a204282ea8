"""The clinic's outreach and attitude work: activities of the clinic, never of a client (no client data here)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kast.triggers import FiguresChanged
from kast.validators import IDENTIFYING_PATTERN, no_identifying_details

#: One activity is recorded for one day, so its hours are at most the day's.
MAX_HOURS = 24
#: An approximate audience: a large conference or a broadcast is counted as "large", not as a figure to trust.
MAX_AUDIENCE = 100_000


class Kind(models.TextChoices):
    FIELD_WORK = "field_work", _("Field work")
    INFORMATION = "information", _("Information meeting")
    TRAINING = "training", _("Training or lecture for professionals")
    CONSULTATION = "consultation", _("Consultation to a professional (case not identified)")
    MEDIA = "media", _("Media or web")
    COLLABORATION = "collaboration", _("Collaboration meeting with police or health care")


class AudienceKind(models.TextChoices):
    PROFESSIONALS = "professionals", _("Professionals")
    PUBLIC = "public", _("The public")
    POLICE = "police", _("Police")
    HEALTH_CARE = "health_care", _("Health care")
    SOCIAL_SERVICES = "social_services", _("Social services")
    SCHOOL = "school", _("School")
    OTHER = "other", _("Other")


class Partner(models.Model):
    """An organisation the clinic works with: a list per clinic, so figures never group by free text."""

    clinic = models.ForeignKey(
        "kast.Clinic", verbose_name=_("clinic"), on_delete=models.CASCADE, related_name="outreach_partners"
    )
    name = models.CharField(_("name"), max_length=120)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    active = models.BooleanField(
        _("in use"), default=True, help_text=_("Partners already named on activities cannot be deleted.")
    )

    class Meta:
        verbose_name = _("partner organisation")
        verbose_name_plural = _("partner organisations")
        ordering = ["clinic", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["clinic", "name"], name="outreach_partner_name_once")]

    def __str__(self) -> str:
        return self.name


class ActivityQuerySet(models.QuerySet["Activity"]):
    def visible_to(self, user: object) -> ActivityQuerySet:
        """The clinic's own activities, to its therapists and unit manager; nobody else sees them one by one
        (national follow-up has the counts only: figures.outreach)."""
        role = getattr(user, "role", "")
        clinic_id = getattr(user, "clinic_id", None)
        if role not in ("therapist", "manager") or clinic_id is None:
            return self.none()
        return self.filter(clinic_id=clinic_id)


class Activity(models.Model):
    """One outreach or attitude activity of a clinic. Its description is organisational, never about a client."""

    clinic = models.ForeignKey(
        "kast.Clinic", verbose_name=_("clinic"), on_delete=models.PROTECT, related_name="outreach_activities"
    )
    kind = models.CharField(_("kind of activity"), max_length=20, choices=Kind.choices)
    date = models.DateField(_("date"))
    hours = models.DecimalField(
        _("hours"),
        max_digits=4,
        decimal_places=1,
        validators=[MinValueValidator(Decimal("0.1")), MaxValueValidator(MAX_HOURS)],
    )
    staff = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("staff"), related_name="outreach_activities"
    )
    audience_kind = models.CharField(_("audience"), max_length=20, choices=AudienceKind.choices)
    audience_size = models.PositiveIntegerField(
        _("approximate audience size"),
        default=0,
        validators=[MinValueValidator(0), MaxValueValidator(MAX_AUDIENCE)],
        help_text=_("An estimate is enough; 0 when there was no audience (e.g. a consultation by phone)."),
    )
    partner = models.ForeignKey(
        Partner,
        verbose_name=_("partner organisation"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="activities",
    )
    description = models.TextField(
        _("short description"),
        max_length=1000,
        blank=True,
        # Managers and the national role's exports read it: a case consultation must stay unidentifiable here too.
        validators=[no_identifying_details],
        help_text=_("What was done and for whom, as an organisation. Never a client's name or case."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    objects = ActivityQuerySet.as_manager()

    class Meta:
        verbose_name = _("outreach activity")
        verbose_name_plural = _("outreach activities")
        ordering = ["-date", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=Kind.values), name="outreach_activity_kind_valid"),
            models.CheckConstraint(
                condition=Q(audience_kind__in=AudienceKind.values), name="outreach_activity_audience_valid"
            ),
            models.CheckConstraint(
                condition=Q(hours__gt=0) & Q(hours__lte=MAX_HOURS), name="outreach_activity_hours_range"
            ),
            models.CheckConstraint(
                condition=Q(audience_size__gte=0) & Q(audience_size__lte=MAX_AUDIENCE),
                name="outreach_activity_audience_size_range",
            ),
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("description"), 1000), name="outreach_activity_description_length"
            ),
            models.CheckConstraint(
                condition=~Q(description__regex=IDENTIFYING_PATTERN),
                name="outreach_activity_description_not_identifying",
            ),
        ]
        # The dashboard counts activities (figures.outreach) and is cached under the clinic's stamp. The staff are
        # set by the services in the activity's own write, so its row's trigger covers them too.
        triggers = [FiguresChanged(name="figures_changed", clinic="clinic_id")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.date}"

    def clean(self) -> None:
        # "Not in the future" is checked here, not as a CHECK constraint: PostgreSQL requires a CHECK to be
        # immutable, and one on now() would hold today and fail a restore or a re-validation tomorrow's way round.
        errors: dict[str, object] = {}
        if self.date is not None and self.date > timezone.localdate():
            errors["date"] = _("An activity is recorded after it took place: the date cannot be in the future.")
        if self.partner is not None and self.clinic_id is not None and self.partner.clinic_id != self.clinic_id:
            errors["partner"] = _("Choose one of the clinic's own partner organisations.")
        if errors:
            raise ValidationError(errors)
