"""Background saves of the assessment conversation and the deep-interview sections (js/autosave.js, kast.autosave)."""

from __future__ import annotations

import pytest
from django.test import Client as Browser
from django.urls import reverse

from clients.models import AssessmentConversation, CaseStatus, DeepInterviewSection
from clients.models import Client as Record
from kast.models import AccessLogEntry
from tests.factories import DeepInterviewSectionFactory

pytestmark = pytest.mark.django_db

SECTION = "childhood"


def section_url(record, section=SECTION):
    return reverse("clients:interview_section_autosave", args=[record.pk, section])


def assessment_url(record):
    return reverse("clients:assessment_autosave", args=[record.pk])


def updates(user, record):
    return list(
        AccessLogEntry.objects.filter(user=user, client_id=record.pk).values_list("action", "object_type", "path")
    )


# -- Deep interview -------------------------------------------------------------------------------------------


def test_the_first_autosave_starts_the_section_and_each_save_counts_up(client, therapist, case):
    client.force_login(therapist)

    first = client.post(section_url(case), {"text": "Uppväxt i Borås.", "version": "0"})
    second = client.post(section_url(case), {"text": "Uppväxt i Borås, två syskon.", "version": "1"})

    assert (first.status_code, second.status_code) == (200, 200)
    assert (first.json()["version"], second.json()["version"]) == (1, 2)
    assert second.json()["message"].startswith("Utkastet sparades kl.")
    entry = DeepInterviewSection.objects.get(client=case, section=SECTION)
    assert (entry.text, entry.version, entry.done, entry.updated_by) == (
        "Uppväxt i Borås, två syskon.",
        2,
        False,
        therapist,
    )
    # Logged as what it is, a write by the record's therapist: one update per save, no separate "view".
    path = section_url(case)
    assert updates(therapist, case) == [("update", "clients.deepinterviewsection", path)] * 2


def test_a_stale_section_save_is_refused_with_both_texts_and_erases_nothing(client, therapist, case):
    DeepInterviewSectionFactory(client=case, section=SECTION, text="Flik A:s text.", version=3, updated_by=therapist)
    client.force_login(therapist)

    refused = client.post(section_url(case), {"text": "Flik B:s text.", "version": "2"})

    assert refused.status_code == 409
    answer = refused.json()
    assert (answer["conflict"], answer["version"]) == (True, 3)
    assert answer["texts"] == [{"label": "Barndom", "text": "Flik A:s text."}]
    assert DeepInterviewSection.objects.get(client=case, section=SECTION).text == "Flik A:s text."
    # "Keep mine": the retry from the version the conflict named saves.
    kept = client.post(section_url(case), {"text": "Flik B:s text.", "version": "3"})
    assert (kept.status_code, kept.json()["version"]) == (200, 4)
    assert DeepInterviewSection.objects.get(client=case, section=SECTION).text == "Flik B:s text."


def test_an_over_long_section_is_refused_with_the_fields_message_not_a_500(client, therapist, case):
    client.force_login(therapist)

    response = client.post(section_url(case), {"text": "a" * 100_001, "version": "0"})

    assert response.status_code == 400
    assert "100" in response.json()["error"] and response.json()["error"].startswith("Text")
    assert not DeepInterviewSection.objects.exists()


@pytest.mark.parametrize(("persona", "status"), [("colleague", 404), ("other_clinic", 404), ("manager", 403)])
def test_others_cannot_autosave_a_section(client, personas, case, persona, status):
    client.force_login(personas[persona])

    response = client.post(section_url(case), {"text": "Någon annans text.", "version": "0"})

    assert response.status_code == status
    assert not DeepInterviewSection.objects.exists()
    assert AccessLogEntry.objects.filter(user=personas[persona], action="denied").exists()


def test_an_unknown_section_is_404(client, therapist, case):
    client.force_login(therapist)

    assert client.post(section_url(case, "no_such_section"), {"text": "x", "version": "0"}).status_code == 404


# -- Assessment conversation ----------------------------------------------------------------------------------


def test_the_assessment_texts_autosave_without_deciding_anything(client, therapist, case):
    client.force_login(therapist)

    first = client.post(assessment_url(case), {"problem": "Köper sex.", "goals": "", "assessment": "", "version": "0"})
    second = client.post(
        assessment_url(case),
        # A decision sent along is not the autosave's to make: the form takes the texts only.
        {"problem": "Köper sex.", "goals": "Sluta.", "assessment": "", "version": "1", "decision": "treatment"},
    )

    assert (first.status_code, second.status_code) == (200, 200)
    assert (first.json()["version"], second.json()["version"]) == (1, 2)
    conversation = AssessmentConversation.objects.get(episode__client=case)
    assert (conversation.problem, conversation.goals, conversation.decision) == ("Köper sex.", "Sluta.", "")
    # Writing the conversation opens the assessment, as the page's own save does; no decision moves it further.
    assert Record.objects.get(pk=case.pk).status == CaseStatus.ASSESSMENT
    assert ("update", "clients.assessmentconversation", assessment_url(case)) in updates(therapist, case)


def test_a_stale_assessment_save_is_refused_with_every_saved_text(client, therapist, case):
    client.force_login(therapist)
    tab_b = Browser()
    tab_b.force_login(therapist)
    client.post(assessment_url(case), {"problem": "Start.", "goals": "", "assessment": "", "version": "0"})
    client.post(assessment_url(case), {"problem": "Flik A.", "goals": "Mål A.", "assessment": "", "version": "1"})

    refused = tab_b.post(assessment_url(case), {"problem": "Flik B.", "goals": "", "assessment": "", "version": "1"})

    assert refused.status_code == 409
    answer = refused.json()
    assert answer["version"] == 2
    assert [item["text"] for item in answer["texts"]] == ["Flik A.", "Mål A.", ""]
    assert AssessmentConversation.objects.get(episode__client=case).problem == "Flik A."


def test_an_over_long_assessment_text_is_400_with_the_fields_message(client, therapist, case):
    client.force_login(therapist)

    response = client.post(
        assessment_url(case), {"problem": "a" * 20_001, "goals": "", "assessment": "", "version": "0"}
    )

    assert response.status_code == 400
    assert "20" in response.json()["error"]
    assert not AssessmentConversation.objects.exists()


@pytest.mark.parametrize(("persona", "status"), [("colleague", 404), ("other_clinic", 404), ("manager", 403)])
def test_others_cannot_autosave_the_assessment(client, personas, case, persona, status):
    client.force_login(personas[persona])

    response = client.post(assessment_url(case), {"problem": "Annans.", "goals": "", "assessment": "", "version": "0"})

    assert response.status_code == status
    assert not AssessmentConversation.objects.exists()


def test_the_pages_carry_the_autosave_attributes(client, therapist, case):
    client.force_login(therapist)

    for page, url in [
        (reverse("clients:assessment", args=[case.pk]), assessment_url(case)),
        (reverse("clients:interview_section", args=[case.pk, SECTION]), section_url(case)),
    ]:
        html = client.get(page).content.decode()
        assert f'data-autosave-url="{url}"' in html
        assert 'id="idle-warning"' in html and "js/autosave" in html
