"""Personas for every test: the people a clinic has, as in healthchecks' alice/bob/charlie.

- `therapist`: responsible for `client` (Göteborg)
- `colleague`: another Göteborg therapist, not on the case
- `other_clinic_therapist`: a Malmö therapist
- `manager`: Göteborg unit manager
- `admin`: system administrator (no clinic)
"""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client as TestClient
from django_otp import DEVICE_ID_SESSION_KEY

from kast.models import Role
from tests.factories import ClientFactory, ClinicFactory, UserFactory
from tests.otp import authenticator_for

# Fails any test whose application log lines hold client data (sentinels, personnummer).
pytest_plugins = ["tests.log_sentinel"]

_password_only_login = TestClient.force_login


def _two_factor_login(self, user, backend=None):
    """Client.force_login, and the second factor passed with the user's authenticator, as a real login ends."""
    _password_only_login(self, user, backend)
    session = self.session
    session[DEVICE_ID_SESSION_KEY] = authenticator_for(user).persistent_id
    session.save()


@pytest.fixture(autouse=True)
def two_factor_force_login(monkeypatch):
    """Every page but the login's own needs both factors: `client.force_login(user)` gives a session with both."""
    monkeypatch.setattr(TestClient, "force_login", _two_factor_login)


@pytest.fixture(autouse=True)
def empty_cache():
    """Each test starts with nothing cached (the managers' figures: kast.cached_figures), as a new worker does."""
    cache.clear()


@pytest.fixture
def password_only_login():
    """`password_only_login(client, user)`: a session that has passed the password but not the second factor."""
    return _password_only_login


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
