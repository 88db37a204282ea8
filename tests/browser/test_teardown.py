"""A worker's run that has a browser test and then an ordinary database test ends by dropping its test database.

Once Playwright's event loop runs in the main thread, Django keeps that thread's connections apart from the ones
it had before (tests/browser/conftest.py, `playwright`). A transactional test closes its connections when it ends;
an ordinary test after it keeps its connection for the next, and when the test database had been made before the
loop started, that connection was left open at the end of the run, so pytest-django could not drop the test
database: a warning in the run, and the database left behind.

It showed under pytest-xdist only, where a worker is sent the next file while it runs: in one process pytest-django
runs the ordinary database tests before the transactional ones (the browser tests). So the test after the browser
test here is one that pytest-django puts last, a test without the database mark that opens a connection all the same.
"""

from __future__ import annotations

import re

from tests.own_run import run_pytest

#: A browser test, in a folder with the browser tests' fixtures, as in tests/browser.
BROWSER_TEST = """
import pytest


@pytest.mark.django_db(transaction=True)
def test_a_page_in_the_browser(page, live_server):
    page.goto(f"{live_server.url}/login/")
    assert page.locator("#id_auth-username").is_visible()
"""

#: Tests outside it that read the database. pytest-django runs the first before the transactional tests (the test
#: database is then made before Playwright starts, as on a worker whose first file is not a browser test), and the
#: second, without the database mark, after them.
DATABASE_TESTS = """
import pytest

from clients.models import Client


@pytest.mark.django_db
def test_the_database_before_it():
    assert not Client.objects.exists()


def test_the_database_after_it(django_db_blocker):
    with django_db_blocker.unblock():
        assert not Client.objects.exists()
"""


def test_a_run_with_a_browser_test_then_a_database_test_drops_its_test_database(tmp_path):
    # The suite's fixtures, as its own folders have them (loaded once Django is set up).
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["tests.conftest"]\n')
    (tmp_path / "browser").mkdir()
    (tmp_path / "browser" / "conftest.py").write_text("from tests.browser.conftest import *  # noqa: F403\n")
    (tmp_path / "browser" / "test_journey.py").write_text(BROWSER_TEST)
    (tmp_path / "test_query.py").write_text(DATABASE_TESTS)
    # pytest-django's suffix for the test database (test_..._teardown): not the name of any worker's.
    result = run_pytest(
        "-v",
        str(tmp_path),
        "--rootdir",
        str(tmp_path),
        "-p",
        "no:xdist",
        environment={"TOX_PARALLEL_ENV": "teardown"},
        timeout=300,
    )

    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    order = re.findall(r"::(test_\w+).* PASSED", output)
    assert order == ["test_the_database_before_it", "test_a_page_in_the_browser", "test_the_database_after_it"], output
    assert "being accessed by other users" not in output, output
    assert "warning" not in output.lower(), output
