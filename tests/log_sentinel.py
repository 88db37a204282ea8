"""A pytest plugin: no line the application logs during the test run may hold client data.

Every handler configured by settings.LOGGING (the console) gets one more filter, after its own
(so after the query-string stripping), that keeps each line exactly as the handler writes it,
traceback included. Tests mark client data with "SENTINEL" (notes, aliases, answers; the factories
tag generated note text) and use made-up personnummer. After each test, the lines logged while it
ran (its fixtures included) are searched, and a hit fails that test with the line; lines logged
outside any test (start-up, session fixtures) are searched when the run ends. So whatever
selection of tests runs, exactly the logs it produced are checked.
"""

from __future__ import annotations

import logging
import re

import pytest

#: What marks client data in the tests: the sentinel tag, and anything shaped like a personnummer or
#: samordningsnummer (YYMMDD-NNNN or YYYYMMDD-NNNN, with - or +), but not the digits of a UUID
#: (6f1c2d3e-... or 47110192-1914-49ee-..., as in every record's URL).
CLIENT_DATA = re.compile(r"SENTINEL|(?<![\w-])(?:\d{2})?\d{6}[-+]\d{4}(?![\w-])")


class _Tap(logging.Filter):
    """The last filter of one handler: keeps the record as that handler formats it, lets it through."""

    def __init__(self, handler: logging.Handler, lines: list[str]) -> None:
        super().__init__()
        self.handler = handler
        self.lines = lines

    def filter(self, record: logging.LogRecord) -> bool:
        self.lines.append((self.handler.formatter or logging.Formatter()).format(record))
        return True


class LogCapture:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.taps: list[_Tap] = []
        self.outside_tests: list[str] = []
        self._last_test_end = 0

    def attach(self) -> None:
        handlers = {
            handler
            for logger in [logging.getLogger(), *logging.Logger.manager.loggerDict.values()]
            for handler in getattr(logger, "handlers", [])
            # Configured handlers carry their LOGGING name; pytest's own capturing handlers have none.
            if handler.get_name()
        }
        for handler in handlers:
            tap = _Tap(handler, self.lines)
            handler.addFilter(tap)
            self.taps.append(tap)

    def detach(self) -> None:
        for tap in self.taps:
            tap.handler.removeFilter(tap)
        self.taps.clear()

    def test_starts(self) -> int:
        self.outside_tests += self.lines[self._last_test_end :]
        return len(self.lines)

    def test_ends(self, start: int) -> list[str]:
        self._last_test_end = len(self.lines)
        return leaks(self.lines[start:])

    def run_ends(self) -> list[str]:
        self.outside_tests += self.lines[self._last_test_end :]
        return leaks(self.outside_tests)

    def forget(self, line: str) -> None:
        """For the test of this capture itself, which logs a sentinel on purpose."""
        self.lines.remove(line)


def leaks(lines: list[str]) -> list[str]:
    return [line for line in lines if CLIENT_DATA.search(line)]


capture = LogCapture()


def pytest_sessionstart(session):
    # pytest-django has called django.setup() by now, so settings.LOGGING is in place.
    capture.attach()


@pytest.fixture(autouse=True)
def _no_client_data_in_logs():
    # Autouse and requested first, so it is torn down last: the other fixtures' teardown logs count too.
    start = capture.test_starts()
    yield
    found = capture.test_ends(start)
    if found:
        pytest.fail("client data in the application log:\n" + "\n".join(found), pytrace=False)


@pytest.fixture
def log_capture() -> LogCapture:
    """The run's log capture, for the tests of the capture itself."""
    return capture


def pytest_sessionfinish(session, exitstatus):
    found = capture.run_ends()
    capture.detach()
    if found:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_sep("=", "client data in the application log, outside any test", red=True)
            for line in found:
                reporter.write_line(line)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
