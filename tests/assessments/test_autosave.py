"""The therapist's questionnaire page saves its answers in the background (js/autosave.js), never submitting."""

from __future__ import annotations

import re

import pytest
from django.test import Client as Browser
from django.urls import reverse
from django.utils.translation import gettext as _

from assessments.models import Administration, Answer, TimePoint
from assessments.services import DECLINED, answers_digest, answers_save, version_for
from kast.actor import Actor
from kast.locking import EditConflict
from kast.models import AccessLogEntry
from tests.factories import open_first_period, put_in_treatment

pytestmark = pytest.mark.django_db


@pytest.fixture
def started(client_record):
    case = put_in_treatment(open_first_period(client_record))
    return Administration.objects.create(
        client=case,
        episode=case.episodes.get(),
        time_point=TimePoint.START,
        version=version_for(TimePoint.START),
        created_by=case.responsible_therapist,
    )


def url(administration):
    return reverse("assessments:fill_autosave", args=[administration.pk])


def page_version(client, administration) -> str:
    """The answers' fingerprint the fill page hands out, as the page script sends it back."""
    html = client.get(reverse("assessments:fill", args=[administration.pk])).content.decode()
    match = re.search(r'name="answers_version" value="([0-9a-f]+)"', html)
    assert match, "no answers_version on the page"
    return match.group(1)


def answers(administration):
    return dict(Answer.objects.filter(administration=administration).values_list("item__code", "value_text"))


def test_the_answers_autosave_and_are_not_submitted(client, therapist, started):
    client.force_login(therapist)
    opened = page_version(client, started)

    first = client.post(url(started), {"item_own_words": "Jag vill förstå varför.", "answers_version": opened})
    second = client.post(
        url(started),
        {
            "item_own_words": "Jag vill förstå varför. Och sluta.",
            "item_has_partner": "yes",
            "answers_version": first.json()["version"],
        },
    )

    assert (first.status_code, second.status_code) == (200, 200)
    assert len({opened, first.json()["version"], second.json()["version"]}) == 3
    assert second.json()["version"] == answers_digest(started)
    assert answers(started)["own_words"] == "Jag vill förstå varför. Och sluta."
    assert Administration.objects.get(pk=started.pk).submitted_at is None
    # A write by the record's therapist, logged once per save against the client.
    logged = AccessLogEntry.objects.filter(
        user=therapist, action="update", client_id=started.client_id, path=url(started)
    )
    assert logged.count() == 2


def test_a_submit_button_sent_along_does_not_submit(client, therapist, started):
    client.force_login(therapist)

    response = client.post(
        url(started), {"item_own_words": "Text.", "answers_version": page_version(client, started), "submit": "1"}
    )

    assert response.status_code == 200
    assert Administration.objects.get(pk=started.pk).submitted_at is None


def test_answers_given_elsewhere_meanwhile_are_a_conflict_with_the_saved_texts(client, therapist, started):
    client.force_login(therapist)
    tablet = Browser()
    tablet.force_login(therapist)
    opened = page_version(client, started)
    # Meanwhile another tab (or the clinic tablet) saved an answer.
    tablet.post(url(started), {"item_own_words": "Från den andra fliken.", "answers_version": opened})

    refused = client.post(url(started), {"item_own_words": "Från den här fliken.", "answers_version": opened})

    assert refused.status_code == 409
    answer = refused.json()
    assert answer["version"] == answers_digest(started)
    assert [item["text"] for item in answer["texts"]] == ["Från den andra fliken."]
    assert answers(started)["own_words"] == "Från den andra fliken."
    # Keep mine: from the version the conflict named.
    kept = client.post(url(started), {"item_own_words": "Från den här fliken.", "answers_version": answer["version"]})
    assert kept.status_code == 200 and answers(started)["own_words"] == "Från den här fliken."


def test_the_service_checks_the_fingerprint_only_when_given(therapist, started):
    """The page's own save and the tablet save as before; the autosave's stale fingerprint is refused."""
    actor = Actor.for_user(therapist)
    empty = answers_digest(started)
    answers_save(actor=actor, administration=started, answers={"own_words": DECLINED})

    with pytest.raises(EditConflict):
        answers_save(actor=actor, administration=started, answers={"own_words": "Ny."}, expected_digest=empty)
    answers_save(actor=actor, administration=started, answers={"own_words": "Ny."})

    assert answers(started) == {"own_words": "Ny."}


def test_an_over_long_free_text_answer_is_400_with_the_fields_message(client, therapist, started):
    client.force_login(therapist)

    response = client.post(
        url(started), {"item_own_words": "a" * 4001, "answers_version": page_version(client, started)}
    )

    assert response.status_code == 400
    assert "4" in response.json()["error"]
    assert answers(started) == {}


def test_a_submitted_questionnaire_refuses_the_autosave(client, therapist, started):
    client.force_login(therapist)
    opened = page_version(client, started)
    Administration.objects.filter(pk=started.pk).update(submitted_at="2026-11-01T10:00:00+01:00")

    response = client.post(url(started), {"item_own_words": "Sent.", "answers_version": opened})

    assert response.status_code == 403
    assert response.json() == {"error": _("This questionnaire is submitted; its answers can no longer change.")}
    assert answers(started) == {}


@pytest.mark.parametrize(("persona", "status"), [("colleague", 404), ("other_clinic", 404), ("manager", 403)])
def test_others_cannot_autosave_the_answers(client, personas, started, persona, status):
    client.force_login(personas[persona])

    response = client.post(url(started), {"item_own_words": "Någon annans.", "answers_version": "x"})

    assert response.status_code == status
    assert answers(started) == {}
