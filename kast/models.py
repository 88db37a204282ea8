"""Cross-cutting records: clinics, staff with their role, their login sessions, and the append-only logs."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any, ClassVar

import pghistory
import pgtrigger
from django.apps import apps
from django.contrib.auth.models import AbstractUser, UserManager
from django.contrib.sessions.models import Session
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from kast.triggers import FiguresChanged


@pghistory.track()
class Clinic(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    # Prefix of the clinic's client codes (GBG-2026-0042), so a code shows where a record lives.
    code = models.CharField(
        _("code"),
        max_length=5,
        unique=True,
        validators=[RegexValidator(r"^[A-Z]{2,5}$", _("Two to five capital letters A–Z."))],
        help_text=_("Two to five capital letters, used as the prefix of client codes."),
    )
    follow_up_months = models.PositiveSmallIntegerField(
        _("follow-up conversation after (months)"),
        default=6,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
        help_text=_("How long after a treatment ends the follow-up conversation is due."),
    )
    long_term_follow_up_months = models.PositiveSmallIntegerField(
        _("long-term check after (months)"),
        default=24,
        validators=[MinValueValidator(1), MaxValueValidator(240)],
        help_text=_("Offered when a treatment ends; the evaluation asks for measurements years later."),
    )
    draft_reminder_days = models.PositiveSmallIntegerField(
        _("remind of unsigned notes after (days)"),
        default=2,
        validators=[MaxValueValidator(60)],
        help_text=_("A draft older than this is listed to its author as a note to sign."),
    )
    # Sessions are booked inside these hours on weekdays; one outside them is saved only after a confirmation
    # (an evening session can be right, a typing error in the hour is more likely). The bookings view shows the
    # free time between them.
    opens_at = models.TimeField(_("opens at"), default=datetime.time(8, 0))
    closes_at = models.TimeField(_("closes at"), default=datetime.time(17, 0))
    # What the clinic offers (kast.profile): the clinics work differently (Malmö answers anonymous advice calls,
    # Stockholm does outreach with the police), and a part a clinic does not offer has no menu item, no page (404)
    # and no table in its figures. All on by default: a clinic does everything until its administrator says not.
    offers_advice = models.BooleanField(
        _("advice contacts"),
        default=True,
        help_text=_(
            "Anonymous advice by phone, e-mail or chat, logged without a record. Off: no advice pages and no "
            "advice figures."
        ),
    )
    offers_outreach = models.BooleanField(
        _("outreach and attitude work"),
        default=True,
        help_text=_(
            "Field work, information, training and collaboration meetings. Off: no outreach pages and no outreach "
            "figures."
        ),
    )
    offers_relatives = models.BooleanField(
        _("support to relatives and partners"),
        default=True,
        help_text=_(
            "Relatives and partners with records of their own. Off: relatives can be neither registered nor "
            "opened, and the figures leave them out; the clients' records and the child perspective stay."
        ),
    )
    offers_groups = models.BooleanField(
        _("group programmes"),
        default=True,
        help_text=_("Programmes with a roster and group meetings. Off: no group pages and no group figures."),
    )
    offers_fees = models.BooleanField(
        _("session fees"),
        default=True,
        help_text=_(
            "Sessions are charged for. Off: the session forms ask for no fee, new sessions cost nothing and the "
            "figures show no fees."
        ),
    )

    class Meta:
        verbose_name = _("clinic")
        verbose_name_plural = _("clinics")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=models.Q(code__regex=r"^[A-Z]{2,5}$"), name="clinic_code_format"),
            models.CheckConstraint(
                condition=models.Q(closes_at__gt=models.F("opens_at")),
                name="clinic_closes_after_opening",
                violation_error_message=_("The clinic must close after it opens."),
            ),
        ]
        # The national figures group by clinic name.
        triggers = [FiguresChanged(name="figures_changed", clinic="id")]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    THERAPIST = "therapist", _("Therapist")
    MANAGER = "manager", _("Unit manager")
    ADMIN = "admin", _("System administrator")
    #: Follows up KAST across all clinics (e.g. a national coordinator): figures only,
    #: with small counts suppressed; never a client record.
    NATIONAL = "national", _("National follow-up")
    #: Produces the pseudonymised research file (figures.research), for a stated purpose recorded with
    #: each export; nothing else. Without a clinic, for all clinics.
    RESEARCHER = "researcher", _("Researcher")


class StaffManager(UserManager["User"]):
    def create_superuser(
        self, username: str, email: str | None = None, password: str | None = None, **extra_fields: Any
    ) -> User:
        # `createsuperuser` makes the IT department's first account: a system administrator.
        extra_fields.setdefault("role", Role.ADMIN)
        return super().create_superuser(username, email, password, **extra_fields)


@pghistory.track(exclude=["password", "last_login"])
class User(AbstractUser):
    """A member of staff. Every account has exactly one role; therapists and managers one clinic."""

    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    clinic = models.ForeignKey(
        Clinic,
        verbose_name=_("clinic"),
        on_delete=models.PROTECT,
        related_name="staff",
        null=True,
        blank=True,
        help_text=_(
            "Required for therapists and unit managers. Administrators and national follow-up serve all clinics; "
            "a researcher without a clinic exports from all clinics."
        ),
    )

    #: Full-time equivalent, so the dashboard can give sessions per full-time therapist (1.0 = full time).
    fte = models.DecimalField(
        _("full-time equivalent"),
        max_digits=3,
        decimal_places=2,
        default=Decimal("1.00"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1.00"))],
        help_text=_("1.00 for full time, 0.50 for half time. Used for sessions per full-time therapist."),
    )

    objects: ClassVar[StaffManager] = StaffManager()

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff")
        constraints = [
            models.CheckConstraint(condition=models.Q(role__in=Role.values), name="user_role_valid"),
            models.CheckConstraint(
                condition=models.Q(role__in=[Role.ADMIN, Role.NATIONAL, Role.RESEARCHER])
                | models.Q(clinic__isnull=False),
                name="user_clinic_required_unless_admin",
            ),
            models.CheckConstraint(condition=models.Q(fte__gte=0, fte__lte=1), name="user_fte_range"),
            # Django's admin site is the administrators' tool only.
            models.CheckConstraint(
                condition=models.Q(role=Role.ADMIN) | models.Q(is_staff=False, is_superuser=False),
                name="user_only_admins_are_staff",
            ),
        ]
        # Figures name therapists and count their working time; a login (last_login) changes no figure.
        triggers = [
            FiguresChanged(
                name="figures_changed",
                clinic="clinic_id",
                operation=pgtrigger.Insert
                | pgtrigger.Delete
                | pgtrigger.UpdateOf("first_name", "last_name", "username", "role", "clinic_id", "fte", "is_active"),
            )
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @property
    def is_therapist(self) -> bool:
        return self.role == Role.THERAPIST

    @property
    def is_manager(self) -> bool:
        return self.role == Role.MANAGER

    @property
    def is_administrator(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def is_national(self) -> bool:
        return self.role == Role.NATIONAL

    @property
    def is_researcher(self) -> bool:
        return self.role == Role.RESEARCHER


#: The longest text a note or an addendum may hold (about 25 pages):
#: room for any real text, and a bound on what one request can make the database and the PDF carry.
TEXT_MAX_LENGTH = 50_000

#: The object type the calendar feed's fetches are logged under: routine, so not an export for the review queue.
CALENDAR_FEED = "therapy_sessions.calendarfeed"


#: The object types that are no model, in words (AccessLogEntry.object_type_label).
OBJECT_TYPE_LABELS = {
    CALENDAR_FEED: _("Calendar feed"),
    "kast.dashboard": _("Figures"),
    "kast.year_report": _("Yearly report"),
    "kast.user_password": _("Staff password"),
    "assessments.research_export": _("Research file"),
}


class AccessLogEntry(models.Model):
    """One read or write of client data ("loggkontroll"). PostgreSQL refuses UPDATE and DELETE.

    The client is kept as a bare id, not a foreign key: the log must outlive the record it
    points at (retention removes clients, never their access history).
    """

    class Action(models.TextChoices):
        VIEW = "view", _("Viewed")
        CREATE = "create", _("Created")
        UPDATE = "update", _("Changed")
        PRINT = "print", _("Printed")
        EXPORT = "export", _("Exported")
        DENIED = "denied", _("Denied")
        REVEAL = "reveal", _("Showed identity")
        #: A change to a staff account (a password reset, a second factor removed, a new role or clinic): the
        #: login log holds what; this row puts it before the log reviewers (audit.selectors.review_queue).
        ACCOUNT = "account", _("Changed a staff account")
        #: Read a record's change history (archive.history): who changed what in it, and when.
        HISTORY = "history", _("Read the change history")

    at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    user = models.ForeignKey(User, verbose_name=_("user"), on_delete=models.PROTECT, related_name="access_log")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    clinic = models.ForeignKey(
        Clinic, verbose_name=_("clinic"), on_delete=models.PROTECT, null=True, related_name="access_log"
    )
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    client_id = models.UUIDField(_("client"), null=True, blank=True, db_index=True)
    # What was touched, as "<app>.<model>" and its id; never a name or any content.
    object_type = models.CharField(_("record type"), max_length=60, blank=True)
    object_id = models.CharField(_("record id"), max_length=64, blank=True)
    path = models.CharField(_("address"), max_length=300, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["clinic", "-at"], name="accesslog_clinic_at")]
        triggers = [
            pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.user_id} {self.action} {self.object_type}"

    #: Entries whose time of day is shown as the day only: a questionnaire's submission at a known minute
    #: could be matched against a report of a short period to tell whose answers it shows.
    DAY_ONLY_TYPES = frozenset({"assessments.administration", "assessments.answer"})

    @property
    def day_only(self) -> bool:
        return self.object_type in self.DAY_ONLY_TYPES

    @property
    def object_type_label(self) -> str:
        """What was touched, in words: a model's name ("Klient"), a page of an app for a refused or logged URL
        ("Sida i Klienter"), or one of the few named things (the dashboard, the calendar feed). The log keeps
        the code, which does not change with the language; the people who read the log get words."""
        kind = self.object_type
        if not kind:
            return ""
        if kind in OBJECT_TYPE_LABELS:
            return str(OBJECT_TYPE_LABELS[kind])
        if ":" in kind:  # a URL name, logged by the middleware for a page without a record
            namespace = kind.split(":", 1)[0]
            config = next((c for c in apps.get_app_configs() if namespace in (c.label, c.name)), None)
            return str(_("Page in %(app)s") % {"app": config.verbose_name}) if config else str(_("Page"))
        try:
            return str(capfirst(apps.get_model(kind)._meta.verbose_name))
        except (LookupError, ValueError):
            return str(_("Other"))

    @property
    def account_change(self) -> str:
        """An ACCOUNT entry in words, e.g. "Role changed: anna (therapist → manager)". Its reason holds the
        login-log event, the account's username and any detail (kast.services.account_change_record)."""
        event, _space, rest = self.reason.partition(" ")
        username, _space, detail = rest.partition(" ")
        label = LoginEvent.Event(event).label if event in LoginEvent.Event.values else event
        return f"{label}: {username} ({detail})" if detail else f"{label}: {username}"


class LoginEvent(models.Model):
    """One login, failed login, lockout, logout or timeout: who (or which username was tried), from where,
    when, and the outcome. Never a password or a code. PostgreSQL refuses UPDATE and DELETE.

    Not an AccessLogEntry: a failed login often has no user to point at, and these are no reads of client data.
    """

    class Event(models.TextChoices):
        LOGIN = "login", _("Logged in")
        PASSWORD_ONLY = "password_only", _("Password accepted, second factor to be set up")
        FAILED = "failed", _("Login failed")
        CODE_FAILED = "code_failed", _("Wrong code")
        LOCKED_OUT = "locked_out", _("Locked out")
        SECOND_FACTOR_SET_UP = "second_factor_set_up", _("Second factor set up")
        PASSWORD_CHANGED = "password_changed", _("Password changed")
        LOGOUT = "logout", _("Logged out")
        TIMEOUT = "timeout", _("Signed out for inactivity or time")
        SESSIONS_ENDED = "sessions_ended", _("Sessions ended by an administrator")
        THROTTLED = "throttled", _("Made to wait: too many failed logins from the address")
        # Changes to the account (ACCOUNT_CHANGES): also in the access log for the log review, and told to the
        # user at her next login.
        RESET_STARTED = "reset_started", _("Password reset started by an administrator")
        RESET_COMPLETED = "reset_completed", _("New password set with a reset link")
        SECOND_FACTOR_REMOVED = "second_factor_removed", _("Authenticator and backup codes removed")
        ROLE_CHANGED = "role_changed", _("Role changed")
        CLINIC_CHANGED = "clinic_changed", _("Clinic changed")

    at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    event = models.CharField(_("event"), max_length=30, choices=Event.choices)
    user = models.ForeignKey(
        User, verbose_name=_("user"), on_delete=models.PROTECT, null=True, blank=True, related_name="login_events"
    )
    # As typed at the login form, so failed attempts on unknown or mistyped names are visible too.
    username = models.CharField(_("username"), max_length=150, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("login event")
        verbose_name_plural = _("login log")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["username", "-at"], name="loginevent_username_at")]
        triggers = [
            pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.username} {self.event}"

    #: What was done to an account rather than by it: reviewed, and told to its user at the next login.
    ACCOUNT_CHANGES = (
        Event.RESET_STARTED,
        Event.RESET_COMPLETED,
        Event.SECOND_FACTOR_REMOVED,
        Event.ROLE_CHANGED,
        Event.CLINIC_CHANGED,
    )


class StaffSession(models.Model):
    """A signed-in browser of a member of staff, so that logout, a password change or an administrator can
    end all of a user's sessions. One row per Django session; it goes when the session goes."""

    session = models.OneToOneField(
        Session, verbose_name=_("login session"), on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    user = models.ForeignKey(User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="staff_sessions")
    started_at = models.DateTimeField(_("signed in"), default=timezone.now)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("login session")
        verbose_name_plural = _("login sessions")
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.user_id} {self.started_at:%Y-%m-%d %H:%M}"


class FiguresStamp(models.Model):
    """The last transaction that changed the data a clinic's figures are counted from.

    Written only by PostgreSQL, through the `FiguresChanged` triggers on every table the dashboard and the
    questionnaire reports read; the managers' figures are cached under these stamps (figures.cached_figures).
    Clinic 0 stamps what all clinics share. A plain integer, not a foreign key: a stamp outliving its
    clinic is harmless, and the triggers must never fail a write.
    """

    clinic_id = models.IntegerField(primary_key=True)
    txid = models.BigIntegerField()

    def __str__(self) -> str:
        return f"{self.clinic_id}: {self.txid}"
