"""Administrators edit instruments in the admin site: a draft freely, a published version never; a change is a new version."""

from __future__ import annotations

import pytest
from django.urls import reverse

from assessments.models import InstrumentVersion, Item, TimePoint
from assessments.services import version_for

pytestmark = pytest.mark.django_db


def test_copy_publish_and_the_new_version_is_used(client, admin):
    current = version_for(TimePoint.START)
    client.force_login(admin)
    changelist = reverse("admin:assessments_instrumentversion_changelist")

    client.post(changelist, {"action": "copy_as_new_version", "_selected_action": [current.pk]})

    draft = InstrumentVersion.objects.get(instrument=current.instrument, number=current.number + 1)
    assert draft.published_at is None
    assert list(draft.items.values_list("code", "text")) == list(current.items.values_list("code", "text"))
    # A draft's items can be reworded; the code stays while the meaning does.
    Item.objects.filter(version=draft, code="wellbeing").update(text="Hur har du det just nu?")
    assert version_for(TimePoint.START) == current  # not published yet

    client.post(changelist, {"action": "publish", "_selected_action": [draft.pk]})

    draft.refresh_from_db()
    assert draft.published_at is not None
    assert version_for(TimePoint.START) == draft
    assert draft.items.get(code="wellbeing").text == "Hur har du det just nu?"
    assert current.items.get(code="wellbeing").text == "Hur mår du just nu?"


def test_a_published_version_is_read_only_in_the_admin(client, admin):
    current = version_for(TimePoint.START)
    shipped_changes = current.changes
    client.force_login(admin)
    url = reverse("admin:assessments_instrumentversion_change", args=[current.pk])

    page = client.get(url)
    assert page.status_code == 200
    assert 'name="items-0-text"' not in page.content.decode()  # the items are shown, not editable

    # A crafted POST is refused and changes nothing.
    crafted = client.post(url, {"changes": "ändrat", "items-TOTAL_FORMS": "0", "items-INITIAL_FORMS": "0"})
    assert crafted.status_code == 403
    current.refresh_from_db()
    assert current.changes == shipped_changes != "ändrat"
    assert (
        client.post(
            reverse("admin:assessments_instrumentversion_delete", args=[current.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert InstrumentVersion.objects.filter(pk=current.pk).exists()
