"""Optimistic locking: two therapists on one record, and the first save wins without anything being overwritten."""

from __future__ import annotations

import html
import re

import pytest
from django.test import Client as Browser
from django.urls import reverse
from django.utils.translation import gettext as _

from clients.models import AssessmentConversation, Client, DeepInterviewSection
from kast.models import AccessLogEntry
from tests.clients.form_data import assessment_data, register_data
from tests.factories import DeepInterviewSectionFactory, open_first_period

pytestmark = pytest.mark.django_db

SECTION = "childhood"


@pytest.fixture
def shared(client_record, colleague):
    """The therapist's client, with the colleague as co-therapist."""
    client_record.co_therapists.add(colleague)
    return client_record


@pytest.fixture
def two_browsers(client, therapist, colleague):
    """The responsible therapist and the co-therapist, each signed in in their own browser."""
    other = Browser()
    client.force_login(therapist)
    other.force_login(colleague)
    return client, other


def section_url(record, section=SECTION):
    return reverse("clients:interview_section", args=[record.pk, section])


def opened_version(response) -> int:
    """The version the page hands out in its hidden field."""
    match = re.search(r'<input type="hidden" name="version" value="(\d+)"', response.content.decode())
    assert match, "no version field on the page"
    return int(match.group(1))


def textarea(response, name="text") -> str:
    """The textarea's value as a browser reads it (HTML drops the one newline right after the start tag)."""
    match = re.search(rf'<textarea name="{name}"[^>]*>\n(.*?)</textarea>', response.content.decode(), re.S)
    assert match, f"no {name} textarea on the page"
    return html.unescape(match.group(1))


def conflict_box(response) -> str:
    match = re.search(r'<div class="alert alert-warning" role="alert">(.*?)</form>', response.content.decode(), re.S)
    assert match, "no conflict message on the page"
    return match.group(1)


# -- The deep interview -------------------------------------------------------------------------------------


def test_the_second_of_two_saves_of_a_section_is_refused_and_shows_both_texts(two_browsers, therapist, shared):
    DeepInterviewSectionFactory(client=shared, section=SECTION, text="Uppvuxen i Kortedala.", updated_by=therapist)
    anna, bertil = two_browsers
    anna_version = opened_version(anna.get(section_url(shared)))
    bertil_version = opened_version(bertil.get(section_url(shared)))

    first = anna.post(section_url(shared), {"version": anna_version, "text": "Annas text: pappa reste mycket."})
    second = bertil.post(section_url(shared), {"version": bertil_version, "text": "Bertils text: mamma var sjuk."})

    assert (anna_version, bertil_version) == (1, 1)
    assert first.status_code == 302
    assert second.status_code == 409
    assert "Annas text: pappa reste mycket." in conflict_box(second)
    assert textarea(second) == "Bertils text: mamma var sjuk."
    # The retry is based on what is saved now.
    assert opened_version(second) == 2
    stored = DeepInterviewSection.objects.get(client=shared, section=SECTION)
    assert (stored.text, stored.version, stored.updated_by) == ("Annas text: pappa reste mycket.", 2, therapist)


def test_a_retry_after_the_conflict_saves(two_browsers, colleague, shared):
    DeepInterviewSectionFactory(client=shared, section=SECTION, text="Början.")
    anna, bertil = two_browsers
    anna.post(section_url(shared), {"version": 1, "text": "Annas text."})
    refused = bertil.post(section_url(shared), {"version": 1, "text": "Bertils text."})

    merged = bertil.post(
        section_url(shared), {"version": opened_version(refused), "text": "Annas text.\nBertils text."}
    )

    assert merged.status_code == 302
    stored = DeepInterviewSection.objects.get(client=shared, section=SECTION)
    assert (stored.text, stored.version, stored.updated_by) == ("Annas text.\nBertils text.", 3, colleague)


def test_two_first_saves_of_a_section_the_second_is_refused(two_browsers, therapist, shared):
    anna, bertil = two_browsers
    anna_version = opened_version(anna.get(section_url(shared)))
    bertil_version = opened_version(bertil.get(section_url(shared)))

    first = anna.post(section_url(shared), {"version": anna_version, "text": "Annas första text.", "done": "on"})
    second = bertil.post(section_url(shared), {"version": bertil_version, "text": "Bertils första text."})

    assert (anna_version, bertil_version) == (0, 0)
    assert first.status_code == 302
    assert second.status_code == 409
    assert "Annas första text." in conflict_box(second)
    assert textarea(second) == "Bertils första text."
    assert opened_version(second) == 1
    stored = DeepInterviewSection.objects.get(client=shared, section=SECTION)
    assert (stored.text, stored.done, stored.version, stored.updated_by) == ("Annas första text.", True, 1, therapist)
    assert DeepInterviewSection.objects.count() == 1
    # Only the save that happened is in the log as a change.
    assert list(AccessLogEntry.objects.filter(action="update").values_list("user__username", flat=True)) == ["anna"]


def long_text() -> str:
    """100 000 characters of what therapists write and paste: Swedish, emoji, right-to-left, combining marks."""
    block = (
        "  Indragen rad: barndomen i Göteborg.\n"
        "\n"
        "\n"
        "Åsa, Örjan och Ängla – ”citat” och 'apostrof' & <vinkel> \"dubbla\".\n"
        "Emoji: 👨‍👩‍👧‍👦 🏳️‍🌈 👍🏽 😀\n"
        "Hebreiska: שלום עולם · arabiska: مرحبا بالعالم\n"
        "Kombinerande: e\u0301 a\u030a o\u0308 (inte förkomponerade) \u2028radbrytning?\n"
        "\tTabb och avslutande blanksteg   \n"
    )
    text = "   Inleds med blanksteg.\n" + block * (100_000 // len(block) + 1)
    return text[:99_999] + "\n"


def test_a_long_section_with_mixed_unicode_round_trips_unchanged(client, therapist, client_record):
    text = long_text()
    assert len(text) == 100_000
    client.force_login(therapist)

    response = client.post(section_url(client_record), {"version": 0, "text": text})

    assert response.status_code == 302
    stored = DeepInterviewSection.objects.get(client=client_record, section=SECTION)
    assert stored.text == text
    assert textarea(client.get(section_url(client_record))) == text


def test_leading_spaces_and_blank_lines_are_kept(client, therapist, client_record):
    text = "\n\n   Tre blanksteg först, två tomma rader innan.\n\n"
    client.force_login(therapist)

    client.post(section_url(client_record), {"version": 0, "text": text})

    assert DeepInterviewSection.objects.get().text == text
    assert textarea(client.get(section_url(client_record))) == text


# -- The client's details -------------------------------------------------------------------------------------


def details(therapist, colleague, **overrides) -> dict:
    data = register_data(therapist, co_therapists=[str(colleague.pk)], **overrides)
    return {k: v for k, v in data.items() if k not in ("alias", "full_name", "personnummer", "phone", "email")}


def test_a_stale_edit_of_the_details_is_refused_and_overwrites_nothing(two_browsers, therapist, colleague, shared):
    anna, bertil = two_browsers
    anna_version = opened_version(anna.get(reverse("clients:edit", args=[shared.pk])))
    bertil_version = opened_version(bertil.get(reverse("clients:edit", args=[shared.pk])))

    first = anna.post(
        reverse("clients:edit", args=[shared.pk]),
        {**details(therapist, colleague, occupation="Snickare", birth_year="1970"), "version": anna_version},
    )
    second = bertil.post(
        reverse("clients:edit", args=[shared.pk]),
        {**details(therapist, colleague, occupation="Lärare", birth_year="1985"), "version": bertil_version},
    )

    assert (anna_version, bertil_version) == (1, 1)
    assert first.status_code == 302
    assert second.status_code == 200
    message = _("Someone else saved this client while you were editing. Reload to see their changes.")
    assert second.context["form"].non_field_errors() == [message]
    assert html.escape(message) in second.content.decode()
    stored = Client.objects.get(pk=shared.pk)
    assert (stored.occupation, stored.birth_year, stored.version) == ("Snickare", 1970, 2)
    assert list(stored.co_therapists.all()) == [colleague]
    assert list(AccessLogEntry.objects.filter(action="update").values_list("user__username", flat=True)) == ["anna"]


def test_a_stale_edit_of_the_identity_is_refused(two_browsers, shared):
    anna, bertil = two_browsers
    url = reverse("clients:identity_edit", args=[shared.pk])

    anna.post(url, {"version": 1, "alias": "Nisse"})
    second = bertil.post(url, {"version": 1, "alias": "Kalle", "phone": "0701234567"})

    message = _("Someone else saved this client while you were editing. Reload to see their changes.")
    assert second.context["form"].non_field_errors() == [message]
    stored = Client.objects.get(pk=shared.pk)
    assert (stored.alias, stored.phone, stored.version) == ("Nisse", "", 2)


def test_a_stale_save_of_the_assessment_is_refused(two_browsers, shared):
    open_first_period(shared)
    anna, bertil = two_browsers
    url = reverse("clients:assessment", args=[shared.pk])
    anna.post(url, assessment_data())

    first = anna.post(url, assessment_data(goals="Annas mål", version="1"))
    second = bertil.post(url, assessment_data(goals="Bertils mål", decision="not_now", version="1"))

    assert first.status_code == 302
    message = _("Someone else saved this conversation while you were editing. Reload to see it.")
    assert second.context["form"].non_field_errors() == [message]
    stored = AssessmentConversation.objects.get()
    assert (stored.goals, stored.decision, stored.version) == ("Annas mål", "", 2)
    shared.refresh_from_db()
    assert shared.status == "assessment"
