"""Fake treatment sessions, notes and follow-ups for the demo and for load tests: never real people.

Development only (`seed_demo` refuses to run with DEBUG off). `demo.clients` calls two functions
for each set of cases it seeds:

- `plan_sessions`, before the cases are written: a therapist's diary over the cases' history
  (assessment conversations, weekly treatment sessions, follow-ups, bookings for the next
  three weeks) with the notes' texts and themes. It sets an ongoing case's next planned
  contact to its next booking, so the record and the diary agree.
- `write_sessions`, once the cases and their treatment periods are in the database: every row
  with bulk_create in batches, no query per row.

The invariants the services keep are kept by construction: a session lies in its treatment
period (a follow-up conversation after the period it follows up, as `session_create` files it),
on a weekday between 08:00 and 17:00; the demo therapists have fixed slots, so none of their
sessions overlap; a held follow-up conversation completes the follow-up it belongs to.
"""

from __future__ import annotations

import datetime
import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.db.models import F
from django.utils import timezone

from clients.models import CaseStatus, Client, Episode
from demo.cases import Case, Period
from kast.models import Clinic, User
from sessions.models import (
    Addendum,
    Attendance,
    FollowUp,
    FollowUpKind,
    GuideTopic,
    Method,
    MethodCode,
    Note,
    NoteMethod,
    NoteTheme,
    SessionFee,
    SessionKind,
    Theme,
    TherapySession,
)

S = CaseStatus
K = SessionKind
A = Attendance
T = GuideTopic

#: The method a demo note ticks for each theme it touches: derived, not drawn, so the demo's random stream (and so
#: every other row of it) stays as it was.
METHOD_OF_TOPIC = {
    T.BEHAVIOUR: MethodCode.EXTERNALISING,
    T.SHAME: MethodCode.SELF_COMPASSION,
    T.MOTIVATION: MethodCode.PSYCHOEDUCATION,
    T.FUNCTION: MethodCode.EXPERIENTIAL,
    T.FEELINGS: MethodCode.EXPOSURE,
    T.NEED_PRACTICE: MethodCode.SELF_SOOTHING,
    T.REPETITION: MethodCode.ATTACHMENT,
    T.PORNOGRAPHY: MethodCode.PORN_ABSTINENCE,
    T.PARTNER: MethodCode.PARTNER,
    T.CHILDHOOD: MethodCode.FAMILY_MAP,
    T.CHILDREN: MethodCode.SYSTEMIC,
    T.STRATEGIES: MethodCode.CBT_STOP,
    T.RELAPSE: MethodCode.SOLUTION_FOCUS,
}

#: The demo clinics' fees (SEK); a clinic that already has a fee for a kind keeps it.
DEMO_FEES = {
    K.INDIVIDUAL: 100,
    K.COUPLE: 150,
    K.GROUP: 100,
    K.RELATIVE: 100,
    K.FOLLOW_UP: 0,
    K.REMOTE: 100,
}

#: A therapist's day: five blocks of 90 minutes from 08:00 to 17:00 (minutes after midnight),
#: with lunch 13:00-13:45. A shorter session may start a quarter past. One session per block,
#: so a therapist's sessions never overlap.
SLOTS = (8 * 60, 9 * 60 + 45, 11 * 60 + 30, 13 * 60 + 45, 15 * 60 + 30)
SLOT_MINUTES = 90
#: Another block of the same day when the wanted one is taken: the nearest first.
SLOT_ORDER = tuple(
    tuple(sorted(range(len(SLOTS)), key=lambda i, wanted=wanted: (abs(i - wanted), i))) for wanted in range(len(SLOTS))
)
#: Charged the kind's fee (a no-show too); a cancelled session is not.
CHARGED = (A.ATTENDED, A.NO_SHOW, A.BOOKED)
#: Bookings reach this far ahead.
BOOK_AHEAD_DAYS = 21
BATCH_SIZE = 5000

PAST_ATTENDANCE = {A.ATTENDED: 870, A.CANCELLED_BY_CLIENT: 60, A.CANCELLED_BY_CLINIC: 25, A.NO_SHOW: 45}
DURATIONS = {
    K.INDIVIDUAL: {60: 60, 45: 25, 75: 8, 90: 7},
    K.COUPLE: {90: 70, 75: 30},
    K.RELATIVE: {60: 70, 45: 30},
    K.GROUP: {90: 1},
    K.FOLLOW_UP: {60: 60, 45: 40},
    K.REMOTE: {45: 60, 60: 40},
    "assessment": {90: 60, 75: 40},
}
#: Weeks a client in weekly treatment misses anyway (travel, illness, a week off).
SKIPPED_WEEK = 0.1
#: Share of clients seen every other week ("behandlingssamtal varannan vecka").
EVERY_OTHER_WEEK = 0.2
#: The long-term check, once due, is held with this likelihood (the rest stay overdue).
LONG_TERM_HELD = 0.8

# Load tests (`seed_demo --clients N`): recent unfinished paperwork, by chance.
BULK_RECENT_DAYS = 14
BULK_DRAFT = 0.03
BULK_UNDOCUMENTED = 0.02
BULK_ADDENDUM = 0.005

# The demo: per therapist, a fixed handful, so the start page's lists are never empty.
DEMO_OLD_DRAFTS = 2
DEMO_UNDOCUMENTED = 2
DEMO_ADDENDA = 2

# --- Word banks -------------------------------------------------------------------------------
# As in demo.clients: the note describes what was done and said, never what the person "is".
# No names: a note never carries the client's alias or name, nor a relative's.

OPENING = {
    K.INDIVIDUAL: ("Individuellt samtal enligt plan.", "Samtal på mottagningen.", "Klienten kom i tid.", ""),
    K.COUPLE: (
        "Parsamtal med klienten och partnern.",
        "Samtal med klienten och partnern tillsammans.",
        "Parsamtal; båda kom till mottagningen.",
    ),
    K.RELATIVE: ("Samtal med partnern, utan klienten.", "Anhörigsamtal med partnern på partnerns begäran."),
    K.GROUP: ("Gruppsamtal för par; klienten deltog tillsammans med partnern.", "Kvällsgrupp för par."),
    K.FOLLOW_UP: ("Uppföljningssamtal efter avslutad behandling.", "Uppföljande samtal enligt överenskommelse."),
    K.REMOTE: (
        "Samtalet hölls per telefon.",
        "Videosamtal enligt överenskommelse.",
        "Telefonsamtal i stället för besök.",
    ),
    "assessment": ("Bedömningssamtal.", "Bedömningssamtal enligt samtalsguiden."),
}

CLOSING = {
    "treatment": (
        "Nästa samtal är bokat.",
        "Fortsätter enligt behandlingsplanen.",
        "Till nästa gång noterar klienten när impulsen kommer och vad som händer då.",
        "Klienten provar den nya strategin fram till nästa samtal.",
        "",
        "",
    ),
    "assessment": (
        "Informerad om sekretess och om möjligheten att vara anonym.",
        "Vi gick igenom hur behandlingen går till.",
        "",
    ),
    K.FOLLOW_UP: ("Ingen ytterligare insats behövs just nu.", "Välkommen att höra av sig igen vid behov."),
}

# (condition, template) as in demo.clients; see _flags for the conditions.
TOPIC_TEXT: dict[str, tuple[tuple[str | None, str], ...]] = {
    T.BEHAVIOUR: (
        (None, "Klienten beskriver hur veckan har sett ut när det gäller beteendet."),
        ("buying", "Klienten berättar att det senaste sexköpet var för {weeks} veckor sedan."),
        ("buying", "Klienten har letat bland annonser två kvällar men inte tagit kontakt."),
        ("compulsive", "Klienten har fört dagbok över tiden framför skärmen och går igenom den."),
        ("compulsive", "Klienten har sexchattat en natt under veckan och berättar om vad som hände innan."),
        (None, "Vi gick igenom vad som fick klienten att söka hjälp just nu."),
    ),
    T.FUNCTION: (
        (None, "Vi undersökte vilken funktion handlingen har haft, särskilt i perioder med mycket stress."),
        (None, "Klienten kopplar beteendet till ensamhet sent på kvällarna."),
        (None, "Vi gick igenom vad som hände i livet förra gången det hände."),
    ),
    T.FEELINGS: (
        (None, "Klienten satte ord på känslorna före impulsen: oro, tomhet och irritation."),
        (None, "Vi pratade om flyktrummet och vad som händer strax innan klienten går dit."),
        (None, "Klienten övade på att stanna kvar i en obehaglig känsla en stund utan att agera på den."),
    ),
    T.NEED_PRACTICE: (
        (None, "Vi skilde på behovet, närhet och bekräftelse, och praktiken, det klienten gör."),
        (None, "Klienten funderar på hur behovet av vila kan mötas på andra sätt."),
    ),
    T.REPETITION: (
        (None, "Klienten känner igen ett mönster av att söka avvisande i nära relationer."),
        (None, "Vi kopplade mönstret till det klienten berättade i djupintervjun."),
    ),
    T.PORNOGRAPHY: (
        ("compulsive", "Klienten har prövat nolltolerans mot bilder och text som stöd vid onani i {days} dagar."),
        ("compulsive", "Vi pratade om vad klienten tittar på och vem klienten identifierar sig med."),
        (None, "Vi pratade om porrens roll när beteendet började."),
    ),
    T.SHAME: (
        (None, "Klienten beskriver skammen som en tyngd i bröstet."),
        (None, "Vi pratade om skillnaden mellan att ta ansvar och att straffa sig själv."),
        (None, "Klienten berättar att det har blivit lättare att prata om det som hänt."),
    ),
    T.PARTNER: (
        ("partner", "Klienten berättar att samtalen hemma har blivit lugnare."),
        ("partner", "Partnern vet om beteendet; klienten beskriver förtroendet som skört."),
        ("partner", "Klienten och partnern har kommit överens om att prata en stund varje kväll."),
        ("single", "Klienten beskriver en önskan om en nära relation och en oro för att inte räcka till."),
        ("single", "Klienten har träffat en ny person och funderar på vad som ska berättas och när."),
    ),
    T.CHILDHOOD: (
        (None, "Vi gick igenom familjekartan och de viktiga personerna under uppväxten."),
        (None, "Klienten kopplar dagens mönster till hur känslor hanterades hemma."),
        (None, "Klienten berättar om en period i tonåren då ingen vuxen fanns att prata med."),
    ),
    T.CHILDREN: (
        ("children", "Klienten berättar om barnen och vill vara mer närvarande med dem."),
        ("children", "Barnperspektivet togs upp: vad barnen vet och om de behöver eget stöd."),
    ),
    T.STRATEGIES: (
        (None, "Klienten har gått ut och promenerat när impulsen kom i stället för att sätta sig vid datorn."),
        (None, "Vi gjorde en plan för kvällarna, då risken är störst."),
        (None, "Klienten har ringt en vän i stället för att agera på impulsen, två gånger under veckan."),
        ("buying", "Klienten undviker nu hotellkvällar ensam på tjänsteresor och äter middag med kollegor."),
        ("compulsive", "Klienten har flyttat datorn ut ur sovrummet och stänger av telefonen klockan tio."),
    ),
    T.MOTIVATION: (
        (None, "Klienten bekräftas i sitt initiativ och sin vilja till förändring."),
        (None, "Klienten beskriver hur livet ska se ut om ett år."),
        (None, "Klienten tycker att samtalen hjälper och vill fortsätta."),
    ),
    T.RELAPSE: (
        (None, "Klienten berättar om ett återfall för {days} dagar sedan och vad som hände strax innan."),
        (None, "Vi pratade om vad klienten kan lära sig av återfallet utan att skuldbelägga sig."),
        (None, "Inget återfall sedan förra samtalet; klienten beskriver vad som har hjälpt."),
    ),
}

#: Sessions whose note is not about the week's treatment work: (condition, text), one or two of them.
KIND_TEXT: dict[str, tuple[tuple[str | None, str], ...]] = {
    "assessment": (
        (None, "Klienten berättade om beteendet och om vad som fick klienten att höra av sig just nu."),
        (None, "Vi gick igenom samtalsguidens frågor om beteendet och vilken funktion det har haft."),
        (None, "Klienten beskriver en tydlig vilja till förändring."),
        ("partner", "Klienten berättar att partnern känner till beteendet."),
        ("single", "Klienten har inte berättat om beteendet för någon tidigare."),
        ("buying", "Klienten har köpt sex under flera år, oftast på resor i arbetet."),
        ("compulsive", "Klienten tittar på porr flera timmar om dagen och har försökt sluta på egen hand."),
        ("children", "Vi pratade om barnen och hur de påverkas."),
    ),
    K.RELATIVE: (
        (None, "Partnern beskriver hur det har varit sedan beteendet kom fram."),
        (None, "Partnern satte ord på känslor av svek, sorg och oro."),
        (None, "Vi pratade om vad partnern behöver för att kunna känna tillit igen."),
        (None, "Partnern informerades om möjligheten till eget stöd."),
        ("children", "Partnern undrar vad barnen ska få veta; vi pratade om barnens behov av trygghet."),
    ),
    K.FOLLOW_UP: (
        (None, "Klienten beskriver hur det har gått sedan behandlingen avslutades."),
        (None, "Inget återfall sedan avslutet; klienten använder fortfarande strategierna från behandlingen."),
        (None, "Klienten berättar om ett återfall under perioden och om hur det hanterades."),
        (None, "Klienten skattar sitt mående som bättre än när behandlingen började."),
        ("partner", "Klienten berättar att relationen har blivit stabilare."),
    ),
}

NO_SHOW_TEXT = (
    "Klienten kom inte till det bokade samtalet och hörde inte av sig. Ny tid erbjuds per telefon.",
    "Uteblev från bokat samtal. Brev med ny tid skickat.",
)

ADDENDUM_TEXT = (
    "Tillägg: Klienten ringde dagen efter samtalet och ville komplettera med att kvällen efteråt gick bra.",
    "Tillägg: Efter klientens samtycke har information om anhörigstöd skickats till partnern.",
    "Rättelse: Strategin som nämns gäller kvällspromenader, inte morgonpromenader.",
    "Tillägg: Klienten har lämnat samtycke till att kontakt tas med vårdcentralen.",
    "Rättelse: Nästa samtal är flyttat en vecka framåt på klientens begäran.",
)

_TREATMENT_EARLY = (T.BEHAVIOUR, T.MOTIVATION, T.FEELINGS, T.FUNCTION, T.CHILDHOOD)
_TREATMENT_MIDDLE = (
    T.FUNCTION,
    T.FEELINGS,
    T.NEED_PRACTICE,
    T.REPETITION,
    T.SHAME,
    T.CHILDHOOD,
    T.PORNOGRAPHY,
    T.PARTNER,
    T.CHILDREN,
    T.STRATEGIES,
    T.RELAPSE,
)
_TREATMENT_LATE = (T.STRATEGIES, T.RELAPSE, T.MOTIVATION, T.PARTNER)
TOPICS = {
    "early": _TREATMENT_EARLY,
    "middle": _TREATMENT_MIDDLE,
    "late": _TREATMENT_LATE,
    K.COUPLE: (T.PARTNER, T.SHAME, T.CHILDREN, T.STRATEGIES),
    K.RELATIVE: (T.PARTNER, T.CHILDREN, T.FEELINGS),
    K.GROUP: (T.PARTNER, T.SHAME, T.STRATEGIES),
    K.FOLLOW_UP: (T.STRATEGIES, T.RELAPSE, T.MOTIVATION),
    "assessment": (T.BEHAVIOUR, T.MOTIVATION, T.FUNCTION, T.PARTNER),
}
#: Topics that only fit some clients.
TOPIC_CONDITION = {T.PORNOGRAPHY: "compulsive", T.CHILDREN: "children"}


# --- Small helpers ----------------------------------------------------------------------------


def _weighted(rng: random.Random, weights: dict):
    return rng.choices(tuple(weights), weights=tuple(weights.values()))[0]


def _monday(day: datetime.date) -> datetime.date:
    return day - datetime.timedelta(days=day.weekday())


def _weekday_on_or_before(day: datetime.date) -> datetime.date:
    return day - datetime.timedelta(days=max(0, day.weekday() - 4))


def _weekday_on_or_after(day: datetime.date) -> datetime.date:
    return day + datetime.timedelta(days=(7 - day.weekday()) % 7 if day.weekday() > 4 else 0)


def _minute_of(moment: datetime.datetime) -> int:
    local = timezone.localtime(moment)
    return local.hour * 60 + local.minute


def _held(booking: Booking | None) -> Booking | None:
    """The booking if it was held (a session later today has not been, even if the status says so)."""
    return booking if booking is not None and booking.attendance == A.ATTENDED else None


def _flags(client: Client) -> dict[str, bool]:
    return {
        "partner": bool(client.in_relationship),
        "single": not client.in_relationship,
        "children": bool(client.children_ages),
        "buying": "buying_sex" in client.target_groups,
        "compulsive": "compulsive" in client.target_groups,
    }


def install_fees(clinics: Iterable[Clinic]) -> None:
    """The demo fees for each clinic's session kinds; fees a clinic already has stay as they are."""
    SessionFee.objects.bulk_create(
        [
            SessionFee(clinic=clinic, kind=kind, amount=Decimal(amount))
            for clinic in clinics
            for kind, amount in DEMO_FEES.items()
        ],
        ignore_conflicts=True,
    )


# --- Planning ---------------------------------------------------------------------------------


@dataclass(slots=True)
class Booking:
    """One session in the diary, with what its note will say."""

    client: Client
    period: Period
    therapists: tuple[User, ...]
    kind: str
    day: datetime.date
    start: int  # minutes after midnight
    minutes: int
    attendance: str
    fee_paid: bool = False
    topics: tuple[str, ...] = ()
    text: str = ""
    note: str = ""  # "signed", "draft" or "" (none)
    created_at: datetime.datetime | None = None
    addendum: str = ""
    session: TherapySession | None = None


@dataclass(slots=True)
class FollowUpPlan:
    client: Client
    period: Period
    kind: str
    due_on: datetime.date
    done_by: Booking | None = None


@dataclass
class Plan:
    bookings: list[Booking] = field(default_factory=list)
    follow_ups: list[FollowUpPlan] = field(default_factory=list)


@dataclass
class SessionsWritten:
    sessions: int = 0
    notes: int = 0
    follow_ups: int = 0


class _Planner:
    def __init__(
        self,
        clinics: dict[int, Clinic],
        *,
        rng: random.Random,
        today: datetime.date,
        now: datetime.datetime,
        demo: bool,
    ):
        self.clinics = clinics
        self.rng = rng
        self.today = today
        self.this_monday = _monday(today)
        self.holidays_before = today - datetime.timedelta(days=35)
        local_now = timezone.localtime(now)
        self.now = now
        self.now_minute = local_now.hour * 60 + local_now.minute
        self.tz = timezone.get_current_timezone()
        self.demo = demo
        # The demo keeps a diary per therapist: (day, block) taken. The load test does not (with
        # thousands of clients on three therapists, their sessions cannot all fit).
        self.busy: dict[int, set[tuple[datetime.date, int]]] = defaultdict(set)
        self.ongoing: dict[int, int] = defaultdict(int)
        self.plan = Plan()
        self.texts: dict[object, dict[str, tuple[str, ...]]] = {}
        self.client_flags: dict[object, dict[str, bool]] = {}

    # -- time

    def aware(self, day: datetime.date, minute: int) -> datetime.datetime:
        return datetime.datetime.combine(day, datetime.time(minute // 60, minute % 60), tzinfo=self.tz)

    def is_past(self, day: datetime.date, end_minute: int) -> bool:
        return day < self.today or (day == self.today and end_minute <= self.now_minute)

    def away(self, therapist: User, day: datetime.date) -> bool:
        """Christmas to Epiphany, and four weeks of summer holiday (staggered between colleagues).

        Not in the last five weeks: the start page's reminders need recent sessions whatever the date.
        """
        if day >= self.holidays_before:
            return False
        if (day.month == 12 and day.day >= 23) or (day.month == 1 and day.day <= 6):
            return True
        offset = sum(map(ord, therapist.username)) % 3
        return 27 + offset <= day.isocalendar().week <= 30 + offset

    # -- the diary

    def book(
        self,
        client: Client,
        period: Period,
        therapists: tuple[User, ...],
        kind: str,
        day: datetime.date,
        *,
        block: int,
        duration_key: str | None = None,
        topics_key: str | None = None,
        end_by: int | None = None,
        held: bool = False,
    ) -> Booking | None:
        """A session on `day` in the wanted block (or the nearest free one); None when the day is full."""
        rng = self.rng
        minutes = _weighted(rng, DURATIONS[duration_key or kind])
        if end_by is not None:  # before the status change made at the end of it, when the day allows
            fitting = [i for i, start in enumerate(SLOTS) if start + minutes <= end_by]
            block = fitting[-1] if fitting else 0
        if self.demo:
            for candidate in SLOT_ORDER[block]:
                if all((day, candidate) not in self.busy[t.pk] for t in therapists):
                    block = candidate
                    break
            else:
                return None
            for t in therapists:
                self.busy[t.pk].add((day, block))
        start = SLOTS[block] + (15 if minutes <= SLOT_MINUTES - 15 and rng.random() < 0.3 else 0)
        if self.is_past(day, start + minutes):
            attendance = A.ATTENDED if held else _weighted(rng, PAST_ATTENDANCE)
        else:
            attendance = A.BOOKED
        booking = Booking(
            client=client,
            period=period,
            therapists=therapists,
            kind=kind,
            day=day,
            start=start,
            minutes=minutes,
            attendance=attendance,
        )
        # Booked a week or two before (the first time: when the case reached the step).
        booked = self.aware(day - datetime.timedelta(days=rng.randint(3, 14)), SLOTS[rng.randrange(len(SLOTS))])
        booking.created_at = min(max(booked, period.steps[0].at), self.now)
        if attendance == A.ATTENDED:
            booking.note = "signed"
            booking.topics = self.topics(client, topics_key or kind)
            booking.text = self.text(client, duration_key or kind, booking.topics)
            booking.fee_paid = rng.random() < (0.97 if day < self.today - datetime.timedelta(days=30) else 0.7)
        elif attendance == A.NO_SHOW:
            booking.fee_paid = rng.random() < 0.5
            if rng.random() < 0.5:
                booking.note = "signed"
                booking.text = rng.choice(NO_SHOW_TEXT)
        self.plan.bookings.append(booking)
        return booking

    # -- the note

    def flags(self, client: Client) -> dict[str, bool]:
        flags = self.client_flags.get(client.pk)
        if flags is None:
            flags = self.client_flags[client.pk] = _flags(client)
        return flags

    def topics(self, client: Client, key: str) -> tuple[str, ...]:
        rng = self.rng
        flags = self.flags(client)
        fitting = [t for t in TOPICS[key] if t not in TOPIC_CONDITION or flags[TOPIC_CONDITION[t]]]
        k = min(len(fitting), rng.choices((1, 2, 3), weights=(35, 45, 20))[0])
        return tuple(rng.sample(fitting, k))

    def text(self, client: Client, key: str, topics: Sequence[str]) -> str:
        rng = self.rng
        sentences = self.texts.get(client.pk)
        if sentences is None:
            flags = self.flags(client)
            sentences = {
                key: tuple(text for condition, text in bank if condition is None or flags[condition])
                for key, bank in (*TOPIC_TEXT.items(), *KIND_TEXT.items())
            }
            self.texts[client.pk] = sentences
        parts = [rng.choice(OPENING[key])]
        if key in KIND_TEXT:
            fitting = sentences[key]
            parts += rng.sample(fitting, min(len(fitting), rng.randint(1, 2)))
        for topic in () if key in KIND_TEXT else topics:
            template = rng.choice(sentences[topic])
            if "{" in template:
                template = template.format(days=rng.randint(2, 12), weeks=rng.randint(2, 9))
            parts.append(template)
        closing = "assessment" if key == "assessment" else K.FOLLOW_UP if key == K.FOLLOW_UP else "treatment"
        parts.append(rng.choice(CLOSING[closing]))
        return " ".join(part for part in parts if part)

    # -- one case

    def case(self, case: Case, co_therapists: Sequence[User]) -> None:
        client = case.client
        for number, period in enumerate(case.periods):
            later = case.periods[number + 1].opened_on if number + 1 < len(case.periods) else None
            self.period(client, period, co_therapists, current=later is None, next_opened=later)

    def period(
        self,
        client: Client,
        period: Period,
        co_therapists: Sequence[User],
        *,
        current: bool,
        next_opened: datetime.date | None,
    ) -> None:
        rng = self.rng
        therapist = client.responsible_therapist
        together = (therapist, *co_therapists)
        steps = {step.to_status: step for step in period.steps}
        statuses = [step.to_status for step in period.steps]
        if S.ASSESSMENT in steps:
            self.assessment(client, period, statuses, together, current=current)
        treatment = steps.get(S.IN_TREATMENT)
        if treatment is None:
            return
        ended = steps.get(S.ENDED)
        start = timezone.localdate(treatment.at)
        end = timezone.localdate(ended.at) if ended else None
        ongoing = ended is None
        if ongoing and current:
            # Spread the ongoing cases over the week, starting today: today's list is never empty.
            first = self.today.weekday() if self.today.weekday() < 5 else 0
            weekday = (first + self.ongoing[therapist.pk]) % 5
            self.ongoing[therapist.pk] += 1
        else:
            weekday = rng.randrange(5)
        self.treatment(client, period, therapist, co_therapists, start=start, end=end, weekday=weekday)
        if ended is not None:
            self.follow_ups(client, period, together, end=end, steps=steps, current=current, next_opened=next_opened)

    def assessment(
        self, client: Client, period: Period, statuses: list[str], therapists: tuple[User, ...], *, current: bool
    ) -> None:
        """The assessment conversations: held on the day of the decision, with an earlier one when it took time."""
        at = statuses.index(S.ASSESSMENT)
        step = period.steps[at]
        decision = period.steps[at + 1] if at + 1 < len(period.steps) else None
        assessed = timezone.localdate(step.at)
        if decision is None:
            # Still in assessment: the first conversation held, the second booked for the next planned contact.
            if step.at <= self.now:
                self.book(
                    client,
                    period,
                    therapists,
                    K.INDIVIDUAL,
                    assessed,
                    block=0,
                    duration_key="assessment",
                    topics_key="assessment",
                    end_by=_minute_of(step.at) if assessed == self.today else None,
                    held=True,
                )
            if current and client.next_contact_date and client.next_contact_date >= self.today:
                self.book(
                    client,
                    period,
                    therapists,
                    K.INDIVIDUAL,
                    client.next_contact_date,
                    block=self.rng.randrange(len(SLOTS)),
                    duration_key="assessment",
                    topics_key="assessment",
                )
            return
        decided = timezone.localdate(decision.at)
        gap = (decided - assessed).days
        if gap >= 7:
            self.book(
                client,
                period,
                therapists,
                K.INDIVIDUAL,
                _weekday_on_or_before(assessed + datetime.timedelta(days=gap // 2)),
                block=self.rng.randrange(len(SLOTS)),
                duration_key="assessment",
                topics_key="assessment",
                held=True,
            )
        self.book(
            client,
            period,
            therapists,
            K.INDIVIDUAL,
            decided,
            block=0,
            duration_key="assessment",
            topics_key="assessment",
            end_by=_minute_of(decision.at),
            held=True,
        )

    def treatment(
        self,
        client: Client,
        period: Period,
        therapist: User,
        co_therapists: Sequence[User],
        *,
        start: datetime.date,
        end: datetime.date | None,
        weekday: int,
    ) -> None:
        """Weekly (some clients every other week) in the client's own block, from the week after the decision."""
        rng = self.rng
        partner = bool(client.in_relationship)
        every = 2 if rng.random() < EVERY_OTHER_WEEK else 1
        block = rng.randrange(len(SLOTS))
        last = end if end is not None else self.today + datetime.timedelta(days=BOOK_AHEAD_DAYS)
        week = _monday(start)
        number = 0
        first_of_treatment = len(self.plan.bookings)
        while week <= last:
            day = week + datetime.timedelta(days=weekday)
            # Every other week counted from this week, so an ongoing case has a session this week.
            on_rhythm = every == 1 or ((self.this_monday - week).days // 7) % 2 == 0
            if start < day <= last and on_rhythm:
                before_this_week = week < self.this_monday
                skipped = before_this_week and (self.away(therapist, day) or rng.random() < SKIPPED_WEEK)
                if not skipped:
                    # Mostly individual; with a partner, from the third session on, now and then together.
                    kind = K.INDIVIDUAL
                    chance = rng.random()
                    with_partner = partner and number >= 2
                    if with_partner and chance < 0.15:
                        kind = K.COUPLE
                    elif with_partner and chance < 0.17:
                        kind = K.GROUP
                    elif 0.17 <= chance < 0.29:
                        kind = K.REMOTE
                    near_end = end is not None and (end - day).days < 28
                    stage = "late" if near_end else "early" if number < 3 else "middle"
                    # A co-therapist joins the couple and group sessions and some of the others.
                    joins = co_therapists and (kind in (K.COUPLE, K.GROUP) or rng.random() < 0.3)
                    therapists = (therapist, *co_therapists) if joins else (therapist,)
                    booking = self.book(
                        client,
                        period,
                        therapists,
                        kind,
                        day,
                        block=block,
                        topics_key=kind if kind in (K.COUPLE, K.GROUP) else stage,
                        duration_key=kind,
                    )
                    if booking is not None:
                        number += 1
                    # Now and then the partner comes alone (anhörigsamtal), another day that week.
                    if partner and number >= 2 and rng.random() < 0.06:
                        other = (weekday + rng.randint(1, 4)) % 5
                        other_day = week + datetime.timedelta(days=other)
                        if start < other_day <= last and not (before_this_week and self.away(therapist, other_day)):
                            self.book(
                                client,
                                period,
                                (therapist,),
                                K.RELATIVE,
                                other_day,
                                block=rng.randrange(len(SLOTS)),
                            )
            week += datetime.timedelta(days=7)
        booked = [b.day for b in self.plan.bookings[first_of_treatment:] if b.attendance == A.BOOKED]
        if end is None and booked:
            client.next_contact_date = min(booked)  # the record's next planned contact is the next booking

    def follow_ups(
        self,
        client: Client,
        period: Period,
        therapists: tuple[User, ...],
        *,
        end: datetime.date,
        steps: dict,
        current: bool,
        next_opened: datetime.date | None,
    ) -> None:
        """The six-month conversation and the long-term check, as `treatment_end` puts them in the diary."""
        rng = self.rng
        clinic = self.clinics[client.clinic_id]
        follow_up = FollowUpPlan(
            client, period, FollowUpKind.FOLLOW_UP, end + relativedelta(months=clinic.follow_up_months)
        )
        long_term = FollowUpPlan(
            client, period, FollowUpKind.LONG_TERM, end + relativedelta(months=clinic.long_term_follow_up_months)
        )
        self.plan.follow_ups += [follow_up, long_term]
        held = steps.get(S.FOLLOWED_UP)
        if held is not None:
            day = timezone.localdate(held.at)
            follow_up.done_by = _held(
                self.book(
                    client,
                    period,
                    therapists,
                    K.FOLLOW_UP,
                    day,
                    block=0,
                    topics_key=K.FOLLOW_UP,
                    end_by=_minute_of(held.at),
                    held=True,
                )
            )
            # The long-term check, once due, is usually held too (before any new treatment period).
            day = _weekday_on_or_after(long_term.due_on + datetime.timedelta(days=rng.randint(0, 20)))
            if (
                day < self.today - datetime.timedelta(days=30)
                and (next_opened is None or day < next_opened)
                and rng.random() < LONG_TERM_HELD
            ):
                long_term.done_by = _held(
                    self.book(
                        client,
                        period,
                        therapists,
                        K.FOLLOW_UP,
                        day,
                        block=rng.randrange(len(SLOTS)),
                        topics_key=K.FOLLOW_UP,
                        held=True,
                    )
                )
        elif current:
            # Due within the booking horizon: the conversation is booked for the day it is due
            # (from tomorrow: one held today would have completed the follow-up).
            day = _weekday_on_or_after(max(follow_up.due_on, self.today + datetime.timedelta(days=1)))
            if day <= self.today + datetime.timedelta(days=BOOK_AHEAD_DAYS):
                self.book(
                    client,
                    period,
                    therapists,
                    K.FOLLOW_UP,
                    day,
                    block=rng.randrange(len(SLOTS)),
                    topics_key=K.FOLLOW_UP,
                )

    # -- paperwork left to do

    def finish(self) -> Plan:
        """Drafts, undocumented sessions and addenda among the held sessions (not the follow-up conversations)."""
        rng = self.rng
        bookings = self.plan.bookings
        done_by = {id(f.done_by) for f in self.plan.follow_ups if f.done_by is not None}
        held = [
            b
            for b in bookings
            if b.attendance == A.ATTENDED and b.kind != K.FOLLOW_UP and id(b) not in done_by and b.note == "signed"
        ]
        if self.demo:
            by_author: dict[int, list[Booking]] = defaultdict(list)
            for b in sorted(held, key=lambda b: (b.day, b.start), reverse=True):
                by_author[b.client.responsible_therapist_id].append(b)
            for author_bookings in by_author.values():
                self.demo_paperwork(author_bookings)
        else:
            recent = self.today - datetime.timedelta(days=BULK_RECENT_DAYS)
            for b in held:
                if b.day >= recent:
                    chance = rng.random()
                    if chance < BULK_UNDOCUMENTED:
                        b.note = ""
                    elif chance < BULK_UNDOCUMENTED + BULK_DRAFT:
                        b.note = "draft"
                elif rng.random() < BULK_ADDENDUM:
                    b.addendum = rng.choice(ADDENDUM_TEXT)
        return self.plan

    def demo_paperwork(self, newest_first: list[Booking]) -> None:
        """A therapist's few notes to write and sign, and addenda.

        The newest note is still a draft; two drafts wait longer than the clinic's reminder; the
        next newest session and one a week or more old have no note yet.
        """
        rng = self.rng
        if not newest_first:
            return
        clinic = self.clinics[newest_first[0].client.clinic_id]
        reminder = self.today - datetime.timedelta(days=clinic.draft_reminder_days)
        month_ago = self.today - datetime.timedelta(days=30)
        week_ago = self.today - datetime.timedelta(days=7)
        newest, rest = newest_first[0], newest_first[1:]
        newest.note = "draft"
        undocumented = rest[:1] + [b for b in rest[1:] if b.day <= week_ago][: DEMO_UNDOCUMENTED - 1]
        for b in undocumented:
            b.note = ""
        waiting = [b for b in rest if b.note == "signed" and month_ago <= b.day < reminder]
        for b in rng.sample(waiting, min(DEMO_OLD_DRAFTS, len(waiting))):
            b.note = "draft"
        signed_long_ago = [b for b in rest if b.note == "signed" and b.day < month_ago]
        for b in rng.sample(signed_long_ago, min(DEMO_ADDENDA, len(signed_long_ago))):
            b.addendum = rng.choice(ADDENDUM_TEXT)


def plan_sessions(
    cases: Sequence[Case],
    clinics: dict[int, Clinic],
    *,
    rng: random.Random,
    today: datetime.date,
    now: datetime.datetime,
    co_therapists: Iterable[tuple[Client, User]] = (),
    demo: bool = False,
) -> Plan:
    """The sessions, notes and follow-ups of `cases` (not yet written).

    `demo`: the demo therapists' diaries, without overlaps and with a fixed handful of notes to
    write and sign; otherwise (load tests) sessions may overlap and unfinished paperwork is random.
    Sets `next_contact_date` of ongoing treatments to their next booking: call before the cases are written.
    """
    planner = _Planner(clinics, rng=rng, today=today, now=now, demo=demo)
    colleagues: dict[object, list[User]] = defaultdict(list)
    for client, user in co_therapists:
        colleagues[client.pk].append(user)
    for case in cases:
        planner.case(case, colleagues.get(case.client.pk, ()))
    return planner.finish()


# --- Writing ----------------------------------------------------------------------------------


def write_sessions(
    plan: Plan, cases: Sequence[Case], episodes: Sequence[Episode], *, batch_size: int = BATCH_SIZE
) -> SessionsWritten:
    """Every row of the plan, once `cases` are written (`episodes` in the cases' order, as demo.clients writes them).

    Notes are inserted unsigned, get their themes and methods, and are then signed in one UPDATE per batch:
    PostgreSQL refuses to add themes or methods to a signed note.
    """
    # Rows are built from ids (client_id=, not client=): at half a million rows the related-object
    # descriptors cost more than the inserts.
    episode_of: dict[int, int] = {}
    episode_iter = iter(episodes)
    for case in cases:
        for period in case.periods:
            episode_of[id(period)] = next(episode_iter).pk
    clinic_ids = sorted({case.client.clinic_id for case in cases})
    themes = {
        (clinic_id, topic): pk
        for clinic_id, topic, pk in Theme.objects.filter(clinic_id__in=clinic_ids, active=True)
        .exclude(topic="")
        .values_list("clinic_id", "topic", "pk")
    }
    methods = {
        (clinic_id, code): pk
        for clinic_id, code, pk in Method.objects.filter(clinic_id__in=clinic_ids, active=True)
        .exclude(code="")
        .values_list("clinic_id", "code", "pk")
    }
    fees = {
        (clinic_id, kind): amount
        for clinic_id, kind, amount in SessionFee.objects.filter(clinic_id__in=clinic_ids).values_list(
            "clinic_id", "kind", "amount"
        )
    }
    zero = Decimal(0)
    now = timezone.now()
    tz = timezone.get_current_timezone()
    written = SessionsWritten()
    Therapists = TherapySession.therapists.through
    for first in range(0, len(plan.bookings), batch_size):
        chunk = plan.bookings[first : first + batch_size]
        sessions = []
        for b in chunk:
            clinic_id = b.client.clinic_id
            # What session_create charges; a cancelled session is not charged.
            fee = fees.get((clinic_id, b.kind), zero) if b.attendance in CHARGED else zero
            b.session = TherapySession(
                clinic_id=clinic_id,
                client_id=b.client.pk,
                episode_id=episode_of[id(b.period)],
                kind=b.kind,
                date=b.day,
                start_time=datetime.time(b.start // 60, b.start % 60),
                duration_minutes=b.minutes,
                attendance=b.attendance,
                fee_charged=fee,
                fee_paid=b.fee_paid and fee > 0,
                created_at=b.created_at,
                created_by_id=b.therapists[0].pk,
            )
            sessions.append(b.session)
        TherapySession.objects.bulk_create(sessions, batch_size=batch_size)
        Therapists.objects.bulk_create(
            [Therapists(therapysession_id=b.session.pk, user_id=t.pk) for b in chunk for t in b.therapists],
            batch_size=batch_size,
        )
        written.sessions += len(sessions)

        documented = [b for b in chunk if b.note]
        notes = [_note(b, now=now, tz=tz) for b in documented]
        Note.objects.bulk_create(notes, batch_size=batch_size)
        NoteTheme.objects.bulk_create(
            [
                NoteTheme(note_id=note.pk, theme_id=themes[key])
                for b, note in zip(documented, notes, strict=True)
                for key in ((b.client.clinic_id, topic) for topic in b.topics)
                if key in themes
            ],
            batch_size=batch_size,
        )
        NoteMethod.objects.bulk_create(
            [
                NoteMethod(note_id=note.pk, method_id=methods[key])
                for b, note in zip(documented, notes, strict=True)
                for key in dict.fromkeys((b.client.clinic_id, METHOD_OF_TOPIC[topic]) for topic in b.topics)
                if key in methods
            ],
            batch_size=batch_size,
        )
        signed = [note.pk for b, note in zip(documented, notes, strict=True) if b.note == "signed"]
        Note.objects.filter(pk__in=signed).update(signed_at=F("updated_at"))
        Addendum.objects.bulk_create(
            [
                Addendum(
                    note_id=note.pk,
                    author_id=note.author_id,
                    text=b.addendum,
                    created_at=min(note.updated_at + datetime.timedelta(days=1 + len(b.addendum) % 9), now),
                )
                for b, note in zip(documented, notes, strict=True)
                if b.addendum and b.note == "signed"
            ],
            batch_size=batch_size,
        )
        written.notes += len(notes)

    FollowUp.objects.bulk_create(
        [
            FollowUp(
                client_id=f.client.pk,
                episode_id=episode_of[id(f.period)],
                kind=f.kind,
                due_on=f.due_on,
                done_on=f.done_by.day if f.done_by else None,
                session_id=f.done_by.session.pk if f.done_by else None,
            )
            for f in plan.follow_ups
        ],
        batch_size=batch_size,
    )
    written.follow_ups = len(plan.follow_ups)
    return written


def _note(b: Booking, *, now: datetime.datetime, tz: datetime.tzinfo) -> Note:
    """Written a few minutes after the session; signed (updated_at) the same day or within a few days."""
    end = datetime.datetime.combine(b.day, datetime.time(b.start // 60, b.start % 60), tzinfo=tz)
    end += datetime.timedelta(minutes=b.minutes)
    # Spread from the session's own facts: no random draw, so the plan alone decides the data.
    spread = (b.start + b.minutes * 7 + b.day.toordinal()) % 97
    created = end + datetime.timedelta(minutes=5 + spread % 25)
    if b.note != "signed":
        saved = created + datetime.timedelta(minutes=10)
    elif spread < 60:
        saved = end + datetime.timedelta(minutes=30 + spread)
    elif spread < 90:
        saved = end + datetime.timedelta(hours=18 + spread % 30)
    else:
        saved = end + datetime.timedelta(days=2 + spread % 4)
    saved = min(saved, now)
    return Note(
        session_id=b.session.pk,
        author_id=b.therapists[0].pk,
        text=b.text or "Utkast.",
        created_at=min(created, saved),
        updated_at=saved,
        signed_at=None,
    )
