"""Browser tests: Debian's Chromium, driven by Playwright, against the app served from the test database.

`make test` installs Chromium from Debian when it is missing (bin/system-packages); a browser
is never downloaded. Screenshots of the key pages go to test-artifacts/ (git-ignored).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.db import connections
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.otp import authenticator_for, current_code

# Playwright's sync API keeps an event loop running in the main thread from the first browser
# test to the end of the run; the ORM calls of the tests (these and any that run after them) are
# ordinary blocking calls, which Django would otherwise refuse there. Tests only: deploy checks refuse it.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PASSWORD = "correct-horse-battery"  # tests.factories.UserFactory's password

#: axe-core impacts that fail a test (WCAG 2.1 AA is the target; minor and moderate are reported).
BLOCKING_IMPACTS = {"serious", "critical"}


@pytest.fixture(scope="session")
def playwright(playwright):
    """pytest-playwright's, closing on its way out the database connections opened under its event loop.

    While that loop runs, Django keeps the main thread's connections apart from those it had before (asgiref's
    Local keeps a thread-critical value per async context once a loop is running), so a database test after the
    first browser test on a worker opens a connection of its own. pytest-django closes the connections of the
    thread as it finds them after the loop has stopped, the others stayed open, and dropping the worker's test
    database at the end failed ("is being accessed by other users"; tests/browser/test_teardown.py).
    """
    yield playwright
    connections.close_all()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not CHROMIUM.exists():
        pytest.fail("Debian's Chromium is missing: run `make system` (apt-get install chromium).")
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "headless": True,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {
        **browser_context_args,
        "locale": "sv-SE",
        "timezone_id": "Europe/Stockholm",
        "viewport": {"width": 1280, "height": 900},
    }


@pytest.fixture
def login(page, live_server):
    """Sign in through the real login form, both factors: the password, then the code the user's authenticator
    app shows now (computed from the device's key, as the phone does); returns the page on the start page."""

    def sign_in(user, *, target=page):
        device = authenticator_for(user)
        # A code is good once per 30 seconds; a second login of the same user in a test may come sooner.
        TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)
        target.goto(f"{live_server.url}/login/")
        target.fill("#id_auth-username", user.username)
        target.fill("#id_auth-password", PASSWORD)
        target.locator("main form button[type=submit]").first.click()
        target.fill("#id_token-otp_token", current_code(device))
        target.locator("main form button[type=submit]").first.click()
        target.wait_for_url(f"{live_server.url}/")
        return target

    return sign_in


@pytest.fixture(scope="session")
def axe():
    return Axe()


@pytest.fixture
def check_page(axe, request):
    """Screenshot the page into test-artifacts/ and fail on any serious or critical axe violation."""

    def check(page, name: str) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=ARTIFACTS / f"{request.node.name}-{name}.png", full_page=True)
        results = axe.run(page)
        blocking = [
            f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
            for v in results.response["violations"]
            if v["impact"] in BLOCKING_IMPACTS
        ]
        assert blocking == [], f"accessibility violations on {name}:\n" + "\n".join(blocking)

    return check


@pytest.fixture(autouse=True)
def quiet_browser(page):
    """After each test, wait until the page has no request in flight (an autosave, say) and close it.

    Otherwise a last request can still be running on the live server when pytest-django empties the
    tables for the next test, and the two deadlock.
    """
    yield
    page.wait_for_load_state("networkidle")
    page.context.close()
