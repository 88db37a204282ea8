"""`seed_demo` makes the README's demo clinics and logins, only on a development machine."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.urls import reverse

from clients.models import Client
from kast.management.commands.seed_demo import DEMO_PASSWORD
from kast.models import Clinic, Role, User

# username, first name, role, clinic code: the table in README.md
DEMO_STAFF = {
    ("behandlare1", "Anna", Role.THERAPIST, "GBG"),
    ("behandlare2", "Johan", Role.THERAPIST, "GBG"),
    ("behandlare3", "Sara", Role.THERAPIST, "MLM"),
    ("enhetschef", "Karin", Role.MANAGER, "GBG"),
    ("admin", "Erik", Role.ADMIN, None),
}


def seed() -> str:
    out = io.StringIO()
    with override_settings(DEBUG=True):
        call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_refuses_with_debug_off(db):
    """Accounts with a password published in the README must never reach a real installation."""
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("seed_demo")

    assert (Clinic.objects.count(), User.objects.count()) == (0, 0)


def test_creates_the_demo_clinics_and_staff(db):
    assert seed() == "Demo data ready: 2 clinics, 5 staff accounts.\n"

    assert set(Clinic.objects.values_list("name", "code")) == {("Göteborg", "GBG"), ("Malmö", "MLM")}
    assert set(User.objects.values_list("username", "first_name", "role", "clinic__code")) == DEMO_STAFF


def test_only_the_administrator_may_use_the_admin_site(db):
    seed()

    assert set(User.objects.filter(is_staff=True, is_superuser=True).values_list("username", flat=True)) == {"admin"}


def test_running_twice_changes_nothing(db):
    seed()
    first = {model: set(model.objects.values_list("pk", flat=True)) for model in (Clinic, User, Client)}

    seed()

    assert (Clinic.objects.count(), User.objects.count()) == (2, 5)
    assert {model: set(model.objects.values_list("pk", flat=True)) for model in (Clinic, User, Client)} == first
    assert set(User.objects.values_list("username", "first_name", "role", "clinic__code")) == DEMO_STAFF


@pytest.mark.parametrize(("username", "first_name"), sorted((u, f) for u, f, _, _ in DEMO_STAFF))
def test_demo_user_logs_in_through_the_login_form(client, db, username, first_name):
    seed()

    response = client.post(reverse("login"), {"username": username, "password": DEMO_PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    start = client.get(response["Location"])
    assert start.status_code == 200
    assert start.context["user"].username == username
    assert f"Välkommen, {first_name}" in start.content.decode()
