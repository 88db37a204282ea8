"""`make test` shares the tests out between pytest-xdist workers (`-n auto --dist loadfile`).

- Each worker has a test database of its own (pytest-django's suffix: test_kast_gw0, ...; tests/conftest.py).
- A test file goes to one worker whole (`--dist loadfile`): a file's module-scoped fixtures (the demo data some
  files seed once for their tests) are then made once, and the tests of the shared demo data (`demo_db`,
  tests/demo_data.py) of a file run one after the other.
- The transactional tests (the browser journeys among them) may run before other database tests on a worker:
  each is followed by a flush that empties every table, so the rows the migrations made are put back after it
  (tests/conftest.py).
- The browser journeys are marked `browser`: `make test-fast` leaves them out (`-m "not browser"`).

(xdist's `--dist loadgroup` and its `xdist_group` mark are not used: pytest-xdist 3.8 renames the tests of a
group in a way pytest 9.2 no longer takes, so every group falls apart into single tests.)
"""

from __future__ import annotations

from pathlib import Path

import pytest

BROWSER_TESTS = Path(__file__).resolve().parent / "browser"


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: a journey in Chromium (tests/browser); make test-fast skips them")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Before `-m` deselects (tryfirst)."""
    for item in items:
        if item.path.is_relative_to(BROWSER_TESTS):
            item.add_marker(pytest.mark.browser)
