"""Two saves of one questionnaire at the same instant, both from pages read before either: the second replaces
nothing. The fingerprint is compared under the questionnaire's row lock (assessments.services.answers_save), so the
second save waits for the first to commit and then sees that the answers are no longer those its page showed."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from assessments import services
from assessments.models import Answer
from assessments.views import ANSWERED_MEANWHILE
from kast.actor import Actor
from tests.assessments.test_tablet import administration_of, in_treatment
from tests.clients.test_races import _browser, race

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_second_of_two_saves_at_the_same_instant_replaces_nothing(therapist, client_record):
    questionnaire = administration_of(in_treatment(client_record))
    read = services.answers_digest(questionnaire)  # both pages were read before either save
    browser = _browser(therapist)

    response = race(
        lambda: services.answers_save(
            actor=Actor.for_user(therapist),
            administration=questionnaire,
            answers={"own_words": "Först sparat."},
            expected_digest=read,
        ),
        lambda: browser.post(
            reverse("assessments:fill", args=[questionnaire.pk]),
            {"item_own_words": "Sparat samtidigt.", "answers_version": read, "save": ""},
        ),
    )

    assert response.status_code == 409
    with translation.override("sv"):
        assert str(ANSWERED_MEANWHILE) in response.content.decode()
    stored = Answer.objects.filter(administration=questionnaire).values_list("item__code", "value_text")
    assert list(stored) == [("own_words", "Först sparat.")]
