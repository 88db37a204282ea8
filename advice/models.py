"""Advice contacts without a record (rådgivning): an anonymous call, e-mail, chat or visit, logged in a minute.

No name, no personnummer, no free text that could identify: only fixed choices, so that the contacts count in the
figures and are never listed to managers one by one. The optional remark follows the rules of notes: therapists only.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clients.models import ReferralDestination, TargetGroup
from kast.triggers import FiguresChanged
from kast.validators import IDENTIFYING_PATTERN, PAST_DATE, no_identifying_details

#: The remark is a short internal reminder, not a note: kept short so it does not grow into a record.
REMARK_MAX_LENGTH = 300


class Channel(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("E-mail")
    CHAT = "chat", _("Chat or web form")
    WALK_IN = "walk_in", _("Walk-in")


class Who(models.TextChoices):
    SELF = "self", _("The person themself")
    RELATIVE = "relative", _("Relative or partner")
    PROFESSIONAL = "professional", _("Professional")
    OTHER = "other", _("Other")


class Outcome(models.TextChoices):
    ADVICE = "advice", _("Advice given")
    OFFERED = "offered", _("Offered an appointment")
    REFERRED = "referred", _("Referred elsewhere")
    BOOKED = "booked", _("Booked")


#: A new clinic's topics (the administrator edits the list on the clinic's page).
DEFAULT_ADVICE_TOPICS = [
    "Köp av sexuella tjänster",
    "Tvångsmässigt sexuellt beteende",
    "Oro för närstående",
    "Frågor om behandling",
    "Annat",
]


#: An advice contact's channel as a client record's contact method (clients.models.ContactMethod).
CONTACT_METHOD_FOR_CHANNEL = {
    Channel.PHONE: "phone",
    Channel.EMAIL: "email",
    Channel.CHAT: "other",
    Channel.WALK_IN: "walk_in",
}


class AdviceTopic(models.Model):
    """What an advice contact was about: a short list per clinic, so figures group by it and never by free text."""

    clinic = models.ForeignKey(
        "kast.Clinic", verbose_name=_("clinic"), on_delete=models.CASCADE, related_name="advice_topics"
    )
    name = models.CharField(_("name"), max_length=80)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    active = models.BooleanField(_("in use"), default=True)

    class Meta:
        verbose_name = _("advice topic")
        verbose_name_plural = _("advice topics")
        ordering = ["clinic", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["clinic", "name"], name="advicetopic_name_once")]
        # The figures show these names: a renamed topic must not be served from the cache.
        triggers = [FiguresChanged(name="figures_changed", clinic="clinic_id")]

    def __str__(self) -> str:
        return self.name


class AdviceContactQuerySet(models.QuerySet["AdviceContact"]):
    def visible_to(self, user) -> AdviceContactQuerySet:
        """A clinic's therapists see its advice contacts; managers and administrators none (they get counts)."""
        from kast.models import Role

        if not (user.is_authenticated and user.is_active and user.role == Role.THERAPIST):
            return self.none()
        return self.filter(clinic_id=user.clinic_id)


class AdviceContact(models.Model):
    clinic = models.ForeignKey(
        "kast.Clinic", verbose_name=_("clinic"), on_delete=models.PROTECT, related_name="advice_contacts"
    )
    logged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("logged by"), on_delete=models.PROTECT, related_name="+"
    )
    logged_at = models.DateTimeField(_("logged at"), default=timezone.now, editable=False)
    date = models.DateField(_("date"), default=timezone.localdate, validators=PAST_DATE)
    minutes = models.PositiveSmallIntegerField(
        _("duration (minutes)"), default=10, validators=[MinValueValidator(1), MaxValueValidator(600)]
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    who = models.CharField(_("who made contact"), max_length=12, choices=Who.choices)
    target_group = models.CharField(_("target group"), max_length=12, choices=TargetGroup.choices)
    topic = models.ForeignKey(AdviceTopic, verbose_name=_("topic"), on_delete=models.PROTECT, related_name="+")
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    referred_to = models.ForeignKey(
        ReferralDestination,
        verbose_name=_("referred to"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    returning = models.BooleanField(
        _("has made contact before"), default=False, help_text=_("By the person's own word.")
    )
    remark = models.CharField(
        _("internal remark"),
        max_length=REMARK_MAX_LENGTH,
        blank=True,
        validators=[no_identifying_details],
        help_text=_("Optional. Nothing that could identify the person. Shown to the clinic's therapists only."),
    )
    converted_to = models.OneToOneField(
        "clients.Client",
        verbose_name=_("registered as"),
        # A record removed (archive: retention, or its removal) leaves the contact standing as a count.
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="advice_contact",
    )

    objects = AdviceContactQuerySet.as_manager()

    class Meta:
        verbose_name = _("advice contact")
        verbose_name_plural = _("advice contacts")
        ordering = ["-date", "-logged_at"]
        indexes = [models.Index(fields=["clinic", "date"], name="advicecontact_clinic_date")]
        constraints = [
            models.CheckConstraint(condition=Q(channel__in=Channel.values), name="advicecontact_channel_valid"),
            models.CheckConstraint(condition=Q(who__in=Who.values), name="advicecontact_who_valid"),
            models.CheckConstraint(
                condition=Q(target_group__in=TargetGroup.values), name="advicecontact_target_group_valid"
            ),
            models.CheckConstraint(condition=Q(outcome__in=Outcome.values), name="advicecontact_outcome_valid"),
            # A referral names where to, from the clinic's fixed list; any other outcome names none.
            models.CheckConstraint(
                condition=Q(outcome=Outcome.REFERRED, referred_to__isnull=False)
                | (~Q(outcome=Outcome.REFERRED) & Q(referred_to__isnull=True)),
                name="advicecontact_referral_rule",
            ),
            models.CheckConstraint(condition=Q(minutes__gte=1, minutes__lte=600), name="advicecontact_minutes_range"),
            # The remark's field validator says it on the field; this holds for every other writer.
            models.CheckConstraint(
                condition=~Q(remark__regex=IDENTIFYING_PATTERN), name="advicecontact_remark_not_identifying"
            ),
        ]
        # The managers' counts are cached: a logged contact moves its clinic's stamp (figures.cached_figures).
        triggers = [FiguresChanged(name="figures_changed", clinic="clinic_id")]

    def __str__(self) -> str:
        return f"{self.date} {self.get_channel_display()}"

    def clean(self) -> None:
        """The referral rule of the constraint, said on the field the form shows."""
        if self.outcome == Outcome.REFERRED and self.referred_to_id is None:
            raise ValidationError({"referred_to": _("Choose where the person was referred.")})
        if self.outcome != Outcome.REFERRED and self.referred_to_id is not None:
            raise ValidationError({"referred_to": _("A destination is chosen only when the person was referred.")})
