"""Who can read a note: nobody but the people on the case, on any sessions page, and the start page shows no content."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from kast.models import AccessLogEntry
from sessions.models import Addendum, Note, TherapySession
from tests.factories import NoteFactory, TherapySessionFactory

pytestmark = pytest.mark.django_db

SENTINEL = "SENTINEL-7f3a"
SIGNED_TEXT = f"Signerad: pratade om skam. {SENTINEL}-signerad"
ADDENDUM_TEXT = f"Tillägg: rättelse av tiden. {SENTINEL}-tillagg"
DRAFT_TEXT = f"Utkast: om barndomen. {SENTINEL}-utkast"

LOGIN = 302
#: Per persona: a sessions page of the case, and the start page. Colleagues not on the case and other clinics are
#: told nothing exists (404); managers and administrators may not use the pages at all (403, the role table).
EXPECTED = {
    "anonymous": (LOGIN, LOGIN),
    "colleague": (404, 200),
    "other_clinic": (404, 200),
    "manager": (403, 200),
    "admin": (403, 200),
}


@pytest.fixture
def recorded(case, therapist):
    """The case with a signed note and its addendum (today) and a draft (yesterday), all holding the sentinel."""
    signed = NoteFactory(session=TherapySessionFactory(client=case), text=SIGNED_TEXT, signed_at=timezone.now())
    Addendum.objects.create(note=signed, author=therapist, text=ADDENDUM_TEXT)
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    draft = NoteFactory(session=TherapySessionFactory(client=case, date=yesterday), text=DRAFT_TEXT, signed_at=None)
    case.signed, case.draft = signed, draft
    return case


def record_pages(case) -> list[str]:
    """Every sessions page that shows one of the case's sessions or the client."""
    urls = [reverse("sessions:timeline", args=[case.pk]), reverse("sessions:timeline", args=[case.pk]) + "?voided=1"]
    urls += [reverse("sessions:new", args=[case.pk]), reverse("sessions:end_treatment", args=[case.pk])]
    for note in (case.signed, case.draft):
        urls += [
            reverse("sessions:detail", args=[note.session_id]),
            reverse("sessions:void", args=[note.session_id]),
        ]
    return urls


def login(browser, user) -> None:
    if user is not None:
        browser.force_login(user)


@pytest.mark.parametrize("persona", list(EXPECTED))
def test_nobody_off_the_case_sees_a_note_on_any_page(client, personas, recorded, persona):
    login(client, personas[persona])
    record_status, home_status = EXPECTED[persona]

    for url in record_pages(recorded):
        response = client.get(url)
        assert response.status_code == record_status, url
        assert SENTINEL not in response.content.decode(), url
        assert recorded.code not in response.content.decode(), url
        if persona == "anonymous":
            assert response.url.startswith(reverse("login")), url
    home = client.get("/")
    assert home.status_code == home_status
    assert SENTINEL not in home.content.decode()
    assert recorded.code not in home.content.decode()


def test_the_responsible_therapist_sees_the_notes(client, therapist, recorded):
    """The other side of the test above: the sentinel is on these pages for the one they belong to."""
    client.force_login(therapist)

    for url in record_pages(recorded):
        assert client.get(url).status_code == 200, url
    signed_page = client.get(reverse("sessions:detail", args=[recorded.signed.session_id])).content.decode()
    draft_page = client.get(reverse("sessions:detail", args=[recorded.draft.session_id])).content.decode()
    timeline = client.get(reverse("sessions:timeline", args=[recorded.pk])).content.decode()
    assert SIGNED_TEXT in signed_page
    assert ADDENDUM_TEXT in signed_page
    assert DRAFT_TEXT in draft_page
    assert SIGNED_TEXT in timeline
    assert DRAFT_TEXT in timeline
    # The start page lists the work by client code, never the text.
    home = client.get("/").content.decode()
    assert recorded.code in home
    assert SENTINEL not in home


@pytest.mark.parametrize("persona", ["colleague", "other_clinic"])
def test_a_crafted_post_from_off_the_case_finds_nothing_and_changes_nothing(client, personas, recorded, persona):
    client.force_login(personas[persona])
    draft_session = recorded.draft.session_id
    signed_session = recorded.signed.session_id

    responses = [
        client.post(reverse("sessions:autosave", args=[draft_session]), {"note-text": "Över.", "note-version": "1"}),
        client.post(reverse("sessions:detail", args=[draft_session]), {"note-text": "Över.", "sign": ""}),
        client.post(reverse("sessions:addendum", args=[signed_session]), {"text": "Främmande tillägg."}),
        client.post(reverse("sessions:void", args=[signed_session]), {"reason": "Fel klient."}),
    ]

    assert [r.status_code for r in responses] == [404, 404, 404, 404]
    assert all(SENTINEL not in r.content.decode() for r in responses)
    draft = Note.objects.get(pk=recorded.draft.pk)
    assert (draft.text, draft.version, draft.signed_at) == (DRAFT_TEXT, 1, None)
    assert list(Addendum.objects.values_list("text", flat=True)) == [ADDENDUM_TEXT]
    assert not TherapySession.objects.filter(voided_at__isnull=False).exists()


def test_the_managers_start_page_shows_no_note_and_no_client_code(client, manager, therapist, recorded):
    client.force_login(manager)

    response = client.get("/")

    assert response.status_code == 200
    # The manager's page is about this clinic: it counts the therapist's draft, and says nothing more.
    assert response.context["counts"].unsigned_notes == 1
    assert "start" not in response.context
    body = response.content.decode()
    assert SENTINEL not in body
    assert recorded.code not in body
    for text in (SIGNED_TEXT, ADDENDUM_TEXT, DRAFT_TEXT):
        assert text.split(".")[0] not in body


def test_a_colleagues_attempt_on_the_note_page_is_logged_as_denied(client, colleague, recorded):
    session_id = recorded.signed.session_id
    client.force_login(colleague)

    response = client.get(reverse("sessions:detail", args=[session_id]))

    assert response.status_code == 404
    denied = AccessLogEntry.objects.get(user=colleague, action=AccessLogEntry.Action.DENIED)
    assert (denied.client_id, denied.object_type, denied.reason, denied.path) == (
        recorded.pk,
        "therapy_sessions.therapysession",
        f"therapysession:{session_id}",
        reverse("sessions:detail", args=[session_id]),
    )
    assert not AccessLogEntry.objects.filter(user=colleague, action=AccessLogEntry.Action.VIEW).exists()


def test_a_co_therapist_reads_the_notes_but_cannot_write_someone_elses_draft(client, colleague, recorded):
    recorded.co_therapists.add(colleague)
    client.force_login(colleague)
    draft_url = reverse("sessions:detail", args=[recorded.draft.session_id])

    signed_page = client.get(reverse("sessions:detail", args=[recorded.signed.session_id]))
    draft_page = client.get(draft_url)
    crafted = client.post(
        draft_url,
        {
            "session-date": recorded.draft.session.date.isoformat(),
            "session-start_time": "10:00",
            "session-duration_minutes": "60",
            "session-kind": "individual",
            "session-attendance": "attended",
            "session-therapists": [str(colleague.pk)],
            "session-fee_charged": "0",
            "session-version": "1",
            "note-text": "Bertil skriver om Annas utkast.",
            "note-version": "1",
            "sign": "",
        },
    )

    assert signed_page.status_code == 200
    assert SIGNED_TEXT in signed_page.content.decode()
    assert ADDENDUM_TEXT in signed_page.content.decode()
    assert draft_page.status_code == 200
    assert "sessions/session_signed.html" in [t.name for t in draft_page.templates]
    assert "note_form" not in draft_page.context
    assert DRAFT_TEXT in draft_page.content.decode()
    assert 'name="note-text"' not in draft_page.content.decode()
    assert crafted.status_code == 200
    assert "sessions/session_signed.html" in [t.name for t in crafted.templates]
    draft = Note.objects.get(pk=recorded.draft.pk)
    assert (draft.text, draft.version, draft.signed_at, draft.author) == (DRAFT_TEXT, 1, None, recorded.draft.author)
    session = TherapySession.objects.get(pk=recorded.draft.session_id)
    assert list(session.therapists.all()) == [recorded.responsible_therapist]
