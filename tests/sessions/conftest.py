"""Fixtures for the session and note tests, on top of the personas in tests/conftest.py."""

from __future__ import annotations

import pytest
from django.utils import timezone

from clients.models import CaseStatus, StatusChange
from tests.factories import NoteFactory, TherapySessionFactory, open_first_period


@pytest.fixture
def case(client_record):
    """`client_record` in treatment: period 1, moved contact -> assessment -> in treatment."""
    client = open_first_period(client_record)
    episode = client.episodes.get()
    for source, target in [
        (CaseStatus.CONTACT, CaseStatus.ASSESSMENT),
        (CaseStatus.ASSESSMENT, CaseStatus.IN_TREATMENT),
    ]:
        StatusChange.objects.create(
            client=client, episode=episode, from_status=source, to_status=target, by=client.responsible_therapist
        )
    client.status = CaseStatus.IN_TREATMENT
    client.save(update_fields=["status"])
    return client


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
