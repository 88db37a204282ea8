"""Lockout after repeated failed passwords (django-axes), per username and per address, with the address read
safely behind the municipality's reverse proxy; every failure and lockout in the login log, never a password."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from axes.models import AccessAttempt
from django.test import Client as Browser
from django.test import RequestFactory, override_settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kast.models import LoginEvent
from kast.services import client_ip
from tests.kast.test_two_factor import PASSWORD, code_step, password_step
from tests.otp import authenticator_for, current_code

pytestmark = pytest.mark.django_db

Event = LoginEvent.Event
WRONG = "fel-lösenord-123"


def fail(times: int, username: str = "anna", **extra) -> None:
    for _attempt in range(times):
        Browser(**extra).post(
            reverse("login"),
            {"login_view-current_step": "auth", "auth-username": username, "auth-password": WRONG},
        )


def locked(response) -> bool:
    with translation.override("sv"):
        heading = _("Login locked")
    return response.status_code == 429 and f"<h1>{heading}</h1>" in response.content.decode()


def test_five_wrong_passwords_lock_the_username(client, therapist):
    fail(4)
    fifth = password_step(client, "anna", WRONG)
    right_password = password_step(Browser(), "anna")

    assert locked(fifth)
    assert locked(right_password)
    # One row an attempt, with its outcome: four failures, then the one that locked and the one refused as locked.
    assert list(LoginEvent.objects.order_by("id").values_list("event", flat=True)) == [
        *[Event.FAILED] * 4,
        Event.LOCKED_OUT,
        Event.LOCKED_OUT,
    ]
    assert set(LoginEvent.objects.values_list("user", "username", "ip")) == {(therapist.pk, "anna", "127.0.0.1")}


def test_no_password_is_stored_anywhere(client, therapist):
    fail(5)
    password_step(client, "anna")  # the right one, refused while locked

    stored = [str(row) for row in AccessAttempt.objects.values()] + [str(row) for row in LoginEvent.objects.values()]
    assert AccessAttempt.objects.exists()
    assert not any(WRONG in row or PASSWORD in row for row in stored)


def test_an_unknown_username_is_logged_as_typed(client):
    password_step(client, "nobody-by-that-name", WRONG)

    assert list(LoginEvent.objects.values_list("event", "user", "username")) == [
        (Event.FAILED, None, "nobody-by-that-name")
    ]


def test_failures_on_many_usernames_lock_the_address(therapist, colleague):
    authenticator_for(colleague)
    for number in range(5):
        fail(1, username=f"gissning{number}")

    same_address = password_step(Browser(), "bertil")
    other_address = password_step(Browser(REMOTE_ADDR="10.1.2.3"), "bertil")

    assert locked(same_address)
    assert other_address.status_code == 200
    assert other_address.context["wizard"]["steps"].current == "token"


def test_failures_from_many_addresses_lock_the_username(therapist):
    for number in range(5):
        fail(1, REMOTE_ADDR=f"10.0.0.{number + 1}")

    assert locked(password_step(Browser(REMOTE_ADDR="10.0.0.99"), "anna"))


def test_a_successful_login_clears_the_count(client, therapist):
    device = authenticator_for(therapist)
    fail(4)
    password_step(client, "anna")
    code_step(client, current_code(device))

    fail(4)

    assert not AccessAttempt.objects.filter(failures_since_start__gte=5).exists()
    assert password_step(Browser(), "anna").status_code == 200


def test_the_lockout_ends_after_the_cool_off(therapist):
    authenticator_for(therapist)
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        fail(5)
        clock.shift(datetime.timedelta(minutes=14))
        still_locked = password_step(Browser(), "anna")
        clock.shift(datetime.timedelta(minutes=16))
        later = password_step(Browser(), "anna")

    assert locked(still_locked)
    assert later.status_code == 200


def test_an_administrator_unlocks_a_user(client, admin, therapist):
    authenticator_for(therapist)
    fail(5)
    client.force_login(admin)

    response = client.post(
        reverse("admin:kast_user_changelist"), {"action": "unlock_login", "_selected_action": [therapist.pk]}
    )

    assert response.status_code == 302
    assert password_step(Browser(REMOTE_ADDR="10.9.9.9"), "anna").status_code == 200


# The address: REMOTE_ADDR unless TRUSTED_PROXY_COUNT proxies put the client's in X-Forwarded-For.


@pytest.mark.parametrize(
    ("proxies", "forwarded_for", "expected"),
    [
        (0, "", "192.0.2.1"),
        (0, "203.0.113.7", "192.0.2.1"),  # no proxy configured: the header is the client's own word
        (1, "203.0.113.7", "203.0.113.7"),
        (1, "198.51.100.66, 203.0.113.7", "203.0.113.7"),  # the left entry was written by the client
        (2, "198.51.100.66, 203.0.113.7, 10.0.0.2", "203.0.113.7"),
        (2, "203.0.113.7", "192.0.2.1"),  # not through both proxies: the socket's address
        (1, "not-an-address", "192.0.2.1"),
        (1, "", "192.0.2.1"),
        (1, " 2001:db8::7 ", "2001:db8::7"),
    ],
)
def test_client_ip(proxies, forwarded_for, expected):
    request = RequestFactory().get("/", REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR=forwarded_for)

    with override_settings(TRUSTED_PROXY_COUNT=proxies):
        assert client_ip(request) == expected


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_behind_the_proxy_the_lockout_is_per_client_not_per_proxy(therapist, colleague):
    """All requests come from the proxy's address; the lockout must not lock out the whole municipality."""
    authenticator_for(colleague)
    proxy = {"REMOTE_ADDR": "10.0.0.1"}
    for number in range(5):
        # A client trying to hide behind made-up addresses in the header it sends.
        fail(1, username=f"gissning{number}", HTTP_X_FORWARDED_FOR=f"198.51.100.{number}, 203.0.113.7", **proxy)

    attacker = password_step(Browser(HTTP_X_FORWARDED_FOR="203.0.113.7", **proxy), "bertil")
    colleague_elsewhere = password_step(Browser(HTTP_X_FORWARDED_FOR="203.0.113.50", **proxy), "bertil")

    assert locked(attacker)
    assert colleague_elsewhere.status_code == 200
    assert set(LoginEvent.objects.exclude(event=Event.LOGIN).values_list("ip", flat=True)) == {"203.0.113.7"}
