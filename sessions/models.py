"""Treatment sessions and their notes: the appointment, the signed record of it, corrections, follow-ups.

A note is final once signed: PostgreSQL itself refuses to change or delete a signed note, its
themes, its methods or an addendum (see the triggers), so no route — form, crafted POST, admin, shell — can.
"""

from __future__ import annotations

import datetime
import hashlib
import uuid
from typing import TYPE_CHECKING, NamedTuple

import pghistory
import pgtrigger
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kast.models import TEXT_MAX_LENGTH
from kast.triggers import FiguresChanged
from kast.validators import BOOKABLE_DATE

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

MAX_DURATION_MINUTES = 480


class SessionKind(models.TextChoices):
    INDIVIDUAL = "individual", _("Individual")
    COUPLE = "couple", _("Couple: the client with their partner")
    RELATIVE = "relative", _("Relative alone")
    GROUP = "group", _("Group session for couples")
    FOLLOW_UP = "follow_up", _("Follow-up conversation")
    REMOTE = "remote", _("Phone or video")


class Attendance(models.TextChoices):
    BOOKED = "booked", _("Booked")
    ATTENDED = "attended", _("Held")
    CANCELLED_BY_CLIENT = "cancelled_client", _("Cancelled by the client")
    CANCELLED_BY_CLINIC = "cancelled_clinic", _("Cancelled by the clinic")
    NO_SHOW = "no_show", _("Did not come, without notice")


#: Sessions with other people in the room than the record's own person (SessionParticipant).
JOINT_KINDS = (SessionKind.COUPLE, SessionKind.GROUP)

#: Counted as a session held (fees, figures, follow-up done).
HELD = (Attendance.ATTENDED,)
#: Occupies the therapist's time, so another session at the same time is an overlap.
OCCUPIES_TIME = (Attendance.BOOKED, Attendance.ATTENDED)


class GuideTopic(models.TextChoices):
    """The common note themes every clinic starts with. The first eight are the topics of the conversation guide
    ("Samtalsguide KAST", seed 000), in its order (GUIDE); the rest come from the rest of the conversation support
    and the evaluation (family map, relatives, strategies) and have no guide text of their own."""

    BEHAVIOUR = "behaviour", _("The behaviour and what brought the client now")
    SHAME = "shame", _("Guilt and shame")
    MOTIVATION = "motivation", _("Motivation")
    FUNCTION = "function", _("Function of the behaviour")
    FEELINGS = "feelings", _("Feelings and the “escape room”")
    NEED_PRACTICE = "need_practice", _("Need versus practice")
    REPETITION = "repetition", _("Repetition compulsion")
    PORNOGRAPHY = "pornography", _("Pornography")
    PARTNER = "partner", _("Partner and relationship")
    CHILDHOOD = "childhood", _("Childhood and family map")
    CHILDREN = "children", _("Children and parenting")
    STRATEGIES = "strategies", _("Strategies and tools")
    RELAPSE = "relapse", _("Relapse")


class GuideLine(NamedTuple):
    """One line of the guide: a question to ask, or advice to the therapist.

    `seed` is the line as the conversation support has it (Swedish, seed 000), kept beside the English msgid so
    tests/sessions/test_guide.py can hold the shipped guide to the source: every line of the source is here, and
    nothing here that is not in the source. The Swedish catalogue translates `text` back to it.
    """

    kind: str  # QUESTION or ADVICE
    text: StrPromise
    seed: str


QUESTION, ADVICE = "question", "advice"


class GuideSection(NamedTuple):
    topic: GuideTopic
    lines: tuple[GuideLine, ...]


#: "Samtalsguide KAST" (Samtalsstöd, Länsstyrelsen Västra Götaland and Göteborgs Stad, 2023: seed 000), in its order,
#: shown beside the note. Not editable: a clinic's own themes and questions are shown apart from it.
GUIDE_INTRODUCTION = (
    _("Ask questions that lead to answers and recognition. Ask without blaming or moralising!"),
    "Ställ frågor som lotsar fram till svar och igenkänning. Fråga utan att skuldbelägga eller moralisera!",
)
GUIDE: tuple[GuideSection, ...] = (
    GuideSection(
        GuideTopic.BEHAVIOUR,
        (
            GuideLine(QUESTION, _("Do you define yourself as a sex addict?"), "Definierar du dig som sexmissbrukare?"),
            GuideLine(
                QUESTION,
                _("Do you have a compulsive sexual behaviour that you have tried to stop or break without succeeding?"),
                "Har du ett tvångsmässigt sexuellt beteende, som du försökt sluta/bryta utan att lyckas?",
            ),
            GuideLine(QUESTION, _("Have you ever paid for sex?"), "Har du någon gång betalat för sex?"),
            GuideLine(
                QUESTION,
                _("What made you get in touch just now?"),
                "Vad var det som fick dig att ta kontakt just nu?",
            ),
        ),
    ),
    GuideSection(
        GuideTopic.SHAME,
        (
            GuideLine(
                ADVICE,
                _(
                    "Where there is (much) shame it is hard to answer exactly. Usually a part, or a first layer, of "
                    "the story comes. Let it be so. You can go into depth and learn more later in the conversations."
                ),
                "Vid situationer med (mycket) inslag av skam är det svårt att svara exakt. Oftast kommer en del av "
                "eller ett första skikt av berättelsen. Låt det vara så. Det går att komma in på djupet och få mer "
                "fakta längre fram i samtalen.",
            ),
        ),
    ),
    GuideSection(
        GuideTopic.MOTIVATION,
        (
            GuideLine(
                ADVICE,
                _("Confirm the client's initiative (will) to change!"),
                "Bekräfta klientens initiativ (vilja) till förändring!",
            ),
        ),
    ),
    GuideSection(
        GuideTopic.FUNCTION,
        (
            GuideLine(
                QUESTION,
                _("What function has the act or the behaviour had for you?"),
                "Vad har handlingen/beteendet fyllt för funktion för dig?",
            ),
        ),
    ),
    GuideSection(
        GuideTopic.FEELINGS,
        (
            GuideLine(
                ADVICE,
                _(
                    "Usually the client has for a long time sexualised strong and painful feelings: in other words, "
                    "acted out in sexual acts when suffering came. The client has then withdrawn to their "
                    "“escape room”."
                ),
                "Oftast är det så att klienten sedan lång tid tillbaka har sexualiserat starka och smärtsamma "
                "känslor. Med andra ord agerat ut i olika sexuella handlingar då ett lidande infunnit sig. Då har "
                'klienten förpassat sig till sitt "flyktrum".',
            ),
            GuideLine(
                ADVICE,
                _(
                    "The client often finds it hard to put words to their emotional state and feelings. Clients "
                    "recognise themselves in the idea of an “alphabet of the language of feelings”."
                ),
                "Klienten har ofta svårt att sätta ord på sitt känslotillstånd och sina känslor. De känner igen sig "
                "i begreppet – *känslspråksalfabet*.",
            ),
        ),
    ),
    GuideSection(
        GuideTopic.NEED_PRACTICE,
        (
            GuideLine(
                ADVICE,
                _(
                    "The client may confuse their need of sexuality with the sexual practice, which is something one does."
                ),
                "Klienten kan blanda ihop sitt behov av sexualitet med den sexuella praktiken, som är något en gör.",
            ),
        ),
    ),
    GuideSection(
        GuideTopic.REPETITION,
        (
            GuideLine(
                ADVICE,
                _(
                    "Because of the frozen trauma with its lack of attachment, the client seeks rejection in close "
                    "relationships, described earlier as a repetition compulsion. This trauma usually becomes clear "
                    "and visible in the deep interview."
                ),
                "På grund av det frusna traumat med anknytningsbristen söker klienten efter ett avvisande i nära "
                "relation, tidigare beskrivet som ett återupprepningstvång. Detta trauma brukar bli tydligt och "
                "synligt vid djupintervjun.",
            ),
        ),
    ),
    GuideSection(
        GuideTopic.PORNOGRAPHY,
        (
            GuideLine(
                ADVICE,
                _("Talk about zero tolerance of images and text as support for masturbation."),
                "Prata om nolltolerans till bild och textstöd för onani.",
            ),
            GuideLine(
                ADVICE,
                _(
                    "Images and text as support for masturbation contribute to objectifying and dehumanising the "
                    "other. It can grow into a destructive behaviour that the client needs support to break. The "
                    "client instead needs to develop their ability to be in relation to themselves and others."
                ),
                "Bild och textstöd vid onani bidrar till objektifiering och avhumanisering av den andra. Det kan "
                "utveckla sig till ett destruktivt beteende som klienten behöver stöd för att bryta. Klienten behöver "
                "i stället utveckla sin förmåga att vara i relation till sig själv och andra.",
            ),
            GuideLine(
                ADVICE,
                _("Pornography is non-relational! Ask therefore:"),
                "Pornografin är icke-relationell! Fråga därför,",
            ),
            GuideLine(
                QUESTION,
                _("What kind of pornography do you watch?"),
                "Vad är det för slags pornografi du tittar på?",
            ),
            GuideLine(
                ADVICE,
                _("If the client can describe the pornography, it is important to ask:"),
                "Kan klienten beskriva pornografin är det viktigt att ställa frågan,",
            ),
            GuideLine(
                QUESTION,
                _("Who is it you identify with in what you see in the pornography?"),
                "Vem är det du identifierar dig med i det du ser i pornografin?",
            ),
            GuideLine(
                ADVICE,
                _("This gives a good picture of how the client feels and sees themselves."),
                "Detta ger en bra bild av hur klienten känner sig och ser på sig själv.",
            ),
        ),
    ),
)


class Theme(models.Model):
    """A theme a note can touch. Each clinic's list starts as the guide's topics and is theirs to edit."""

    clinic = models.ForeignKey("kast.Clinic", verbose_name=_("clinic"), on_delete=models.CASCADE, related_name="themes")
    # A common theme keeps its translated name (and, for the guide's topics, the guide's text); a clinic's own
    # theme has its own name, and any theme may carry the clinic's own questions, shown apart from the guide.
    topic = models.CharField(_("guide topic"), max_length=20, choices=GuideTopic.choices, blank=True)
    name = models.CharField(
        _("name"), max_length=80, blank=True, help_text=_("Leave empty to use the guide topic's name.")
    )
    questions = models.TextField(
        _("the clinic's own questions"),
        blank=True,
        help_text=_(
            "One question per line. Shown beside the note under the clinic's own themes, apart from the "
            "conversation guide."
        ),
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    active = models.BooleanField(
        _("in use"), default=True, help_text=_("Themes already used in notes cannot be deleted, only taken out of use.")
    )

    class Meta:
        verbose_name = _("theme")
        verbose_name_plural = _("themes")
        ordering = ["clinic", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["clinic", "topic"], condition=~Q(topic=""), name="theme_topic_once"),
            models.CheckConstraint(condition=~Q(topic="") | ~Q(name=""), name="theme_has_name"),
            models.CheckConstraint(condition=Q(topic="") | Q(topic__in=GuideTopic.values), name="theme_topic_valid"),
        ]

    def __str__(self) -> str:
        return self.name or str(GuideTopic(self.topic).label)

    @property
    def is_own(self) -> bool:
        """A theme the clinic added itself, not one of the common list."""
        return not self.topic

    def question_list(self) -> list[str]:
        """The clinic's own questions for this theme (the guide's text is GUIDE, the same for every clinic)."""
        return [line.strip() for line in self.questions.splitlines() if line.strip()]


class MethodCode(models.TextChoices):
    """The methods the evaluation of KAST found in use (seed 001: "Behandlingsmetoder", "Behandlingsprocessen",
    "Strategier och verktyg"; psychoeducation from seed 000). Every clinic starts with these; the codes are stable
    and the same at every clinic, so methods can be counted and compared nationally, as the evaluation asks
    ("Om alla KAST-verksamheter i Sverige dokumenterade det på samma sätt")."""

    FAMILY_MAP = "family_map", _("Family map and personal history")
    SYSTEMIC = "systemic", _("Systemic and family perspective")
    EXPERIENTIAL = "experiential", _("Experiential, emotion-focused work")
    ATTACHMENT = "attachment", _("Attachment as an explanatory model")
    EXTERNALISING = "externalising", _("Putting words to the acts, externalising")
    CBT_STOP = "cbt_stop", _("CBT: stop techniques for impulses")
    EXPOSURE = "exposure", _("Exposure to difficult feelings in small steps")
    SELF_SOOTHING = "self_soothing", _("Calming oneself: breathing, noticing feelings")
    SELF_COMPASSION = "self_compassion", _("Self-esteem and self-compassion work")
    PORN_ABSTINENCE = "porn_abstinence", _("Abstaining from pornography")
    PARTNER = "partner", _("Involving the partner (couple work)")
    PSYCHOEDUCATION = "psychoeducation", _("Psychoeducation")
    SOLUTION_FOCUS = "solution_focus", _("Solution focus")


class Method(models.Model):
    """A method a session can use, from the clinic's list: the common methods (MethodCode) and the clinic's own.

    A common method keeps its code and translated name, so it counts the same at every clinic; a method the
    clinic adds itself has only a name, counts under that name on its own clinic's figures and as "other"
    wherever clinics are counted together (its name means nothing elsewhere).
    """

    clinic = models.ForeignKey(
        "kast.Clinic", verbose_name=_("clinic"), on_delete=models.CASCADE, related_name="methods"
    )
    code = models.CharField(
        _("common method"),
        max_length=20,
        choices=MethodCode.choices,
        blank=True,
        help_text=_("Empty for the clinic's own method, which then needs a name."),
    )
    name = models.CharField(
        _("name"), max_length=80, blank=True, help_text=_("Leave empty to use the common method's name.")
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    active = models.BooleanField(
        _("in use"),
        default=True,
        help_text=_("Methods already used in notes cannot be deleted, only taken out of use."),
    )

    class Meta:
        verbose_name = _("method")
        verbose_name_plural = _("methods")
        ordering = ["clinic", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["clinic", "code"], condition=~Q(code=""), name="method_code_once"),
            models.UniqueConstraint(fields=["clinic", "name"], condition=Q(code=""), name="method_own_name_once"),
            models.CheckConstraint(condition=~Q(code="") | ~Q(name=""), name="method_has_name"),
            models.CheckConstraint(condition=Q(code="") | Q(code__in=MethodCode.values), name="method_code_valid"),
        ]
        # A renamed or added method changes the labels of the cached figures.
        triggers = [FiguresChanged(name="figures_changed", clinic="clinic_id")]

    def __str__(self) -> str:
        return self.name or str(MethodCode(self.code).label)

    @property
    def is_own(self) -> bool:
        """The clinic's own method, not one of the common list."""
        return not self.code


class SessionFee(models.Model):
    """What the clinic charges for a session of one kind (fees since 2010)."""

    clinic = models.ForeignKey("kast.Clinic", verbose_name=_("clinic"), on_delete=models.CASCADE, related_name="fees")
    kind = models.CharField(_("type"), max_length=12, choices=SessionKind.choices)
    amount = models.DecimalField(_("fee (SEK)"), max_digits=7, decimal_places=2, validators=[MinValueValidator(0)])

    class Meta:
        verbose_name = _("session fee")
        verbose_name_plural = _("session fees")
        constraints = [
            models.UniqueConstraint(fields=["clinic", "kind"], name="fee_once_per_kind"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="fee_not_negative"),
        ]
        triggers = [FiguresChanged(name="figures_changed", clinic="clinic_id")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.amount}"


class TherapySessionQuerySet(models.QuerySet["TherapySession"]):
    def booked_ahead(self) -> TherapySessionQuerySet:
        """Booked and still to come (later today or after): what an ending case leaves in the calendar."""
        now = timezone.localtime()
        return self.filter(attendance=Attendance.BOOKED, voided_at__isnull=True).filter(
            Q(date__gt=now.date()) | Q(date=now.date(), start_time__gt=now.time())
        )

    def visible_to(self, user) -> TherapySessionQuerySet:
        """The one gate for reading sessions and notes: those of records the user may see.

        A couple or group session belongs to every participant's record, so each participant's
        therapists see it; nothing else crosses from one record to another.
        """
        from clients.models import visible_record_ids_sql

        rule = visible_record_ids_sql(user)
        if rule is None:
            return self.none()
        records, params = rule
        # One set of ids from the records' own sessions and those they joined, so PostgreSQL walks
        # the user's records instead of filtering every session in a date range (`make bench`).
        sql = f"""
            WITH records AS ({records})
            SELECT id FROM {TherapySession._meta.db_table} WHERE client_id IN (SELECT id FROM records)
            UNION ALL
            SELECT session_id FROM {SessionParticipant._meta.db_table} WHERE client_id IN (SELECT id FROM records)
        """  # noqa: S608  (the models' own table names; only the parameters vary)
        return self.filter(pk__in=RawSQL(sql, params))  # noqa: S611  (parameters bound)

    def in_record(self) -> TherapySessionQuerySet:
        """Without the entries marked as wrongly recorded; they stay, but out of the normal view."""
        return self.filter(voided_at__isnull=True)


@pghistory.track(pghistory.UpdateEvent(), pghistory.DeleteEvent())
class TherapySession(models.Model):
    """One booked or held session (behandlingssamtal). Never deleted: a mistake is marked, not erased."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    clinic = models.ForeignKey("kast.Clinic", on_delete=models.PROTECT, related_name="therapy_sessions")
    client = models.ForeignKey(
        "clients.Client", verbose_name=_("client"), on_delete=models.PROTECT, related_name="therapy_sessions"
    )
    episode = models.ForeignKey(
        "clients.Episode", verbose_name=_("treatment period"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("type"), max_length=12, choices=SessionKind.choices, default=SessionKind.INDIVIDUAL)
    date = models.DateField(_("date"), default=timezone.localdate, validators=BOOKABLE_DATE)
    start_time = models.TimeField(_("start time"))
    duration_minutes = models.PositiveSmallIntegerField(
        _("length (minutes)"), default=60, validators=[MinValueValidator(1), MaxValueValidator(MAX_DURATION_MINUTES)]
    )
    attendance = models.CharField(_("attendance"), max_length=16, choices=Attendance.choices, default=Attendance.BOOKED)
    therapists = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("therapists"), related_name="therapy_sessions"
    )
    fee_charged = models.DecimalField(
        _("fee charged (SEK)"), max_digits=7, decimal_places=2, default=0, validators=[MinValueValidator(0)]
    )
    fee_paid = models.BooleanField(_("fee paid"), default=False)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # "Felmarkerad": written on the wrong client. Kept, hidden from the normal view, logged.
    voided_at = models.DateTimeField(_("marked as wrongly recorded"), null=True, blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    void_reason = models.TextField(_("why it is wrongly recorded"), blank=True, max_length=2000)

    objects = TherapySessionQuerySet.as_manager()

    class Meta:
        verbose_name = _("session")
        verbose_name_plural = _("sessions")
        ordering = ["-date", "-start_time"]
        indexes = [
            models.Index(fields=["client", "date", "start_time"], name="session_client_date"),
            models.Index(fields=["clinic", "date"], name="session_clinic_date"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(duration_minutes__gte=1, duration_minutes__lte=MAX_DURATION_MINUTES),
                name="session_duration_range",
            ),
            models.CheckConstraint(condition=Q(fee_charged__gte=0), name="session_fee_not_negative"),
            models.CheckConstraint(condition=Q(kind__in=SessionKind.values), name="session_kind_valid"),
            models.CheckConstraint(condition=Q(attendance__in=Attendance.values), name="session_attendance_valid"),
            models.CheckConstraint(
                condition=Q(voided_at__isnull=True, voided_by__isnull=True, void_reason="")
                | (Q(voided_at__isnull=False, voided_by__isnull=False) & ~Q(void_reason="")),
                name="session_void_has_reason",
            ),
        ]
        triggers = [FiguresChanged(name="figures_changed", clinic="clinic_id")]

    def __str__(self) -> str:
        return f"{self.date} {self.start_time:%H:%M}"

    def clean(self) -> None:
        if self.attendance == Attendance.ATTENDED and self.date and self.date > timezone.localdate():
            raise ValidationError({"attendance": _("A session in the future cannot have been held yet.")})

    @property
    def is_voided(self) -> bool:
        return self.voided_at is not None

    @property
    def ends_at(self) -> int:
        """Minutes after midnight, for overlap checks."""
        return self.start_time.hour * 60 + self.start_time.minute + self.duration_minutes

    @property
    def ends_at_time(self) -> datetime.time:
        """The end as a time of day (a session running past midnight shows as ending at 23:59)."""
        minutes = min(self.ends_at, 24 * 60 - 1)
        return datetime.time(minutes // 60, minutes % 60)


class SessionParticipant(models.Model):
    """Another person at a couple or group session, with a record of their own.

    The session is logged on one record (`TherapySession.client`); each other participant is a
    row here, with the treatment period it counts in. Their therapists see the session and its
    note from their own record, and nothing else of the other people in the room.
    """

    session = models.ForeignKey(TherapySession, on_delete=models.CASCADE, related_name="participants")
    client = models.ForeignKey(
        "clients.Client", verbose_name=_("participant"), on_delete=models.PROTECT, related_name="joint_sessions"
    )
    episode = models.ForeignKey("clients.Episode", on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("participant")
        verbose_name_plural = _("participants")
        constraints = [models.UniqueConstraint(fields=["session", "client"], name="participant_once_per_session")]
        indexes = [models.Index(fields=["client", "session"], name="participant_client_session")]

    def __str__(self) -> str:
        return f"{self.session_id}: {self.client_id}"


class Note(models.Model):
    """The record of a session (journalanteckning): a draft until its author signs it, then final."""

    session = models.OneToOneField(TherapySession, on_delete=models.PROTECT, related_name="note")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("author"), on_delete=models.PROTECT, related_name="notes"
    )
    text = models.TextField(_("note"), blank=True, max_length=TEXT_MAX_LENGTH)
    themes = models.ManyToManyField(Theme, through="NoteTheme", verbose_name=_("themes touched"), blank=True)
    methods = models.ManyToManyField(Method, through="NoteMethod", verbose_name=_("methods used"), blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("last saved"), default=timezone.now)
    signed_at = models.DateTimeField(_("signed"), null=True, blank=True)

    #: Not a column: set on the drafts of the start page (sessions.selectors.start_page_for).
    waiting_long: bool

    class Meta:
        verbose_name = _("note")
        verbose_name_plural = _("notes")
        indexes = [models.Index(fields=["author", "signed_at"], name="note_author_signed")]
        triggers = [
            pgtrigger.Protect(
                name="signed_note_is_final",
                operation=pgtrigger.Update | pgtrigger.Delete,
                condition=pgtrigger.Q(old__signed_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.session}"

    @property
    def is_signed(self) -> bool:
        return self.signed_at is not None

    def written_by(self, user) -> bool:
        """Only its author writes the draft, signs it and adds to it: the one place this is said (the pages ask
        it to show the forms, the services to refuse)."""
        return user is not None and self.author_id == user.pk

    def draft_writable_by(self, user) -> bool:
        return not self.is_signed and self.written_by(user)


def signed_note_keeps_its(name: str, what: str) -> pgtrigger.Trigger:
    """A row ticked on a note (a theme, a method) is as final as the note once it is signed: none added, changed
    or removed. A trigger, because the rule reads the note's row."""
    return pgtrigger.Trigger(
        name=name,
        when=pgtrigger.Before,
        operation=pgtrigger.Insert | pgtrigger.Update | pgtrigger.Delete,
        func=f"""
                IF EXISTS (
                    SELECT 1 FROM therapy_sessions_note
                    WHERE id IN (NEW.note_id, OLD.note_id) AND signed_at IS NOT NULL
                ) THEN
                    RAISE EXCEPTION 'The {what} of a signed note cannot change.' USING ERRCODE = 'integrity_constraint_violation';
                END IF;
                IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
                RETURN NEW;
                """,  # noqa: S608 -- `what` is one of two words of this module, never input
    )


class NoteTheme(models.Model):
    note = models.ForeignKey(Note, on_delete=models.CASCADE)
    # A theme in use is taken out of use, never deleted, so old notes keep their themes.
    theme = models.ForeignKey(Theme, on_delete=models.PROTECT)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["note", "theme"], name="note_theme_once")]
        triggers = [
            signed_note_keeps_its("signed_note_themes_are_final", "themes"),
        ]

    def __str__(self) -> str:
        return f"{self.note_id}: {self.theme_id}"


class MethodFiguresChanged(FiguresChanged):
    """A ticked method moves the figures' stamp of the method's clinic (the row names no clinic of its own)."""

    def __init__(self, *, name: str) -> None:
        super().__init__(name=name, clinic="method_id")

    def get_func(self, model: models.Model) -> str:
        # The method's clinic, read through the method: the clinic column of FiguresChanged, one join away.
        func = super().get_func(model)
        plain = "SELECT DISTINCT c FROM unnest(ARRAY[NEW.method_id, OLD.method_id]) AS c WHERE c IS NOT NULL"
        through = "SELECT DISTINCT clinic_id FROM therapy_sessions_method WHERE id IN (NEW.method_id, OLD.method_id)"
        if plain not in func:  # FiguresChanged was rewritten: say so here rather than stamp clinic "method id"
            raise ImproperlyConfigured("MethodFiguresChanged no longer matches FiguresChanged's SQL.")
        return func.replace(plain, through)


class NoteMethod(models.Model):
    """A method used in the session, ticked on its note; final with the note, like its themes."""

    note = models.ForeignKey(Note, on_delete=models.CASCADE)
    # A method in use is taken out of use, never deleted, so old notes keep their methods.
    method = models.ForeignKey(Method, on_delete=models.PROTECT)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["note", "method"], name="note_method_once")]
        indexes = [models.Index(fields=["method", "note"], name="note_method_method")]
        triggers = [
            signed_note_keeps_its("signed_note_methods_are_final", "methods"),
            MethodFiguresChanged(name="figures_changed"),
        ]

    def __str__(self) -> str:
        return f"{self.note_id}: {self.method_id}"


class Addendum(models.Model):
    """A dated correction or addition to a signed note, by its author, shown with the original."""

    note = models.ForeignKey(Note, on_delete=models.PROTECT, related_name="addenda")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("author"), on_delete=models.PROTECT)
    text = models.TextField(_("addendum"), max_length=TEXT_MAX_LENGTH)
    created_at = models.DateTimeField(_("written"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("addendum")
        verbose_name_plural = _("addenda")
        ordering = ["created_at", "id"]
        triggers = [pgtrigger.Protect(name="addendum_is_final", operation=pgtrigger.Update | pgtrigger.Delete)]
        constraints = [models.CheckConstraint(condition=~Q(text=""), name="addendum_not_empty")]

    def __str__(self) -> str:
        return f"{self.note_id} {self.created_at:%Y-%m-%d}"


class AddendumDraft(models.Model):
    """An addendum being written: its author's alone, saved in the background until it is added.

    An addendum is final the moment it is added (Addendum refuses UPDATE), so its draft cannot be an Addendum
    row; this row is, one per note and author. The addendum's adding empties it in the same transaction and moves
    its version on (never deletes it), so a save of the added text still on its way is refused, not made anew
    (sessions.services._addendum_draft_emptied); the next addendum is written in the same row.
    """

    note = models.ForeignKey(Note, on_delete=models.CASCADE, related_name="addendum_drafts")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("addendum"), blank=True, max_length=TEXT_MAX_LENGTH)
    version = models.PositiveIntegerField(default=1, editable=False)
    updated_at = models.DateTimeField(_("last saved"), default=timezone.now)

    class Meta:
        verbose_name = _("addendum draft")
        verbose_name_plural = _("addendum drafts")
        constraints = [models.UniqueConstraint(fields=["note", "author"], name="addendum_draft_one_per_author")]

    def __str__(self) -> str:
        return f"{self.note_id} {self.author_id}"


class FollowUpKind(models.TextChoices):
    FOLLOW_UP = "follow_up", _("Follow-up conversation")
    LONG_TERM = "long_term", _("Long-term check")


class FollowUpQuerySet(models.QuerySet["FollowUp"]):
    def open(self) -> FollowUpQuerySet:
        """Neither done nor closed: what the diary still asks of the therapist."""
        return self.filter(done_on__isnull=True, dropped_on__isnull=True)


@pghistory.track()
class FollowUp(models.Model):
    """A follow-up due after a treatment ended: the conversation at six months, a check years later.

    Closed without being done (`dropped_on`) when the client came back before it and the therapist chose so:
    kept, but no longer due."""

    client = models.ForeignKey("clients.Client", on_delete=models.CASCADE, related_name="follow_ups")
    episode = models.ForeignKey("clients.Episode", on_delete=models.CASCADE, related_name="follow_ups")
    kind = models.CharField(_("type"), max_length=10, choices=FollowUpKind.choices)
    due_on = models.DateField(_("due"))
    done_on = models.DateField(_("done"), null=True, blank=True)
    session = models.ForeignKey(
        TherapySession, on_delete=models.PROTECT, null=True, blank=True, related_name="follow_ups"
    )
    dropped_on = models.DateField(_("closed, not needed"), null=True, blank=True)

    objects = FollowUpQuerySet.as_manager()

    class Meta:
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        ordering = ["due_on"]
        indexes = [models.Index(fields=["due_on"], condition=Q(done_on__isnull=True), name="followup_open_due")]
        constraints = [
            models.UniqueConstraint(fields=["episode", "kind"], name="followup_once_per_period"),
            models.CheckConstraint(condition=Q(kind__in=FollowUpKind.values), name="followup_kind_valid"),
            models.CheckConstraint(
                condition=Q(done_on__isnull=True) | Q(dropped_on__isnull=True), name="followup_done_or_dropped"
            ),
        ]
        triggers = [FiguresChanged(name="figures_changed", client="client_id")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.due_on}"

    def is_overdue(self, today=None) -> bool:
        return self.done_on is None and self.dropped_on is None and self.due_on < (today or timezone.localdate())


class CalendarFeed(models.Model):
    """A therapist's secret calendar address. Only a hash is stored; revoking deletes the row."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")

    def __str__(self) -> str:
        return str(self.user)

    @staticmethod
    def hash(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()
