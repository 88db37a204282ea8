"""Valid text comes back from the database exactly as it was sent (stripped where the form strips).

Generated text (any Unicode but NUL and lone surrogates, sometimes 100 000 characters) goes
through the real endpoints of the record's free-text fields and is read back from its row.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from assessments.models import Administration, Answer, ItemKind
from assessments.selectors import items_for
from assessments.services import answers_digest
from clients.models import Client as Record
from clients.models import DeepInterviewSection
from kast.models import TEXT_MAX_LENGTH
from sessions.models import Addendum, Note
from tests.factories import NoteFactory, TherapySessionFactory, open_first_period
from tests.kast.fuzzing import FUZZ, NUL, rolled_back
from tests.kast.test_role_matrix import KWARGS

characters = st.characters(exclude_characters=NUL, exclude_categories=["Cs"])
long_text = st.sampled_from(["x" * 100_000, "Åsa sa: 👩\u200d👩\u200d👧 " * 5_000])
free_text = st.one_of(st.text(characters, max_size=2000), long_text)
# A note or an addendum holds up to TEXT_MAX_LENGTH characters (tests/sessions/test_bounds.py refuses one more).
note_long_text = st.sampled_from(["x" * TEXT_MAX_LENGTH, "Åsa sa: 👩\u200d👩\u200d👧 " * (TEXT_MAX_LENGTH // 15)])
note_text = st.one_of(st.text(characters, max_size=2000), note_long_text)


def _post(staff: Client, url: str, data: dict):
    response = staff.post(url, data)
    assert response.status_code in (200, 302), response.status_code
    return response


@pytest.fixture
def staff(therapist):
    staff = Client()
    staff.force_login(therapist)
    return staff


def test_note_draft_text(staff, client_record):
    session = TherapySessionFactory(client=open_first_period(client_record))
    url = reverse("sessions:autosave", args=[session.pk])

    @FUZZ
    @given(text=note_text)
    def save(text):
        with rolled_back():
            _post(staff, url, {"note-text": text, "note-version": "0"})
            assert Note.objects.get(session=session).text == text.strip()

    save()


def test_deep_interview_text_is_kept_exactly(staff, client_record):
    url = reverse("clients:interview_section", args=[client_record.pk, "childhood"])

    @FUZZ
    @given(text=free_text)
    def save(text):
        with rolled_back():
            _post(staff, url, {"text": text, "version": "0"})
            assert DeepInterviewSection.objects.get(client=client_record, section="childhood").text == text

    save()


def test_addendum_text(staff, client_record):
    note = NoteFactory(session=TherapySessionFactory(client=open_first_period(client_record)))
    url = reverse("sessions:addendum", args=[note.session_id])

    @FUZZ
    @given(text=note_text.filter(str.strip))
    def save(text):
        with rolled_back():
            _post(staff, url, {"text": text})
            assert Addendum.objects.get(note=note).text == text.strip()

    save()


def test_alias_and_full_name(staff, client_record):
    url = reverse("clients:identity_edit", args=[client_record.pk])

    @FUZZ
    @given(alias=st.text(characters, max_size=60), full_name=st.text(characters, max_size=150))
    def save(alias, full_name):
        with rolled_back():
            version = Record.objects.get(pk=client_record.pk).version
            _post(staff, url, {"version": version, "alias": alias, "full_name": full_name})
            stored = Record.objects.get(pk=client_record.pk)
            assert (stored.alias, stored.full_name) == (alias.strip(), full_name.strip())

    save()


def test_free_text_answer_of_a_questionnaire(staff, client_record):
    administration_id = KWARGS["administration"](client_record)["administration_id"]
    url = reverse("assessments:fill", args=[administration_id])
    administration = Administration.objects.get(pk=administration_id)
    item = next(i for i in items_for(administration) if i.kind == ItemKind.TEXT)

    @FUZZ
    @given(text=st.text(characters, min_size=1, max_size=4000).filter(str.strip))
    def save(text):
        with rolled_back():
            _post(staff, url, {f"item_{item.code}": text, "answers_version": answers_digest(administration)})
            assert Answer.objects.get(administration=administration, item=item).value_text == text.strip()

    save()
