"""A new member of staff logs in for the first time: the password, then setting up the authenticator app from the
QR code's key, backup codes, and the next login with both factors. Every page passes axe and the strict CSP."""

from __future__ import annotations

import base64

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from kast.models import LoginEvent, Role
from tests.browser.conftest import PASSWORD
from tests.factories import ClinicFactory, UserFactory
from tests.otp import current_code

pytestmark = pytest.mark.django_db(transaction=True)


def test_first_login_sets_up_the_authenticator_and_the_next_login_asks_for_its_code(page, live_server, check_page):
    UserFactory(username="nyanstalld", first_name="Nora", role=Role.THERAPIST, clinic=ClinicFactory(code="GBG"))
    refused = []  # scripts, styles or images the Content-Security-Policy refused, and script errors
    page.on("console", lambda message: refused.append(message.text) if message.type == "error" else None)

    page.goto(f"{live_server.url}/clients/")
    check_page(page, "login")
    page.fill("#id_auth-username", "nyanstalld")
    page.fill("#id_auth-password", PASSWORD)
    page.locator("main form button[type=submit]").first.click()

    # No authenticator yet: every page leads to its setup.
    page.wait_for_url(f"{live_server.url}/two-factor/setup/")
    check_page(page, "setup-welcome")
    page.locator("main form button[type=submit]").first.click()
    qr_code = page.locator("main img")
    expect(qr_code).to_be_visible()
    # The SVG loaded under the CSP (waited for: the element is visible before its image has arrived).
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=qr_code.element_handle())
    check_page(page, "setup-qr-code")
    key = page.locator("#setup-key").inner_text().strip()
    page.fill("#id_generator-token", f"{totp(base64.b32decode(key)):06d}")
    page.locator("main form button[type=submit]").first.click()

    page.wait_for_url(f"{live_server.url}/two-factor/setup/done/")
    check_page(page, "setup-done")
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_url(f"{live_server.url}/two-factor/backup-codes/")
    expect(page.locator("main ul li")).to_have_count(10)
    check_page(page, "backup-codes")
    page.locator("header .dropdown-toggle").click()  # the account's menu, under the user's name
    page.get_by_role("button", name="Logga ut").click()

    # The next login asks for the code.
    page.wait_for_url(f"{live_server.url}/login/")
    page.fill("#id_auth-username", "nyanstalld")
    page.fill("#id_auth-password", PASSWORD)
    page.locator("main form button[type=submit]").first.click()
    expect(page.locator("#id_token-otp_token")).to_be_visible()
    check_page(page, "login-code")
    device = TOTPDevice.objects.get(user__username="nyanstalld")
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)  # the setup's code may still be current
    page.fill("#id_token-otp_token", current_code(device))
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_url(f"{live_server.url}/")

    assert refused == []
    assert list(LoginEvent.objects.order_by("id").values_list("event", flat=True)) == [
        LoginEvent.Event.PASSWORD_ONLY,
        LoginEvent.Event.SECOND_FACTOR_SET_UP,
        LoginEvent.Event.LOGOUT,
        LoginEvent.Event.LOGIN,
    ]
