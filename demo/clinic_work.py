"""A year of the clinics' work beside the records: advice contacts without a record and outreach and attitude work.

Development only, like the rest of demo/. Each clinic has its own way of working, as the evaluation describes: KAST
Malmö answers many anonymous calls and e-mails, KAST Göteborg few; KAST Stockholm does field work with the police.
Rows are bulk-inserted from a generator seeded per clinic, so the same seed makes the same year and one clinic's
profile can change without moving the others' rows.
"""

from __future__ import annotations

import datetime
import random
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone

from advice.models import AdviceContact, AdviceTopic, Channel, Outcome, Who
from advice.services import clinic_install_advice_topics
from clients.models import ReferralDestination, TargetGroup
from kast.models import Clinic, Role, User
from outreach.models import Activity, AudienceKind, Kind, Partner

#: The year the demo fills, up to today.
SPAN_DAYS = 365


@dataclass(frozen=True)
class Profile:
    """How much of each kind of work a demo clinic does in a year, and by which channels its advice comes."""

    advice_contacts: int
    channels: Mapping[str, int]
    activities: Mapping[str, int]
    partners: Sequence[str]


PROFILES = {
    # Malmö: the advice line, by phone and e-mail mostly (about five contacts a week).
    "MLM": Profile(
        advice_contacts=260,
        channels={Channel.PHONE: 55, Channel.EMAIL: 35, Channel.CHAT: 8, Channel.WALK_IN: 2},
        activities={Kind.INFORMATION: 8, Kind.TRAINING: 6, Kind.COLLABORATION: 4, Kind.MEDIA: 3},
        partners=["Polisen region Syd", "Malmö stad, socialtjänsten", "Region Skåne, sexualmedicin"],
    ),
    # Göteborg: treatment first; a few calls before a first appointment, and lectures.
    "GBG": Profile(
        advice_contacts=30,
        channels={Channel.PHONE: 60, Channel.EMAIL: 25, Channel.CHAT: 5, Channel.WALK_IN: 10},
        activities={Kind.INFORMATION: 6, Kind.TRAINING: 8, Kind.CONSULTATION: 5, Kind.COLLABORATION: 4},
        partners=[
            "Polisen region Väst",
            "Mottagningen mot prostitution och människohandel",
            "Sahlgrenska, sexualmedicin",
        ],
    ),
    # Stockholm: outreach with the police, weekly field work; people met in the field call afterwards.
    "STH": Profile(
        advice_contacts=70,
        channels={Channel.PHONE: 45, Channel.EMAIL: 15, Channel.CHAT: 5, Channel.WALK_IN: 35},
        activities={
            Kind.FIELD_WORK: 44,
            Kind.COLLABORATION: 12,
            Kind.INFORMATION: 8,
            Kind.TRAINING: 6,
            Kind.CONSULTATION: 6,
            Kind.MEDIA: 2,
        },
        partners=["Polisen region Stockholm", "Socialtjänstens uppsökande enhet", "Beroendecentrum Stockholm"],
    ),
}

WHO = {Who.SELF: 60, Who.RELATIVE: 24, Who.PROFESSIONAL: 13, Who.OTHER: 3}
TARGET_GROUP = {TargetGroup.BUYING_SEX: 55, TargetGroup.COMPULSIVE: 27, TargetGroup.RELATIVE: 13, TargetGroup.OTHER: 5}
#: A relative who calls mostly calls about someone else; the person themself about their own behaviour.
TARGET_GROUP_OF_RELATIVE = {TargetGroup.RELATIVE: 80, TargetGroup.BUYING_SEX: 12, TargetGroup.COMPULSIVE: 8}
OUTCOME = {Outcome.ADVICE: 50, Outcome.OFFERED: 24, Outcome.REFERRED: 12, Outcome.BOOKED: 14}
#: The topic (DEFAULT_ADVICE_TOPICS) a contact of a target group is most likely about.
TOPIC_OF_TARGET_GROUP = {
    TargetGroup.BUYING_SEX: "Köp av sexuella tjänster",
    TargetGroup.COMPULSIVE: "Tvångsmässigt sexuellt beteende",
    TargetGroup.RELATIVE: "Oro för närstående",
    TargetGroup.OTHER: "Annat",
}
MINUTES = {Channel.PHONE: (5, 40), Channel.EMAIL: (10, 30), Channel.CHAT: (5, 25), Channel.WALK_IN: (15, 60)}
#: Short internal reminders, as a therapist writes them: never anything that could identify the person.
REMARKS = (
    "Ringer tillbaka efter semestern.",
    "Fick information om väntetid.",
    "Vill fundera innan bokning.",
    "Hänvisad till webbplatsens information om anhörigstöd.",
)

# kind: (hours min, max), (audiences), (audience size min, max), share with a partner, descriptions
ACTIVITY_SHAPE: dict[str, tuple[tuple[float, float], Sequence[str], tuple[int, int], float, Sequence[str]]] = {
    Kind.FIELD_WORK: (
        (2.0, 5.0),
        (AudienceKind.PUBLIC,),
        (3, 25),
        0.9,
        (
            "Fältarbete tillsammans med polisen: information om stöd till personer som köper sex.",
            "Kvällsfältarbete med polisen i city, samtal och informationskort.",
            "Fältarbete med socialtjänstens uppsökare, information om KAST.",
        ),
    ),
    Kind.INFORMATION: (
        (1.0, 2.5),
        (AudienceKind.SOCIAL_SERVICES, AudienceKind.HEALTH_CARE, AudienceKind.PUBLIC, AudienceKind.SCHOOL),
        (8, 40),
        0.3,
        (
            "Information om verksamheten för socialtjänstens mottagningsgrupp.",
            "Informationsträff på vårdcentral om vart man kan vända sig.",
            "Information för elevhälsan om sexuellt riskbeteende.",
        ),
    ),
    Kind.TRAINING: (
        (1.5, 4.0),
        (AudienceKind.PROFESSIONALS, AudienceKind.POLICE, AudienceKind.HEALTH_CARE),
        (15, 80),
        0.4,
        (
            "Föreläsning om sexköp och behandling för yrkesverksamma.",
            "Utbildningsdag för polisens utredare om samtal med sexköpare.",
            "Föreläsning för psykiatrin om tvångsmässigt sexuellt beteende.",
        ),
    ),
    Kind.CONSULTATION: (
        (0.5, 1.5),
        (AudienceKind.PROFESSIONALS, AudienceKind.SOCIAL_SERVICES),
        (1, 3),
        0.0,
        ("Konsultation per telefon till socialsekreterare, ärendet inte identifierat.",),
    ),
    Kind.MEDIA: (
        (1.0, 3.0),
        (AudienceKind.PUBLIC,),
        (500, 20000),
        0.0,
        ("Intervju i lokalradio om sexköp och vart man kan vända sig.", "Ny information på webbplatsen."),
    ),
    Kind.COLLABORATION: (
        (1.0, 2.5),
        (AudienceKind.POLICE, AudienceKind.HEALTH_CARE),
        (4, 15),
        1.0,
        ("Samverkansmöte om gemensamma insatser.", "Samverkansmöte: rutiner för hänvisning."),
    ),
}


@dataclass
class ClinicWorkWritten:
    advice_contacts: Counter[str] = field(default_factory=Counter)
    activities: Counter[str] = field(default_factory=Counter)


def _weighted(rng: random.Random, weights: Mapping):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _weekday(rng: random.Random, today: datetime.date) -> datetime.date:
    # From yesterday back: a contact logged "today" at 16:00 would be logged in the future on a morning's run.
    day = today - datetime.timedelta(days=rng.randint(1, SPAN_DAYS))
    while day.weekday() > 4:  # a weekend day moves back to the Friday before
        day -= datetime.timedelta(days=1)
    return day


def install_partners(clinics: Sequence[Clinic]) -> None:
    """Each demo clinic's partner organisations; partners a clinic already has stay as they are."""
    Partner.objects.bulk_create(
        [
            Partner(clinic=clinic, name=name, position=n)
            for clinic in clinics
            if clinic.code in PROFILES
            for n, name in enumerate(PROFILES[clinic.code].partners, start=1)
        ],
        ignore_conflicts=True,
    )


def seed_clinic_work(clinics: Sequence[Clinic], *, seed: int | str) -> ClinicWorkWritten:
    """A year of advice contacts and outreach for each demo clinic (PROFILES), logged by its demo staff.

    The clinics' lists (advice topics, partner organisations) are installed first. A clinic that already has
    advice contacts (or activities) keeps them and gets no more, so seed_demo can run again.
    """
    written = ClinicWorkWritten()
    for clinic in clinics:
        clinic_install_advice_topics(clinic)
    install_partners(clinics)
    today = timezone.localdate()
    for clinic in sorted(clinics, key=lambda c: c.code):
        profile = PROFILES.get(clinic.code)
        if profile is None:
            continue
        staff = list(
            User.objects.filter(clinic=clinic, role__in=(Role.THERAPIST, Role.MANAGER))
            .exclude(username__startswith="last-")  # the load test's therapists did not work this year
            .order_by("role", "username")
        )
        therapists = [user for user in staff if user.role == Role.THERAPIST]
        if not therapists:
            continue
        if not AdviceContact.objects.filter(clinic=clinic).exists():
            rng = random.Random(f"advice-{seed}-{clinic.code}")  # noqa: S311  (fake data, not security)
            written.advice_contacts[clinic.code] = _advice(rng, clinic, therapists, profile, today)
        if not Activity.objects.filter(clinic=clinic).exists():
            rng = random.Random(f"outreach-{seed}-{clinic.code}")  # noqa: S311  (fake data, not security)
            written.activities[clinic.code] = _outreach(rng, clinic, staff, profile, today)
    return written


def _advice(
    rng: random.Random, clinic: Clinic, therapists: Sequence[User], profile: Profile, today: datetime.date
) -> int:
    topics = {topic.name: topic for topic in AdviceTopic.objects.filter(clinic=clinic, active=True)}
    destinations = list(ReferralDestination.objects.filter(clinic=clinic).order_by("position", "pk"))
    contacts = []
    for _ in range(profile.advice_contacts):
        day = _weekday(rng, today)
        channel = _weighted(rng, profile.channels)
        who = _weighted(rng, WHO)
        target_group = _weighted(rng, TARGET_GROUP_OF_RELATIVE if who == Who.RELATIVE else TARGET_GROUP)
        topic_name = TOPIC_OF_TARGET_GROUP[target_group] if rng.random() < 0.8 else "Frågor om behandling"
        outcome = _weighted(rng, OUTCOME)
        at = datetime.datetime.combine(day, datetime.time(rng.randint(8, 16), rng.randrange(0, 60, 5)))
        contacts.append(
            AdviceContact(
                clinic=clinic,
                logged_by=rng.choice(therapists),
                logged_at=timezone.make_aware(at),
                date=day,
                minutes=rng.randint(*MINUTES[channel]),
                channel=channel,
                who=who,
                target_group=target_group,
                topic=topics.get(topic_name) or next(iter(topics.values())),
                outcome=outcome,
                referred_to=rng.choice(destinations) if outcome == Outcome.REFERRED else None,
                returning=rng.random() < 0.2,
                remark=rng.choice(REMARKS) if rng.random() < 0.1 else "",
            )
        )
    AdviceContact.objects.bulk_create(contacts)
    return len(contacts)


def _outreach(rng: random.Random, clinic: Clinic, staff: Sequence[User], profile: Profile, today: datetime.date) -> int:
    partners = list(Partner.objects.filter(clinic=clinic, active=True).order_by("position", "pk"))
    activities, who_went = [], []
    for kind, count in profile.activities.items():
        (low, high), audiences, (fewest, most), with_partner, descriptions = ACTIVITY_SHAPE[kind]
        for _ in range(count):
            went = rng.sample(list(staff), min(len(staff), 2 if kind == Kind.FIELD_WORK else rng.randint(1, 2)))
            activities.append(
                Activity(
                    clinic=clinic,
                    kind=kind,
                    date=_weekday(rng, today),
                    hours=Decimal(str(round(rng.uniform(low, high) * 2) / 2)),  # to the half hour
                    audience_kind=rng.choice(audiences),
                    audience_size=rng.randint(fewest, most),
                    # The police first: the partner of field work and of most collaboration meetings.
                    partner=(partners[0] if rng.random() < 0.7 else rng.choice(partners))
                    if partners and rng.random() < with_partner
                    else None,
                    description=rng.choice(descriptions),
                    created_by=went[0],
                )
            )
            who_went.append(went)
    Activity.objects.bulk_create(activities)
    Staff = Activity.staff.through
    Staff.objects.bulk_create(
        [
            Staff(activity=activity, user=user)
            for activity, went in zip(activities, who_went, strict=True)
            for user in went
        ]
    )
    return len(activities)
