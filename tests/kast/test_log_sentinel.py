"""The guard of tests/log_sentinel.py: it sees what the configured handlers write, and fails a test that logs client data."""

from __future__ import annotations

import logging

from django.conf import settings

from tests.log_sentinel import CLIENT_DATA
from tests.own_run import run_pytest


def test_the_capture_sees_what_the_console_writes(log_capture):
    logging.getLogger("kast.security").warning("refused: SENTINEL-capture")

    [line] = [line for line in log_capture.lines if "SENTINEL-capture" in line]
    log_capture.forget(line)  # logged on purpose: not a leak of this test
    assert line == "refused: SENTINEL-capture"


def test_the_capture_sees_lines_after_the_query_string_is_stripped(log_capture):
    logging.getLogger("django.server").info('"%s" %s %s', "GET /clients/?q=SENTINEL-name HTTP/1.1", "200", "9")

    assert log_capture.lines[-1] == '"GET /clients/?… HTTP/1.1" 200 9'


def test_personnummer_shapes_count_as_client_data():
    for text in ("19800101-1234", "800101-1234", "20121212+1234", "SENTINEL-x"):
        assert CLIENT_DATA.search(f"saved {text} ok"), text
    for text in (
        "2026-03-04",
        "GBG-2026-0042",
        "id 123456789",
        "/clients/47110192-1914-49ee-b339-8c36b77d2b3c/",
        "/sessions/00000000-1234-4000-8000-000000000000/",
    ):
        assert not CLIENT_DATA.search(text), text


def test_a_test_that_logs_client_data_fails(tmp_path):
    """End to end, in a pytest of its own: the logging test is reported as an error at its teardown."""
    test_file = tmp_path / "test_leak.py"
    test_file.write_text(
        "import logging\n\n"
        "def test_saves_a_note():\n"
        "    logging.getLogger('sessions').warning('saved note: Klienten berättade SENTINEL-leak')\n"
    )
    result = run_pytest(str(test_file), "--rootdir", str(settings.BASE_DIR), "-p", "tests.log_sentinel", "-q")

    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 passed, 1 error" in result.stdout
    assert "client data in the application log:\nsaved note: Klienten berättade SENTINEL-leak" in result.stdout
