"""The page's first autosave of an addendum and its "Add" at the same instant, either one first: the added text
never stays behind as a draft (sessions.services._addendum_draft_emptied). Both meet on the draft's unique index."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from kast.actor import Actor
from sessions.models import Addendum, AddendumDraft
from sessions.services import addendum_add, addendum_draft_save
from tests.clients.test_races import _browser, race
from tests.factories import ClientFactory, NoteFactory, TherapySessionFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def note(therapist):
    session = TherapySessionFactory(client=ClientFactory(responsible_therapist=therapist))
    return NoteFactory(session=session, signed_at=timezone.now(), text="Signerad anteckning.")


def test_the_adding_first_the_autosave_meets_its_empty_draft_and_is_a_conflict(therapist, note):
    response = race(
        lambda: addendum_add(actor=Actor.for_user(therapist), note=note, text="Rättelse."),
        lambda: _browser(therapist).post(
            reverse("sessions:addendum_autosave", args=[note.session_id]), {"text": "Rättelse.", "version": "0"}
        ),
    )

    assert response.status_code == 409
    assert list(Addendum.objects.values_list("text", flat=True)) == ["Rättelse."]
    assert AddendumDraft.objects.values_list("text", "version").get() == ("", 1)


def test_the_autosave_first_the_adding_waits_for_its_draft_and_empties_it(therapist, note):
    response = race(
        lambda: addendum_draft_save(actor=Actor.for_user(therapist), note=note, version=0, text="Rättelse."),
        lambda: _browser(therapist).post(reverse("sessions:addendum", args=[note.session_id]), {"text": "Rättelse."}),
    )

    assert response.status_code == 302
    assert list(Addendum.objects.values_list("text", flat=True)) == ["Rättelse."]
    assert AddendumDraft.objects.values_list("text", "version").get() == ("", 2)
