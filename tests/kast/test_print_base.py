"""Every PDF of the app is laid out on the one print base (templates/print/base.html): each page carries the
secrecy line at the top, and who printed it, when, and the page number at the bottom."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _
from pypdf import PdfReader

from tests.factories import open_first_period, relative_record

pytestmark = pytest.mark.django_db

YEAR = 2025
BASE = "print/base.html"
#: The time of printing in the footer, as the base writes it ({% now "Y-m-d H:i" %}).
PRINTED_AT = re.compile(r"\b\d{4}-\d{2}-\d{2} \d{2}:\d{2}\b")


def pdf_pages(response) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages]


@pytest.fixture(params=["intake", "relative_summary", "right_of_access", "year_report"])
def printed(request, client, therapist, manager, client_record):
    """(who printed, the response) for each PDF of the app, printed by a user whose name is nowhere else."""
    if request.param == "year_report":
        user, url = manager, reverse("figures:dashboard_year_pdf", args=[YEAR])
    elif request.param == "relative_summary":
        user, url = therapist, reverse("relatives:summary_pdf", args=[relative_record(therapist).pk])
    else:
        open_first_period(client_record)
        name = "clients:intake_pdf" if request.param == "intake" else "archive:right_of_access"
        user, url = therapist, reverse(name, args=[client_record.pk])
    user.last_name = "Skrivarsson"
    user.save(update_fields=["last_name"])
    client.force_login(user)
    return user, client.post(url)


def test_every_page_of_every_pdf_has_the_secrecy_line_the_printer_and_the_page_number(printed):
    user, response = printed

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert BASE in [template.name for template in response.templates]
    pages = pdf_pages(response)
    assert pages
    secrecy = _("Confidential under OSL chapter 26").upper()  # set in capitals by the print stylesheet
    printed_by = _("Printed by %(who)s") % {"who": user}
    for number, page in enumerate(pages, start=1):
        text = re.sub(r"\s+", " ", page)
        assert secrecy in text
        assert printed_by in text
        assert PRINTED_AT.search(text)
        assert f"{number} / {len(pages)}" in text


def test_every_pdf_template_extends_the_print_base():
    """A new PDF template (named *_pdf.html, as all are) starts from the base, so it cannot miss the marking."""
    root = Path(settings.BASE_DIR)
    tops = [
        top for top in root.iterdir() if top.is_dir() and not top.name.startswith(".") and top.name != "node_modules"
    ]
    templates = [path for top in tops for path in top.glob("**/templates/**/*_pdf.html")]
    templates += list(root.glob("templates/**/*_pdf.html"))
    assert len(templates) >= 4
    for path in templates:
        assert path.read_text().startswith('{% extends "print/base.html" %}'), path
