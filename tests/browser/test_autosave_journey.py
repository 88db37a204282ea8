"""Nothing typed is lost: the deep interview through an idle sign-out, the assessment conversation in two tabs,
and two sessions quick-logged in the same hour, each with its own time and note (issue #17)."""

from __future__ import annotations

import re

import pytest
import time_machine
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.signals import request_started
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from playwright.sync_api import expect

from assessments.models import Administration, Answer, TimePoint
from assessments.services import version_for
from clients.models import AssessmentConversation, DeepInterviewSection
from kast.middleware import LAST_SEEN
from relatives.models import Goal
from sessions.models import Addendum, AddendumDraft, Note, TherapySession
from tests.clients.conftest import case as case  # the fixture: a new contact with period 1
from tests.factories import NoteFactory, TherapySessionFactory, put_in_treatment, relative_record

pytestmark = pytest.mark.django_db(transaction=True)

SAVED = re.compile(r"Utkastet sparades kl\. \d\d:\d\d:\d\d\.")
SIGNED_OUT = (
    "Not saved: you have been signed out. Your text is kept on this computer; sign in again and reopen this page."
)


def swedish(message: str) -> str:
    with translation.override("sv"):
        return _(message)


def idle_for(minutes: int) -> None:
    """Every signed-in session last seen `minutes` ago, as if the screen had been left that long."""
    for row in Session.objects.all():
        store = SessionStore(session_key=row.session_key)
        if LAST_SEEN in store:
            store[LAST_SEEN] -= minutes * 60
            store.save()


def test_deep_interview_text_survives_the_idle_sign_out(page, login, live_server, case, check_page):
    login(case.responsible_therapist)
    section_url = f"{live_server.url}/clients/{case.pk}/interview/childhood/"
    page.goto(section_url)
    check_page(page, "interview-section")
    page.fill("#id_text", "Växte upp i Borås.")
    expect(page.locator("#autosave-status")).to_have_text(SAVED)

    # 21 minutes away from the screen: the server has signed the therapist out; she comes back and types on.
    idle_for(21)
    page.fill("#id_text", "Växte upp i Borås. Två äldre syskon, pappan arbetade borta.")

    expect(page.locator("#autosave-status")).to_have_text(swedish(SIGNED_OUT))
    assert DeepInterviewSection.objects.get(client=case).text == "Växte upp i Borås."
    kept = page.evaluate(f"JSON.parse(localStorage.getItem('kast-interview-{case.pk}-childhood')).values.text[0]")
    assert kept == "Växte upp i Borås. Två äldre syskon, pappan arbetade borta."

    # Signed in again, the section's page brings the text back from the browser and saves it.
    login(case.responsible_therapist)
    page.goto(section_url)
    expect(page.locator("#id_text")).to_have_value("Växte upp i Borås. Två äldre syskon, pappan arbetade borta.")
    expect(page.locator("#autosave-status")).to_have_text(SAVED)
    entry = DeepInterviewSection.objects.get(client=case)
    assert (entry.text, entry.version) == ("Växte upp i Borås. Två äldre syskon, pappan arbetade borta.", 2)
    assert page.evaluate(f"localStorage.getItem('kast-interview-{case.pk}-childhood')") is None


def typed_past_the_idle_sign_out(page, login, live_server, case) -> str:
    """Signed in, the assessment's goals typed and saved, 21 minutes away, then more typed (not saved yet): the
    assessment page's address."""
    login(case.responsible_therapist)
    url = f"{live_server.url}/clients/{case.pk}/assessment/"
    page.goto(url)
    page.fill("#id_goals", "Sluta köpa sex.")
    expect(page.locator("#autosave-status")).to_have_text(SAVED)
    idle_for(21)
    page.fill("#id_goals", "Sluta köpa sex. Kunna prata med partnern om det som hänt.")
    return url


def test_assessment_text_typed_past_the_idle_sign_out_is_saved_after_signing_in_again(page, login, live_server, case):
    url = typed_past_the_idle_sign_out(page, login, live_server, case)

    expect(page.locator("#autosave-status")).to_have_text(swedish(SIGNED_OUT))
    assert AssessmentConversation.objects.get(episode__client=case).goals == "Sluta köpa sex."

    login(case.responsible_therapist)
    page.goto(url)
    expect(page.locator("#id_goals")).to_have_value("Sluta köpa sex. Kunna prata med partnern om det som hänt.")
    expect(page.locator("#autosave-status")).to_have_text(SAVED)
    saved = AssessmentConversation.objects.get(episode__client=case)
    assert saved.goals == "Sluta köpa sex. Kunna prata med partnern om det som hänt."
    assert page.evaluate(f"localStorage.getItem('kast-assessment-{case.pk}')") is None


@pytest.mark.parametrize("page_knows", [True, False], ids=["told-signed-out", "not-yet-told"])
def test_leaving_the_page_after_the_idle_sign_out_does_not_start_the_login_over(
    page, login, live_server, case, page_knows
):
    """The last save when the page is left never follows the sign-out's redirect to the login page: that second
    visit started the login over in the same session, so the code typed on the login page just opened was
    refused ("Requested step 'token' is no longer valid") and the therapist stayed on the login page."""
    url = typed_past_the_idle_sign_out(page, login, live_server, case)
    if page_knows:  # its autosave was told; else the page is left before its next save
        expect(page.locator("#autosave-status")).to_have_text(swedish(SIGNED_OUT))
    requests = []  # as the server gets them: a request of a page being left is not the browser's page's any more

    def arrived(environ, **kwargs):
        requests.append((environ["REQUEST_METHOD"], environ["PATH_INFO"], environ.get("QUERY_STRING", "")))

    def saves():
        return [method for method, path, _ in requests if path.startswith(f"/clients/{case.pk}/assessment/")]

    request_started.connect(arrived)
    try:
        page.goto(f"{live_server.url}/login/")
        page.wait_for_load_state("networkidle")
        if not page_knows:  # its last save arrives, however slow the machine
            for _attempt in range(200):
                if saves():
                    break
                page.wait_for_timeout(50)
        page.wait_for_timeout(500)  # time for a followed redirect to show (a correct page sends none)
    finally:
        request_started.disconnect(arrived)

    assert [r for r in requests if r[1] == "/login/"] == [("GET", "/login/", "")], requests  # the navigation, once
    # Told, the page sends nothing; not yet told, its last save is sent (when hidden and when left) and refused.
    assert set(saves()) == (set() if page_knows else {"POST"}), requests
    login(case.responsible_therapist)
    page.goto(url)
    expect(page.locator("#id_goals")).to_have_value("Sluta köpa sex. Kunna prata med partnern om det som hänt.")


def test_a_stale_second_tab_on_the_assessment_sees_both_texts_and_keeps_its_own(
    page, login, live_server, case, check_page
):
    login(case.responsible_therapist)
    url = f"{live_server.url}/clients/{case.pk}/assessment/"
    first = page
    first.goto(url)
    second = page.context.new_page()
    second.goto(url)

    first.fill("#id_problem", "Köper sex, skäms efteråt.")
    expect(first.locator("#autosave-status")).to_have_text(SAVED)
    second.fill("#id_problem", "Söker hjälp efter att partnern fått veta.")

    conflict = second.locator("#autosave-conflict")
    expect(conflict).to_be_visible()
    expect(conflict).to_contain_text("Köper sex, skäms efteråt.")  # the first tab's text, shown
    expect(second.locator("#id_problem")).to_have_value("Söker hjälp efter att partnern fått veta.")  # and its own
    check_page(second, "assessment-conflict")
    assert AssessmentConversation.objects.get(episode__client=case).problem == "Köper sex, skäms efteråt."

    second.get_by_role("button", name=swedish("Keep my text and save it")).click()
    expect(second.locator("#autosave-status")).to_have_text(SAVED)
    expect(conflict).to_be_hidden()
    conversation = AssessmentConversation.objects.get(episode__client=case)
    assert (conversation.problem, conversation.version, conversation.decision) == (
        "Söker hjälp efter att partnern fått veta.",
        2,
        "",
    )


@pytest.fixture
def in_treatment(case):
    return put_in_treatment(case)


@pytest.fixture
def in_the_working_day():
    """Quick-log proposes a time that ended before now: just after midnight there is no room for two sessions of
    an hour that day, so the clock is moved forward to the morning (never back: the browser keeps real time, and a
    sign-in cookie stamped in the past would already have run out)."""
    now = timezone.localtime()
    morning = now.replace(hour=10, minute=40, second=0, microsecond=0)
    if now >= morning:
        yield
        return
    with time_machine.travel(morning, tick=True):
        yield


def test_two_sessions_quick_logged_in_the_same_hour_get_two_times_and_both_notes_sign(
    page, login, live_server, in_treatment, in_the_working_day
):
    login(in_treatment.responsible_therapist)
    for number, text in enumerate(["Första samtalet i timmen.", "Andra samtalet, strax efter."], start=1):
        page.goto(f"{live_server.url}/")
        page.select_option("#id_client", label=in_treatment.code)
        page.get_by_role("button", name="Skriv anteckningen").click()
        page.wait_for_url(re.compile(r"/sessions/[0-9a-f-]{36}/$"))
        page.fill("#id_note-text", text)
        expect(page.locator("#autosave-status")).to_have_text(SAVED)  # the draft saved in the background
        assert TherapySession.objects.filter(client=in_treatment).count() == number
        page.get_by_role("button", name="Signera anteckningen").click()
        expect(page.get_by_role("heading", name="Anteckning")).to_be_visible()

    earlier, later = TherapySession.objects.filter(client=in_treatment).order_by("start_time")
    assert earlier.date == later.date
    # The second was proposed clear of the first: one ends before the other begins, so signing is not stopped.
    assert earlier.ends_at <= later.start_time.hour * 60 + later.start_time.minute
    notes = Note.objects.filter(session__client=in_treatment)
    assert sorted(n.text for n in notes) == ["Andra samtalet, strax efter.", "Första samtalet i timmen."]
    assert all(n.is_signed for n in notes)


def test_a_goal_typed_before_the_idle_sign_out_comes_back_after_signing_in(page, login, live_server, case):
    """Goals are added whole (no server draft): the browser keeps the text until the goal has reached the server."""
    relative = relative_record(case.responsible_therapist)
    url = f"{live_server.url}/relatives/{relative.pk}/"
    page.clock.install()
    login(case.responsible_therapist)
    page.goto(url)
    page.fill("#id_text", "Sova en hel natt igen.")

    # Away from the screen: the warning comes two minutes before the sign-out; the server signs out at 20.
    page.clock.fast_forward("18:30")
    dialog = page.get_by_role("dialog", name="Du loggas snart ut")
    expect(dialog).to_be_visible()
    idle_for(21)
    dialog.get_by_role("button", name="Fortsätt").click()
    expect(page.locator("#autosave-status")).to_have_text(swedish(SIGNED_OUT))
    page.get_by_role("button", name=swedish("Add the goal")).click()  # sent all the same: it meets the login page
    page.wait_for_url(re.compile(r"/login/"))
    assert not Goal.objects.exists()

    login(case.responsible_therapist)
    page.goto(url)
    expect(page.locator("#id_text")).to_have_value("Sova en hel natt igen.")
    page.get_by_role("button", name=swedish("Add the goal")).click()
    expect(page.get_by_text("Sova en hel natt igen.")).to_be_visible()
    assert list(Goal.objects.values_list("text", flat=True)) == ["Sova en hel natt igen."]
    assert page.evaluate(f"localStorage.getItem('kast-goal-{relative.pk}')") is None


def test_the_pages_with_autosave_pass_axe(page, login, live_server, case, check_page):
    relative = relative_record(case.responsible_therapist)
    administration = Administration.objects.create(
        client=case,
        episode=case.episodes.get(),
        time_point=TimePoint.START,
        version=version_for(TimePoint.START),
        created_by=case.responsible_therapist,
    )
    login(case.responsible_therapist)
    for name, path in [
        ("children", f"/records/{case.pk}/children/"),
        ("questionnaire", f"/questionnaires/{administration.pk}/"),
        ("relative", f"/relatives/{relative.pk}/"),
    ]:
        page.goto(f"{live_server.url}{path}")
        expect(page.locator("#autosave-status")).to_be_attached()
        check_page(page, name)

    # The questionnaire's free text saves in the background and is not submitted.
    page.goto(f"{live_server.url}/questionnaires/{administration.pk}/")
    page.fill("#id_item_own_words", "Med egna ord.")
    expect(page.locator("#autosave-status")).to_have_text(SAVED)
    stored = Answer.objects.get(administration=administration, item__code="own_words")
    assert stored.value_text == "Med egna ord."
    administration.refresh_from_db()
    assert administration.submitted_at is None


def test_an_addendum_being_written_is_kept_on_the_server_until_added(page, login, live_server, in_treatment):
    session = TherapySessionFactory(client=in_treatment)
    NoteFactory(session=session, signed_at=timezone.now(), text="Signerad anteckning.")
    login(in_treatment.responsible_therapist)
    url = f"{live_server.url}/sessions/{session.pk}/"
    page.goto(url)
    page.fill("#id_text", "Rättelse: samtalet var 45 minuter.")
    expect(page.locator("#autosave-status")).to_have_text(SAVED)
    assert AddendumDraft.objects.get().text == "Rättelse: samtalet var 45 minuter."

    # Another computer (no copy in its browser): the draft comes from the server.
    page.evaluate("localStorage.clear()")
    page.goto(url)
    expect(page.locator("#id_text")).to_have_value("Rättelse: samtalet var 45 minuter.")
    page.get_by_role("button", name=swedish("Add the addendum")).click()
    expect(page.locator(".text-prewrap", has_text="Rättelse: samtalet var 45 minuter.")).to_be_visible()
    expect(page.locator("#id_text")).to_have_value("")
    assert list(Addendum.objects.values_list("text", flat=True)) == ["Rättelse: samtalet var 45 minuter."]
    assert AddendumDraft.objects.get().text == ""  # emptied, its version moved on
