"""The right of access: the complete record, with who has read it, as a PDF for the person it is about."""

from __future__ import annotations

import datetime
import io
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from pypdf import PdfReader

from archive.models import RetentionHold
from archive.selectors import RIGHT_OF_ACCESS
from assessments.models import Administration, Answer, Item, TimePoint
from assessments.services import version_for
from clients.models import Client
from kast.models import AccessLogEntry, Role
from relatives.models import ChildPerspective, Goal, ReactionReview
from sessions.models import Addendum, Method, Note, NoteTheme, SessionKind, SessionParticipant, Theme, TherapySession
from tests.factories import (
    AssessmentConversationFactory,
    ClientFactory,
    DeepInterviewSectionFactory,
    FamilyMemberFactory,
    NoteFactory,
    TherapySessionFactory,
    link,
    open_first_period,
    put_in_treatment,
    relative_record,
)

pytestmark = pytest.mark.django_db

FULL_NAME = "Nils Gustav Karlsson"
DAY = datetime.timedelta(days=1)


def flat_text(response) -> str:
    assert response["Content-Type"] == "application/pdf"
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    return re.sub(r"\s+", " ", text)


def print_extract(http, record):
    return http.post(reverse("archive:right_of_access", args=[record.pk]))


def add_sessions(record, count: int, *, start: int = 0) -> None:
    """`count` held sessions a day apart, each with a signed note (with a theme and a method) and an addendum."""
    therapist = record.responsible_therapist
    theme = Theme.objects.filter(clinic=record.clinic).first()
    method, _new = Method.objects.get_or_create(clinic=record.clinic, name="Egen metod i utdraget")
    for n in range(start, start + count):
        session = TherapySessionFactory(client=record, date=timezone.localdate() - (n + 1) * DAY)
        note = NoteFactory(session=session, text=f"Anteckning nummer {n}.", signed_at=None)
        NoteTheme.objects.create(note=note, theme=theme)
        note.methods.add(method)
        Note.objects.filter(pk=note.pk).update(signed_at=timezone.now())
        Addendum.objects.create(note=note, author=therapist, text=f"Tillägg nummer {n}.")


@pytest.fixture
def record(client_record, therapist, colleague):
    """A client with something in every part of their record, a couple session on their partner's record, and
    things that are not theirs: the partner's own session, and a session marked as written on the wrong client."""
    for user, last_name in ((therapist, "Lindqvist"), (colleague, "Berg")):
        user.last_name = last_name
        user.save(update_fields=["last_name"])
    Client.objects.filter(pk=client_record.pk).update(
        full_name=FULL_NAME, alias="Nisse", personnummer="19800101-0008", phone="070-1234567", occupation="Snickare"
    )
    client_record.refresh_from_db()
    put_in_treatment(open_first_period(client_record))
    AssessmentConversationFactory(client=client_record, problem="Köper sex på resor i tjänsten.")
    DeepInterviewSectionFactory(client=client_record, section="childhood", text="Uppväxten i Borås med två syskon.")
    FamilyMemberFactory(client=client_record, label="Morfar Olle", relation="grandparent", birth_year=1925)
    add_sessions(client_record, 1)
    NoteFactory(
        session=TherapySessionFactory(client=client_record), text="Ett utkast som inte är signerat.", signed_at=None
    )
    wrong = TherapySessionFactory(
        client=client_record, voided_at=timezone.now(), voided_by=therapist, void_reason="Skrevs på fel klient"
    )
    NoteFactory(session=wrong, text="Anteckning om någon annan.")
    # The partner: their own record, a couple session logged there that the client attended, and their own session.
    partner = open_first_period(
        ClientFactory(responsible_therapist=colleague, code="GBG-2026-0099", full_name="Lisa Partner")
    )
    couple = TherapySessionFactory(client=partner, kind=SessionKind.COUPLE, start_time=datetime.time(15))
    SessionParticipant.objects.create(session=couple, client=client_record, episode=client_record.episodes.get())
    NoteFactory(session=couple, text="Gemensamt samtal om förtroende.")
    NoteFactory(session=TherapySessionFactory(client=partner), text="Partnerns egen anteckning.")
    administration = Administration.objects.create(
        client=client_record,
        episode=client_record.episodes.get(),
        time_point=TimePoint.START,
        version=version_for(TimePoint.START),
        created_by=therapist,
        submitted_at=timezone.now(),
    )
    items = {item.code: item for item in Item.objects.filter(version=administration.version)}
    Answer.objects.create(administration=administration, item=items["has_partner"], value_bool=True)
    Answer.objects.create(administration=administration, item=items["wellbeing"], value_int=2)
    ChildPerspective.objects.create(
        record=client_record, children_in_household=2, comment="Barnen vet inget ännu.", updated_by=therapist
    )
    return client_record


def test_the_extract_holds_the_whole_record_and_who_has_read_it(client, therapist, colleague, record):
    # Reads to show in the log: the therapist opens the record; the colleague, not on the case, is refused it.
    client.force_login(colleague)
    assert client.get(reverse("clients:detail", args=[record.pk])).status_code == 404
    client.force_login(therapist)
    client.get(reverse("clients:detail", args=[record.pk]))

    response = print_extract(client, record)

    assert response.status_code == 200
    assert response["Content-Disposition"] == f'inline; filename="{record.code}-extract.pdf"'
    text = flat_text(response)
    for held in (
        record.code,
        FULL_NAME,
        "19800101-0008",
        "070-1234567",
        "Snickare",
        "Köper sex på resor i tjänsten.",
        "Uppväxten i Borås med två syskon.",
        "Morfar Olle",
        "Anteckning nummer 0.",
        "Egen metod i utdraget",  # the methods ticked on the note
        "Tillägg nummer 0.",
        "Ett utkast som inte är signerat.",
        "Gemensamt samtal om förtroende.",  # the couple session's note is the client's too
        "Har du en partner? Ja",
        "Barnen vet inget ännu.",
    ):
        assert held in text, held
    # Not the client's: the partner's record (not even its code) and the entry written on the wrong client.
    for not_held in ("GBG-2026-0099", "Lisa Partner", "Partnerns egen anteckning.", "Anteckning om någon annan."):
        assert not_held not in text, not_held
    # The access log: who, in which role, what they did (the refusal and this print included).
    log = text.split(_("Access log"))[-1]
    for who, action in ((colleague, "denied"), (therapist, "view"), (therapist, "print")):
        line = f"{who} {Role.THERAPIST.label} {AccessLogEntry.Action(action).label}"
        assert line in log, line

    entry = AccessLogEntry.objects.get(action=AccessLogEntry.Action.PRINT)
    assert (entry.user, entry.client_id, entry.reason) == (therapist, record.pk, RIGHT_OF_ACCESS)


def test_a_relatives_extract_holds_their_support_and_not_the_clients_record(client, therapist, client_record):
    relative = relative_record(therapist, code="GBG-2026-0050")
    link(relative, client_record)
    ReactionReview.objects.create(
        relative=relative, loss_of_control=3, guilt=2, shame=4, displaced_anger=0, recorded_by=therapist
    )
    Goal.objects.create(relative=relative, text="Att sova en hel natt igen.", created_by=therapist)
    NoteFactory(session=TherapySessionFactory(client=client_record), text="Klientens egen anteckning.")
    client.force_login(therapist)

    text = flat_text(print_extract(client, relative))

    assert relative.code in text
    assert "Att sova en hel natt igen." in text
    assert "Kontrollförlust mycket" in text
    assert client_record.code not in text
    assert "Klientens egen anteckning." not in text


def test_the_page_offers_the_extract(client, therapist, record):
    client.force_login(therapist)

    page = client.get(reverse("clients:detail", args=[record.pk])).content.decode()

    assert reverse("archive:right_of_access", args=[record.pk]) in page


def test_a_therapist_not_on_the_case_gets_nothing(client, colleague, record):
    client.force_login(colleague)

    response = print_extract(client, record)

    assert response.status_code == 404
    assert AccessLogEntry.objects.filter(user=colleague, action="denied", client_id=record.pk).exists()
    assert not AccessLogEntry.objects.filter(action="print").exists()


def test_a_protected_identity_is_printed_only_by_the_responsible_therapist(client, colleague, record):
    Client.objects.filter(pk=record.pk).update(protected_identity=True)
    record.co_therapists.add(colleague)
    client.force_login(colleague)

    response = print_extract(client, record)

    assert response.status_code == 302
    assert response["Location"] == reverse("clients:detail", args=[record.pk])
    assert AccessLogEntry.objects.filter(user=colleague, action="denied", reason=RIGHT_OF_ACCESS).exists()
    assert not AccessLogEntry.objects.filter(action="print").exists()


def test_a_hold_is_in_the_extract(client, therapist, admin, record):
    RetentionHold.objects.create(client=record, reason="Begärd av IVO, dnr 3.1-123", placed_by=admin)
    client.force_login(therapist)

    assert "Begärd av IVO, dnr 3.1-123" in flat_text(print_extract(client, record))


def test_the_number_of_queries_does_not_grow_with_the_record(client, therapist, record):
    client.force_login(therapist)

    def queries() -> list[str]:
        with CaptureQueriesContext(connection) as captured:
            assert print_extract(client, record).status_code == 200
        return [q["sql"] for q in captured.captured_queries]

    small = queries()
    add_sessions(record, 29, start=1)
    large = queries()

    assert TherapySession.objects.filter(client=record).count() == 32  # 30 with notes, a draft, the wrong one
    assert len(large) == len(small)
    # The login session, the user, their second-factor device; the gate's read of the record; a savepoint (the print
    # is logged with its PDF or not at all: kast.pdf.print_response) and the print's log row;
    # then the record: co-therapists, hold, periods, status changes, assessments and their addenda, the goals (none
    # here, so their reviews are not read), interview and
    # its addenda, family members and their parents, relationships, those marked as entered in error (people,
    # relationships), sessions (with notes), their therapists, themes, methods and addenda, the count of wrongly recorded
    # ones, the group meetings attended (their addenda only when a group note is signed: none here), follow-ups, questionnaires and their answers, the answers side by side (questionnaires, their items,
    # their answers), links, child perspective, log, the goals and their reviews, the summary of the change history (one query
    # across its tables); the savepoint released.
    assert len(small) == 38, "\n".join(small)


ARTICLE_15 = [
    "Purposes: to give and document counselling and treatment, to follow up the clinic's work, and to keep the "
    "records the Social Services Act requires.",
    "Categories of data: identity and contact details where given, background, the case history, notes of "
    "conversations, the assessment conversation and deep interview, the family map, questionnaire answers, and who "
    "has read or changed the record.",
    "Recipients: the staff of the clinic who work with the case. Nothing leaves the clinic without consent or a duty "
    "in law; managers and national follow-up see only counts, never the record's content.",
    "How long: the record is kept five years after its last entry and removed from 1 January of the sixth year, "
    "unless a decision requires it to be kept longer (shown below when so).",
    "Where the data come from: from the person the record is about, and from what the clinic's staff write in their "
    "work; who referred the person is shown under Contact and background.",
    "Rights: to have wrong data corrected, and to complain to the Swedish Authority for Privacy Protection (IMY, "
    "www.imy.se) about how the data are handled.",
]


def test_the_extract_says_what_article_15_requires_beside_the_data(client, therapist, record):
    """Purposes, categories, recipients, how long it is kept, where the data came from, the right to complain."""
    client.force_login(therapist)

    text = " ".join(flat_text(print_extract(client, record)).split())

    for sentence in ARTICLE_15:
        assert " ".join(_(sentence).split()) in text, sentence
    assert "www.imy.se" in text


def test_the_extract_is_parsed_the_fast_way_and_laid_out_as_before(client, therapist, record, monkeypatch):
    """Its HTML is also XML: expat parses it (kast.pdf.xhtml_root), and the layout is the same box for box."""
    from tests.pdfs import assert_laid_out_as_by_weasyprint_alone, capture_print_html

    printed = capture_print_html(monkeypatch)
    client.force_login(therapist)
    assert print_extract(client, record).status_code == 200

    (html,) = printed
    assert_laid_out_as_by_weasyprint_alone(html)
