"""Invariants the database itself guarantees, whatever form, admin action or script writes the row."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from kast.models import Clinic, Role, User

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", [Role.THERAPIST, Role.MANAGER])
def test_therapists_and_managers_need_a_clinic(role):
    with pytest.raises(IntegrityError, match="user_clinic_required_unless_admin"), transaction.atomic():
        User.objects.create(username="utan-mottagning", role=role, clinic=None)

    assert not User.objects.exists()


def test_an_administrator_without_a_clinic_is_allowed():
    User.objects.create(username="it", role=Role.ADMIN, clinic=None)

    assert User.objects.get().clinic is None


@pytest.mark.parametrize("flag", ["is_staff", "is_superuser"])
@pytest.mark.parametrize("role", [Role.THERAPIST, Role.MANAGER])
def test_only_administrators_may_use_the_admin_site(gbg, role, flag):
    with pytest.raises(IntegrityError, match="user_only_admins_are_staff"), transaction.atomic():
        User.objects.bulk_create([User(username="smygare", role=role, clinic=gbg, **{flag: True})])

    assert not User.objects.exists()


@pytest.mark.parametrize("role", ["superuser", "", "Therapist"])
def test_a_role_outside_the_choices_is_refused(gbg, role):
    with pytest.raises(IntegrityError, match="user_role_valid"), transaction.atomic():
        User.objects.create(username="okand", role=role, clinic=gbg)

    assert not User.objects.exists()


def test_create_superuser_makes_a_system_administrator():
    user = User.objects.create_superuser("it", password="correct-horse-battery")

    user.refresh_from_db()
    assert (user.role, user.clinic, user.is_staff, user.is_superuser) == (Role.ADMIN, None, True, True)


@pytest.mark.parametrize("code", ["gbg", "Gbg", "G1", "G", "GB-1", "MÖL", ""])
def test_a_clinic_code_must_be_two_to_five_capitals(code):
    with pytest.raises(IntegrityError, match="clinic_code_format"), transaction.atomic():
        Clinic.objects.create(name="Mottagning", code=code)

    assert not Clinic.objects.exists()


def test_clinic_codes_are_unique(gbg):
    with pytest.raises(IntegrityError, match='unique constraint "kast_clinic_code_key"'), transaction.atomic():
        Clinic.objects.create(name="Göteborg norr", code="GBG")

    assert list(Clinic.objects.values_list("name", flat=True)) == ["Göteborg"]
