"""A questionnaire's Save (and Send) from a page read before someone else saved answers replaces nothing.

A save replaces every answer of the questionnaire, so a page read before the client answered on the clinic tablet
(or before another tab, or a colleague, saved) would silently put its own answers back over theirs. The page sends
the fingerprint of the answers it was read with (assessments.services.answers_digest), as the autosave does; a
save whose fingerprint is no longer the stored one saves nothing, keeps what was typed in the form and says why.
Saving again from that page then replaces the stored answers knowingly.
"""

from __future__ import annotations

import re

import pytest
from django.test import Client as Browser
from django.urls import reverse
from django.utils import translation

from assessments.models import Administration, Answer, TabletCode
from assessments.services import answers_digest
from assessments.views import ANSWERED_MEANWHILE, ANSWERED_MEANWHILE_TABLET
from kast.forms import OUT_OF_DATE
from kast.models import AccessLogEntry
from tests.assessments.test_filling import as_read
from tests.assessments.test_tablet import administration_of, code_for, in_treatment, open_code

pytestmark = pytest.mark.django_db

FORM = reverse("assessments:tablet_form")


@pytest.fixture
def questionnaire(client_record):
    """A start questionnaire, not yet answered."""
    return administration_of(in_treatment(client_record))


@pytest.fixture
def tablet():
    """The clinic tablet: a browser of its own, signed in as nobody."""
    return Browser()


def fill_url(administration: Administration) -> str:
    return reverse("assessments:fill", args=[administration.pk])


def page_fingerprint(response) -> str:
    """The answers' fingerprint a page hands out in its form."""
    match = re.search(r'name="answers_version" value="([0-9a-f]+)"', response.content.decode())
    assert match, "no answers_version in the form"
    return match.group(1)


def own_words(administration: Administration) -> dict[str, object]:
    """The stored answers of two items: whether there is a partner, and the own words."""
    rows = Answer.objects.filter(administration=administration, item__code__in=["has_partner", "own_words"])
    return {
        code: value_bool if code == "has_partner" else text
        for code, value_bool, text in rows.values_list("item__code", "value_bool", "value_text")
    }


def in_swedish(message) -> str:
    with translation.override("sv"):
        return str(message)


TABLET_ANSWERS = {"item_has_partner": "yes", "item_own_words": "Från plattan."}
DESK_ANSWERS = {"item_has_partner": "no", "item_own_words": "Från skrivbordet."}


@pytest.mark.parametrize("button", ["save", "submit"])
def test_a_save_from_a_page_read_before_the_tablet_saved_replaces_nothing(
    client, therapist, questionnaire, tablet, button
):
    client.force_login(therapist)
    read = page_fingerprint(client.get(fill_url(questionnaire)))
    open_code(tablet, code_for(client, questionnaire))
    assert tablet.post(FORM, as_read(questionnaire, {**TABLET_ANSWERS, "save": ""})).status_code == 302
    updates_before = AccessLogEntry.objects.filter(action=AccessLogEntry.Action.UPDATE).count()

    response = client.post(fill_url(questionnaire), {**DESK_ANSWERS, "answers_version": read, button: ""})

    assert response.status_code == 409
    questionnaire.refresh_from_db()
    assert questionnaire.submitted_at is None
    assert own_words(questionnaire) == {"has_partner": True, "own_words": "Från plattan."}
    assert AccessLogEntry.objects.filter(action=AccessLogEntry.Action.UPDATE).count() == updates_before
    page = response.content.decode()
    assert in_swedish(ANSWERED_MEANWHILE) in page
    assert "Från skrivbordet." in page  # what was typed here is still in the form
    assert "Rätta de markerade fälten" not in page  # no field is marked: the message says what happened instead
    # The page now carries the stored answers' fingerprint: saving again replaces them, knowingly.
    assert page_fingerprint(response) == answers_digest(questionnaire)

    again = client.post(
        fill_url(questionnaire), {**DESK_ANSWERS, "answers_version": page_fingerprint(response), "save": ""}
    )

    assert again.status_code == 302
    assert own_words(questionnaire) == {"has_partner": False, "own_words": "Från skrivbordet."}


def test_the_tablet_replaces_nothing_the_therapist_saved_while_the_client_answered(
    client, therapist, questionnaire, tablet
):
    client.force_login(therapist)
    open_code(tablet, code_for(client, questionnaire))
    read = page_fingerprint(tablet.get(FORM))
    saved = client.post(fill_url(questionnaire), as_read(questionnaire, {**DESK_ANSWERS, "save": ""}))
    assert saved.status_code == 302

    response = tablet.post(FORM, {**TABLET_ANSWERS, "answers_version": read, "submit": ""})

    assert response.status_code == 409
    questionnaire.refresh_from_db()
    assert questionnaire.submitted_at is None
    assert own_words(questionnaire) == {"has_partner": False, "own_words": "Från skrivbordet."}
    assert TabletCode.objects.get().used_at is None  # the code still works: the client sends again
    page = response.content.decode()
    assert in_swedish(ANSWERED_MEANWHILE_TABLET) in page
    assert "Från plattan." in page
    assert "Från skrivbordet." not in page  # the tablet shows the client's own answers only, not what staff typed

    sent = tablet.post(FORM, {**TABLET_ANSWERS, "answers_version": page_fingerprint(response), "submit": ""})

    assert sent.status_code == 302
    questionnaire.refresh_from_db()
    assert questionnaire.submitted_at is not None
    assert own_words(questionnaire) == {"has_partner": True, "own_words": "Från plattan."}


@pytest.mark.parametrize("fingerprint", [None, "", "f" * 65])
def test_a_page_without_its_fingerprint_is_out_of_date_and_saves_nothing(client, therapist, questionnaire, fingerprint):
    client.force_login(therapist)
    data = {**DESK_ANSWERS, "save": ""}
    if fingerprint is not None:
        data["answers_version"] = fingerprint

    response = client.post(fill_url(questionnaire), data)

    assert response.status_code == 400
    assert in_swedish(OUT_OF_DATE) in response.content.decode()
    assert "Rätta de markerade fälten" not in response.content.decode()
    assert own_words(questionnaire) == {}


def test_a_field_error_still_asks_for_the_marked_fields_to_be_corrected(client, therapist, questionnaire):
    client.force_login(therapist)
    data = {"item_own_words": "Både och", "declined_own_words": "on", "save": ""}

    response = client.post(fill_url(questionnaire), as_read(questionnaire, data))

    assert response.status_code == 400
    assert "Inget sparades. Rätta de markerade fälten." in response.content.decode()
