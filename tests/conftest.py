"""Personas for every test: the people a clinic has, as in healthchecks' alice/bob/charlie.

- `therapist`: responsible for `client` (Göteborg)
- `colleague`: another Göteborg therapist, not on the case
- `other_clinic_therapist`: a Malmö therapist
- `manager`: Göteborg unit manager
- `admin`: system administrator (no clinic)
"""

from __future__ import annotations

import pytest

from kast.models import Role
from tests.factories import ClientFactory, ClinicFactory, UserFactory


@pytest.fixture
def gbg(db):
    return ClinicFactory(name="Göteborg", code="GBG")


@pytest.fixture
def mlm(db):
    return ClinicFactory(name="Malmö", code="MLM")


@pytest.fixture
def therapist(gbg):
    return UserFactory(username="anna", first_name="Anna", role=Role.THERAPIST, clinic=gbg)


@pytest.fixture
def colleague(gbg):
    return UserFactory(username="bertil", first_name="Bertil", role=Role.THERAPIST, clinic=gbg)


@pytest.fixture
def other_clinic_therapist(mlm):
    return UserFactory(username="cecilia", first_name="Cecilia", role=Role.THERAPIST, clinic=mlm)


@pytest.fixture
def manager(gbg):
    return UserFactory(username="doris", first_name="Doris", role=Role.MANAGER, clinic=gbg)


@pytest.fixture
def admin(db):
    return UserFactory(username="erik", role=Role.ADMIN, clinic=None, is_staff=True, is_superuser=True)


@pytest.fixture
def client_record(therapist):
    return ClientFactory(responsible_therapist=therapist, code="GBG-2026-0001")


@pytest.fixture
def personas(therapist, colleague, other_clinic_therapist, manager, admin):
    return {
        "anonymous": None,
        "therapist": therapist,
        "colleague": colleague,
        "other_clinic": other_clinic_therapist,
        "manager": manager,
        "admin": admin,
    }
