"""A print is logged only when a PDF is made on a deliberate request, and every PDF is made within a bounded time.

Every PDF of the app (intake summary, relative's support summary, right-of-access extract, yearly report) is a
POST from a button with the CSRF token: a GET (a link from another site, an image tag) makes no PDF and writes
no print under anyone's name. The layout runs in a child process stopped after PDF_RENDER_TIMEOUT seconds
(kast.pdf); a PDF not made in time is a page that says so, and no print is logged.
"""

from __future__ import annotations

import io
import multiprocessing
import time

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from pypdf import PdfReader

from kast import pdf
from kast.models import AccessLogEntry
from tests.factories import open_first_period, relative_record

pytestmark = pytest.mark.django_db

PRINT = AccessLogEntry.Action.PRINT
YEAR = 2025


@pytest.fixture(params=["intake", "relative_summary", "right_of_access", "year_report"])
def printable(request, therapist, manager, client_record):
    """(who prints, the page with the button, the button's URL, a text the PDF holds) for each PDF of the app."""
    if request.param == "year_report":
        page = f"{reverse('figures:dashboard')}?period=year&start={YEAR}-06-01"
        return manager, page, reverse("figures:dashboard_year_pdf", args=[YEAR]), str(YEAR)
    if request.param == "relative_summary":
        relative = relative_record(therapist)
        return (
            therapist,
            reverse("relatives:detail", args=[relative.pk]),
            reverse("relatives:summary_pdf", args=[relative.pk]),
            relative.code,
        )
    open_first_period(client_record)
    url = reverse(
        "clients:intake_pdf" if request.param == "intake" else "archive:right_of_access", args=[client_record.pk]
    )
    return therapist, reverse("clients:detail", args=[client_record.pk]), url, client_record.code


def browser_for(user) -> Client:
    """A client that checks CSRF tokens as the site does for a browser."""
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    return browser


def pdf_text(response) -> str:
    assert response["Content-Type"] == "application/pdf"
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)


def test_a_get_makes_no_pdf_and_logs_no_print(printable):
    user, _page, url, _text = printable

    response = browser_for(user).get(url)

    assert response.status_code == 405
    assert not response.get("Content-Type", "").startswith("application/pdf")
    assert not AccessLogEntry.objects.filter(action=PRINT).exists()


def test_a_post_without_the_csrf_token_is_refused_and_logs_no_print(printable):
    """What a form on another site, posting to this one in the user's browser, would send."""
    user, _page, url, _text = printable

    response = browser_for(user).post(url)

    assert response.status_code == 403
    assert "403_csrf.html" in [t.name for t in response.templates]
    assert not AccessLogEntry.objects.filter(action=PRINT).exists()


def test_the_button_makes_the_pdf_and_exactly_one_print_entry(printable):
    user, page_url, url, text = printable
    browser = browser_for(user)
    page = browser.get(page_url)
    assert page.status_code == 200
    body = page.content.decode()
    # The page's button is a form that posts to the PDF, with the token (no link to it).
    form = body.split(f'action="{url}')[0].rsplit("<form", 1)[1]
    assert 'method="post"' in form
    assert f'href="{url}' not in body

    response = browser.post(url, {"csrfmiddlewaretoken": str(page.context["csrf_token"])})

    assert response.status_code == 200
    assert text in pdf_text(response)
    entry = AccessLogEntry.objects.get(action=PRINT)
    assert (entry.user, entry.path) == (user, url)


def test_every_print_is_parsed_the_fast_way_and_laid_out_as_before(printable, monkeypatch):
    """Each print's HTML is also XML, so expat parses it (kast.pdf.xhtml_root); the layout is the same box for box."""
    from tests.pdfs import assert_laid_out_as_by_weasyprint_alone, capture_print_html

    user, _page, url, text = printable
    printed = capture_print_html(monkeypatch)
    client = Client()
    client.force_login(user)

    assert text in pdf_text(client.post(url))

    (html,) = printed
    assert_laid_out_as_by_weasyprint_alone(html)


def test_a_pdf_not_made_in_time_says_so_and_logs_no_print(printable, settings):
    user, _page, url, text = printable
    client = Client()
    client.force_login(user)
    settings.PDF_RENDER_TIMEOUT = 0.001  # no layout is that fast: a fork alone takes longer

    with translation.override("sv"):
        response = client.post(url)

        assert response.status_code == 503
        assert "kast/pdf_unavailable.html" in [t.name for t in response.templates]
        body = response.content.decode()
        assert _("Putting this document together took too long, so it was stopped.") in body
        assert _("Nothing was printed, and no print was recorded in the access log.") in body
    assert "no-store" in response["Cache-Control"]
    assert not AccessLogEntry.objects.filter(action=PRINT).exists()
    assert multiprocessing.active_children() == []  # the layout was stopped, not left running

    settings.PDF_RENDER_TIMEOUT = 20  # the same request in time: the PDF and its one print entry
    assert text in pdf_text(client.post(url))
    assert AccessLogEntry.objects.filter(action=PRINT).count() == 1


def _slow_layout(html, base_url):
    time.sleep(60)


def _crashing_layout(html, base_url):
    import os

    os._exit(3)


def test_a_layout_that_hangs_is_stopped_at_the_timeout(monkeypatch, settings, new_layout_process):
    monkeypatch.setattr(pdf, "_lay_out", _slow_layout)  # a layout process forked from now runs it, not WeasyPrint
    settings.PDF_RENDER_TIMEOUT = 0.5
    began = time.monotonic()

    with pytest.raises(pdf.PdfUnavailable) as raised:
        pdf.write_pdf("<p>Hej</p>", base_url="http://testserver/")

    assert raised.value.timed_out
    assert 0.5 <= time.monotonic() - began < 5
    assert multiprocessing.active_children() == []


def test_a_layout_that_dies_is_unavailable_not_a_server_error(
    monkeypatch, client, therapist, client_record, caplog, new_layout_process
):
    monkeypatch.setattr(pdf, "_lay_out", _crashing_layout)
    client.force_login(therapist)

    with translation.override("sv"):
        response = client.post(reverse("clients:intake_pdf", args=[client_record.pk]))

        assert response.status_code == 503
        assert _("Something went wrong while putting this document together.") in response.content.decode()
    assert not AccessLogEntry.objects.filter(action=PRINT).exists()
    assert [r.getMessage() for r in caplog.records if r.name == "kast.pdf"] == [
        "The PDF process ended without a PDF (exit code 3): nothing printed."
    ]
