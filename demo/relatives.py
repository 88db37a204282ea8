"""Fake relatives for the demo: partners of a share of the demo clients, relatives who came without a
registered client, and one couples group (the 2018 pilot: two evenings with the couples together,
noted per couple, and three with the relatives alone).

Development only, like demo.clients: rows are written directly, keeping by construction what the
services keep (a valid status chain, one treatment period, links only within a clinic).
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils import timezone

from clients.models import CaseStatus, Client, Episode, Gender, RecordKind, StatusChange, TargetGroup
from demo.clients import DEMO_SEED, CodeSequence, _lock_clinics, _office_time, _weekday_on_or_before
from kast.models import User
from relatives.models import (
    ChildAction,
    ChildPerspective,
    Goal,
    GoalStatus,
    ReactionReview,
    Relation,
    Relative,
    RelativeLink,
)
from sessions.models import (
    Attendance,
    GuideTopic,
    Note,
    NoteTheme,
    SessionKind,
    SessionParticipant,
    Theme,
    TherapySession,
)
from sessions.services import default_fee

S = CaseStatus
#: Of the demo clients who live in a relationship, this share has a partner with a record of their own.
PARTNER_SHARE = 0.5
#: Relatives per demo therapist who came without the client ever being registered.
UNLINKED_PER_THERAPIST = 2

REASONS = (
    "Hittade betalningar till en eskortsida och vet inte vad jag ska tro längre.",
    "Upptäckte meddelanden i partnerns telefon. Vill förstå vad som hänt och vad jag själv behöver.",
    "Partnern berättade själv efter ett polisingripande. Jag har inte sovit sedan dess.",
    "Vi har levt med det här i flera år. Jag orkar inte vara den som håller ihop allt.",
    "Min son har berättat om sitt tvångsmässiga beteende och jag vill veta hur jag kan stötta utan att ta över.",
)
GOALS = (
    "Kunna sova hela nätter igen",
    "Bestämma själv om jag vill fortsätta relationen",
    "Sluta bära skulden för det som hänt",
    "Prata med barnen på ett sätt som passar deras ålder",
    "Få tillbaka tilliten till mitt eget omdöme",
    "Sätta gränser för vad jag vill veta och inte",
)
RELATIVE_NOTES = (
    "Samtal om de första veckorna efter upptäckten. Beskriver kontrollförlust: letar i telefon och "
    "kontoutdrag varje kväll. Vi pratade om vad kontrollen ger och vad den kostar.",
    "Anhörig tar på sig skulden ('om jag hade varit mer tillgänglig'). Vi skilde på ansvar för egna "
    "handlingar och den andras handlingar.",
    "Skam över att inte kunna berätta för någon. Vi gick igenom vem i nätverket som kan vara ett stöd.",
    "Ilskan riktas mot barnen och kollegorna snarare än mot partnern. Vi pratade om var ilskan hör hemma.",
    "Sover bättre. Har bestämt sig för att inte kontrollera telefonen. Målen ses över till nästa gång.",
)
COUPLE_NOTES = (
    "Parsamtal efter båda parters samtycke. Klienten berättade med egna ord om handlingarna; partnern fick "
    "ställa sina frågor. Överenskommelse om vad som ska tas upp enskilt.",
    "Parsamtal om tillit: vad som behövs för att den ska kunna byggas upp igen, och i vilken takt.",
    "Parsamtal om barnen: vad de vet, vad de behöver veta och vem som pratar med dem.",
)
GROUP_NOTES = (
    "Gruppträff för par. Presentation och gemensamma ramar: sekretess i gruppen, att tala i jag-form.",
    "Gruppträff för par: teman tillit och öppenhet. Paren övade på att lyssna utan att avbryta.",
    "Anhöriggrupp utan klienterna. Teman kontrollförlust och skam; deltagarna kände igen sig i varandra.",
    "Anhöriggrupp: att ta på sig skuld, och skillnaden mellan ansvar och skuld.",
    "Anhöriggrupp, sista träffen: vad var och en tar med sig, och var stöd finns framöver.",
)


#: The conversation guide's topics a relative's, couple's or group's note touches.
THEMES = {
    SessionKind.RELATIVE: (GuideTopic.SHAME, GuideTopic.FEELINGS, GuideTopic.PARTNER, GuideTopic.CHILDREN),
    SessionKind.COUPLE: (GuideTopic.PARTNER, GuideTopic.CHILDREN, GuideTopic.STRATEGIES),
    SessionKind.GROUP: (GuideTopic.PARTNER, GuideTopic.SHAME, GuideTopic.FEELINGS),
}


@dataclass
class RelativesWritten:
    partners: int = 0
    unlinked: int = 0
    sessions: int = 0
    notes: int = 0
    group_sessions: int = 0
    child_perspectives: int = 0


def seed_demo_relatives(therapists: Sequence[User], *, seed: int = DEMO_SEED) -> RelativesWritten:
    """Relatives for the demo therapists' caseloads. Skipped when any of them already has a relative."""
    written = RelativesWritten()
    if not therapists or Client.objects.filter(responsible_therapist__in=therapists, kind=RecordKind.RELATIVE).exists():
        return written
    rng = random.Random(f"relatives-{seed}")  # noqa: S311  (fake data, not security)
    sessions_before, notes_before = TherapySession.objects.count(), Note.objects.count()
    clinics = {clinic.pk: clinic for clinic in _lock_clinics(therapists)}
    codes = CodeSequence(clinics.values())
    now = timezone.now()
    today = timezone.localdate()
    couples_by_clinic: dict[int, list[tuple[Client, Client]]] = {}
    calendar = Calendar(therapists)

    for therapist in therapists:
        colleagues = [t for t in therapists if t.clinic_id == therapist.clinic_id and t.pk != therapist.pk]
        clients = list(
            Client.objects.filter(responsible_therapist=therapist, kind=RecordKind.CLIENT, in_relationship=True)
            .exclude(status__in=(S.REFERRED, S.CLOSED))
            .order_by("code")
        )
        for client in clients:
            if rng.random() >= PARTNER_SHARE:
                continue
            # About a third of partners see another therapist than the client: the usual set-up at KAST.
            own_therapist = rng.choice(colleagues) if colleagues and rng.random() < 0.35 else therapist
            status = S.IN_TREATMENT if client.status in (S.IN_TREATMENT, S.ENDED, S.FOLLOWED_UP) else S.CONTACT
            first = min(client.first_contact_date + datetime.timedelta(days=rng.randint(0, 30)), today)
            partner = _record(
                rng, codes, clinics[therapist.clinic_id], own_therapist, first, status, now, client=client
            )
            Relative.objects.create(
                record=partner, relation=rng.choice([Relation.PARTNER, Relation.SPOUSE, Relation.FORMER_PARTNER])
            )
            consent = rng.random() < 0.75
            RelativeLink.objects.create(
                relative=partner,
                client=client,
                client_consents=consent,
                relative_consents=consent,
                created_by=own_therapist,
                created_at=_moment(rng, first),
            )
            _support(rng, partner, own_therapist, first, today)
            _relative_sessions(rng, calendar, partner, today)
            if consent and status == S.IN_TREATMENT and client.status == S.IN_TREATMENT:
                _couple_sessions(rng, calendar, client, partner, today)
                couples_by_clinic.setdefault(client.clinic_id, []).append((client, partner))
            written.partners += 1
        for _ in range(UNLINKED_PER_THERAPIST):
            first = today - datetime.timedelta(days=rng.randint(20, 200))
            record = _record(rng, codes, clinics[therapist.clinic_id], therapist, first, S.IN_TREATMENT, now)
            Relative.objects.create(
                record=record, relation=rng.choice([Relation.PARTNER, Relation.PARENT, Relation.ADULT_CHILD])
            )
            _support(rng, record, therapist, first, today)
            _relative_sessions(rng, calendar, record, today)
            written.unlinked += 1

    # One couples group, at the clinic with the most couples in joint work.
    if couples_by_clinic:
        couples = max(couples_by_clinic.values(), key=len)[:3]
        if len(couples) >= 2:
            written.group_sessions = _couples_group(rng, calendar, couples, today)
    written.child_perspectives = _child_perspectives(rng, therapists, today)
    written.sessions = TherapySession.objects.count() - sessions_before
    written.notes = Note.objects.count() - notes_before
    return written


def _moment(rng: random.Random, day: datetime.date) -> datetime.datetime:
    return min(_office_time(rng, _weekday_on_or_before(day)), timezone.now() - datetime.timedelta(minutes=5))


def _record(
    rng: random.Random,
    codes: CodeSequence,
    clinic,
    therapist: User,
    first: datetime.date,
    status: str,
    now: datetime.datetime,
    *,
    client: Client | None = None,
) -> Client:
    """A relative's record with period 1 and its status chain (contact, then on to support when it started)."""
    gender = Gender.WOMAN if client is None or client.gender == Gender.MAN else Gender.MAN
    birth_year = (client.birth_year or 1975) + rng.randint(-6, 6) if client else rng.randint(1950, 1995)
    record = Client.objects.create(
        clinic=clinic,
        kind=RecordKind.RELATIVE,
        code=codes.next(clinic, first.year),
        responsible_therapist=therapist,
        first_contact_date=first,
        reason=rng.choice(REASONS),
        target_groups=[TargetGroup.RELATIVE],
        gender=gender,
        birth_year=birth_year,
        in_relationship=client is not None,
        has_children=client.has_children if client else rng.random() < 0.4,
        children_ages=list(client.children_ages) if client else [],
        status=status,
        created_at=_moment(rng, first),
    )
    episode = Episode.objects.create(client=record, number=1, opened_on=first)
    path = [S.CONTACT] if status == S.CONTACT else [S.CONTACT, S.ASSESSMENT, S.IN_TREATMENT]
    at = _moment(rng, first)
    for previous, step in zip(["", *path], path, strict=False):
        StatusChange.objects.create(
            client=record, episode=episode, from_status=previous, to_status=step, by=therapist, at=min(at, now)
        )
        at += datetime.timedelta(days=rng.randint(3, 10))
    return record


def _support(rng: random.Random, record: Client, therapist: User, first: datetime.date, today: datetime.date) -> None:
    """Reactions at the first contact, reviewed about every six weeks and easing; one or two goals."""
    levels = {name: rng.randint(2, 4) for name in ("loss_of_control", "guilt", "shame", "displaced_anger")}
    day = first
    while day <= today:
        ReactionReview.objects.create(relative=record, reviewed_on=day, recorded_by=therapist, **levels)
        levels = {name: max(0, value - rng.choice([0, 0, 1, 1, 2])) for name, value in levels.items()}
        day += datetime.timedelta(days=rng.randint(35, 56))
    for text in rng.sample(GOALS, rng.randint(1, 2)):
        reached = rng.random() < 0.3 and (today - first).days > 60
        Goal.objects.create(
            relative=record,
            text=text,
            set_on=first + datetime.timedelta(days=rng.randint(0, 14)),
            status=GoalStatus.REACHED if reached else GoalStatus.OPEN,
            status_on=today - datetime.timedelta(days=rng.randint(1, 30)) if reached else None,
            created_by=therapist,
        )


class Calendar:
    """The demo therapists' booked and held times, so that the relatives' sessions fit around the clients'
    (office hours on weekdays, never two sessions of one therapist at once)."""

    HOURS = (15, 14, 13, 10, 9, 11, 8)

    def __init__(self, therapists: Sequence[User]):
        self.busy: dict[tuple[int, datetime.date], list[tuple[int, int]]] = {}
        through = TherapySession.therapists.through.objects.filter(user__in=therapists)
        for user_id, day, start, minutes in through.values_list(
            "user_id", "therapysession__date", "therapysession__start_time", "therapysession__duration_minutes"
        ):
            begin = start.hour * 60 + start.minute
            self.busy.setdefault((user_id, day), []).append((begin, begin + minutes))

    def slot(self, therapists: Sequence[User], day: datetime.date, minutes: int) -> tuple[datetime.date, datetime.time]:
        """The first free time for all of `therapists` on `day` or the weekdays after it."""
        for offset in range(30):
            candidate = day + datetime.timedelta(days=offset)
            if candidate.weekday() >= 5:
                continue
            for hour in self.HOURS:
                begin, end = hour * 60, hour * 60 + minutes
                if end > 17 * 60:
                    continue
                if all(end <= b or e <= begin for t in therapists for b, e in self.busy.get((t.pk, candidate), [])):
                    for t in therapists:
                        self.busy.setdefault((t.pk, candidate), []).append((begin, end))
                    return candidate, datetime.time(hour, 0)
        raise ValueError("No free time for a demo relative's session.")


def _period_on(record: Client, day: datetime.date) -> Episode:
    """The treatment period covering `day`: the last one opened by then."""
    return record.episodes.filter(opened_on__lte=day).order_by("-number").first()


def _is_past(day: datetime.date, start: datetime.time, minutes: int) -> bool:
    now = timezone.localtime()
    end = datetime.datetime.combine(day, start) + datetime.timedelta(minutes=minutes)
    return day < now.date() or (day == now.date() and end.time() <= now.time())


def _session(
    rng: random.Random,
    calendar: Calendar,
    record: Client,
    kind: str,
    day: datetime.date,
    therapists: Sequence[User],
    *,
    minutes: int = 60,
    text: str | None = None,
    participants: Sequence[Client] = (),
    held_only: bool = True,
) -> TherapySession | None:
    """A session at the first free time from `day`: held (with a signed note) when that time has passed,
    otherwise booked, or — with `held_only` — not made at all."""
    therapists = list(dict.fromkeys([record.responsible_therapist, *therapists]))
    day, start = calendar.slot(therapists, day, minutes)
    held = _is_past(day, start, minutes)
    if held_only and not held:
        return None
    session = TherapySession.objects.create(
        clinic_id=record.clinic_id,
        client=record,
        episode=_period_on(record, day),
        kind=kind,
        date=day,
        start_time=start,
        duration_minutes=minutes,
        attendance=Attendance.ATTENDED if held else Attendance.BOOKED,
        fee_charged=default_fee(record.clinic, kind),
        fee_paid=held and rng.random() < 0.9,
        created_by=therapists[0],
        created_at=min(timezone.now(), _moment(rng, day - datetime.timedelta(days=7))),
    )
    session.therapists.set(therapists)
    SessionParticipant.objects.bulk_create(
        SessionParticipant(session=session, client=p, episode=_period_on(p, day)) for p in participants
    )
    if held and text:
        ends = timezone.make_aware(datetime.datetime.combine(day, start)) + datetime.timedelta(minutes=minutes + 20)
        signed = min(ends, timezone.now())
        note = Note.objects.create(
            session=session, author=therapists[0], text=text, created_at=signed, updated_at=signed
        )
        themes = list(Theme.objects.filter(clinic_id=record.clinic_id, topic__in=THEMES[kind]).order_by("pk"))
        NoteTheme.objects.bulk_create(NoteTheme(note=note, theme=t) for t in rng.sample(themes, rng.randint(1, 2)))
        Note.objects.filter(pk=note.pk).update(signed_at=signed)  # signed last: a signed note's themes are final
    return session


def _relative_sessions(rng: random.Random, calendar: Calendar, record: Client, today: datetime.date) -> None:
    """Sessions with the relative alone, every two or three weeks since support started; the next one booked."""
    if record.status != S.IN_TREATMENT:
        return
    day = record.first_contact_date + datetime.timedelta(days=14)
    for text in RELATIVE_NOTES:
        if day >= today or _session(rng, calendar, record, SessionKind.RELATIVE, day, [], text=text) is None:
            break
        day += datetime.timedelta(days=rng.randint(14, 21))
    ahead = _session(
        rng,
        calendar,
        record,
        SessionKind.RELATIVE,
        today + datetime.timedelta(days=rng.randint(2, 12)),
        [],
        held_only=False,
    )
    record.next_contact_date = ahead.date
    record.save(update_fields=["next_contact_date"])


def _couple_sessions(
    rng: random.Random, calendar: Calendar, client: Client, partner: Client, today: datetime.date
) -> None:
    opened = client.episodes.order_by("-number").first().opened_on
    start = max(opened, partner.first_contact_date) + datetime.timedelta(days=30)
    for n, text in enumerate(rng.sample(COUPLE_NOTES, rng.randint(1, 3))):
        day = start + datetime.timedelta(days=28 * n)
        if day >= today:
            break
        therapists = [partner.responsible_therapist]
        _session(
            rng, calendar, client, SessionKind.COUPLE, day, therapists, minutes=90, text=text, participants=[partner]
        )


def _couples_group(
    rng: random.Random, calendar: Calendar, couples: list[tuple[Client, Client]], today: datetime.date
) -> int:
    """Two evenings with the couples together, then three with the relatives alone, two weeks apart (or closer).

    The wall holds in the demo as in the app: a note that names people of two couples would carry one
    couple into the other's record, so an evening of couples is written per couple, on the client's
    record with the partner as participant; the relatives' evenings have one note for all of them.
    """
    first_relative = couples[0][1]
    everyone = [person for pair in couples for person in pair]
    relatives = [relative for _, relative in couples]
    leaders = [couples[0][0].responsible_therapist, first_relative.responsible_therapist]
    day = max(
        today - datetime.timedelta(days=75), *(p.episodes.order_by("-number").first().opened_on for p in everyone)
    )
    # Two weeks apart, closer when the couples' periods opened lately: all five evenings fall before today
    # whatever the date the demo is seeded on (fortnightly from a late start, the last ones would be dropped).
    step = datetime.timedelta(days=max(2, min(14, (today - day).days // (len(GROUP_NOTES) + 1))))
    made = 0
    for n, text in enumerate(GROUP_NOTES):
        if day >= today:
            break
        rooms = [(client, [relative]) for client, relative in couples] if n < 2 else [(first_relative, relatives[1:])]
        for record, others in rooms:
            made += (
                _session(
                    rng, calendar, record, SessionKind.GROUP, day, leaders, minutes=90, text=text, participants=others
                )
                is not None
            )
        day += step
    return made


def _child_perspectives(rng: random.Random, therapists: Sequence[User], today: datetime.date) -> int:
    """For most records with children: considered (usually), and what was done."""
    records = Client.objects.filter(responsible_therapist__in=therapists, has_children=True).exclude(status=S.CONTACT)
    rows = []
    for record in records.order_by("code"):
        considered = rng.random() < 0.8
        actions = rng.sample(
            [ChildAction.INFORMATION, ChildAction.CONVERSATION, ChildAction.CHILD_SUPPORT, ChildAction.CHILD_SERVICES],
            rng.randint(1, 2),
        )
        if considered and rng.random() < 0.05:
            actions.append(ChildAction.REPORT_OF_CONCERN)
        rows.append(
            ChildPerspective(
                record=record,
                children_in_household=len(record.children_ages) or rng.randint(1, 3),
                considered_on=min(record.first_contact_date + datetime.timedelta(days=rng.randint(7, 40)), today)
                if considered
                else None,
                actions=actions if considered else [],
                updated_by=record.responsible_therapist,
            )
        )
    ChildPerspective.objects.bulk_create(rows)
    return len(rows)


def seed_bulk_relatives(clinics, *, share: float = PARTNER_SHARE / 2, seed: int = DEMO_SEED) -> int:
    """Partners for load tests: a record each for a share of the load-test clients living in a relationship,
    linked with consent, at the first contact, with the reactions recorded there. Bulk-inserted."""
    rng = random.Random(f"bulk-relatives-{seed}")  # noqa: S311  (fake data, not security)
    clients = list(
        Client.objects.filter(
            clinic__in=clinics,
            kind=RecordKind.CLIENT,
            in_relationship=True,
            responsible_therapist__username__startswith="last-",
        )
        .exclude(relative_links__isnull=False)
        .select_related("clinic", "responsible_therapist")
        .order_by("code")
    )
    chosen = [client for client in clients if rng.random() < share]
    if not chosen:
        return 0
    codes = CodeSequence(_lock_clinics(list(clinics)))
    now = timezone.now()
    records = []
    for client in chosen:
        first = client.first_contact_date + datetime.timedelta(days=rng.randint(0, 30))
        first = min(first, timezone.localdate())
        records.append(
            Client(
                clinic=client.clinic,
                kind=RecordKind.RELATIVE,
                code=codes.next(client.clinic, first.year),
                responsible_therapist=client.responsible_therapist,
                first_contact_date=first,
                target_groups=[TargetGroup.RELATIVE],
                gender=Gender.WOMAN if client.gender == Gender.MAN else Gender.MAN,
                in_relationship=True,
                has_children=client.has_children,
                children_ages=list(client.children_ages),
                created_at=min(now, _moment(rng, first)),
            )
        )
    Client.objects.bulk_create(records, batch_size=2000)
    episodes = Episode.objects.bulk_create(
        [Episode(client=r, number=1, opened_on=r.first_contact_date) for r in records], batch_size=2000
    )
    StatusChange.objects.bulk_create(
        [
            StatusChange(
                client=r, episode=e, from_status="", to_status=S.CONTACT, by=r.responsible_therapist, at=r.created_at
            )
            for r, e in zip(records, episodes, strict=True)
        ],
        batch_size=2000,
    )
    Relative.objects.bulk_create(
        [Relative(record=r, relation=rng.choice([Relation.PARTNER, Relation.SPOUSE])) for r in records], batch_size=2000
    )
    RelativeLink.objects.bulk_create(
        [
            RelativeLink(
                relative=r,
                client=c,
                client_consents=True,
                relative_consents=True,
                created_by=r.responsible_therapist,
                created_at=r.created_at,
            )
            for r, c in zip(records, chosen, strict=True)
        ],
        batch_size=2000,
    )
    ReactionReview.objects.bulk_create(
        [
            ReactionReview(
                relative=r,
                reviewed_on=r.first_contact_date,
                recorded_by=r.responsible_therapist,
                **{name: rng.randint(1, 4) for name in ("loss_of_control", "guilt", "shame", "displaced_anger")},
            )
            for r in records
        ],
        batch_size=2000,
    )
    return len(records)
