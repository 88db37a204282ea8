"""A therapist logs a session from the start page, writes with the guide at hand, the draft saves itself, signs, adds an addendum."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from sessions.models import Note, TherapySession
from tests.factories import NoteFactory, TherapySessionFactory
from tests.sessions.conftest import case as case  # the fixture: a client in treatment

pytestmark = pytest.mark.django_db(transaction=True)

SAVED = re.compile(r"Utkastet sparades kl\. \d\d:\d\d:\d\d\.")


def note_text(session: TherapySession) -> str:
    return Note.objects.get(session=session).text


def test_from_the_start_page_to_a_signed_note_in_three_page_loads(page, login, live_server, case, check_page):
    login(case.responsible_therapist)
    loads = []
    page.on("load", lambda p: loads.append(p.url))
    page.goto(f"{live_server.url}/")  # page load 1: the start page
    check_page(page, "start")

    page.select_option("#id_client", label=case.code)
    page.get_by_role("button", name="Skriv anteckningen").click()  # page load 2: the note page
    page.wait_for_url(re.compile(r"/sessions/[0-9a-f-]{36}/$"))
    session = TherapySession.objects.get(client=case)
    # The conversation guide sits beside the note: open a topic and read a question.
    page.get_by_role("complementary").get_by_text("Beteendets funktion").click()
    expect(page.get_by_text("Vad har handlingen/beteendet fyllt för funktion för dig?")).to_be_visible()
    check_page(page, "note")

    page.fill("#id_note-text", "Klienten beskrev veckan och vad som hände före handlingen.")
    page.get_by_label("Beteendets funktion").check()
    page.get_by_role("button", name="Signera anteckningen").click()  # page load 3: the signed note
    expect(page.get_by_role("heading", name="Anteckning")).to_be_visible()
    check_page(page, "signed")

    assert len(loads) == 3, loads
    note = Note.objects.get(session=session)
    assert note.is_signed
    assert note.text == "Klienten beskrev veckan och vad som hände före handlingen."
    assert [str(t) for t in note.themes.all()] == ["Beteendets funktion"]
    expect(page.get_by_text(note.text)).to_be_visible()


def test_the_draft_saves_itself_survives_a_reload_and_takes_an_addendum_once_signed(
    page, login, live_server, case, check_page
):
    session = TherapySessionFactory(client=case)
    login(case.responsible_therapist)
    page.goto(f"{live_server.url}/sessions/{session.pk}/")

    page.fill("#id_note-text", "Första stycket, skrivet utan att spara.")
    expect(page.locator("#autosave-status")).to_have_text(SAVED)  # saved in the background
    assert note_text(session) == "Första stycket, skrivet utan att spara."

    page.reload()
    expect(page.locator("#id_note-text")).to_have_value("Första stycket, skrivet utan att spara.")

    page.get_by_role("button", name="Signera anteckningen").click()
    page.fill("#id_text", "Rättelse: samtalet var 45 minuter, inte 60.")
    page.get_by_role("button", name="Lägg till tillägget").click()
    expect(page.get_by_text("Rättelse: samtalet var 45 minuter, inte 60.")).to_be_visible()
    expect(page.get_by_text("Första stycket, skrivet utan att spara.")).to_be_visible()  # the original stays
    check_page(page, "addendum")
    note = Note.objects.get(session=session)
    assert note.is_signed
    assert [a.text for a in note.addenda.all()] == ["Rättelse: samtalet var 45 minuter, inte 60."]


def test_a_lost_connection_keeps_the_text_on_the_computer_and_saves_it_when_back(page, login, live_server, case):
    session = TherapySessionFactory(client=case)
    login(case.responsible_therapist)
    page.goto(f"{live_server.url}/sessions/{session.pk}/")

    page.context.set_offline(True)
    page.fill("#id_note-text", "Skrivet medan nätet var borta.")
    expect(page.locator("#autosave-status")).to_contain_text("ingen kontakt med servern")
    kept = page.evaluate(f"JSON.parse(localStorage.getItem('kast-draft-{session.pk}')).values['note-text'][0]")
    assert kept == "Skrivet medan nätet var borta."
    assert not Note.objects.filter(session=session).exists()

    page.context.set_offline(False)
    expect(page.locator("#autosave-status")).to_have_text(SAVED)
    assert note_text(session) == "Skrivet medan nätet var borta."
    assert page.evaluate(f"localStorage.getItem('kast-draft-{session.pk}')") is None  # gone once saved


def test_two_tabs_never_erase_each_other(page, login, live_server, case):
    session = TherapySessionFactory(client=case)
    NoteFactory(session=session, signed_at=None, text="Början.")
    login(case.responsible_therapist)
    first = page
    first.goto(f"{live_server.url}/sessions/{session.pk}/")
    second = page.context.new_page()
    second.goto(f"{live_server.url}/sessions/{session.pk}/")

    first.fill("#id_note-text", "Början. Skrivet i första fliken.")
    expect(first.locator("#autosave-status")).to_have_text(SAVED)
    second.fill("#id_note-text", "Början. Skrivet i andra fliken.")

    conflict = second.locator("#autosave-conflict")
    expect(conflict).to_be_visible()
    expect(conflict).to_contain_text("Början. Skrivet i första fliken.")  # the other tab's text, shown
    assert note_text(session) == "Början. Skrivet i första fliken."  # not erased

    second.get_by_role("button", name="Behåll min text och spara den").click()
    expect(second.locator("#autosave-status")).to_have_text(SAVED)
    assert note_text(session) == "Början. Skrivet i andra fliken."


def test_before_the_idle_sign_out_the_page_warns_and_saves_the_draft(page, login, live_server, case, settings):
    settings.SESSION_IDLE_SECONDS = 123  # the warning comes two minutes before: after 3 s here
    session = TherapySessionFactory(client=case)
    login(case.responsible_therapist)
    page.goto(f"{live_server.url}/sessions/{session.pk}/")
    page.fill("#id_note-text", "Skrivet strax innan jag gick från datorn.")

    dialog = page.get_by_role("dialog", name="Du loggas snart ut")
    expect(dialog).to_be_visible(timeout=10_000)
    # The warning and the save start together; the save's answer may come a moment after the dialog.
    expect(page.locator("#autosave-status")).to_have_text(SAVED)
    assert note_text(session) == "Skrivet strax innan jag gick från datorn."
    dialog.get_by_role("button", name="Fortsätt").click()
    expect(dialog).to_be_hidden()
    expect(page.locator("#autosave-status")).to_have_text(SAVED)  # the save that kept the sign-in alive
