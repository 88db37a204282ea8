"""Lockout after repeated failed passwords (django-axes) for a username at an address, growing waits for an
address that fails too often (kast.login_throttle), the address read safely behind the municipality's reverse
proxy; every failure and lockout in the login log, never a password."""

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

from kast.actor import client_ip
from kast.models import LoginEvent
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


def test_made_up_usernames_do_not_lock_a_real_user_behind_the_same_address(therapist, colleague):
    """A clinic behind one NAT: someone's guesses at usernames must not lock out the colleagues."""
    authenticator_for(colleague)
    for number in range(5):
        fail(1, username=f"gissning{number}")

    same_address = password_step(Browser(), "bertil")

    assert same_address.status_code == 200
    assert same_address.context["wizard"]["steps"].current == "token"


def test_a_users_own_failures_lock_that_username_at_that_address_only(therapist, colleague):
    authenticator_for(therapist)
    authenticator_for(colleague)
    fail(5)

    same_address = password_step(Browser(), "anna")
    other_address = password_step(Browser(REMOTE_ADDR="10.1.2.3"), "anna")
    colleague_same_address = password_step(Browser(), "bertil")

    assert locked(same_address)
    assert other_address.context["wizard"]["steps"].current == "token"
    assert colleague_same_address.context["wizard"]["steps"].current == "token"


def test_failures_spread_over_addresses_lock_no_address(therapist):
    authenticator_for(therapist)
    for number in range(5):
        fail(1, REMOTE_ADDR=f"10.0.0.{number + 1}")

    assert password_step(Browser(REMOTE_ADDR="10.0.0.99"), "anna").context["wizard"]["steps"].current == "token"
    assert password_step(Browser(REMOTE_ADDR="10.0.0.1"), "anna").context["wizard"]["steps"].current == "token"


# The address throttle: LOGIN_ADDRESS_FREE_FAILURES (10 here) failures on any usernames are free; after each
# further one the address waits 1, 2, 4, ... seconds, up to LOGIN_ADDRESS_MAX_DELAY_SECONDS.


def guess(number: int, **extra):
    return Browser(**extra).post(
        reverse("login"),
        {"login_view-current_step": "auth", "auth-username": f"gissning{number}", "auth-password": WRONG},
    )


def throttled(response) -> int:
    """The seconds the answer asks to wait, 0 if the password was heard."""
    if response.status_code != 429:
        return 0
    with translation.override("sv"):
        assert f"<h1>{_('Too many login attempts')}</h1>" in response.content.decode()
    return int(response["Retry-After"])


def failures_from(ip: str) -> int:
    return sum(AccessAttempt.objects.filter(ip_address=ip).values_list("failures_since_start", flat=True))


def test_the_address_waits_longer_after_each_failure_beyond_the_free_ones(therapist):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        free = [throttled(guess(number)) for number in range(11)]
        waits = []
        for number in range(4):
            waits.append(throttled(guess(100 + number)))  # refused: not checked, not counted
            clock.shift(datetime.timedelta(seconds=waits[-1] - 0.5))
            assert throttled(guess(200 + number)) == 1  # half a second left, rounded up
            clock.shift(datetime.timedelta(seconds=0.5))
            assert throttled(guess(300 + number)) == 0  # heard, and failed: the next wait doubles

    assert free == [0] * 11  # ten free failures, and the eleventh is heard too
    assert waits == [1, 2, 4, 8]
    assert failures_from("127.0.0.1") == 15
    # Only the passwords heard are in the login log as failures: the refused ones (1xx, 2xx) never reached a
    # check, and are in it as made to wait, with the wait.
    heard = {f"gissning{number}" for number in [*range(11), 300, 301, 302, 303]}
    assert set(LoginEvent.objects.filter(event=Event.FAILED).values_list("username", flat=True)) == heard
    assert list(LoginEvent.objects.filter(event=Event.THROTTLED).order_by("id").values_list("username", "reason")) == [
        ("gissning100", "wait 1 s"),
        ("gissning200", "wait 1 s"),
        ("gissning101", "wait 2 s"),
        ("gissning201", "wait 1 s"),
        ("gissning102", "wait 4 s"),
        ("gissning202", "wait 1 s"),
        ("gissning103", "wait 8 s"),
        ("gissning203", "wait 1 s"),
    ]
    assert LoginEvent.objects.count() == 15 + 8


def test_a_login_made_to_wait_is_in_the_login_log(therapist):
    """The throttle refuses without checking the password, and says so in the login log: who was tried, from
    where, and how long the address must wait."""
    authenticator_for(therapist)
    with time_machine.travel(timezone.now(), tick=False):
        for number in range(11):
            guess(number)
        before = LoginEvent.objects.count()
        response = password_step(Browser(), "anna")

    assert throttled(response) == 1
    event = LoginEvent.objects.get(event=Event.THROTTLED)
    assert (event.user, event.username, event.ip, event.reason) == (therapist, "anna", "127.0.0.1", "wait 1 s")
    assert LoginEvent.objects.count() == before + 1  # nothing else: the password was not checked


@override_settings(LOGIN_ADDRESS_MAX_DELAY_SECONDS=5)
def test_the_wait_is_capped(therapist):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        for number in range(11):
            guess(number)
        waits = []
        for number in range(5):
            waits.append(throttled(guess(100 + number)))
            clock.shift(datetime.timedelta(seconds=waits[-1]))
            guess(200 + number)

    assert waits == [1, 2, 4, 5, 5]


def test_the_wait_applies_to_everyone_at_the_address_and_only_there(therapist, colleague):
    authenticator_for(colleague)
    with time_machine.travel(timezone.now(), tick=False):
        for number in range(11):
            guess(number)

        same_address = password_step(Browser(), "bertil")
        other_address = password_step(Browser(REMOTE_ADDR="10.1.2.3"), "bertil")

    assert throttled(same_address) == 1
    assert not locked(same_address)
    assert other_address.context["wizard"]["steps"].current == "token"


def test_a_quiet_address_starts_afresh(therapist):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        for number in range(14):
            clock.shift(datetime.timedelta(seconds=10))
            guess(number)
        busy = throttled(guess(100))
        clock.shift(datetime.timedelta(minutes=14))
        still_counted = throttled(guess(101))
        clock.shift(datetime.timedelta(minutes=1, seconds=1))
        quiet = [throttled(guess(200 + number)) for number in range(10)]

    assert busy == 8
    assert still_counted == 0  # the 8 seconds are long over, and this failure counts: 15 of them
    assert quiet == [0] * 10


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
    assert password_step(Browser(), "anna").context["wizard"]["steps"].current == "token"


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
def test_behind_the_proxy_the_lockout_is_per_client_not_per_proxy(therapist):
    """All requests come from the proxy's address; the lockout must not lock out the whole municipality."""
    authenticator_for(therapist)
    proxy = {"REMOTE_ADDR": "10.0.0.1"}
    for number in range(5):
        # A client trying to hide behind made-up addresses in the header it sends.
        fail(1, HTTP_X_FORWARDED_FOR=f"198.51.100.{number}, 203.0.113.7", **proxy)

    attacker = password_step(Browser(HTTP_X_FORWARDED_FOR="203.0.113.7", **proxy), "anna")
    anna_elsewhere = password_step(Browser(HTTP_X_FORWARDED_FOR="203.0.113.50", **proxy), "anna")

    assert locked(attacker)
    assert anna_elsewhere.context["wizard"]["steps"].current == "token"
    assert set(LoginEvent.objects.exclude(event=Event.LOGIN).values_list("ip", flat=True)) == {"203.0.113.7"}
