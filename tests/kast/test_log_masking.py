"""PostgreSQL's DETAIL lines quote the values of a violated constraint; they never reach the log."""

from __future__ import annotations

import logging
import sys

import pytest
from django.conf import settings
from django.db import IntegrityError, connection, transaction

from kast.logging import MaskDatabaseDetailFilter, mask_database_detail
from tests.factories import ClientFactory

PERSONNUMMER = "19800101-1234"
DETAIL = f"DETAIL:  Key (clinic_id, personnummer)=(3, {PERSONNUMMER}) already exists."


def test_a_detail_line_loses_its_values():
    text = f'duplicate key value violates unique constraint "client_personnummer_unique_per_clinic"\n{DETAIL}\n'

    assert mask_database_detail(text) == (
        'duplicate key value violates unique constraint "client_personnummer_unique_per_clinic"\nDETAIL:  …\n'
    )


def test_a_repr_with_an_escaped_newline_keeps_what_follows():
    text = f"IntegrityError('duplicate key\\n{DETAIL}\\n') in view"

    assert mask_database_detail(text) == "IntegrityError('duplicate key\\nDETAIL:  …\\n') in view"


def test_key_values_and_failing_rows_without_the_prefix_are_masked():
    assert mask_database_detail(f"Key (personnummer)=({PERSONNUMMER}) already exists.") == "Key (personnummer)=(…)"
    assert mask_database_detail(f"Failing row contains (7, {PERSONNUMMER}, x).") == "Failing row contains (…)"


def test_text_without_detail_is_unchanged():
    text = "Internal Server Error: /clients/47110192-1914-49ee-b339-8c36b77d2b3c/edit/ (Key rotation done)"

    assert mask_database_detail(text) == text


def _record(msg, args=(), exc_info=None):
    return logging.LogRecord("django.request", logging.ERROR, __file__, 1, msg, args, exc_info)


def _raised(error):
    try:
        raise error
    except type(error):
        return sys.exc_info()


def test_the_filter_masks_message_arguments_and_traceback():
    exc_info = _raised(IntegrityError(f"duplicate key\n{DETAIL}"))
    record = _record("failed: %s (%s)", (IntegrityError(f"x\n{DETAIL}"), DETAIL), exc_info)

    assert MaskDatabaseDetailFilter().filter(record) is True
    written = logging.Formatter().format(record)

    assert PERSONNUMMER not in written
    assert "failed: x\nDETAIL:  … (DETAIL:  …)" in written
    assert written.endswith("IntegrityError: duplicate key\nDETAIL:  …")


def test_the_filter_keeps_mapping_arguments_a_mapping():
    record = _record("%(error)s", ({"error": DETAIL},))

    MaskDatabaseDetailFilter().filter(record)

    assert record.getMessage() == "DETAIL:  …"


@pytest.mark.django_db
def test_a_real_violation_logged_by_the_configured_handlers_is_masked(log_capture, therapist):
    """What PostgreSQL really says, through the console handler as configured in settings.LOGGING."""
    first = ClientFactory(responsible_therapist=therapist, personnummer=PERSONNUMMER)
    second = ClientFactory(responsible_therapist=therapist)
    start = len(log_capture.lines)
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("UPDATE clients_client SET personnummer = %s WHERE id = %s", [PERSONNUMMER, second.pk])
    except IntegrityError as error:
        assert PERSONNUMMER in str(error)  # what would have leaked
        logging.getLogger("django.request").error("Internal Server Error: %s", "/x/", exc_info=True)
        logging.getLogger("clients").warning("save failed: %s", error)

    lines = log_capture.lines[start:]
    assert first.personnummer == PERSONNUMMER
    assert len(lines) == 2
    assert all("DETAIL:  …" in line and PERSONNUMMER not in line for line in lines)


def test_every_configured_handler_masks():
    handlers = settings.LOGGING["handlers"]
    assert handlers
    assert all("mask_db_detail" in handler.get("filters", []) for handler in handlers.values())
