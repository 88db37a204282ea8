"""Two factors for every account: the password, then a code from an authenticator app (or a backup code).

A session that has passed the password only reaches the authenticator's setup and logout, nothing else.
"""

from __future__ import annotations

import base64
import re

import pytest
from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.test import Client as Browser
from django.test import override_settings
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from clients.models import Client
from kast.access import rule_for_name
from kast.models import LoginEvent
from tests.kast.test_role_matrix import KWARGS, MATRIX
from tests.otp import authenticator_for, current_code

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"  # tests.factories.UserFactory's
Event = LoginEvent.Event


def password_step(browser, username: str, password: str = PASSWORD, url: str | None = None):
    return browser.post(
        url or reverse("login"),
        {"login_view-current_step": "auth", "auth-username": username, "auth-password": password},
    )


def code_step(browser, code: str, url: str | None = None):
    return browser.post(url or reverse("login"), {"login_view-current_step": "token", "token-otp_token": code})


def backup_step(browser, code: str):
    browser.post(reverse("login"), {"wizard_goto_step": "backup"})
    return browser.post(reverse("login"), {"login_view-current_step": "backup", "backup-otp_token": code})


def events(**filters) -> list[tuple[str, str, str | None]]:
    return list(LoginEvent.objects.filter(**filters).order_by("id").values_list("event", "username", "ip"))


def wrong_code(device: TOTPDevice) -> str:
    return "111111" if current_code(device) != "111111" else "222222"


# The login itself


def test_the_password_and_the_code_log_in(client, therapist):
    device = authenticator_for(therapist)

    asks_for_code = password_step(client, "anna")
    after_password_only = client.get(reverse("home"))
    response = code_step(client, current_code(device))

    assert asks_for_code.status_code == 200
    assert asks_for_code.context["wizard"]["steps"].current == "token"
    assert after_password_only["Location"].startswith(reverse("login"))  # the password alone signs in nobody
    assert (response.status_code, response["Location"]) == (302, reverse("home"))
    assert client.get(reverse("home")).status_code == 200
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert events() == [(Event.LOGIN, "anna", "127.0.0.1")]
    assert LoginEvent.objects.get().user == therapist


def test_the_page_asked_for_is_reached_after_both_steps(client, therapist):
    device = authenticator_for(therapist)
    login_url = client.get(reverse("clients:list"))["Location"]

    password_step(client, "anna", url=login_url)
    response = code_step(client, current_code(device), url=login_url)

    assert login_url == reverse("login") + "?next=" + reverse("clients:list")
    assert response["Location"] == reverse("clients:list")


def test_a_wrong_code_is_refused_and_logged(client, therapist):
    device = authenticator_for(therapist)
    password_step(client, "anna")

    response = code_step(client, wrong_code(device))

    assert response.status_code == 200
    assert response.context["wizard"]["form"].errors
    assert client.get(reverse("home"))["Location"].startswith(reverse("login"))
    assert events() == [(Event.CODE_FAILED, "anna", "127.0.0.1")]
    assert LoginEvent.objects.get().reason == "token"


def test_a_code_works_once(therapist):
    """A code seen over someone's shoulder is useless once it has been used."""
    device = authenticator_for(therapist)
    first, second = Browser(), Browser()
    password_step(first, "anna")
    password_step(second, "anna")
    code = current_code(device)

    used = code_step(first, code)
    again = code_step(second, code)

    assert used.status_code == 302
    assert again.status_code == 200
    assert second.get(reverse("home")).status_code == 302


def test_a_backup_code_logs_in_once(therapist):
    authenticator_for(therapist)
    backup = StaticDevice.objects.create(user=therapist, name="backup")
    backup.token_set.create(token="abcd2345")
    first, second = Browser(), Browser()
    password_step(first, "anna")
    password_step(second, "anna")

    used = backup_step(first, "abcd2345")
    again = backup_step(second, "abcd2345")

    assert (used.status_code, used["Location"]) == (302, reverse("home"))
    assert again.status_code == 200
    assert not backup.token_set.exists()
    assert [event for event, _, _ in events()] == [Event.LOGIN, Event.CODE_FAILED]


def test_the_first_login_sets_up_the_authenticator(client, therapist):
    """No authenticator yet: the password leads to the setup, which ends with a verified session."""
    after_password = password_step(client, "anna")
    elsewhere = client.get(reverse("clients:list"))
    welcome = client.get(reverse("two_factor:setup"))
    generator = client.post(reverse("two_factor:setup"), {"setup_view-current_step": "welcome"})
    key = generator.context["secret_key"]
    qr_code = client.get(reverse("two_factor:qr"))
    code = f"{totp(base64.b32decode(key)):06d}"
    confirmed = client.post(
        reverse("two_factor:setup"), {"setup_view-current_step": "generator", "generator-token": code}
    )

    assert after_password["Location"] == reverse("two_factor:setup")
    assert elsewhere["Location"] == reverse("two_factor:setup")
    assert welcome.status_code == 200
    assert generator.context["wizard"]["steps"].current == "generator"
    assert (qr_code.status_code, qr_code["Content-Type"]) == (200, "image/svg+xml; charset=utf-8")
    assert b"<svg" in qr_code.content
    assert confirmed["Location"] == reverse("two_factor:setup_complete")
    device = TOTPDevice.objects.get(user=therapist)
    assert (device.name, device.confirmed, base64.b32encode(device.bin_key).decode()) == ("default", True, key)
    assert client.get(reverse("clients:list")).status_code == 200
    assert [event for event, _, _ in events()] == [Event.PASSWORD_ONLY, Event.SECOND_FACTOR_SET_UP]


def test_a_wrong_code_does_not_set_up_the_authenticator(client, therapist):
    password_step(client, "anna")
    client.post(reverse("two_factor:setup"), {"setup_view-current_step": "welcome"})

    response = client.post(
        reverse("two_factor:setup"), {"setup_view-current_step": "generator", "generator-token": "123456"}
    )

    assert response.status_code == 200
    assert response.context["wizard"]["form"].errors
    assert not TOTPDevice.objects.exists()
    assert client.get(reverse("home"))["Location"] == reverse("two_factor:setup")


def test_backup_codes_are_made_after_the_setup_and_shown_once(client, therapist):
    """Codes are stored hashed (kast.otp_secrets): the answer to the POST that makes them is the only place
    they are shown; later the page says how many are left."""
    client.force_login(therapist)

    made = client.post(reverse("two_factor:backup_tokens"))
    page = client.get(reverse("two_factor:backup_tokens"))

    codes = made.context["codes"]
    device = StaticDevice.objects.get(user=therapist)
    stored = set(device.token_set.values_list("token", flat=True))
    assert made.status_code == 200
    assert len(codes) == len(set(codes)) == len(stored) == 10
    assert all(code in made.content.decode() for code in codes)
    assert not stored & set(codes)  # none in clear
    assert not any(code in page.content.decode() for code in codes)
    assert page.context["remaining"] == 10
    assert device.verify_token(codes[3])
    assert device.token_set.count() == 9


def test_setting_up_and_the_qr_code_are_served_without_inline_script_or_style(client, therapist, password_only_login):
    password_only_login(client, therapist)
    client.get(reverse("two_factor:setup"))

    page = client.post(reverse("two_factor:setup"), {"setup_view-current_step": "welcome"}).content.decode()

    assert "<script>" not in page and "<style" not in page and " style=" not in page
    assert not re.search(r"(src|href)=\"(https?:)?//", page)  # nothing from another host (no CDN)
    assert f'src="{reverse("two_factor:qr")}"' in page


# Every other page needs both factors: the rule lives in AccessPolicyMiddleware, so it holds for every URL.


def _guarded_urls() -> list:
    return [
        pytest.param(name, kwargs, id=name)
        for name, kwargs, _ in MATRIX
        if not (rule_for_name(name).public or rule_for_name(name).before_second_factor)
    ]


@pytest.mark.parametrize(("url_name", "kwargs"), _guarded_urls())
def test_a_password_only_session_is_sent_to_the_code_from_every_page(
    client, personas, client_record, password_only_login, url_name, kwargs
):
    user = personas["admin" if url_name.startswith("admin:") else "therapist"]
    authenticator_for(user)
    password_only_login(client, user)
    url = reverse(url_name, kwargs=KWARGS[kwargs](client_record))

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == reverse("login") + "?next=" + url.replace(":", "%3A")


@pytest.mark.parametrize(("url_name", "kwargs"), _guarded_urls())
def test_a_password_only_session_without_an_authenticator_is_sent_to_set_one_up(
    client, personas, client_record, password_only_login, url_name, kwargs
):
    user = personas["admin" if url_name.startswith("admin:") else "therapist"]
    password_only_login(client, user)
    url = reverse(url_name, kwargs=KWARGS[kwargs](client_record))

    response = client.get(url)

    assert (response.status_code, response["Location"]) == (302, reverse("two_factor:setup"))


def test_every_url_but_the_public_ones_and_the_setup_is_guarded():
    """The walk above covers the role matrix; this names what it leaves out, so nothing slips in unnoticed."""
    left_out = {name for name, _, _ in MATRIX} - {param.values[0] for param in _guarded_urls()}
    assert left_out == {
        "login",
        "logout",
        "healthz",
        "set_language",
        "password_reset_confirm",
        "password_reset_complete",
        "two_factor:setup",
        "two_factor:qr",
        "sessions:calendar_feed",
        "assessments:tablet",
        "assessments:tablet_form",
        "assessments:tablet_done",
    }


def test_a_password_only_session_changes_nothing(client, therapist, password_only_login):
    authenticator_for(therapist)
    password_only_login(client, therapist)

    response = client.post(reverse("clients:register"), {"alias": "Zebulon", "target_groups": ["buyer"]})

    assert response["Location"].startswith(reverse("login"))
    assert not Client.objects.exists()


def test_before_the_second_factor_the_setup_logout_and_the_tablet_still_answer(client, therapist, password_only_login):
    password_only_login(client, therapist)

    assert client.get(reverse("two_factor:setup")).status_code == 200
    assert client.get(reverse("assessments:tablet")).status_code == 200
    assert client.get(reverse("login")).status_code == 200  # the login form again, no redirect loop
    assert client.get(reverse("two_factor:setup")).context["nav_items"] == []
    assert client.post(reverse("logout"))["Location"] == reverse("login")


def test_a_verified_user_asking_for_the_login_page_goes_on(client, therapist):
    client.force_login(therapist)

    assert client.get(reverse("login"))["Location"] == reverse("home")
    assert client.get(reverse("login") + "?next=/clients/")["Location"] == "/clients/"
    assert client.get(reverse("login") + "?next=https://evil.example/")["Location"] == reverse("home")


def test_a_removed_authenticator_ends_the_verification(client, therapist):
    """An administrator removes a lost phone's authenticator: its sessions lose the second factor at once."""
    client.force_login(therapist)
    TOTPDevice.objects.filter(user=therapist).delete()

    assert client.get(reverse("home"))["Location"] == reverse("two_factor:setup")


# Passwords


@pytest.mark.parametrize(
    ("new_password", "accepted"),
    [
        ("kort-lösen1", False),  # 11 characters
        ("password1234", False),  # a common password
        ("123456789012345", False),  # digits only
        ("fyra ord som ingen annan gissar på en tisdag i november", True),  # a long passphrase
    ],
)
def test_the_password_rules(client, therapist, new_password, accepted):
    client.force_login(therapist)

    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": new_password, "new_password2": new_password},
    )

    therapist.refresh_from_db()
    assert (response.status_code == 302) is accepted
    assert therapist.check_password(new_password) is accepted


def test_passwords_are_hashed_with_argon2_outside_the_tests(therapist):
    from kast.settings import base

    assert settings.PASSWORD_HASHERS == ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed, tests only
    assert base.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    with override_settings(PASSWORD_HASHERS=base.PASSWORD_HASHERS):
        therapist.set_password("en lång lösenfras")
        assert therapist.password.startswith("argon2$argon2id$")
        assert therapist.check_password("en lång lösenfras")
        # A PBKDF2 hash from before still verifies (and is upgraded at the next login).
        assert check_password("en lång lösenfras", make_password("en lång lösenfras", hasher="pbkdf2_sha256"))
