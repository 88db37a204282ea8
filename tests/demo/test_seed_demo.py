"""`seed_demo` makes the README's demo clinics and logins, only on a development machine."""

from __future__ import annotations

import base64
import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client as DjangoClient
from django.test import override_settings
from django.urls import reverse
from django_otp.oath import totp

from clients.models import Client
from demo.management.commands.seed_demo import DEMO_BACKUP_CODES, DEMO_PASSWORD, DEMO_TOTP_KEY
from kast.models import Clinic, Role, User

# username, first name, role, clinic code: the table in README.md
DEMO_STAFF = {
    ("behandlare1", "Anna", Role.THERAPIST, "GBG"),
    ("behandlare2", "Johan", Role.THERAPIST, "GBG"),
    ("behandlare3", "Sara", Role.THERAPIST, "MLM"),
    ("behandlare4", "Amir", Role.THERAPIST, "STH"),
    ("enhetschef", "Karin", Role.MANAGER, "GBG"),
    ("enhetschef2", "Eva", Role.MANAGER, "STH"),
    ("enhetschef3", "Per", Role.MANAGER, "MLM"),
    ("admin", "Erik", Role.ADMIN, None),
    ("uppfoljning", "Maria", Role.NATIONAL, None),
    ("forskare", "Lena", Role.RESEARCHER, None),
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
    assert seed() == "Demo data ready: 3 clinics, 10 staff accounts.\n"

    assert set(Clinic.objects.values_list("name", "code")) == {
        ("Göteborg", "GBG"),
        ("Malmö", "MLM"),
        ("Stockholm", "STH"),
    }
    assert set(User.objects.values_list("username", "first_name", "role", "clinic__code")) == DEMO_STAFF


def test_only_the_administrator_may_use_the_admin_site(demo_db):
    seed()

    assert set(User.objects.filter(is_staff=True, is_superuser=True).values_list("username", flat=True)) == {"admin"}


def test_running_twice_changes_nothing(demo_db):
    seed()
    first = {model: set(model.objects.values_list("pk", flat=True)) for model in (Clinic, User, Client)}

    seed()

    assert (Clinic.objects.count(), User.objects.count()) == (3, 10)
    assert {model: set(model.objects.values_list("pk", flat=True)) for model in (Clinic, User, Client)} == first
    assert set(User.objects.values_list("username", "first_name", "role", "clinic__code")) == DEMO_STAFF


def password_step(client, username: str):
    return client.post(
        reverse("login"),
        {"login_view-current_step": "auth", "auth-username": username, "auth-password": DEMO_PASSWORD},
    )


@pytest.mark.parametrize(("username", "first_name"), sorted((u, f) for u, f, _, _ in DEMO_STAFF))
def test_demo_user_logs_in_through_the_login_form(client, demo_db, username, first_name):
    """With the password and the code an authenticator app computes from the README's demo key."""
    seed()

    asks_for_code = password_step(client, username)
    code = f"{totp(base64.b32decode(DEMO_TOTP_KEY)):06d}"
    response = client.post(reverse("login"), {"login_view-current_step": "token", "token-otp_token": code})

    assert asks_for_code.status_code == 200
    assert asks_for_code.context["wizard"]["steps"].current == "token"
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    start = client.get(response["Location"])
    assert start.status_code == 200
    assert start.context["user"].username == username
    assert f"Välkommen, {first_name}" in start.content.decode()


def test_a_demo_backup_code_works_once_and_a_new_run_restores_it(demo_db):
    seed()
    first, second = DjangoClient(), DjangoClient()

    for browser in (first, second):
        password_step(browser, "behandlare1")
        browser.post(reverse("login"), {"wizard_goto_step": "backup"})
    used = first.post(reverse("login"), {"login_view-current_step": "backup", "backup-otp_token": DEMO_BACKUP_CODES[0]})
    again = second.post(
        reverse("login"), {"login_view-current_step": "backup", "backup-otp_token": DEMO_BACKUP_CODES[0]}
    )
    seed()
    third = DjangoClient()
    password_step(third, "behandlare1")
    third.post(reverse("login"), {"wizard_goto_step": "backup"})
    restored = third.post(
        reverse("login"), {"login_view-current_step": "backup", "backup-otp_token": DEMO_BACKUP_CODES[0]}
    )

    assert (used.status_code, used["Location"]) == (302, reverse("home"))
    assert again.status_code == 200  # the form again, with an error
    assert again.context["wizard"]["form"].errors
    assert (restored.status_code, restored["Location"]) == (302, reverse("home"))
    # Stored as their hashes (kast.otp_secrets), like everyone's: the demo codes are in the README, not the database.
    with connection.cursor() as cursor:
        cursor.execute("SELECT token FROM otp_static_statictoken")
        stored = {token for (token,) in cursor.fetchall()}
    assert stored and not stored & set(DEMO_BACKUP_CODES)


def test_the_demo_staff_joined_before_its_first_records(demo_db):
    """The figures count the staff as it stood at a period's end, and only accounts that had joined by then
    (figures.statistics._staffing): the demo's accounts were there for all its history, so its past years have
    their sessions per full-time therapist."""
    from django.db.models import Min

    from clients.models import Client

    first_contact = Client.objects.aggregate(first=Min("first_contact_date"))["first"]
    assert first_contact is not None
    assert all(joined.date() <= first_contact for joined in User.objects.values_list("date_joined", flat=True))
