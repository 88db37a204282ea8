"""Login sessions end: after 20 idle minutes, 10 hours after the login, at logout and a password change (on every
computer), when an administrator ends them, and when the account is deactivated. The clock is frozen."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.test import Client as Browser
from django.urls import reverse
from django.utils import timezone

from kast.models import LoginEvent, StaffSession
from tests.kast.test_two_factor import PASSWORD, code_step, password_step
from tests.otp import authenticator_for, current_code

pytestmark = pytest.mark.django_db

Event = LoginEvent.Event
MINUTE = datetime.timedelta(minutes=1)


def signed_in(browser) -> bool:
    response = browser.get(reverse("home"))
    if response.status_code == 200:
        return True
    assert response["Location"].startswith(reverse("login"))
    return False


@pytest.fixture
def clock():
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        yield traveller


# Timeouts


def test_twenty_idle_minutes_sign_out(client, therapist, clock):
    client.force_login(therapist)

    clock.shift(19 * MINUTE)
    after_19 = signed_in(client)
    clock.shift(20 * MINUTE)
    after_another_20 = signed_in(client)
    clock.shift(20 * MINUTE + datetime.timedelta(seconds=1))
    after_20_and_a_second = signed_in(client)

    assert (after_19, after_another_20, after_20_and_a_second) == (True, True, False)
    assert list(LoginEvent.objects.values_list("event", "user", "reason")) == [(Event.TIMEOUT, therapist.pk, "idle")]
    assert not StaffSession.objects.exists()


def test_the_idle_limit_is_configurable(client, therapist, clock, settings):
    settings.SESSION_IDLE_SECONDS = 5 * 60
    client.force_login(therapist)

    clock.shift(6 * MINUTE)

    assert not signed_in(client)


def test_ten_hours_after_the_login_sign_out_however_busy(client, therapist, clock):
    client.force_login(therapist)

    busy = []
    for _quarter in range(40):  # a request every quarter of an hour, for ten hours (to a light page)
        clock.shift(15 * MINUTE)
        busy.append(client.get(reverse("password_change")).status_code == 200)
    clock.shift(MINUTE)
    after_ten_hours = signed_in(client)

    assert busy == [True] * 40
    assert after_ten_hours is False
    assert list(LoginEvent.objects.values_list("event", "reason")) == [(Event.TIMEOUT, "absolute")]


# Logout and password change end the session everywhere


def test_logout_ends_the_users_sessions_on_every_computer(client, therapist, colleague):
    at_the_clinic, at_home, colleagues = Browser(), Browser(), Browser()
    for browser, user in [(at_the_clinic, therapist), (at_home, therapist), (colleagues, colleague)]:
        browser.force_login(user)

    response = at_home.post(reverse("logout"))

    assert response["Location"] == reverse("login")
    assert (signed_in(at_home), signed_in(at_the_clinic), signed_in(colleagues)) == (False, False, True)
    assert list(StaffSession.objects.values_list("user", flat=True)) == [colleague.pk]
    assert list(LoginEvent.objects.values_list("event", "user")) == [(Event.LOGOUT, therapist.pk)]


def test_the_admin_sites_logout_is_the_same(client, admin):
    elsewhere = Browser()
    elsewhere.force_login(admin)
    client.force_login(admin)

    response = client.post(reverse("admin:logout"))

    assert response["Location"] == reverse("login")
    assert (signed_in(client), signed_in(elsewhere)) == (False, False)
    assert list(LoginEvent.objects.values_list("event", "user")) == [(Event.LOGOUT, admin.pk)]


def test_logout_needs_the_csrf_token(therapist):
    browser = Browser(enforce_csrf_checks=True)
    browser.force_login(therapist)

    assert browser.post(reverse("logout")).status_code == 403
    assert signed_in(browser)


def test_a_password_change_ends_the_other_sessions_and_keeps_this_one(client, therapist):
    elsewhere = Browser()
    elsewhere.force_login(therapist)
    client.force_login(therapist)
    new = "en helt ny lösenfras för våren"

    response = client.post(
        reverse("password_change"), {"old_password": PASSWORD, "new_password1": new, "new_password2": new}
    )

    assert response["Location"] == reverse("password_change_done")
    assert (signed_in(client), signed_in(elsewhere)) == (True, False)
    assert list(StaffSession.objects.values_list("session_id", flat=True)) == [client.session.session_key]
    assert list(LoginEvent.objects.values_list("event", "user")) == [(Event.PASSWORD_CHANGED, therapist.pk)]


# Deactivation and the administrator


def test_a_deactivated_user_is_out_at_the_next_request(client, therapist):
    client.force_login(therapist)
    therapist.is_active = False
    therapist.save(update_fields=["is_active"])

    assert not signed_in(client)


def test_deactivating_in_the_admin_site_ends_the_sessions(client, admin, therapist, gbg):
    user_browser = Browser()
    user_browser.force_login(therapist)
    client.force_login(admin)
    form = {
        "username": therapist.username,
        "first_name": therapist.first_name,
        "last_name": therapist.last_name,
        "email": "",
        "role": therapist.role,
        "clinic": gbg.pk,
        "fte": "1.00",
        # is_active left out: unticked
    }

    response = client.post(reverse("admin:kast_user_change", args=[therapist.pk]), form)

    assert response.status_code == 302
    therapist.refresh_from_db()
    assert therapist.is_active is False
    assert not StaffSession.objects.filter(user=therapist).exists()
    assert not signed_in(user_browser)


def test_an_administrator_sees_a_users_sessions_and_ends_them(client, admin, therapist):
    at_the_clinic = Browser(REMOTE_ADDR="10.20.30.40", HTTP_USER_AGENT="Klinikdatorn")
    device = authenticator_for(therapist)
    password_step(at_the_clinic, "anna")
    code_step(at_the_clinic, current_code(device))
    client.force_login(admin)

    page = client.get(reverse("admin:kast_user_change", args=[therapist.pk])).content.decode()
    response = client.post(
        reverse("admin:kast_user_changelist"), {"action": "end_sessions", "_selected_action": [therapist.pk, admin.pk]}
    )

    assert "10.20.30.40" in page and "Klinikdatorn" in page
    assert response.status_code == 302
    assert not signed_in(at_the_clinic)
    assert signed_in(client)  # the administrator's own session, in which they asked, goes on
    assert set(LoginEvent.objects.exclude(event=Event.LOGIN).values_list("event", "user", "reason")) == {
        (Event.SESSIONS_ENDED, therapist.pk, "by erik"),
        (Event.SESSIONS_ENDED, admin.pk, "by erik"),
    }


def test_a_session_row_goes_with_its_session(client, therapist):
    client.force_login(therapist)
    staff_session = StaffSession.objects.get()

    Session.objects.filter(pk=staff_session.pk).delete()

    assert not StaffSession.objects.exists()


# Cookies


def test_the_session_cookie_is_httponly_and_samesite(client, therapist):
    device = authenticator_for(therapist)
    password_step(client, "anna")
    response = code_step(client, current_code(device))

    cookie = response.cookies["sessionid"]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
