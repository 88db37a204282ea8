"""Retention holds in the administrators' tool: placed by naming a record's code, with a reason; logged."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils.translation import gettext as _

from archive.models import RetentionHold
from kast.models import AccessLogEntry

pytestmark = pytest.mark.django_db


def test_an_administrator_places_a_hold_by_the_records_code(client, admin, client_record):
    client.force_login(admin)

    response = client.post(
        reverse("admin:archive_retentionhold_add"), {"code": client_record.code.lower(), "reason": "Överklagat"}
    )

    assert response.status_code == 302
    hold = RetentionHold.objects.get()
    assert (hold.client, hold.reason, hold.placed_by) == (client_record, "Överklagat", admin)
    entry = AccessLogEntry.objects.get(reason="retention_hold_placed")
    assert (entry.user, entry.action, entry.client_id, entry.object_type) == (
        admin,
        AccessLogEntry.Action.UPDATE,
        client_record.pk,
        "archive.retentionhold",
    )
    listing = client.get(reverse("admin:archive_retentionhold_changelist")).content.decode()
    assert client_record.code in listing


def test_an_unknown_code_or_a_second_hold_is_refused(client, admin, client_record):
    RetentionHold.objects.create(client=client_record, reason="Tvist", placed_by=admin)
    client.force_login(admin)

    unknown = client.post(reverse("admin:archive_retentionhold_add"), {"code": "GBG-1999-0001", "reason": "x"})
    again = client.post(reverse("admin:archive_retentionhold_add"), {"code": client_record.code, "reason": "x"})

    assert unknown.status_code == again.status_code == 200  # the form again, with the error
    assert _("No record has this code.") in unknown.content.decode()
    assert _("This record is already on hold.") in again.content.decode()
    assert RetentionHold.objects.count() == 1


def test_lifting_a_hold_is_logged(client, admin, client_record):
    hold = RetentionHold.objects.create(client=client_record, reason="Tvist", placed_by=admin)
    client.force_login(admin)

    response = client.post(reverse("admin:archive_retentionhold_delete", args=[hold.pk]), {"post": "yes"})

    assert response.status_code == 302
    assert not RetentionHold.objects.exists()
    assert AccessLogEntry.objects.filter(reason="retention_hold_lifted", client_id=client_record.pk).exists()


def test_removal_records_are_read_only(client, admin):
    client.force_login(admin)

    assert client.get(reverse("admin:archive_removalrecord_add")).status_code == 403
