"""The demo data (`seed_demo`), seeded once and shared by the tests that only need it to be there.

A test asks for it with the `demo_db` fixture instead of `db`: the test runs in its own savepoint, as with `db`,
on top of the demo data, which was seeded in a transaction that stays open from the first such test to the last
of a row of them and is then rolled back. Whatever a test changes is undone at its end as usual, so the next one
sees the demo data as seeded. Seeding takes seconds (more on a busy machine); per test it was most of the suite.

So that the row is one row, the tests that ask for `demo_db` run together, after the other database tests
and in their own order (pytest_collection_modifyitems below): one seeding for a run. Under pytest-xdist
(`--dist loadfile`, tests/parallel.py) a file's tests go to one worker, in that order: one seeding for each
file with such tests. Tests that need an empty database, or seed with other arguments, keep `db` and their
own fixtures.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connections, transaction
from django.test import override_settings

FIXTURE = "demo_db"


class _Snapshot:
    """The open transaction that holds the seeded demo data (one per worker process)."""

    def __init__(self) -> None:
        self.atomic: transaction.Atomic | None = None
        self.blocker: Any = None  # pytest-django's django_db_blocker

    @property
    def open(self) -> bool:
        return self.atomic is not None

    def seed(self, blocker) -> None:
        with blocker.unblock():
            if connections["default"].in_atomic_block:
                raise RuntimeError("The demo data must be seeded before a test's own transaction begins.")
            atomic = transaction.atomic()
            atomic.__enter__()
            try:
                with override_settings(DEBUG=True):
                    call_command("seed_demo", stdout=io.StringIO())
            except BaseException as exc:
                transaction.set_rollback(True)
                atomic.__exit__(type(exc), exc, exc.__traceback__)
                raise
        self.atomic, self.blocker = atomic, blocker

    def roll_back(self) -> None:
        atomic, blocker = self.atomic, self.blocker
        assert atomic is not None, "no demo data to roll back"
        self.atomic = self.blocker = None
        with blocker.unblock():
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


_snapshot = _Snapshot()


@pytest.fixture(scope="module")
def _demo_data(django_db_setup, django_db_blocker):
    """Module-scoped so that it is set up before any test's own transaction (pytest-django's `db`); the
    transaction outlives the module when the next test asks for the demo data too."""
    if not _snapshot.open:
        _snapshot.seed(django_db_blocker)


@pytest.fixture
def demo_db(_demo_data, db):
    """`db`, with the demo data of `manage.py seed_demo` (no load-test clients) already there."""
    if not _snapshot.open:
        pytest.fail("The demo data was rolled back before this test: its tests must run one after the other.")


def _uses_demo_data(item) -> bool:
    return FIXTURE in getattr(item, "fixturenames", ())


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """The tests of the demo data after the others, in their order (pytest-django's sort, which comes after,
    keeps them together: after the other non-transactional database tests)."""
    demo = [item for item in items if _uses_demo_data(item)]
    items[:] = [item for item in items if not _uses_demo_data(item)] + demo


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """After a test's own teardown: roll the demo data back unless the next test wants it too."""
    try:
        return (yield)
    finally:
        if _snapshot.open and (nextitem is None or not _uses_demo_data(nextitem)):
            _snapshot.roll_back()
