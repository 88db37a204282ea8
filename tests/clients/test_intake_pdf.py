"""The intake summary as PDF: what it prints, how it is numbered, and that the name is only there when asked for."""

from __future__ import annotations

import io
import logging
import re

import pytest
from django.urls import reverse
from django.utils.translation import gettext as _
from pypdf import PdfReader

from clients.models import Client, InterviewSection, StatusChange
from kast.models import AccessLogEntry
from tests.factories import (
    AssessmentConversationFactory,
    DeepInterviewSectionFactory,
    FamilyMemberFactory,
    FamilyRelationshipFactory,
    open_first_period,
)

pytestmark = pytest.mark.django_db

FULL_NAME = "Nils Gustav Karlsson"
#: The PDF of `intake` below, measured once: facts, assessment, goals and the answers side by side on the first
#: page, the deep interview on the next two, the family map on a page of its own, then the history. A change of
#: layout, stylesheet or data that moves this is worth a look.
PAGES = 5
#: The running header, set in capitals by the print stylesheet (text-transform), so the text layer has capitals.
HEADER = "Sekretess enligt OSL 26 kap.".upper()

SECTION_TEXT = {
    key: f"Avsnitt {number} ({key}). "
    + " ".join(f"Mening {i} om {label.lower()}, med å, ä och ö." for i in range(1, 9))
    + "\n\n  Andra stycket, indraget."
    for number, (key, label) in enumerate(InterviewSection.choices, start=1)
}


@pytest.fixture
def intake(client_record, therapist, colleague):
    """A complete intake: facts, assessment, all nine sections and a three-generation family with relationships."""
    for user, last_name in ((therapist, "Lindqvist"), (colleague, "Berg")):
        user.last_name = last_name
        user.save(update_fields=["last_name"])
    Client.objects.filter(pk=client_record.pk).update(
        full_name=FULL_NAME,
        alias="Nisse",
        birth_year=1980,
        gender="man",
        occupation="Snickare",
        reason="Vill sluta köpa sex innan det förstör familjen.",
        target_groups=["buying_sex"],
    )
    client_record.refresh_from_db()
    open_first_period(client_record)
    episode = client_record.episodes.get()
    for from_status, to_status in (("contact", "assessment"), ("assessment", "in_treatment")):
        StatusChange.objects.create(
            client=client_record, episode=episode, from_status=from_status, to_status=to_status, by=therapist
        )
    Client.objects.filter(pk=client_record.pk).update(status="in_treatment")
    client_record.co_therapists.add(colleague)
    AssessmentConversationFactory(
        client=client_record,
        problem="Köper sex på resor i tjänsten.",
        goals="Inga fler köp, och att kunna prata med sin partner.",
        assessment="Tillhör målgruppen; motiverad för behandling.",
        decision="accepted",
    )
    for key, text in SECTION_TEXT.items():
        DeepInterviewSectionFactory(client=client_record, section=key, text=text, updated_by=therapist)

    me = client_record.family_members.get(relation="client")
    family = {
        label: FamilyMemberFactory(client=client_record, label=label, relation=relation, sex=sex, birth_year=born)
        for label, relation, sex, born in [
            ("Morfar Olle", "grandparent", "male", 1925),
            ("Mormor Ester", "grandparent", "female", 1928),
            ("Farfar Gösta", "grandparent", "male", 1922),
            ("Farmor Ingrid", "grandparent", "female", 1926),
            ("Mamma Birgit", "parent", "female", 1952),
            ("Pappa Sven", "parent", "male", 1950),
            ("Syster Lena", "sibling", "female", 1983),
        ]
    }
    family["Mamma Birgit"].parents.set([family["Morfar Olle"], family["Mormor Ester"]])
    family["Pappa Sven"].parents.set([family["Farfar Gösta"], family["Farmor Ingrid"]])
    for child in (me, family["Syster Lena"]):
        child.parents.set([family["Pappa Sven"], family["Mamma Birgit"]])
    for a, b, kind in [
        ("Morfar Olle", "Mormor Ester", "married"),
        ("Farfar Gösta", "Farmor Ingrid", "married"),
        ("Pappa Sven", "Mamma Birgit", "divorced"),
        ("Pappa Sven", None, "conflict"),
        ("Syster Lena", None, "close"),
    ]:
        FamilyRelationshipFactory(client=client_record, a=family[a], b=family[b] if b else me, kind=kind)
    return client_record


def print_pdf(http, record, **data):
    return http.post(reverse("clients:intake_pdf", args=[record.pk]), data)


def pdf_pages(response) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages]


def test_the_intake_summary_prints(client, therapist, intake, caplog):
    caplog.set_level(logging.WARNING, logger="weasyprint")
    client.force_login(therapist)

    response = print_pdf(client, intake)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'inline; filename="{intake.code}-intake.pdf"'
    assert "no-store" in response["Cache-Control"]
    assert [r.getMessage() for r in caplog.records if r.name.startswith("weasyprint")] == []
    entry = AccessLogEntry.objects.get(action="print")
    assert (entry.user, entry.client_id, entry.object_type) == (therapist, intake.pk, "clients.client")

    pages = pdf_pages(response)
    assert len(pages) == PAGES
    for number, page in enumerate(pages, start=1):
        assert HEADER in page
        assert _("Confidential under OSL chapter 26").upper() in page
        assert f"{number} / {PAGES}" in page
        assert "Anna Lindqvist" in page  # printed by
    assert f"{intake.code}" in pages[0]
    # The running header and footer come last in each page's text; without them, text flows across page breaks.
    flat = re.sub(r"\s+", " ", " ".join(page.split(HEADER)[0] for page in pages))
    for section_text in SECTION_TEXT.values():
        for paragraph in section_text.split("\n\n"):
            assert re.sub(r"\s+", " ", paragraph.strip()) in flat
    for fact in ("Snickare", "Köper sex på resor i tjänsten.", "Tillhör målgruppen; motiverad för behandling."):
        assert fact in flat


def test_the_genogram_is_in_the_pdf(client, therapist, intake):
    client.force_login(therapist)

    text = "\n".join(pdf_pages(print_pdf(client, intake)))

    # The SVG's labels, drawn by the genogram on the family-map page (the client's node is labelled with the code).
    for label in ("Morfar Olle", "Farmor Ingrid", "Mamma Birgit", "Pappa Sven", "Syster Lena", "Teckenförklaring"):
        assert label in text
    assert text.count(intake.code) >= 2


def test_the_family_maps_texts_are_boxes_over_its_shapes_and_stay_text(client, therapist, intake, monkeypatch):
    """In the PDF the drawing's texts are HTML boxes over its shapes (WeasyPrint draws an SVG text letter by
    letter: clients.genogram.for_print); a label that looks like markup is printed as the text it is."""
    from tests.pdfs import capture_print_html

    intake.family_members.filter(label="Syster Lena").update(label="<b>Lena</b>")
    printed = capture_print_html(monkeypatch)
    client.force_login(therapist)

    text = "\n".join(pdf_pages(print_pdf(client, intake)))

    (html,) = printed
    drawing = html[html.index('<div class="family-map"') :]
    assert "<text" not in drawing and "<svg" in drawing
    assert '<span class="centred" style="left: ' in drawing
    assert "&lt;b&gt;Lena&lt;/b&gt;" in drawing and "<b>" not in drawing
    assert "<b>Lena</b>" in text
    assert "Farmor Ingrid" in text and "Teckenförklaring" in text


def test_the_name_is_printed_only_when_asked_for(client, therapist, intake):
    client.force_login(therapist)

    without = "\n".join(pdf_pages(print_pdf(client, intake)))
    with_name = "\n".join(pdf_pages(print_pdf(client, intake, include_name="on")))

    assert FULL_NAME not in without
    assert "Nisse" not in without
    assert FULL_NAME in with_name
    assert AccessLogEntry.objects.filter(action="print").count() == 2


def test_a_protected_name_is_not_printed_for_a_co_therapist(client, colleague, intake):
    Client.objects.filter(pk=intake.pk).update(protected_identity=True)
    client.force_login(colleague)

    response = print_pdf(client, intake, include_name="on")

    assert response.status_code == 200
    text = "\n".join(pdf_pages(response))
    assert FULL_NAME not in text
    assert intake.code in text


def test_a_protected_name_is_printed_for_the_responsible_therapist(client, therapist, intake):
    Client.objects.filter(pk=intake.pk).update(protected_identity=True)
    client.force_login(therapist)

    text = "\n".join(pdf_pages(print_pdf(client, intake, include_name="on")))

    assert FULL_NAME in text


def test_the_warning_check_would_catch_a_weasyprint_warning(caplog):
    """The assertion on the weasyprint logger above can fail: an unknown CSS property is such a warning, and it
    reaches this process's log from the child process the layout runs in (kast.pdf)."""
    from kast.pdf import write_pdf

    caplog.set_level(logging.WARNING, logger="weasyprint")

    write_pdf('<p style="colour: red">x</p>', base_url="http://testserver/")

    assert [r.levelno for r in caplog.records if r.name.startswith("weasyprint")] != []


def test_a_demo_client_with_a_complete_intake_prints_without_warnings(client, demo_db, caplog, settings):
    """The seeded demo data is what clinics try first: its full intakes must print cleanly."""
    from django.core.management import call_command

    settings.DEBUG = True
    call_command("seed_demo", stdout=io.StringIO())
    demo = (
        Client.objects.filter(
            kind="client",
            status="in_treatment",
            protected_identity=False,
            responsible_therapist__username="behandlare1",
        )
        .order_by("code")
        .first()
    )
    assert demo.interview_sections.count() == len(InterviewSection.values)
    assert demo.family_members.count() >= 8
    caplog.set_level(logging.WARNING, logger="weasyprint")
    client.force_login(demo.responsible_therapist)

    response = print_pdf(client, demo)

    assert response.status_code == 200
    assert [r.getMessage() for r in caplog.records if r.name.startswith("weasyprint")] == []
    pages = pdf_pages(response)
    assert len(pages) >= 3  # facts and interview, then the family map on a page of its own
    for number, page in enumerate(pages, start=1):
        assert HEADER in page
        assert f"{number} / {len(pages)}" in page
    text = " ".join(pages)
    assert demo.code in pages[0]
    for entry in demo.interview_sections.all():
        first_words = " ".join(entry.text.split()[:4])
        assert first_words in re.sub(r"\s+", " ", text)
    assert demo.full_name not in text


def test_the_submitted_start_questionnaire_is_in_the_pdf_once(client, therapist, intake):
    """The intake's baseline: the start questionnaire's answers in words, once the client has submitted it, in the
    first column of the answers side by side (and nowhere else: each answer is printed once)."""
    from assessments.models import TimePoint
    from assessments.services import DECLINED, administration_start, answers_save
    from kast.actor import Actor

    actor = Actor.for_user(therapist)
    administration = administration_start(actor=actor, client=intake, time_point=TimePoint.START)
    client.force_login(therapist)
    assert _("No questionnaire submitted yet.") in "\n".join(pdf_pages(print_pdf(client, intake)))

    answers_save(
        actor=actor,
        administration=administration,
        answers={"has_partner": True, "wellbeing": 2, "has_children": DECLINED},
        submit=True,
    )
    flat = re.sub(r"\s+", " ", "\n".join(pdf_pages(print_pdf(client, intake))))

    assert "Behandlingsstart" in flat
    assert flat.count("Har du en partner? Ja") == 1
    assert flat.count("Hur mår du just nu? Dålig") == 1
    assert flat.count("Har du barn? Vill inte svara") == 1


def test_the_intake_summary_is_parsed_the_fast_way_and_laid_out_as_before(client, therapist, intake, monkeypatch):
    """Its HTML is also XML, so expat parses it instead of WeasyPrint's pure-Python parser (kast.pdf.xhtml_root),
    and the layout is the same box for box."""
    from tests.pdfs import assert_laid_out_as_by_weasyprint_alone, capture_print_html

    printed = capture_print_html(monkeypatch)
    client.force_login(therapist)
    assert print_pdf(client, intake).status_code == 200

    (html,) = printed
    assert "<svg" in html and "genogram" in html
    assert_laid_out_as_by_weasyprint_alone(html)
