"""Fake clients for the demo and for load tests: Swedish, plausible, and never real people.

Development only (`seed_demo` refuses to run with DEBUG off); Faker is a development dependency.
Rows are written with bulk_create, so nothing here goes through the services: the invariants
the services keep (a valid status chain, one open treatment period, a client node in the family
map) are kept by construction instead, and the database constraints check them.
"""

from __future__ import annotations

import datetime
import random
import re
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import pairwise

from django.db import connection, transaction
from django.utils import timezone
from faker import Faker
from stdnum import luhn

from clients.identity import normalize_personnummer
from clients.models import (
    FINISHED,
    AssessmentConversation,
    AssessmentDecision,
    CaseStatus,
    Client,
    ContactMethod,
    DeepInterviewSection,
    Education,
    Episode,
    FamilyMember,
    FamilyRelation,
    FamilyRelationship,
    Gender,
    InterviewSection,
    ReferralDestination,
    ReferralSource,
    RelationshipKind,
    Sex,
    StatusChange,
    TargetGroup,
)
from demo import assessments as assessments_demo
from demo import sessions as sessions_demo
from demo.cases import Case, Period, Step
from kast.models import Clinic, Role, User

LOCALE = "sv_SE"
#: The demo set is seeded, so every developer sees the same people (relative to today's date).
DEMO_SEED = 2026
BATCH_SIZE = 2000
#: Client codes carry a four-digit running number per clinic and year (GBG-2026-0042).
CODE_NUMBER_MAX = 9999

S = CaseStatus

#: A demo therapist's caseload: every status at least once, weighted towards ongoing work. A dozen
#: in treatment give some 300 sessions a year with the assessments and follow-ups: the evaluation
#: counted 509 per full-time therapist in 2019, with 1.5 posts shared by two therapists.
DEMO_CASELOAD = (
    S.CONTACT,
    S.IN_TREATMENT,
    S.ASSESSMENT,
    S.ENDED,
    S.IN_TREATMENT,
    S.REFERRED,
    S.CONTACT,
    S.FOLLOWED_UP,
    S.IN_TREATMENT,
    S.CLOSED,
    S.ASSESSMENT,
    S.IN_TREATMENT,
    S.IN_TREATMENT,
    S.ENDED,
    S.IN_TREATMENT,
    S.IN_TREATMENT,
    S.FOLLOWED_UP,
    S.IN_TREATMENT,
    S.IN_TREATMENT,
    S.IN_TREATMENT,
    S.ENDED,
    S.IN_TREATMENT,
    S.IN_TREATMENT,
)

DEMO_CLIENTS_PER_THERAPIST = len(DEMO_CASELOAD)

#: Which of a demo therapist's cases (indexes into DEMO_CASELOAD) a colleague works on too.
CO_THERAPIST_AT = (2, 4, 8)

#: The shape of a load-test caseload (`seed_demo --clients N`): mostly finished cases, as in a
#: clinic that has worked for years.
BULK_STATUS_WEIGHTS = {
    S.CONTACT: 6,
    S.ASSESSMENT: 4,
    S.IN_TREATMENT: 18,
    S.ENDED: 12,
    S.FOLLOWED_UP: 30,
    S.REFERRED: 12,
    S.CLOSED: 18,
}

#: Days between two steps of the workflow (min, max).
GAP_DAYS = {
    (S.CONTACT, S.ASSESSMENT): (4, 25),
    (S.CONTACT, S.REFERRED): (1, 14),
    (S.CONTACT, S.CLOSED): (7, 45),
    (S.ASSESSMENT, S.IN_TREATMENT): (0, 21),
    (S.ASSESSMENT, S.REFERRED): (0, 14),
    (S.ASSESSMENT, S.CLOSED): (0, 30),
    (S.IN_TREATMENT, S.ENDED): (60, 420),
    (S.ENDED, S.FOLLOWED_UP): (175, 200),  # the follow-up conversation, six months after the end
}
#: Load tests: a treatment runs three to eighteen months, about 35 sessions on average (the demo's
#: shorter ones keep its diaries light). With the returning clients below, a load-test client has
#: some 25 sessions: 20 000 clients make the half million sessions of a national data set.
BULK_GAP_DAYS = {**GAP_DAYS, (S.IN_TREATMENT, S.ENDED): (90, 540)}
#: Share of load-test clients who had an earlier treatment period and came back.
BULK_RETURNING = 0.2
#: A load-test therapist's share of `seed_demo --clients N`: a national data set has many
#: therapists, and some 60 clients over the years give about a dozen in treatment at a time, the
#: weekly load of a full-time therapist (509 sessions a year in the evaluation).
BULK_CLIENTS_PER_THERAPIST = 60

#: How long ago a case reached its current status (days, min and max; None: the whole span).
#: Open cases move on within weeks; an ended case is followed up after six months.
RECENCY_DAYS = {
    S.CONTACT: (0, 20),
    S.ASSESSMENT: (0, 20),
    S.IN_TREATMENT: (0, 300),
    S.ENDED: (0, 170),
    S.FOLLOWED_UP: None,
    S.REFERRED: None,
    S.CLOSED: None,
}

#: The demo's ended cases ended five to six months ago: their follow-up conversation is due within
#: the month, so the demo therapists' start pages list a follow-up to book.
DEMO_RECENCY_DAYS = {S.ENDED: (155, 175)}

ACTIVE = (S.CONTACT, S.ASSESSMENT, S.IN_TREATMENT)
#: Statuses a case can have reached at any time in the past (the others are recent by nature).
TIMELESS = tuple(status for status, recency in RECENCY_DAYS.items() if recency is None)

DECISION_FOR_STATUS = {
    S.IN_TREATMENT: AssessmentDecision.ACCEPTED,
    S.ENDED: AssessmentDecision.ACCEPTED,
    S.FOLLOWED_UP: AssessmentDecision.ACCEPTED,
    S.REFERRED: AssessmentDecision.REFERRED,
    S.CLOSED: AssessmentDecision.NOT_NOW,
}

SEX_FOR_GENDER = {Gender.MAN: Sex.MALE, Gender.WOMAN: Sex.FEMALE}

# --- Word banks -------------------------------------------------------------------------------
# The record describes acts and what the person says, never what the person "is".

OCCUPATIONS = (
    "Lärare",
    "Undersköterska",
    "Ingenjör",
    "Snickare",
    "Elektriker",
    "Säljare",
    "Lastbilschaufför",
    "IT-konsult",
    "Ekonom",
    "Projektledare",
    "Sjuksköterska",
    "Läkare",
    "Butikschef",
    "Lagerarbetare",
    "Busschaufför",
    "Egen företagare",
    "Kock",
    "Fastighetsskötare",
    "Journalist",
    "Civilingenjör",
    "Mäklare",
    "Socionom",
    "Montör",
    "Arbetssökande",
    "Sjukskriven",
    "Student",
)

DESTINATIONS = (
    "Sexualmedicinskt Centrum",
    "Sexualmedicinskt Centrum",
    "Sexualmedicinskt Centrum",
    "Psykiatrisk öppenvård",
    "Beroendemottagningen",
    "Vårdcentralen",
)
#: The entry of the clinic's list (clients.models.DEFAULT_REFERRAL_DESTINATIONS) each demo destination is.
DESTINATION_LIST_NAME = {
    "Sexualmedicinskt Centrum": "Sexualmedicinsk mottagning",
    "Psykiatrisk öppenvård": "Psykiatrin",
    "Beroendemottagningen": "Beroendevården",
    "Vårdcentralen": "Primärvården",
}

REASON_BEHAVIOUR = {
    TargetGroup.BUYING_SEX: (
        "Har köpt sex under flera år och vill sluta.",
        "Har köpt sex några gånger det senaste året, oftast på tjänsteresor.",
        "Köper sex när jag mår dåligt och ångrar mig efteråt.",
        "Har köpt sex via annonser på nätet och förstår inte varför jag fortsätter.",
        "Började köpa sex efter separationen och vill bryta mönstret.",
    ),
    TargetGroup.COMPULSIVE: (
        "Tittar på porr flera timmar om dagen och har svårt att sluta.",
        "Sexchattar på nätterna och sover för lite. Har försökt sluta själv många gånger.",
        "Tankarna på sex tar över och det går ut över jobbet.",
        "Tittar på porr på ett sätt som jag inte kan styra längre.",
        "Letar efter sexuella kontakter på appar flera gånger i veckan fast jag inte vill.",
    ),
    "both": (
        "Tittar mycket på porr och har köpt sex några gånger. Känner att det har tagit över.",
        "Har köpt sex och sexchattar på nätterna. Det har blivit ett tvång.",
    ),
}

REASON_CONTEXT = {
    ReferralSource.SELF: (
        "Har funderat länge på att ringa.",
        "Har inte berättat för någon.",
        "Vill ha hjälp innan det går ut över familjen.",
    ),
    ReferralSource.PARTNER: (
        "Partnern har fått reda på det.",
        "Min sambo hittade meddelanden i telefonen och vill att jag söker hjälp.",
        "Partnern har sagt att jag måste göra något åt det.",
    ),
    ReferralSource.POLICE: (
        "Polisen stoppade mig i samband med ett sexköp och gav mig numret hit.",
        "Blev tagen av polisen förra veckan. Vill inte hamna där igen.",
    ),
    ReferralSource.KRISCENTRUM: ("Fick numret av Kriscentrum för män.",),
    ReferralSource.HEALTH_CARE: (
        "Min läkare på vårdcentralen tipsade om er.",
        "Psykologen jag går hos tyckte att jag skulle ringa hit.",
    ),
    ReferralSource.SOCIAL_SERVICES: ("Socialsekreteraren föreslog att jag skulle kontakta er.",),
    ReferralSource.OTHER_AGENCY: ("Fick tips om er via företagshälsovården.",),
    ReferralSource.OTHER: ("En vän berättade om er.", "Läste om er i en artikel."),
}

# Banks of (condition, text): the condition names a fact that must hold (None: always fits);
# see Faked.flags for the facts of a client and Faked.family for those of a family map.
REASON_WISH = (
    (None, "Vill förstå varför jag gör det."),
    (None, "Vill få tillbaka kontrollen."),
    (None, "Vill kunna vara ärlig mot min familj."),
    (None, "Vill sluta."),
    ("partner", "Vill rädda relationen."),
    (None, ""),
)

PROBLEM = {
    TargetGroup.BUYING_SEX: (
        "Jag köper sex ungefär en gång i månaden, oftast när jag är ensam på resa.",
        "Det började som något spännande men nu känns det som att jag inte kan låta bli.",
        "Efteråt mår jag dåligt och ljuger för dem jag har omkring mig.",
        "Jag letar annonser när jag är stressad eller har bråkat hemma.",
    ),
    TargetGroup.COMPULSIVE: (
        "Jag tittar på porr varje kväll, ofta i flera timmar.",
        "Jag har försökt sluta flera gånger men håller bara några dagar.",
        "Det tar tid från familjen och jag sover för lite.",
        "Jag använder porr för att slippa tänka på annat som är jobbigt.",
    ),
    "any": (
        "Jag skäms och har inte kunnat prata med någon om det.",
        "Jag är rädd att förlora familjen.",
        "Det känns som att jag lever ett dubbelliv.",
    ),
}

GOALS = (
    ("buying", "Sluta köpa sex helt."),
    ("compulsive", "Få kontroll över porrtittandet."),
    ("partner", "Kunna berätta för partnern och bygga upp förtroendet igen."),
    (None, "Förstå vilka känslor som sätter igång beteendet."),
    (None, "Hitta andra sätt att hantera stress och ensamhet."),
    (None, "Må bättre och känna mindre skam."),
    ("children", "Kunna vara närvarande med barnen."),
)

ASSESSMENT_TEXT = {
    AssessmentDecision.ACCEPTED: (
        (None, "Tillhör målgruppen och beskriver en tydlig vilja till förändring."),
        ("partner", "Beteendet har pågått i flera år och påverkar både relationen och arbetet."),
        ("single", "Beteendet har pågått i flera år och påverkar arbetet och kontakten med andra."),
        (None, "Erbjuds individuella behandlingssamtal varannan vecka."),
        ("partner", "Partnern kan erbjudas anhörigstöd."),
        ("children", "Barnperspektivet tas upp i behandlingen."),
        (None, "Inga tecken på akut kris."),
    ),
    AssessmentDecision.REFERRED: (
        (None, "Behovet ligger i första hand utanför KAST:s uppdrag."),
        (None, "Bedöms behöva en sexologisk utredning."),
        (None, "Hänvisas vidare efter samtycke; välkommen tillbaka vid behov."),
    ),
    AssessmentDecision.NOT_NOW: (
        (None, "Tillhör målgruppen men vill vänta med att påbörja behandling."),
        (None, "Erbjuds att höra av sig igen när det passar."),
        (None, "Informerad om möjligheten att vara anonym."),
    ),
    "open": (
        (None, "Första bedömningssamtalet hållet; ett andra samtal är bokat innan beslut."),
        ("partner", "Beskriver skam och oro för relationen."),
        (None, "Beskriver skam och en stark vilja att sluta."),
    ),
}

STEP_REASONS = {
    S.CONTACT: ("", "Första kontakt.", "Ringde till mottagningen."),
    S.ASSESSMENT: ("Bedömningssamtal bokat.", ""),
    S.IN_TREATMENT: ("Beslut efter bedömningssamtalet: behandlingssamtal.",),
    S.REFERRED: (
        "Bedöms behöva en sexologisk utredning.",
        "Behöver i första hand en psykiatrisk bedömning.",
        "Behovet ligger utanför målgruppen.",
    ),
    S.CLOSED: (
        "Vill vänta med behandling.",
        "Har inte hört av sig efter bedömningssamtalet.",
        "Vill inte gå vidare just nu.",
    ),
    S.ENDED: (
        "Behandlingsmålen är uppnådda.",
        "Avslutar själv; upplever att det räcker för nu.",
        "Flyttar från kommunen.",
        "Avslutat efter överenskommelse.",
    ),
    S.FOLLOWED_UP: ("Uppföljningssamtal sex månader efter avslut.",),
}
RETURNING_REASON = "Tidigare klient som hör av sig igen."

# Deep-interview sentences, (condition, template) as above; the {fields} come from the family map.
INTERVIEW_BANK: dict[str, tuple[tuple[str | None, str], ...]] = {
    InterviewSection.CHILDHOOD: (
        (None, "Växte upp i {city} med {household}."),
        (None, "Beskriver en trygg men ganska tyst barndom."),
        (None, "Var mycket ute och spelade fotboll med kamraterna i området."),
        (None, "Trivdes i skolan de första åren men hade svårt med koncentrationen på högstadiet."),
        (
            None,
            "Familjen flyttade till {city2} när klienten var {young_age} år; det innebar ny skola och nya kamrater.",
        ),
        ("grandparent", "Hade en nära relation till {grandparent}, som ofta tog hand om klienten på loven."),
        (None, "Var intresserad av musik och spelade i ett band under tonåren."),
        (None, "Hade få vänner och tillbringade mycket tid ensam vid datorn."),
    ),
    InterviewSection.UPBRINGING: (
        (None, "Känslor pratades det sällan om hemma; man skulle klara sig själv."),
        (None, "Pappa var ofta borta i arbetet och mamma höll ihop familjen."),
        (None, "Sexualitet var ett ämne som aldrig togs upp hemma."),
        (None, "Beskriver höga krav på prestation, särskilt i skolan och idrotten."),
        (None, "Konflikter hanterades genom att man teg och gick undan."),
        (
            "divorced",
            "Föräldrarna skilde sig när klienten var {divorce_age} år och kontakten med pappa blev sporadisk.",
        ),
        (None, "Lärde sig tidigt att vara den som inte var till besvär."),
        (None, "Alkohol förekom mycket vid helger och högtider."),
    ),
    InterviewSection.VULNERABILITY: (
        (None, "Blev utsatt för mobbning under mellanstadiet."),
        (
            None,
            "Berättar om sexuella övergrepp av en nära släkting i tidig ålder; har inte berättat det för någon tidigare.",
        ),
        ("lost_grandparent", "Förlorade {lost_grandparent} {lost_year}, en sorg som ingen i familjen pratade om."),
        ("siblings", "Såg våld mellan föräldrarna och tog ofta hand om syskonen."),
        (None, "Beskriver en känsla av att sällan ha blivit sedd som barn."),
        (None, "Var med om en allvarlig olycka som ung och hade mardrömmar länge efteråt."),
    ),
    InterviewSection.PUBERTY: (
        (None, "Kom tidigt i puberteten och kände sig annorlunda än kamraterna."),
        (None, "Hade ingen vuxen att prata med om kroppen och förändringarna."),
        (None, "Fick sin kunskap om sex främst från kamrater och porr."),
        (None, "Kände mycket skam kring onani och sexuella tankar."),
        (None, "Var blyg och osäker i kontakten med jämnåriga."),
    ),
    InterviewSection.SEXUAL_DEBUT: (
        (None, "Sexdebuten skedde vid {debut_age} års ålder med en jämnårig på en fest."),
        (None, "Beskriver debuten som nervös och snabb men ömsesidig."),
        (None, "Upplevde stor prestationsångest inför och under debuten."),
        (None, "Minns att det var viktigt att inte vara sist bland kamraterna."),
        (None, "Kände sig ensam efteråt och pratade inte med någon om det."),
    ),
    InterviewSection.SEXUAL_EXPERIENCES: (
        (None, "Har haft ett fåtal relationer där sexlivet beskrivs som ojämnt."),
        (None, "Sex har ofta fungerat som ett sätt att dämpa oro och ensamhet."),
        (None, "Har periodvis haft svårt att känna närhet vid sex med en partner."),
        (None, "Beskriver att porr tidigt blev en del av sexualiteten."),
        (None, "Har haft flera kortare sexuella kontakter via appar."),
    ),
    InterviewSection.FIRST_LOVE: (
        (None, "Blev förälskad första gången vid {love_age} års ålder, i en klasskamrat."),
        (None, "Den första kärleken varade i två år och tog slut när den andra flyttade."),
        (None, "Beskriver förälskelsen som intensiv och uppslukande."),
        (None, "Blev lämnad och minns det som en stor sorg som inte delades med någon."),
        (None, "Har svårt att minnas någon förälskelse under tonåren."),
    ),
    InterviewSection.RELATIONSHIPS: (
        ("partner", "Har levt med {partner} i {together_years} år."),
        ("partner", "Relationen beskrivs som trygg men med lite närhet de senaste åren."),
        ("partner_children", "Relationen har varit ansträngd sedan barnen föddes."),
        ("single", "Lever ensam sedan en separation för {apart_years} år sedan."),
        ("single", "Har haft flera korta relationer som tagit slut när det blivit nära."),
        (None, "Beskriver ett mönster av att dra sig undan när en relation blir nära."),
        (None, "Har nära vänner men pratar sällan om känslor med dem."),
        (None, "Ett tidigare långt förhållande tog slut efter otrohet."),
    ),
    InterviewSection.BEHAVIOUR_DEBUT: (
        ("buying", "Köpte sex första gången vid {behaviour_age} års ålder, under en resa utomlands."),
        ("buying", "Började köpa sex via annonser på nätet under en period med mycket stress på jobbet."),
        ("buying", "Det första sexköpet skedde efter en fest tillsammans med arbetskamrater."),
        ("compulsive", "Porrtittandet ökade kraftigt under en period av arbetslöshet."),
        ("compulsive", "Sexchattandet började vid {behaviour_age} års ålder och tog successivt allt mer tid."),
        ("compulsive", "Kunde redan i tonåren titta på porr i flera timmar i sträck."),
        (None, "Beskriver beteendet som ett sätt att fly från svåra känslor, ett rum att gå in i."),
        (None, "Har försökt sluta flera gånger på egen hand."),
        (None, "Beteendet tilltog efter en period av sorg och ensamhet."),
    ),
}

#: Relations in the family map old enough to have died (the demo keeps partners and children alive).
MORTAL = (FamilyRelation.GRANDPARENT, FamilyRelation.PARENT, FamilyRelation.PARENTS_PARTNER)
EMOTIONAL_KINDS = (
    RelationshipKind.CLOSE,
    RelationshipKind.DISTANT,
    RelationshipKind.CONFLICT,
    RelationshipKind.CUT_OFF,
)


# --- Small helpers ----------------------------------------------------------------------------


def _weighted(rng: random.Random, weights: dict):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _pick(rng: random.Random, bank: Sequence[tuple[str | None, str]], flags: dict[str, bool], k: int) -> list[str]:
    """k texts (or as many as fit) from a bank of (condition, text), in random order."""
    fitting = [text for condition, text in bank if condition is None or flags[condition]]
    return rng.sample(fitting, min(k, len(fitting)))


def _weekday_on_or_before(day: datetime.date) -> datetime.date:
    return day - datetime.timedelta(days=max(0, day.weekday() - 4))


def _weekday_on_or_after(day: datetime.date) -> datetime.date:
    return day + datetime.timedelta(days=(7 - day.weekday()) % 7 if day.weekday() > 4 else 0)


def _office_time(rng: random.Random, day: datetime.date) -> datetime.datetime:
    moment = datetime.datetime.combine(day, datetime.time(rng.randint(8, 15), rng.choice((0, 15, 30, 45))))
    return timezone.make_aware(moment)


def _personnummer(rng: random.Random, birth_year: int, gender: str) -> str:
    """A well-formed personnummer born in birth_year; the ninth digit is odd for men, even for women."""
    born = datetime.date(birth_year, 1, 1) + datetime.timedelta(days=rng.randrange(365))
    sex_digit = rng.choice("13579" if gender == Gender.MAN else "02468" if gender == Gender.WOMAN else "0123456789")
    serial = f"{rng.randint(0, 99):02d}{sex_digit}"
    check = luhn.calc_check_digit(f"{born:%y%m%d}{serial}")
    return normalize_personnummer(f"{born:%Y%m%d}-{serial}{check}")


def _fictional_phone(rng: random.Random) -> str:
    # PTS reserves 070-174 06 05 … 070-174 06 99 for fictional people: never a real subscriber.
    return f"070-174 06 {rng.randint(5, 99):02d}"


def _ascii_slug(text: str) -> str:
    table = str.maketrans("åäöéÅÄÖÉ", "aaoeAAOE")
    return re.sub(r"[^a-z]", "", text.translate(table).lower())


class CodeSequence:
    """The next client code per clinic and year, continuing after the highest number already used."""

    def __init__(self, clinics: Iterable[Clinic]):
        self.highest: dict[tuple[str, int], int] = defaultdict(int)
        prefixes = "|".join(clinic.code for clinic in clinics) or "-"
        pattern = "^(" + prefixes + ")-[0-9]{4}-[0-9]+$"
        for code in Client.objects.filter(code__regex=pattern).values_list("code", flat=True).iterator():
            prefix, year, number = code.split("-")
            key = (prefix, int(year))
            self.highest[key] = max(self.highest[key], int(number))

    def has_room(self, clinic: Clinic, year: int) -> bool:
        return self.highest[(clinic.code, year)] < CODE_NUMBER_MAX

    def next(self, clinic: Clinic, year: int) -> str:
        key = (clinic.code, year)
        if self.highest[key] >= CODE_NUMBER_MAX:
            raise ValueError(f"The client codes of {clinic.code} for {year} are used up ({CODE_NUMBER_MAX}).")
        self.highest[key] += 1
        return f"{clinic.code}-{year}-{self.highest[key]:04d}"


# --- One fake case ----------------------------------------------------------------------------


def status_path(status: str, *, via_assessment: bool = True) -> list[str]:
    """The statuses a case passed through to reach `status`, starting at contact."""
    treatment = [S.CONTACT, S.ASSESSMENT, S.IN_TREATMENT]
    return {
        S.CONTACT: [S.CONTACT],
        S.ASSESSMENT: [S.CONTACT, S.ASSESSMENT],
        S.IN_TREATMENT: treatment,
        S.ENDED: [*treatment, S.ENDED],
        S.FOLLOWED_UP: [*treatment, S.ENDED, S.FOLLOWED_UP],
        S.REFERRED: [S.CONTACT, S.ASSESSMENT, S.REFERRED] if via_assessment else [S.CONTACT, S.REFERRED],
        S.CLOSED: [S.CONTACT, S.ASSESSMENT, S.CLOSED] if via_assessment else [S.CONTACT, S.CLOSED],
    }[status]


def make_period(
    rng: random.Random,
    path: Sequence[str],
    *,
    last_day: datetime.date,
    now: datetime.datetime,
    gaps: dict[tuple[str, str], tuple[int, int]] = GAP_DAYS,
) -> Period:
    """Steps along `path`, the last on `last_day`, in office hours and strictly in order, none in the future."""
    days = [last_day]
    for source, target in reversed(list(pairwise(path))):
        days.insert(0, days[0] - datetime.timedelta(days=rng.randint(*gaps[(source, target)])))
    # Sorted: two steps on the same day keep their order (the days already are in order).
    moments = sorted(_office_time(rng, _weekday_on_or_before(day)) for day in days)
    moments[-1] = min(moments[-1], now - datetime.timedelta(minutes=5))
    for i in range(len(moments) - 2, -1, -1):
        moments[i] = min(moments[i], moments[i + 1] - datetime.timedelta(minutes=30))
    steps = [
        Step(to_status=status, at=at, reason=rng.choice(STEP_REASONS[status]))
        for status, at in zip(path, moments, strict=True)
    ]
    for step in steps:
        if step.to_status == S.REFERRED:
            step.destination = rng.choice(DESTINATIONS)
    return Period(steps)


class Faked:
    """Generates fake people and cases from one seeded Faker and its random generator."""

    def __init__(self, *, seed: int | str, today: datetime.date | None = None):
        self.fake = Faker(LOCALE)
        # Always seeded: a generator without a seed made different data on each run, and a test
        # asserting on shares of that data failed now and then (the same command must make the same data).
        self.fake.seed_instance(seed)
        self.rng: random.Random = self.fake.random
        self.now = timezone.now()
        self.today = today or timezone.localdate(self.now)

    # -- people

    def first_name(self, sex: str) -> str:
        if sex == Sex.MALE:
            return self.fake.first_name_male()
        if sex == Sex.FEMALE:
            return self.fake.first_name_female()
        return self.fake.first_name()

    def client(
        self,
        *,
        therapist: User,
        status: str,
        taken_personnummer: set[str],
        identified: bool,
        protected: bool = False,
    ) -> Client:
        """A Client row (not saved, without code and dates) with plausible, consistent details."""
        rng = self.rng
        gender = _weighted(rng, {Gender.MAN: 88, Gender.WOMAN: 7, Gender.NON_BINARY: 3, Gender.NOT_STATED: 2})
        sex = SEX_FOR_GENDER.get(gender, Sex.OTHER)
        birth_year = round(rng.triangular(1950, 2000, 1982))
        age = self.today.year - birth_year
        referral = _weighted(
            rng,
            {
                ReferralSource.SELF: 34,
                ReferralSource.PARTNER: 24,
                ReferralSource.POLICE: 22,
                ReferralSource.KRISCENTRUM: 6,
                ReferralSource.HEALTH_CARE: 6,
                ReferralSource.SOCIAL_SERVICES: 4,
                ReferralSource.OTHER_AGENCY: 2,
                ReferralSource.OTHER: 2,
            },
        )
        if referral == ReferralSource.POLICE:  # the police intervene on purchases
            groups = rng.choice([[TargetGroup.BUYING_SEX]] * 3 + [[TargetGroup.BUYING_SEX, TargetGroup.COMPULSIVE]])
        elif gender == Gender.MAN:
            groups = _weighted(
                rng,
                {
                    (TargetGroup.BUYING_SEX,): 40,
                    (TargetGroup.COMPULSIVE,): 40,
                    (TargetGroup.BUYING_SEX, TargetGroup.COMPULSIVE): 20,
                },
            )
        else:
            groups = rng.choice([[TargetGroup.COMPULSIVE]] * 5 + [[TargetGroup.BUYING_SEX, TargetGroup.COMPULSIVE]])
        groups = list(groups)
        in_relationship = referral == ReferralSource.PARTNER or rng.random() < 0.65
        has_children = rng.random() < 0.65
        children_ages: list[int] = []
        if has_children:
            # A parent is 20-42 years older than the child (well above the 15 years the record requires).
            children_ages = sorted(
                (max(0, age - rng.randint(20, min(42, age))) for _ in range(rng.choice((1, 1, 2, 2, 2, 3)))),
                reverse=True,
            )
        first = self.first_name(sex)
        client = Client(
            clinic_id=therapist.clinic_id,
            responsible_therapist=therapist,
            alias=first,
            gender=gender,
            birth_year=birth_year,
            in_relationship=in_relationship,
            has_children=has_children,
            children_ages=children_ages,
            occupation="Pensionär" if age >= 66 and rng.random() < 0.8 else rng.choice(OCCUPATIONS),
            education=_weighted(
                rng, {Education.GYMNASIUM: 45, Education.UNIVERSITY: 40, Education.OTHER: 8, Education.NOT_STATED: 7}
            ),
            contact_method=_weighted(
                rng,
                {ContactMethod.PHONE: 65, ContactMethod.EMAIL: 25, ContactMethod.WALK_IN: 5, ContactMethod.OTHER: 5},
            ),
            referral_source=referral,
            reason="",
            target_groups=groups,
            status=status,
            protected_identity=protected,
        )
        if identified or protected:
            last = self.fake.last_name()
            client.full_name = f"{first} {last}"
            for _attempt in range(20):
                number = _personnummer(rng, birth_year, gender)
                if number not in taken_personnummer:
                    taken_personnummer.add(number)
                    client.personnummer = number
                    break
            client.phone = _fictional_phone(rng)
            if rng.random() < 0.5:
                client.email = f"{_ascii_slug(first)}.{_ascii_slug(last)}@example.com"
        client.reason = self.reason(client)
        if status in ACTIVE:
            client.next_contact_date = _weekday_on_or_after(self.today + datetime.timedelta(days=rng.randint(1, 21)))
        return client

    @staticmethod
    def flags(client: Client) -> dict[str, bool]:
        """The facts of a client that decide which sentences fit."""
        return {
            "partner": bool(client.in_relationship),
            "single": not client.in_relationship,
            "children": bool(client.children_ages),
            "partner_children": bool(client.in_relationship and client.children_ages),
            "buying": TargetGroup.BUYING_SEX in client.target_groups,
            "compulsive": TargetGroup.COMPULSIVE in client.target_groups,
        }

    def reason(self, client: Client) -> str:
        """Why the person made contact, in their own words."""
        rng, groups = self.rng, client.target_groups
        key = "both" if len(groups) > 1 and rng.random() < 0.5 else groups[0]
        parts = [
            rng.choice(REASON_BEHAVIOUR[key]),
            rng.choice(REASON_CONTEXT[client.referral_source]),
            *_pick(rng, REASON_WISH, self.flags(client), 1),
        ]
        return " ".join(part for part in parts if part)

    # -- the case's history

    def periods(
        self,
        status: str,
        *,
        span_days: int,
        via_assessment: bool = True,
        returning: bool = False,
        recency: tuple[int, int] | None = None,
        gaps: dict[tuple[str, str], tuple[int, int]] = GAP_DAYS,
    ) -> list[Period]:
        """The treatment periods behind `status`; a returning client first has a finished one."""
        rng = self.rng
        recency = recency or RECENCY_DAYS[status] or (0, span_days)
        last_day = self.today - datetime.timedelta(days=rng.randint(*recency))
        path = status_path(status, via_assessment=via_assessment)
        current = make_period(rng, path, last_day=last_day, now=self.now, gaps=gaps)
        if not returning:
            return [current]
        earlier_end = current.opened_on - datetime.timedelta(days=rng.randint(240, 1400))
        earlier_status = rng.choice((S.FOLLOWED_UP, S.ENDED, S.CLOSED))
        earlier = make_period(rng, status_path(earlier_status), last_day=earlier_end, now=self.now, gaps=gaps)
        current.steps[0].reason = RETURNING_REASON
        return [earlier, current]

    def case(
        self,
        *,
        therapist: User,
        status: str,
        taken_personnummer: set[str],
        identified: bool,
        protected: bool = False,
        span_days: int,
        via_assessment: bool = True,
        returning: bool = False,
        recency: tuple[int, int] | None = None,
        gaps: dict[tuple[str, str], tuple[int, int]] = GAP_DAYS,
    ) -> Case:
        client = self.client(
            therapist=therapist,
            status=status,
            taken_personnummer=taken_personnummer,
            identified=identified,
            protected=protected,
        )
        periods = self.periods(
            status, span_days=span_days, via_assessment=via_assessment, returning=returning, recency=recency, gaps=gaps
        )
        client.first_contact_date = periods[0].opened_on
        client.created_at = periods[0].steps[0].at
        return Case(client=client, periods=periods)

    # -- the assessment conversation

    def assessment(self, client: Client, period: Period, status: str) -> AssessmentConversation:
        rng = self.rng
        decision = DECISION_FOR_STATUS.get(status, "")
        problem = rng.sample(PROBLEM[client.target_groups[0]], 2) + rng.sample(PROBLEM["any"], 1)
        flags = self.flags(client)
        goals = _pick(rng, GOALS, flags, rng.randint(2, 3))
        assessment = _pick(rng, ASSESSMENT_TEXT[decision or "open"], flags, 2)
        if decision == AssessmentDecision.REFERRED:
            destination = next(s.destination for s in period.steps if s.to_status == S.REFERRED)
            assessment.append(f"Hänvisas till {destination}.")
        # Held on the day of the decision, or (no decision yet) the day the case reached assessment.
        statuses = [step.to_status for step in period.steps]
        held = statuses.index(S.ASSESSMENT) + (1 if decision else 0)
        return AssessmentConversation(
            held_on=timezone.localdate(period.steps[held].at),
            problem=" ".join(problem),
            goals="\n".join(f"- {goal}" for goal in goals),
            assessment=" ".join(assessment),
            decision=decision,
            updated_by=client.responsible_therapist,
        )

    # -- the family map (familjekarta)

    def partner_sex(self, client_sex: str) -> str:
        """Mostly the other sex; sometimes the same."""
        if client_sex == Sex.OTHER:
            return self.rng.choice((Sex.MALE, Sex.FEMALE, Sex.OTHER))
        other = Sex.FEMALE if client_sex == Sex.MALE else Sex.MALE
        return other if self.rng.random() < 0.9 else client_sex

    def family(
        self, client: Client
    ) -> tuple[list[FamilyMember], list[tuple[int, int]], list[tuple[int, int, str]], dict]:
        """Members (index 0 is the client), (child, parent) index pairs, relationship lines, and facts."""
        rng, year = self.rng, self.today.year
        members: list[FamilyMember] = []
        parent_links: list[tuple[int, int]] = []
        lines: list[tuple[int, int, str]] = []
        facts: dict = {}

        used_names = {client.alias}

        def die(member: FamilyMember, *, not_before: int) -> None:
            latest = min(member.birth_year + 100, year - 1)
            member.deceased = True
            member.death_year = rng.randint(min(max(member.birth_year + 58, not_before), latest), latest)

        def add(relation: str, sex: str, born: int, parents: Sequence[int] = (), label: str = "") -> int:
            if not label:  # a first name nobody else in the map has, so the genogram reads clearly
                label = self.first_name(sex)
                while label in used_names:
                    label = self.first_name(sex)
                used_names.add(label)
            member = FamilyMember(label=label[:60], relation=relation, sex=sex, birth_year=born)
            # The older generations have lived a life's length: a realistic share has died.
            if relation in MORTAL and born + round(rng.triangular(58, 100, 85)) < year:
                die(member, not_before=born + 58)
            members.append(member)
            index = len(members) - 1
            parent_links.extend((index, parent) for parent in parents)
            return index

        client_sex = SEX_FOR_GENDER.get(client.gender, Sex.OTHER)
        by = client.birth_year
        me = add(FamilyRelation.CLIENT, client_sex, by, label=client.code)
        father = add(FamilyRelation.PARENT, Sex.MALE, by - rng.randint(22, 40))
        mother = add(FamilyRelation.PARENT, Sex.FEMALE, by - rng.randint(20, 38))
        parent_links += [(me, father), (me, mother)]
        divorced = rng.random() < 0.35
        lines.append((father, mother, RelationshipKind.DIVORCED if divorced else RelationshipKind.MARRIED))
        facts["divorced"] = divorced

        # Grandparents: 2-4, on one side or both.
        sides = {"far": father, "mor": mother}
        slots = [
            ("far", "far", Sex.MALE),
            ("far", "mor", Sex.FEMALE),
            ("mor", "far", Sex.MALE),
            ("mor", "mor", Sex.FEMALE),
        ]
        chosen = rng.sample(slots, rng.randint(2, 4))
        grandparents = []
        for side, kind, sex in sorted(chosen):
            child = sides[side]
            born = members[child].birth_year - rng.randint(20, 36)
            grandparents.append(add(FamilyRelation.GRANDPARENT, sex, born, label=f"{side.capitalize()}{kind}"))
            parent_links.append((child, grandparents[-1]))
        if not any(members[g].deceased for g in grandparents) and rng.random() < 0.5:
            die(members[rng.choice(grandparents)], not_before=by + 5)
        # A loss the client lived through (not one before the client was born).
        deceased = [members[g] for g in grandparents if members[g].deceased and members[g].death_year > by + 3]
        if deceased:
            facts["lost_grandparent"] = deceased[0].label.lower()
            facts["lost_year"] = f"år {deceased[0].death_year}"
        # A grandparent who was there during the client's childhood.
        present = [members[g] for g in grandparents if not members[g].deceased or members[g].death_year > by + 8]
        if present:
            facts["grandparent"] = rng.choice(present).label.lower()

        # Partner, former partner and children.
        partner = former = None
        if client.in_relationship:
            partner_sex = self.partner_sex(client_sex)
            partner_born = min(by + rng.randint(-6, 6), year - 20)
            partner = add(FamilyRelation.PARTNER, partner_sex, partner_born)
            kind = RelationshipKind.MARRIED if rng.random() < 0.55 else RelationshipKind.COHABITING
            lines.append((me, partner, kind))
            facts["partner"] = members[partner].label
            facts["together_years"] = max(1, min(year - max(by, partner_born) - 18, rng.randint(2, 25)))
        else:
            facts["apart_years"] = rng.randint(1, 12)
            if client.children_ages:
                former = add(FamilyRelation.FORMER_PARTNER, self.partner_sex(client_sex), by + rng.randint(-5, 5))
                lines.append((me, former, rng.choice((RelationshipKind.DIVORCED, RelationshipKind.SEPARATED))))
        other_parent = partner if partner is not None else former
        children = []
        for age in client.children_ages:
            sex = rng.choice((Sex.MALE, Sex.FEMALE))
            parents = (me,) if other_parent is None else (me, other_parent)
            children.append(add(FamilyRelation.CHILD, sex, year - age, parents))

        # Siblings, enough to make the map a useful size (8-20 people), and sometimes a half-sibling.
        siblings = []
        wanted = rng.choice((0, 1, 1, 2, 2, 3))
        half = rng.random() < 0.3
        wanted = max(wanted, 8 - len(members) - (2 if half else 0))
        mother_born = members[mother].birth_year
        for _ in range(wanted):
            sex = rng.choice((Sex.MALE, Sex.FEMALE))
            born = min(max(by + rng.choice((-1, 1)) * rng.randint(1, 9), mother_born + 18), mother_born + 44, year)
            siblings.append(add(FamilyRelation.SIBLING, sex, born, (father, mother)))
        if half:
            shared = father if rng.random() < 0.7 else mother
            shared_sex = members[shared].sex
            other_sex = Sex.FEMALE if shared_sex == Sex.MALE else Sex.MALE
            shared_born = members[shared].birth_year
            former_of_parent = add(FamilyRelation.PARENTS_PARTNER, other_sex, shared_born + rng.randint(-5, 2))
            # A relationship before the client's parents met; both were adults by then.
            sex = rng.choice((Sex.MALE, Sex.FEMALE))
            born = min(max(by - rng.randint(3, 12), shared_born + 20), by - 1)
            siblings.append(add(FamilyRelation.HALF_SIBLING, sex, born, (shared, former_of_parent)))
            lines.append((shared, former_of_parent, RelationshipKind.DIVORCED))
        facts["siblings"] = len(siblings)

        # A couple of emotional lines between the client and living people close to them.
        candidates = [i for i in (father, mother, partner, *siblings) if i is not None and not members[i].deceased]
        for other in rng.sample(candidates, min(len(candidates), rng.randint(2, 3))):
            lines.append((me, other, rng.choice(EMOTIONAL_KINDS)))
        if divorced and rng.random() < 0.5:
            lines.append((father, mother, RelationshipKind.CONFLICT))
        if partner is not None and client.referral_source == ReferralSource.PARTNER:
            members[partner].notes = "Har fått veta om beteendet och ville att klienten sökte hjälp."
        if children and rng.random() < 0.3:
            members[children[-1]].notes = "Kan behöva stöd; barnperspektivet tas upp i samtalen."

        household = "mamma och pappa"
        if wanted:
            household += " och " + ("ett syskon" if wanted == 1 else f"{wanted} syskon")
        facts["household"] = household if not divorced else f"{household}; efter skilsmässan mest hos mamma"
        return members, parent_links, lines, facts

    # -- the deep interview (djupintervju)

    def interview(self, client: Client, facts: dict) -> dict[str, str]:
        rng = self.rng
        age = self.today.year - client.birth_year
        debut_age = rng.randint(15, 22)
        flags = {
            **self.flags(client),
            "divorced": facts["divorced"],
            "siblings": facts["siblings"] > 0,
            "grandparent": "grandparent" in facts,
            "lost_grandparent": "lost_grandparent" in facts,
        }
        values = {
            "city": self.fake.city(),
            "city2": self.fake.city(),
            "young_age": rng.randint(5, 12),
            "divorce_age": rng.randint(3, 15),
            "debut_age": debut_age,
            "love_age": rng.randint(12, 17),
            "behaviour_age": rng.randint(max(18, debut_age), max(18, age - 1)),
            **facts,
        }
        texts = {}
        for section, bank in INTERVIEW_BANK.items():
            chosen = _pick(rng, bank, flags, rng.randint(2, 5))
            texts[section] = " ".join(template.format(**values) for template in chosen)
        return texts


# --- Writing ----------------------------------------------------------------------------------


@dataclass
class Written:
    therapists: int = 0
    clients: int = 0
    episodes: int = 0
    status_changes: int = 0
    per_clinic: Counter = field(default_factory=Counter)
    sessions: int = 0
    notes: int = 0
    follow_ups: int = 0
    questionnaires: int = 0
    submitted: int = 0
    answers: int = 0

    def add(self, other: Written) -> None:
        """Another seeding's counts added to these (seed_demo reports Stockholm's caseload with the others')."""
        for name, value in vars(other).items():
            if name == "per_clinic":
                self.per_clinic.update(value)
            else:
                setattr(self, name, getattr(self, name) + value)

    def add_sessions(self, written: sessions_demo.SessionsWritten) -> None:
        self.sessions += written.sessions
        self.notes += written.notes
        self.follow_ups += written.follow_ups

    def add_answers(self, written: assessments_demo.AnswersWritten) -> None:
        self.questionnaires += written.questionnaires
        self.submitted += written.submitted
        self.answers += written.answers


def _write_cases(cases: list[Case], *, batch_size: int = BATCH_SIZE) -> tuple[list[Episode], Written]:
    """Client, periods and status changes of each case; returns the episodes in the cases' order."""
    Client.objects.bulk_create([case.client for case in cases], batch_size=batch_size)
    episodes: list[Episode] = []
    for case in cases:
        for number, period in enumerate(case.periods, start=1):
            episodes.append(
                Episode(client=case.client, number=number, opened_on=period.opened_on, closed_on=period.closed_on)
            )
    Episode.objects.bulk_create(episodes, batch_size=batch_size)
    listed = {
        (clinic_id, name): pk
        for clinic_id, name, pk in ReferralDestination.objects.filter(
            clinic_id__in={case.client.clinic_id for case in cases}
        ).values_list("clinic_id", "name", "pk")
    }
    changes = []
    episode_iter = iter(episodes)
    for case in cases:
        by = case.client.responsible_therapist
        for period in case.periods:
            episode = next(episode_iter)
            previous = ""
            for step in period.steps:
                changes.append(
                    StatusChange(
                        client=case.client,
                        episode=episode,
                        from_status=previous,
                        to_status=step.to_status,
                        at=step.at,
                        by=by,
                        reason=step.reason,
                        referred_to_id=listed[case.client.clinic_id, DESTINATION_LIST_NAME[step.destination]]
                        if step.destination
                        else None,
                        destination=step.destination,
                    )
                )
                previous = step.to_status
    StatusChange.objects.bulk_create(changes, batch_size=batch_size)
    written = Written(clients=len(cases), episodes=len(episodes), status_changes=len(changes))
    written.per_clinic.update(case.client.code.split("-")[0] for case in cases)
    return episodes, written


def _lock_clinics(owners: Sequence[User] | Sequence[Clinic]) -> list[Clinic]:
    """The clinics of `owners` (therapists, or the clinics themselves), locked, in a fixed order."""
    # The same lock client_register takes, so a registration cannot take a code we are about to use.
    pks = {owner.clinic_id if isinstance(owner, User) else owner.pk for owner in owners}
    return list(Clinic.objects.select_for_update().filter(pk__in=pks).order_by("pk"))


#: The demo's records go back this many years at most (the bulk's first contacts: `span_years`, 8 by default).
HISTORY_YEARS = 10


def staff_joined(today: datetime.date) -> datetime.datetime:
    """When the demo's staff joined: as long ago as its records go back, so a past period's figures count them
    (the figures count the staff as it stood at a period's end, and only accounts that had joined by then)."""
    return datetime.datetime(today.year - HISTORY_YEARS, 1, 1, tzinfo=timezone.get_current_timezone())


def load_test_therapist_prefix(clinic: Clinic) -> str:
    return f"last-{clinic.code.lower()}-"


def load_test_therapists(faked: Faked, clinics: Sequence[Clinic], count: int) -> list[User]:
    """`count` new therapists for a load test, the clinics in turn: last-gbg-001, last-mlm-001, last-gbg-002, ...

    Numbers continue after a clinic's existing load-test therapists, so a second `--clients` run
    gives its clients to new colleagues instead of doubling caseloads. The accounts cannot sign in
    (unusable password); `make bench` opens their sessions server-side.
    """
    if not clinics:
        return []
    numbers = {}
    for clinic in clinics:
        prefix = load_test_therapist_prefix(clinic)
        names = User.objects.filter(username__startswith=prefix).values_list("username", flat=True)
        numbers[clinic.pk] = max(
            (int(name.removeprefix(prefix)) for name in names if name.removeprefix(prefix).isdigit()), default=0
        )
    users = []
    for i in range(count):
        clinic = clinics[i % len(clinics)]
        numbers[clinic.pk] += 1
        sex = faked.rng.choice((Sex.FEMALE, Sex.FEMALE, Sex.MALE))
        user = User(
            username=f"{load_test_therapist_prefix(clinic)}{numbers[clinic.pk]:03d}",
            first_name=faked.first_name(sex),
            last_name=faked.fake.last_name(),
            role=Role.THERAPIST,
            clinic=clinic,
            date_joined=staff_joined(faked.today),
        )
        user.set_unusable_password()
        users.append(user)
    return User.objects.bulk_create(users)


def _taken_personnummer(clinics: Sequence[Clinic]) -> dict[int, set[str]]:
    taken: dict[int, set[str]] = defaultdict(set)
    rows = Client.objects.filter(clinic__in=clinics).exclude(personnummer="").values_list("clinic_id", "personnummer")
    for clinic_id, number in rows.iterator():
        taken[clinic_id].add(number)
    return taken


@contextmanager
def _foreign_keys_checked_per_statement() -> Iterator[None]:
    """Check foreign keys at the end of each statement instead of at commit, within the block.

    Django's foreign keys are DEFERRABLE INITIALLY DEFERRED, so every inserted row queues its
    checks until commit; and PostgreSQL scans that whole queue each time a PL/pgSQL exception
    block ends, which the pghistory/pgtrigger triggers enter twice per tracked row. With 20,000
    clients queued the inserts turn quadratic (measured: 38 s instead of a few). Nothing is
    skipped: the same checks run, only earlier. On an error the transaction (or savepoint)
    rolls back and with it this setting; on success the default is restored.
    """
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    yield
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")  # every deferrable constraint here is initially deferred


@contextmanager
def seeded_ids(seed: int | str) -> Iterator[None]:
    """New records and sessions get ids from a generator seeded with `seed` while this lasts.

    Their primary keys are random UUIDs (uuid4, so they cannot be guessed); for the demo, the
    same seed must give the same rows, ids included, so a demo client keeps its address from one
    `make run` to the next. Swapping the field's default reaches every place that makes one
    (bulk_create, objects.create, the services) without threading an id through each of them.
    The rows already there are part of the seed: a second run on the same database (a load test
    on top of the demo) must not draw the ids of the first again.
    """
    from sessions.models import TherapySession

    there = f"{Client.objects.count()}-{TherapySession.objects.count()}"
    rng = random.Random(f"ids-{seed}-{there}")  # noqa: S311  (fake data's ids, not security)
    fields = [Client._meta.pk, TherapySession._meta.pk]
    saved = [f.default for f in fields]

    def next_id() -> uuid.UUID:
        return uuid.UUID(int=rng.getrandbits(128), version=4)

    def use(defaults: Sequence[object]) -> None:
        for f, default in zip(fields, defaults, strict=True):
            f.default = default
            f.__dict__.pop("_get_default", None)  # Field caches its default getter

    use([next_id] * len(fields))
    try:
        yield
    finally:
        use(saved)


@transaction.atomic
@_foreign_keys_checked_per_statement()
def seed_demo_clients(
    therapists: Sequence[User], *, per_therapist: int = DEMO_CLIENTS_PER_THERAPIST, seed: int | str = DEMO_SEED
) -> Written:
    """A rich caseload for each demo therapist: every status, histories, assessments, interviews, family maps,
    the sessions, notes and follow-ups of those histories (demo.sessions) and the questionnaires filled in
    at them (demo.assessments).

    Skipped (nothing written) when any of the therapists already has a client, so running
    seed_demo again neither duplicates nor changes the demo caseloads.
    """
    if not therapists or Client.objects.filter(responsible_therapist__in=therapists).exists():
        return Written()
    clinics = {clinic.pk: clinic for clinic in _lock_clinics(therapists)}
    codes = CodeSequence(clinics.values())
    taken = _taken_personnummer(list(clinics.values()))
    faked = Faked(seed=seed)
    rng = faked.rng

    cases: list[Case] = []
    co_therapist_rows = []
    for t_index, therapist in enumerate(therapists):
        colleagues = [t for t in therapists if t.clinic_id == therapist.clinic_id and t.pk != therapist.pk]
        statuses = [DEMO_CASELOAD[i % len(DEMO_CASELOAD)] for i in range(per_therapist)]
        returning_at = statuses.index(S.IN_TREATMENT) if S.IN_TREATMENT in statuses else None
        # One or two protected identities in the whole demo: the first and the last therapist's.
        # The first one has a co-therapist, who sees the case but not who the client is.
        protected_at = {0: 2, len(therapists) - 1: 3}.get(t_index)
        for i, status in enumerate(statuses):
            case = faked.case(
                therapist=therapist,
                status=status,
                taken_personnummer=taken[therapist.clinic_id],
                identified=rng.random() < 0.3,
                protected=i == protected_at,
                span_days=540,
                returning=i == returning_at,
                recency=DEMO_RECENCY_DAYS.get(status),
            )
            case.client.code = codes.next(clinics[therapist.clinic_id], case.client.first_contact_date.year)
            if colleagues and i in CO_THERAPIST_AT:
                co_therapist_rows.append((case.client, rng.choice(colleagues)))
            cases.append(case)

    # The therapists' diaries, from a generator of their own (the people above stay as they were).
    session_plan = sessions_demo.plan_sessions(
        cases,
        clinics,
        rng=random.Random(f"sessions-{seed}"),  # noqa: S311  (fake data, not security)
        today=faked.today,
        now=faked.now,
        co_therapists=co_therapist_rows,
        demo=True,
    )
    episodes, written = _write_cases(cases)
    Client.co_therapists.through.objects.bulk_create(
        [Client.co_therapists.through(client=client, user=user) for client, user in co_therapist_rows]
    )

    assessments, sections, members, links, lines = [], [], [], [], []
    episode_iter = iter(episodes)
    for case in cases:
        client = case.client
        for period in case.periods:
            episode = next(episode_iter)
            reached = period.steps[-1].to_status
            if any(step.to_status == S.ASSESSMENT for step in period.steps):
                conversation = faked.assessment(client, period, reached)
                conversation.episode = episode
                assessments.append(conversation)
        treated = client.status in (S.IN_TREATMENT, S.ENDED, S.FOLLOWED_UP)
        if treated:
            family, family_links, family_lines, facts = faked.family(client)
        else:
            family = [_client_node(client)]
            family_links, family_lines, facts = [], [], {}
        offset = len(members)
        for member in family:
            member.client = client
        members.extend(family)
        links.extend((offset + child, offset + parent) for child, parent in family_links)
        lines.extend((client, offset + a, offset + b, kind) for a, b, kind in family_lines)
        if treated:
            finished = client.status in FINISHED
            for section, text in faked.interview(client, facts).items():
                sections.append(
                    DeepInterviewSection(
                        client=client,
                        section=section,
                        text=text,
                        done=finished or rng.random() < 0.75,
                        updated_by=client.responsible_therapist,
                    )
                )

    AssessmentConversation.objects.bulk_create(assessments)
    DeepInterviewSection.objects.bulk_create(sections)
    FamilyMember.objects.bulk_create(members)
    Parents = FamilyMember.parents.through
    Parents.objects.bulk_create(
        [Parents(from_familymember=members[child], to_familymember=members[parent]) for child, parent in links]
    )
    FamilyRelationship.objects.bulk_create(
        [FamilyRelationship(client=client, a=members[a], b=members[b], kind=kind) for client, a, b, kind in lines]
    )
    written.add_sessions(sessions_demo.write_sessions(session_plan, cases, episodes))
    # The questionnaires, in those sessions, from a generator of their own as well.
    answer_rng = random.Random(f"answers-{seed}")  # noqa: S311  (fake data, not security)
    written.add_answers(assessments_demo.write_answers(cases, episodes, session_plan, rng=answer_rng, now=faked.now))
    return written


@transaction.atomic
@_foreign_keys_checked_per_statement()
def seed_bulk_clients(
    clinics: Sequence[Clinic],
    count: int,
    *,
    per_therapist: int = BULK_CLIENTS_PER_THERAPIST,
    batch_size: int = BATCH_SIZE,
    span_years: int = 8,
    seed: int = DEMO_SEED,
) -> Written:
    """`count` simple clients for load tests, spread evenly over new load-test therapists of `clinics`.

    One therapist per `per_therapist` clients, the clinics in turn (see load_test_therapists).
    Each client gets the client row, its treatment periods (a fifth came back after an earlier
    one), a valid status history up to a random status, the centre of the family map, the
    sessions, notes and follow-ups of that history (demo.sessions) and its questionnaires
    (demo.assessments); first contacts spread over `span_years` years. The same `seed` on the same
    database makes the same clients.
    """
    if count <= 0 or not clinics:
        return Written()
    locked = _lock_clinics(clinics)
    # A second --clients run on the same database gets other people, still the same on every such run.
    earlier = Client.objects.filter(clinic__in=locked).count()
    faked = Faked(seed=f"bulk-{seed}-{earlier}")
    therapists = load_test_therapists(faked, locked, -(-count // per_therapist))
    clinics_by_pk = {clinic.pk: clinic for clinic in locked}
    codes = CodeSequence(locked)
    taken = _taken_personnummer(locked)
    session_rng = random.Random(faked.rng.getrandbits(64))  # noqa: S311  (fake data, not security)
    answer_rng = random.Random(faked.rng.getrandbits(64))  # noqa: S311  (fake data, not security)
    total = Written(therapists=len(therapists))
    for start in range(0, count, batch_size):
        cases = [
            _bulk_case(faked, therapists[i % len(therapists)], clinics_by_pk, codes, taken, span_years)
            for i in range(start, min(count, start + batch_size))
        ]
        session_plan = sessions_demo.plan_sessions(
            cases, clinics_by_pk, rng=session_rng, today=faked.today, now=faked.now
        )
        episodes, written = _write_cases(cases, batch_size=batch_size)
        FamilyMember.objects.bulk_create([_client_node(case.client) for case in cases], batch_size=batch_size)
        total.add_sessions(sessions_demo.write_sessions(session_plan, cases, episodes))
        total.add_answers(assessments_demo.write_answers(cases, episodes, session_plan, rng=answer_rng, now=faked.now))
        total.clients += written.clients
        total.episodes += written.episodes
        total.status_changes += written.status_changes
        total.per_clinic.update(written.per_clinic)
    return total


def _bulk_case(
    faked: Faked,
    therapist: User,
    clinics: dict[int, Clinic],
    codes: CodeSequence,
    taken: dict[int, set[str]],
    span_years: int,
) -> Case:
    rng = faked.rng
    clinic = clinics[therapist.clinic_id]
    status = _weighted(rng, BULK_STATUS_WEIGHTS)
    returning = rng.random() < BULK_RETURNING
    for _attempt in range(10):
        case = faked.case(
            therapist=therapist,
            status=status,
            taken_personnummer=taken[clinic.pk],
            identified=rng.random() < 0.15,
            span_days=365 * span_years,
            via_assessment=rng.random() < 0.8,
            returning=returning,
            gaps=BULK_GAP_DAYS,
        )
        year = case.client.first_contact_date.year
        if codes.has_room(clinic, year):
            break
        # Earlier runs used up this year's four-digit numbers: make it a case from an earlier year.
        roomy = [y for y in range(faked.today.year - span_years, year) if codes.has_room(clinic, y)]
        if not roomy:
            break
        if status not in TIMELESS:
            status = rng.choice(TIMELESS)  # an open case cannot be moved years back
            continue
        case = _shifted(case, datetime.timedelta(days=365 * (year - rng.choice(roomy))))
        year = case.client.first_contact_date.year
        if codes.has_room(clinic, year):
            break
    if not codes.has_room(clinic, year):
        raise ValueError(f"The client codes of {clinic.code} for the last {span_years} years are used up.")
    case.client.code = codes.next(clinic, year)
    return case


def _shifted(case: Case, delta: datetime.timedelta) -> Case:
    """The same finished case, `delta` earlier."""
    for period in case.periods:
        for step in period.steps:
            step.at -= delta
    case.client.first_contact_date = case.periods[0].opened_on
    case.client.created_at = case.periods[0].steps[0].at
    return case


def _client_node(client: Client) -> FamilyMember:
    """The centre of the family map, which every record has (client_register creates it too)."""
    return FamilyMember(
        client=client,
        label=client.code,
        relation=FamilyRelation.CLIENT,
        sex=SEX_FOR_GENDER.get(client.gender, Sex.OTHER),
        birth_year=client.birth_year,
    )
