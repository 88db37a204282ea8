"""Client names must not reach logs or error reports, even when they sit in a query string or a form."""

from __future__ import annotations

import io
import logging
import sys
import uuid

import pytest
from django.urls import reverse
from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter, get_exception_reporter_class

from kast.logging import ConfidentialExceptionReporter, ConfidentialExceptionReporterFilter, StripQueryStringFilter

NAME = "Svensson"
NOTE = "Klienten berättade om Svensson i Lerum"
PERSONNUMMER = "19800101-1234"
SECRETS = (NAME, NOTE, PERSONNUMMER)
MASK = ConfidentialExceptionReporterFilter.cleansed_substitute


def server_record(*args, msg='"%s" %s %s'):
    """A record as django.server (runserver) writes it: the request line is an argument."""
    return logging.LogRecord("django.server", logging.INFO, __file__, 1, msg, args, None)


# -- StripQueryStringFilter ---------------------------------------------------------------------------------


def test_strip_filter_removes_the_query_string_from_a_request_line():
    record = server_record("GET /clients/?q=Andersson HTTP/1.1", "200", "512")

    assert StripQueryStringFilter().filter(record) is True
    assert record.getMessage() == '"GET /clients/?… HTTP/1.1" 200 512'


def test_strip_filter_leaves_a_request_line_without_query_string_unchanged():
    record = server_record("GET /clients/ HTTP/1.1", "200", "512")

    assert StripQueryStringFilter().filter(record) is True
    assert record.getMessage() == '"GET /clients/ HTTP/1.1" 200 512'


def test_strip_filter_removes_a_query_string_written_into_the_message_itself():
    record = server_record(msg="Not Found: /clients/?q=Andersson&page=2")

    StripQueryStringFilter().filter(record)

    assert record.getMessage() == "Not Found: /clients/?…"


def test_strip_filter_keeps_mapping_arguments_a_mapping():
    """logger.info("%(path)s", {...}) gives a dict as record.args; the filter must not break the message."""
    record = logging.LogRecord(
        "x", logging.INFO, __file__, 1, "%(path)s took %(ms)d ms", ({"path": "/c/?q=A", "ms": 7},), None
    )

    StripQueryStringFilter().filter(record)

    assert record.getMessage() == "/c/?… took 7 ms"


@pytest.fixture
def console():
    """What the configured console handler writes (the one carrying the strip_query filter)."""
    handler = logging.getLogger("django.request").handlers[0]
    output = io.StringIO()
    previous = handler.setStream(output)
    yield output
    handler.setStream(previous)


def test_django_server_lines_reach_the_console_without_the_query_string(console):
    logging.getLogger("django.server").info('"%s" %s %s', "GET /clients/?q=Andersson HTTP/1.1", "200", "512")

    assert console.getvalue() == '"GET /clients/?… HTTP/1.1" 200 512\n'


# -- django.request through real requests -------------------------------------------------------------------


@pytest.fixture
def request_log(caplog):
    """caplog only listens on the root logger, and django.request does not propagate: attach it there too."""
    logger = logging.getLogger("django.request")
    logger.addHandler(caplog.handler)
    yield caplog
    logger.removeHandler(caplog.handler)


@pytest.mark.django_db
def test_a_404_with_a_name_in_the_query_string_logs_the_path_only(client, therapist, request_log, console):
    path = reverse("clients:detail", args=[uuid.uuid4()])
    client.force_login(therapist)

    response = client.get(path, {"q": NAME})

    assert response.status_code == 404
    assert [r.getMessage() for r in request_log.records] == [f"Not Found: {path}"]
    assert NAME not in request_log.text
    assert console.getvalue() == f"Not Found: {path}\n"


@pytest.mark.django_db
def test_a_403_with_a_name_in_the_query_string_logs_the_path_only(client, manager, request_log, console):
    path = reverse("clients:list")
    client.force_login(manager)

    response = client.get(path, {"q": NAME})

    assert response.status_code == 403
    assert [r.getMessage() for r in request_log.records] == [f"Forbidden (Permission denied): {path}"]
    assert NAME not in request_log.text
    assert console.getvalue().startswith(f"Forbidden (Permission denied): {path}\n")
    assert NAME not in console.getvalue()


# -- ConfidentialExceptionReporterFilter ----------------------------------------------------------------------


@pytest.fixture
def note_post(rf):
    return rf.post("/clients/", {"note": NOTE, "personal_number": PERSONNUMMER, "csrfmiddlewaretoken": "abc"})


def test_every_post_value_is_masked(note_post):
    parameters = ConfidentialExceptionReporterFilter().get_post_parameters(note_post)

    assert parameters == {"note": MASK, "personal_number": MASK, "csrfmiddlewaretoken": MASK}


def test_no_post_parameters_without_a_request():
    assert ConfidentialExceptionReporterFilter().get_post_parameters(None) == {}


def _save_note(personal_number):
    # The argument and a local both hold client data when the error happens.
    note = NOTE  # noqa: F841
    raise ValueError("the note could not be saved")


def report_for(request, reporter_class=None, reporter_filter=None):
    """An error report as Django builds it: by default with the configured reporter class and filter."""
    reporter_class = reporter_class or get_exception_reporter_class(request)
    try:
        _save_note(PERSONNUMMER)
    except ValueError:
        reporter = reporter_class(request, *sys.exc_info())
    if reporter_filter is not None:
        reporter.filter = reporter_filter
    return reporter


def test_error_report_contains_no_post_value_and_no_local_variable(note_post):
    reporter = report_for(note_post, ExceptionReporter)

    assert isinstance(reporter.filter, ConfidentialExceptionReporterFilter)
    text, html = reporter.get_traceback_text(), reporter.get_traceback_html()
    for secret in SECRETS:
        assert secret not in text
        assert secret not in html
    assert f"note = '{MASK}'" in text


def test_django_s_own_filter_would_leak_the_same_report(note_post):
    """Control: the secrets really are in the report unless our filter masks them."""
    html = report_for(note_post, ExceptionReporter, SafeExceptionReporterFilter()).get_traceback_html()

    assert PERSONNUMMER in html
    assert "Lerum" in html


def test_error_report_contains_no_query_string(rf):
    """The filter's promise covers query strings too: a search for a name must not be in the report."""
    request = rf.get("/clients/", {"q": NAME}, HTTP_REFERER=f"http://testserver/clients/?q={NAME}")

    reporter = report_for(request)

    assert type(reporter) is ConfidentialExceptionReporter
    text, html = reporter.get_traceback_text(), reporter.get_traceback_html()
    assert NAME not in text
    assert NAME not in html
    assert "Request URL: http://testserver/clients/?…" in text
    assert f"q = '{MASK}'" in text
    assert f"QUERY_STRING = '{MASK}'" in text
    assert "HTTP_REFERER = 'http://testserver/clients/?…'" in text
