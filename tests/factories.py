"""factory-boy factories; Faker in Swedish, never real people."""

from __future__ import annotations

import factory
from factory.django import DjangoModelFactory

from clients.models import Client
from kast.models import Clinic, Role, User

factory.Faker._DEFAULT_LOCALE = "sv_SE"


class ClinicFactory(DjangoModelFactory):
    class Meta:
        model = Clinic
        django_get_or_create = ["code"]

    name = factory.Sequence(lambda n: f"Mottagning {n}")
    code = factory.Sequence(lambda n: "T" + "".join(chr(65 + int(d)) for d in f"{n:03d}"))


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"staff{n}")
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
