"""Fixtures for the session and note tests, on top of the personas in tests/conftest.py."""

from __future__ import annotations

import pytest
from django.utils import timezone

from tests.factories import NoteFactory, TherapySessionFactory, open_first_period, put_in_treatment


@pytest.fixture
def case(client_record):
    """`client_record` in treatment: period 1, moved contact -> assessment -> in treatment."""
    return put_in_treatment(open_first_period(client_record))


@pytest.fixture
def held_session(case):
    """A session held today by the responsible therapist, with no note yet."""
    return TherapySessionFactory(client=case)


@pytest.fixture
def draft(held_session):
    """An unsigned note on `held_session` by its therapist."""
    return NoteFactory(session=held_session, signed_at=None, text="Utkast: klienten beskrev veckan.")


@pytest.fixture
def signed_note(held_session):
    return NoteFactory(session=held_session, signed_at=timezone.now(), text="Signerad anteckning om samtalet.")
