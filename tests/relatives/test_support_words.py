"""The relative's record speaks of support ("stöd"), never of treatment ("behandling"): a partner or a parent who
comes for help of their own is no one's patient. Read in Swedish, on every page of the record and its PDF."""

from __future__ import annotations

import datetime
import io
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from sessions.models import SessionKind
from tests.factories import NoteFactory, TherapySessionFactory, put_in_treatment, relative_record

pytestmark = pytest.mark.django_db

TREATMENT = re.compile(r"behandling", re.IGNORECASE)  # "behandlare" (the therapist) is another word


def visible_text(html: str) -> str:
    """The page's words as read: tags, scripts and styles out."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.DOTALL)
    return re.sub(r"<[^>]+>", " ", html)


@pytest.fixture
def supported(therapist):
    record = put_in_treatment(relative_record(therapist))
    session = TherapySessionFactory(
        client=record, kind=SessionKind.RELATIVE, date=timezone.localdate() - datetime.timedelta(days=3)
    )
    NoteFactory(session=session, text="Samtal om oro och sömn.")
    return record


def test_no_page_of_a_relatives_record_speaks_of_treatment(client, therapist, supported):
    client.force_login(therapist)
    pages = {
        name: reverse(name, args=[supported.pk])
        for name in ("relatives:detail", "relatives:edit", "sessions:timeline", "sessions:end_treatment")
    }
    found = {}
    for name, url in pages.items():
        response = client.get(url)
        assert response.status_code == 200, name
        found[name] = sorted(set(TREATMENT.findall(visible_text(response.content.decode()))))
    pdf = client.post(reverse("relatives:summary_pdf", args=[supported.pk]))
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    found["relatives:summary_pdf"] = sorted(set(TREATMENT.findall(text)))
    assert found == {name: [] for name in found}
