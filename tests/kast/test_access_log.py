"""The access log: written on every read of client data, and PostgreSQL refuses to change it."""

from __future__ import annotations

import uuid

import pytest
from django.apps import apps
from django.db import InternalError, ProgrammingError, connection, transaction
from django.urls import reverse
from django.utils.html import escape
from django.utils.text import capfirst
from django.utils.translation import gettext

from kast.db_roles import owner_connection
from kast.models import CALENDAR_FEED, AccessLogEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def entry(therapist, client_record):
    return AccessLogEntry.objects.create(
        user=therapist, role=therapist.role, clinic=therapist.clinic, action="view", client_id=client_record.pk
    )


#: The runtime role the app works as has no right to change the log; the owner of the table is stopped by its trigger.
NOT_GRANTED = "permission denied for table kast_accesslogentry"
TRIGGER = "Cannot update or delete rows"


def test_database_refuses_update(entry):
    with pytest.raises(ProgrammingError, match=NOT_GRANTED), transaction.atomic():
        AccessLogEntry.objects.filter(pk=entry.pk).update(action="denied")
    with owner_connection(), pytest.raises(InternalError, match=TRIGGER), transaction.atomic():
        AccessLogEntry.objects.filter(pk=entry.pk).update(action="denied")
    entry.refresh_from_db()
    assert entry.action == "view"


def test_database_refuses_delete(entry):
    with pytest.raises(ProgrammingError, match=NOT_GRANTED), transaction.atomic():
        AccessLogEntry.objects.filter(pk=entry.pk).delete()
    with owner_connection(), pytest.raises(InternalError, match=TRIGGER), transaction.atomic():
        AccessLogEntry.objects.filter(pk=entry.pk).delete()
    assert AccessLogEntry.objects.filter(pk=entry.pk).exists()


def test_database_refuses_raw_sql_changes(entry):
    """Not just the ORM: any statement from any client is refused, by the grants and by the trigger."""
    for statement in (
        f"UPDATE {AccessLogEntry._meta.db_table} SET reason = 'edited' WHERE id = %s",
        f"DELETE FROM {AccessLogEntry._meta.db_table} WHERE id = %s",
    ):
        with pytest.raises(ProgrammingError, match=NOT_GRANTED), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, [entry.pk])
        with (
            owner_connection(),
            pytest.raises(InternalError, match=TRIGGER),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
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


def test_a_questionnaire_entry_shows_the_day_not_the_minute(client, manager, therapist, client_record):
    """The minute of a submission could be matched with a report of a short period to tell whose answers it holds."""
    import datetime

    from django.utils import formats, timezone

    at = timezone.make_aware(datetime.datetime(2026, 3, 4, 13, 47))
    for object_type in ("assessments.administration", "clients.client"):
        AccessLogEntry.objects.create(
            user=therapist,
            role="therapist",
            clinic=therapist.clinic,
            action="update",
            client_id=client_record.pk,
            object_type=object_type,
            reason="submitted",
            at=at,
        )
    client.force_login(manager)

    body = client.get(reverse("access_log"), {"start": "2026-03-04", "end": "2026-03-04"}).content.decode()
    rows = [row for row in body.split("<tr>") if "GBG-2026-0001" in row]

    minute = formats.date_format(timezone.localtime(at), "SHORT_DATETIME_FORMAT")
    day = formats.date_format(timezone.localtime(at), "SHORT_DATE_FORMAT")
    assert len(rows) == 2
    administration_row = next(row for row in rows if escape(entry_label("assessments.administration")) in row)
    client_row = next(row for row in rows if escape(entry_label("clients.client")) in row)
    assert day in administration_row and minute not in administration_row
    assert minute in client_row


def entry_label(object_type: str) -> str:
    return AccessLogEntry(object_type=object_type).object_type_label


def test_the_log_names_what_was_touched_in_words_not_codes(client, manager, therapist):
    """A model, a refused page and the calendar feed, each as the reviewer reads it; never the stored code."""
    codes = ["clients.client", "clients:detail", CALENDAR_FEED, "kast.year_report"]
    for code in codes:
        AccessLogEntry.objects.create(
            user=therapist, role="therapist", clinic=therapist.clinic, action="view", object_type=code
        )
    client.force_login(manager)

    page = client.get(reverse("access_log")).content.decode()

    words = [
        capfirst(gettext("client")),
        gettext("Page in %(app)s") % {"app": apps.get_app_config("clients").verbose_name},
        gettext("Calendar feed"),
        gettext("Yearly report"),
    ]
    assert [entry.object_type_label for entry in AccessLogEntry.objects.order_by("pk")] == words
    for word in words:
        assert escape(word) in page
    for code in codes:
        assert f">{code}<" not in page and f" {code} " not in page
