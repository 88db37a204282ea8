"""factory-boy factories; Faker in Swedish, never real people."""

from __future__ import annotations

import datetime

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from clients.models import (
    AssessmentConversation,
    CaseStatus,
    Client,
    DeepInterviewSection,
    Episode,
    FamilyMember,
    FamilyRelation,
    FamilyRelationship,
    RecordKind,
    RelationshipKind,
    Sex,
    StatusChange,
    TargetGroup,
)
from clients.services import clinic_install_referral_destinations
from kast.models import Clinic, Role, User
from relatives.models import Relative, RelativeLink
from sessions.models import Attendance, Note, TherapySession
from sessions.services import clinic_install_lists

factory.Faker._DEFAULT_LOCALE = "sv_SE"


def sentinel_text():
    """Free text about a client, tagged so that tests (and tests/log_sentinel.py) can search any output for it."""
    return factory.Sequence(lambda n: f"SENTINEL-text-{n} Pratade om veckan som gått och om skammen efteråt.")


class ClinicFactory(DjangoModelFactory):
    class Meta:
        model = Clinic
        django_get_or_create = ["code"]
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Mottagning {n}")
    code = factory.Sequence(lambda n: "T" + "".join(chr(65 + int(d)) for d in f"{n:03d}"))

    @factory.post_generation
    def themes(clinic, create, extracted, **kwargs):
        if create:
            clinic_install_lists(clinic)
            clinic_install_referral_destinations(clinic)


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"staff{n}")
    # At the clinic long before any period a test counts: the figures count the staff as they stood at a period's
    # end, and only accounts that had joined by then (figures.statistics._staffing).
    date_joined = factory.LazyFunction(lambda: datetime.datetime(2020, 1, 1, tzinfo=timezone.get_current_timezone()))
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    role = Role.THERAPIST
    clinic = factory.SubFactory(ClinicFactory)
    password = factory.django.Password("correct-horse-battery")


class ClientFactory(DjangoModelFactory):
    class Meta:
        model = Client
        skip_postgeneration_save = True

    clinic = factory.SelfAttribute("responsible_therapist.clinic")
    responsible_therapist = factory.SubFactory(UserFactory)
    code = factory.Sequence(lambda n: f"TST-2026-{n:04d}")


def working_day(days_ahead: int = 0) -> datetime.date:
    """The first weekday on or after today + `days_ahead`: a booking on it is inside the opening hours whatever
    day the suite runs (a booking on a weekend asks for a confirmation, sessions.selectors.outside_opening_hours)."""
    day = timezone.localdate() + datetime.timedelta(days=days_ahead)
    while day.weekday() >= 5:
        day += datetime.timedelta(days=1)
    return day


def open_first_period(client: Client) -> Client:
    """What `clients.services.client_register` adds to a new client: period 1 at contact, the family map's centre."""
    episode = Episode.objects.create(client=client, number=1, opened_on=client.first_contact_date)
    StatusChange.objects.create(
        client=client, episode=episode, from_status="", to_status=CaseStatus.CONTACT, by=client.responsible_therapist
    )
    FamilyMember.objects.create(client=client, relation=FamilyRelation.CLIENT, label=client.code)
    return client


def put_in_treatment(client: Client) -> Client:
    """A registered client (see open_first_period) moved contact -> assessment -> in treatment."""
    episode = client.episodes.get()
    for source, target in [
        (CaseStatus.CONTACT, CaseStatus.ASSESSMENT),
        (CaseStatus.ASSESSMENT, CaseStatus.IN_TREATMENT),
    ]:
        StatusChange.objects.create(
            client=client, episode=episode, from_status=source, to_status=target, by=client.responsible_therapist
        )
    client.status = CaseStatus.IN_TREATMENT
    client.save(update_fields=["status"])
    return client


class FamilyMemberFactory(DjangoModelFactory):
    class Meta:
        model = FamilyMember
        skip_postgeneration_save = True

    client = factory.SubFactory(ClientFactory)
    label = factory.Faker("first_name")
    relation = FamilyRelation.SIBLING
    sex = Sex.OTHER

    @factory.post_generation
    def parents(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.parents.set(extracted)


class FamilyRelationshipFactory(DjangoModelFactory):
    class Meta:
        model = FamilyRelationship

    client = factory.SelfAttribute("a.client")
    a = factory.SubFactory(FamilyMemberFactory)
    b = factory.SubFactory(FamilyMemberFactory, client=factory.SelfAttribute("..a.client"))
    kind = RelationshipKind.MARRIED


class DeepInterviewSectionFactory(DjangoModelFactory):
    class Meta:
        model = DeepInterviewSection

    client = factory.SubFactory(ClientFactory)
    section = "childhood"
    text = sentinel_text()
    updated_by = factory.SelfAttribute("client.responsible_therapist")


class AssessmentConversationFactory(DjangoModelFactory):
    """The conversation of `client`'s current period (it must have one: see open_first_period)."""

    class Meta:
        model = AssessmentConversation

    episode = factory.LazyAttribute(lambda o: o.client.episodes.order_by("-number").first())
    problem = sentinel_text()
    goals = sentinel_text()
    assessment = sentinel_text()
    updated_by = factory.LazyAttribute(lambda o: o.client.responsible_therapist)

    class Params:
        client = None


class TherapySessionFactory(DjangoModelFactory):
    """A held session of `client` (with a period: see open_first_period), by its responsible therapist."""

    class Meta:
        model = TherapySession
        skip_postgeneration_save = True

    client = factory.SubFactory(ClientFactory)
    clinic = factory.SelfAttribute("client.clinic")
    episode = factory.LazyAttribute(
        lambda o: o.client.episodes.order_by("-number").first() or open_first_period(o.client).episodes.get()
    )
    date = factory.LazyFunction(timezone.localdate)
    start_time = datetime.time(10, 0)
    attendance = Attendance.ATTENDED
    created_by = factory.SelfAttribute("client.responsible_therapist")

    @factory.post_generation
    def therapists(session, create, extracted, **kwargs):
        if create:
            session.therapists.set(extracted or [session.client.responsible_therapist])


class NoteFactory(DjangoModelFactory):
    """A note on `session`; signed unless `signed_at=None` is given."""

    class Meta:
        model = Note

    session = factory.SubFactory(TherapySessionFactory)
    author = factory.SelfAttribute("session.client.responsible_therapist")
    text = sentinel_text()
    signed_at = factory.LazyFunction(timezone.now)


def relative_record(therapist: User, *, relation: str = "partner", code: str | None = None) -> Client:
    """A relative's own record (kind "relative") with its profile and period 1, as relatives.services makes it."""
    record = ClientFactory(
        responsible_therapist=therapist,
        kind=RecordKind.RELATIVE,
        target_groups=[TargetGroup.RELATIVE],
        **({"code": code} if code else {}),
    )
    episode = Episode.objects.create(client=record, number=1, opened_on=record.first_contact_date)
    StatusChange.objects.create(
        client=record, episode=episode, from_status="", to_status=CaseStatus.CONTACT, by=therapist
    )
    Relative.objects.create(record=record, relation=relation)
    return record


def link(relative: Client, client: Client, *, consent: bool = True) -> RelativeLink:
    return RelativeLink.objects.create(
        relative=relative,
        client=client,
        client_consents=consent,
        relative_consents=consent,
        created_by=relative.responsible_therapist,
    )


def history_since_joining(user: User) -> None:
    """The account's history dated back to when it joined, as if every change made to it so far had been made then.

    The figures count the staff as it stood at a period's end, from the accounts' history (figures.statistics
    ._staffing), and pghistory dates each change when it is written: a fixture that sets a therapist to half time
    for a past quarter dates the change back with this. As the tables' owner: the app may only add to a history.
    """
    from django.apps import apps

    from kast.db_roles import owner_connection

    with owner_connection():
        apps.get_model("kast", "UserEvent")._default_manager.filter(pgh_obj=user).update(
            pgh_created_at=user.date_joined
        )
