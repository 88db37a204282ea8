"""The access log: written on every read of client data, and PostgreSQL refuses to change it."""

from __future__ import annotations

import uuid

import pytest
from django.db import InternalError, connection, transaction
from django.urls import reverse

from kast.models import AccessLogEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def entry(therapist, client_record):
    return AccessLogEntry.objects.create(
        user=therapist, role=therapist.role, clinic=therapist.clinic, action="view", client_id=client_record.pk
    )


def test_database_refuses_update(entry):
    with pytest.raises(InternalError, match="Cannot update or delete rows"), transaction.atomic():
        AccessLogEntry.objects.filter(pk=entry.pk).update(action="denied")
    entry.refresh_from_db()
    assert entry.action == "view"


def test_database_refuses_delete(entry):
    with pytest.raises(InternalError, match="Cannot update or delete rows"), transaction.atomic():
        AccessLogEntry.objects.filter(pk=entry.pk).delete()
    assert AccessLogEntry.objects.filter(pk=entry.pk).exists()


def test_database_refuses_raw_sql_changes(entry):
    """Not just the ORM: any statement from any client is refused by the trigger."""
    for statement in (
        f"UPDATE {AccessLogEntry._meta.db_table} SET reason = 'edited' WHERE id = %s",
        f"DELETE FROM {AccessLogEntry._meta.db_table} WHERE id = %s",
    ):
        with pytest.raises(InternalError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, [entry.pk])
    entry.refresh_from_db()
    assert entry.reason == ""


def test_viewing_a_client_writes_one_view_entry(client, therapist, client_record):
    client.force_login(therapist)
    url = reverse("clients:detail", args=[client_record.pk])

    response = client.get(url, REMOTE_ADDR="10.1.2.3")

    assert response.status_code == 200
    entry = AccessLogEntry.objects.get()
    assert (entry.user, entry.role, entry.clinic, entry.action) == (therapist, "therapist", therapist.clinic, "view")
    assert (entry.client_id, entry.object_type, entry.object_id) == (
        client_record.pk,
        "clients.client",
        str(client_record.pk),
    )
    assert (entry.path, entry.ip) == (url, "10.1.2.3")


def test_a_colleague_not_on_the_case_is_denied_and_logged(client, colleague, client_record):
    client.force_login(colleague)

    response = client.get(reverse("clients:detail", args=[client_record.pk]))

    assert response.status_code == 404
    entry = AccessLogEntry.objects.get()
    assert (entry.user, entry.action, entry.client_id) == (colleague, "denied", client_record.pk)


def test_a_manager_asking_for_a_client_page_is_denied_and_logged(client, manager, client_record):
    client.force_login(manager)

    response = client.get(reverse("clients:detail", args=[client_record.pk]))

    assert response.status_code == 403
    entry = AccessLogEntry.objects.get()
    assert (entry.user, entry.action, entry.client_id) == (manager, "denied", client_record.pk)
    assert client_record.code.encode() not in response.content


def test_the_403_page_does_not_reveal_whether_a_record_exists(client, manager, client_record):
    client.force_login(manager)
    existing = client.get(reverse("clients:detail", args=[client_record.pk]))
    missing = client.get(reverse("clients:detail", args=[uuid.uuid4()]))

    assert existing.status_code == missing.status_code == 403
    assert [t.name for t in existing.templates] == [t.name for t in missing.templates]
    assert "Du har inte behörighet till den här sidan" in existing.content.decode()


def test_manager_reviews_only_their_own_clinics_log(client, manager, therapist, other_clinic_therapist, client_record):
    from tests.factories import ClientFactory

    malmo_client = ClientFactory(responsible_therapist=other_clinic_therapist, code="MLM-2026-0001")
    AccessLogEntry.objects.create(
        user=therapist, role="therapist", clinic=therapist.clinic, action="view", client_id=client_record.pk
    )
    AccessLogEntry.objects.create(
        user=other_clinic_therapist,
        role="therapist",
        clinic=other_clinic_therapist.clinic,
        action="view",
        client_id=malmo_client.pk,
    )
    client.force_login(manager)

    response = client.get(reverse("access_log"))

    assert response.status_code == 200
    assert [e.client_code for e in response.context["page"].object_list] == ["GBG-2026-0001"]
    assert b"MLM-2026-0001" not in response.content
