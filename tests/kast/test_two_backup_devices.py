"""A user with two backup-code devices (an administrator can add a second in the admin site) still logs in."""

from __future__ import annotations

import pytest
from django.test import Client as Browser
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice

from tests.kast.test_two_factor import backup_step, password_step
from tests.otp import authenticator_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_backup_devices(therapist):
    authenticator_for(therapist)
    first = StaticDevice.objects.create(user=therapist, name="backup")
    first.token_set.create(token="abcd2345")
    second = StaticDevice.objects.create(user=therapist, name="added in the admin")
    second.token_set.create(token="efgh6789")
    return first, second


def test_the_backup_code_page_is_shown_at_login(two_backup_devices):
    browser = Browser()
    token_page = password_step(browser, "anna")

    page = browser.post(reverse("login"), {"wizard_goto_step": "backup"})

    assert token_page.status_code == 200
    assert page.status_code == 200
    assert page.context["wizard"]["steps"].current == "backup"


@pytest.mark.parametrize("code", ["abcd2345", "efgh6789"])
def test_a_code_of_either_device_logs_in(two_backup_devices, code):
    browser = Browser()
    password_step(browser, "anna")

    response = backup_step(browser, code)

    assert (response.status_code, response["Location"]) == (302, reverse("home"))
    assert not any(device.token_set.filter(token=code).exists() for device in two_backup_devices)


def test_the_backup_codes_page_is_shown(client, therapist, two_backup_devices):
    client.force_login(therapist)

    page = client.get(reverse("two_factor:backup_tokens"))
    made = client.post(reverse("two_factor:backup_tokens"))

    assert page.status_code == 200
    assert made.status_code == 200  # the new codes, shown once
