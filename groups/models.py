"""Group programmes (gruppsamtal): a roster of records, planned meetings, attendance per participant and one note
per meeting, written once and split by the relatives' wall.

The note has a part for the clients and a part for the relatives: each record shows only the part of its own side
(a relative's content never on a client's record and the other way round). A signed note is final: PostgreSQL
refuses to change or delete it, and an addendum (to one part) is the only way to add to it, as for session notes.
"""

from __future__ import annotations

import pgtrigger
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from clients.models import RecordKind
from kast.models import TEXT_MAX_LENGTH
from kast.triggers import FiguresChanged
from kast.validators import BOOKABLE_DATE

MAX_DURATION_MINUTES = 480


class ProgrammeStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class MeetingStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    HELD = "held", _("Held")
    CANCELLED = "cancelled", _("Cancelled")


class Invited(models.TextChoices):
    """Who a meeting is for: the 2018 pilot had two meetings with the couples and three with the relatives alone."""

    ALL = "all", _("Everyone in the group")
    CLIENTS = "clients", _("Clients only")
    RELATIVES = "relatives", _("Relatives only")


class Presence(models.TextChoices):
    ATTENDED = "attended", _("Attended")
    ABSENT_NOTICE = "absent_notice", _("Absent, with notice")
    ABSENT_NO_NOTICE = "absent_no_notice", _("Absent, without notice")


class Part(models.TextChoices):
    """The two sides of the wall a group note is written in."""

    CLIENTS = "clients", _("The clients' part")
    RELATIVES = "relatives", _("The relatives' part")


#: The side of the wall a record stands on.
PART_OF_KIND = {RecordKind.CLIENT: Part.CLIENTS, RecordKind.RELATIVE: Part.RELATIVES}
#: The record kinds a meeting is for.
KINDS_INVITED = {
    Invited.ALL: (RecordKind.CLIENT, RecordKind.RELATIVE),
    Invited.CLIENTS: (RecordKind.CLIENT,),
    Invited.RELATIVES: (RecordKind.RELATIVE,),
}


class ProgrammeFiguresChanged(FiguresChanged):
    """A row that names its programme, not its clinic, moves the stamp of the programme's clinic (through `via`,
    SQL reaching the programme from the row's `column`). As sessions.models.MethodFiguresChanged, one join away."""

    def __init__(self, *, name: str, column: str, through: str) -> None:
        self.through = through
        self.through_column = column
        super().__init__(name=name, clinic=column)

    def get_func(self, model: models.Model) -> str:
        func = super().get_func(model)
        column = self.through_column
        plain = f"SELECT DISTINCT c FROM unnest(ARRAY[NEW.{column}, OLD.{column}]) AS c WHERE c IS NOT NULL"  # noqa: S608  (the model's own column)
        if plain not in func:
            raise ImproperlyConfigured("ProgrammeFiguresChanged no longer matches FiguresChanged's SQL.")
        return func.replace(plain, self.through.format(new=f"NEW.{column}", old=f"OLD.{column}"))


class GroupProgrammeQuerySet(models.QuerySet["GroupProgramme"]):
    def visible_to(self, user) -> GroupProgrammeQuerySet:
        """The one gate: a clinic's therapists see its programmes. Managers get counts (figures), never a note;
        administrators and national follow-up nothing."""
        from kast.models import Role

        if not (user.is_authenticated and user.is_active and user.role == Role.THERAPIST and user.clinic_id):
            return self.none()
        return self.filter(clinic_id=user.clinic_id)


class GroupProgramme(models.Model):
    """A group programme of the clinic (e.g. "Gruppsamtal för par"); the description is organisational text."""

    clinic = models.ForeignKey(
        "kast.Clinic", verbose_name=_("clinic"), on_delete=models.PROTECT, related_name="group_programmes"
    )
    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(
        _("format"),
        blank=True,
        max_length=2000,
        help_text=_("How the group works (meetings, who takes part). Organisational text: nothing about a person."),
    )
    start_date = models.DateField(_("start date"), validators=BOOKABLE_DATE)
    leaders = models.ManyToManyField(settings.AUTH_USER_MODEL, verbose_name=_("group leaders"), related_name="+")
    status = models.CharField(_("status"), max_length=8, choices=ProgrammeStatus.choices, default=ProgrammeStatus.OPEN)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    objects = GroupProgrammeQuerySet.as_manager()

    class Meta:
        verbose_name = _("group programme")
        verbose_name_plural = _("group programmes")
        ordering = ["-start_date", "name"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=ProgrammeStatus.values), name="groupprogramme_status_valid"),
            models.CheckConstraint(condition=~Q(name=""), name="groupprogramme_has_name"),
        ]
        triggers = [FiguresChanged(name="figures_changed", clinic="clinic_id")]

    def __str__(self) -> str:
        return self.name

    def is_leader(self, user) -> bool:
        return user is not None and self.leaders.filter(pk=user.pk).exists()


class GroupMember(models.Model):
    """A record on the roster: a client's or a relative's (a relative's record is a clients.Client of kind
    "relative", so both sides of the wall are the same table)."""

    programme = models.ForeignKey(GroupProgramme, on_delete=models.CASCADE, related_name="members")
    record = models.ForeignKey(
        "clients.Client", verbose_name=_("record"), on_delete=models.PROTECT, related_name="group_memberships"
    )
    joined_on = models.DateField(_("joined"), default=timezone.localdate, validators=BOOKABLE_DATE)
    left_on = models.DateField(_("left"), null=True, blank=True, validators=BOOKABLE_DATE)

    class Meta:
        verbose_name = _("group member")
        verbose_name_plural = _("group members")
        ordering = ["programme", "joined_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "record"], name="groupmember_once_per_programme"),
            models.CheckConstraint(
                condition=Q(left_on__isnull=True) | Q(left_on__gte=models.F("joined_on")),
                name="groupmember_left_after_joined",
            ),
        ]
        indexes = [models.Index(fields=["record", "programme"], name="groupmember_record")]
        triggers = [FiguresChanged(name="figures_changed", client="record_id")]

    def __str__(self) -> str:
        return f"{self.programme_id}: {self.record_id}"

    def clean(self) -> None:
        if self.left_on and self.joined_on and self.left_on < self.joined_on:
            raise ValidationError({"left_on": _("A member cannot leave before joining.")})


class GroupMeeting(models.Model):
    programme = models.ForeignKey(GroupProgramme, on_delete=models.CASCADE, related_name="meetings")
    date = models.DateField(_("date"), validators=BOOKABLE_DATE)
    start_time = models.TimeField(_("start time"))
    duration_minutes = models.PositiveSmallIntegerField(
        _("length (minutes)"), default=90, validators=[MinValueValidator(1), MaxValueValidator(MAX_DURATION_MINUTES)]
    )
    status = models.CharField(_("status"), max_length=10, choices=MeetingStatus.choices, default=MeetingStatus.PLANNED)
    invited = models.CharField(_("who is invited"), max_length=10, choices=Invited.choices, default=Invited.ALL)

    class Meta:
        verbose_name = _("group meeting")
        verbose_name_plural = _("group meetings")
        ordering = ["date", "start_time", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(duration_minutes__gte=1, duration_minutes__lte=MAX_DURATION_MINUTES),
                name="groupmeeting_duration_range",
            ),
            models.CheckConstraint(condition=Q(status__in=MeetingStatus.values), name="groupmeeting_status_valid"),
            models.CheckConstraint(condition=Q(invited__in=Invited.values), name="groupmeeting_invited_valid"),
        ]
        triggers = [
            ProgrammeFiguresChanged(
                name="figures_changed",
                column="programme_id",
                through="SELECT DISTINCT clinic_id FROM groups_groupprogramme WHERE id IN ({new}, {old})",
            )
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.start_time:%H:%M}"

    def clean(self) -> None:
        if self.status == MeetingStatus.HELD and self.date and self.date > timezone.localdate():
            raise ValidationError({"status": _("A meeting in the future cannot have been held yet.")})

    @property
    def kinds_invited(self) -> tuple[str, ...]:
        return KINDS_INVITED[Invited(self.invited)]

    @property
    def parts(self) -> tuple[str, ...]:
        """The parts of the note this meeting has: only the sides of the wall that were invited."""
        return tuple(PART_OF_KIND[RecordKind(kind)] for kind in self.kinds_invited)


class GroupAttendance(models.Model):
    """One participant at one meeting: came, or not (with or without notice), and the fee charged."""

    meeting = models.ForeignKey(GroupMeeting, on_delete=models.CASCADE, related_name="attendances")
    member = models.ForeignKey(GroupMember, on_delete=models.CASCADE, related_name="attendances")
    presence = models.CharField(_("attendance"), max_length=16, choices=Presence.choices)
    fee_charged = models.DecimalField(
        _("fee charged (SEK)"), max_digits=7, decimal_places=2, default=0, validators=[MinValueValidator(0)]
    )
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("group attendance")
        verbose_name_plural = _("group attendances")
        constraints = [
            models.UniqueConstraint(fields=["meeting", "member"], name="groupattendance_once_per_meeting"),
            models.CheckConstraint(condition=Q(presence__in=Presence.values), name="groupattendance_presence_valid"),
            models.CheckConstraint(condition=Q(fee_charged__gte=0), name="groupattendance_fee_not_negative"),
        ]
        indexes = [models.Index(fields=["member", "meeting"], name="groupattendance_member")]
        triggers = [
            ProgrammeFiguresChanged(
                name="figures_changed",
                column="meeting_id",
                through="SELECT DISTINCT p.clinic_id FROM groups_groupmeeting m"
                " JOIN groups_groupprogramme p ON p.id = m.programme_id WHERE m.id IN ({new}, {old})",
            )
        ]

    def __str__(self) -> str:
        return f"{self.meeting_id}: {self.member_id}"


class GroupNote(models.Model):
    """The record of a group meeting, written once, in two parts split by the wall; final once signed."""

    meeting = models.OneToOneField(GroupMeeting, on_delete=models.PROTECT, related_name="note")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("author"), on_delete=models.PROTECT)
    client_part = models.TextField(
        _("the clients' part"),
        blank=True,
        max_length=TEXT_MAX_LENGTH,
        help_text=_("Shown on the clients' records only, never on a relative's."),
    )
    relative_part = models.TextField(
        _("the relatives' part"),
        blank=True,
        max_length=TEXT_MAX_LENGTH,
        help_text=_("Shown on the relatives' records only, never on a client's."),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("last saved"), default=timezone.now)
    signed_at = models.DateTimeField(_("signed"), null=True, blank=True)
    # Optimistic locking (kast.locking): a draft saved from a stale page (another tab) is refused, not merged.
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    class Meta:
        verbose_name = _("group note")
        verbose_name_plural = _("group notes")
        triggers = [
            # As sessions.Note's signed_note_is_final (and guarded the same way by kast.db_roles).
            pgtrigger.Protect(
                name="signed_group_note_is_final",
                operation=pgtrigger.Update | pgtrigger.Delete,
                condition=pgtrigger.Q(old__signed_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.meeting}"

    @property
    def is_signed(self) -> bool:
        return self.signed_at is not None

    def written_by(self, user) -> bool:
        """Only its author writes the draft, signs it and adds to it (as sessions.models.Note.written_by)."""
        return user is not None and self.author_id == user.pk

    def part_text(self, part: str) -> str:
        return self.client_part if part == Part.CLIENTS else self.relative_part


class GroupAddendum(models.Model):
    """A dated addition to one part of a signed group note: on the same side of the wall as that part."""

    note = models.ForeignKey(GroupNote, on_delete=models.PROTECT, related_name="addenda")
    part = models.CharField(_("part"), max_length=10, choices=Part.choices)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("author"), on_delete=models.PROTECT)
    text = models.TextField(_("addendum"), max_length=TEXT_MAX_LENGTH)
    created_at = models.DateTimeField(_("written"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("group addendum")
        verbose_name_plural = _("group addenda")
        ordering = ["created_at", "id"]
        triggers = [pgtrigger.Protect(name="group_addendum_is_final", operation=pgtrigger.Update | pgtrigger.Delete)]
        constraints = [
            models.CheckConstraint(condition=~Q(text=""), name="groupaddendum_not_empty"),
            models.CheckConstraint(condition=Q(part__in=Part.values), name="groupaddendum_part_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.note_id} {self.created_at:%Y-%m-%d}"
