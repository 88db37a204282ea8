"""A published questionnaire version is final: PostgreSQL refuses changes, the admin offers none, answers keep their items."""

from __future__ import annotations

import json

import pytest
from django.contrib import admin as django_admin
from django.db import IntegrityError, InternalError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from assessments.models import (
    Administration,
    Answer,
    Instrument,
    InstrumentVersion,
    Item,
    ItemKind,
    TabletCode,
    TimePoint,
)
from assessments.services import answers_save, version_for
from clients.models import CaseStatus
from kast.actor import Actor
from tests.assessments.test_filling import as_read
from tests.factories import ClientFactory, open_first_period

pytestmark = pytest.mark.django_db

VERSION_FINAL = "Cannot update or delete rows"
ITEMS_FINAL = "The items of a published version cannot change"
VERSION_TABLE = InstrumentVersion._meta.db_table
ITEM_TABLE = Item._meta.db_table


@pytest.fixture
def published():
    """The shipped start questionnaire, version 1 (published by the migration)."""
    return InstrumentVersion.objects.get(instrument__code="kast-start", number=1)


@pytest.fixture
def draft(published):
    """The next version of the start questionnaire, not published: a copy of version 1's items."""
    latest = published.instrument.versions.order_by("-number").first()
    version = InstrumentVersion.objects.create(
        instrument=published.instrument, number=latest.number + 1, time_points=published.time_points
    )
    for item in published.items.all():
        Item.objects.create(
            version=version,
            **{
                field.attname: getattr(item, field.attname)
                for field in Item._meta.concrete_fields
                if field.attname not in ("id", "version_id")
            },
        )
    return version


def item(version, code) -> Item:
    return Item.objects.get(version=version, code=code)


def new_item(version, code="sleep", position=100) -> Item:
    return Item(
        version=version,
        code=code,
        position=position,
        kind=ItemKind.SCALE,
        scale="wellbeing",
        text="Hur sover du?",
        higher_is_better=True,
    )


# -- The database refuses ----------------------------------------------------------------------------------


def test_a_published_version_cannot_be_updated_through_the_orm(published):
    published_at = published.published_at

    with pytest.raises(InternalError, match=VERSION_FINAL), transaction.atomic():
        InstrumentVersion.objects.filter(pk=published.pk).update(changes="Ändrad i efterhand")
    with pytest.raises(InternalError, match=VERSION_FINAL), transaction.atomic():
        published.time_points = ["start", "end"]
        published.save()
    with pytest.raises(InternalError, match=VERSION_FINAL), transaction.atomic():
        InstrumentVersion.objects.filter(pk=published.pk).update(published_at=None)  # unpublishing

    published.refresh_from_db()
    assert (published.changes, published.time_points, published.published_at) == ("", ["start"], published_at)


def test_a_published_version_cannot_be_deleted_through_the_orm(published):
    empty = InstrumentVersion.objects.create(
        instrument=published.instrument, number=7, time_points=["start"], published_at=timezone.now()
    )
    items = published.items.count()

    with pytest.raises(InternalError, match=VERSION_FINAL), transaction.atomic():
        empty.delete()
    # With items, deleting first cascades to them, and the item trigger refuses.
    with pytest.raises(IntegrityError, match=ITEMS_FINAL), transaction.atomic():
        published.delete()

    assert InstrumentVersion.objects.filter(pk__in=[empty.pk, published.pk]).count() == 2
    assert published.items.count() == items == 21


def test_raw_sql_cannot_change_a_published_version_or_its_items(published):
    wellbeing = item(published, "wellbeing")
    statements = [
        (InternalError, f"UPDATE {VERSION_TABLE} SET changes = 'x' WHERE id = %s", [published.pk]),
        (InternalError, f"UPDATE {VERSION_TABLE} SET published_at = NULL WHERE id = %s", [published.pk]),
        (InternalError, f"DELETE FROM {VERSION_TABLE} WHERE id = %s", [published.pk]),
        (IntegrityError, f"UPDATE {ITEM_TABLE} SET text = 'Omskriven' WHERE id = %s", [wellbeing.pk]),
        (IntegrityError, f"DELETE FROM {ITEM_TABLE} WHERE id = %s", [wellbeing.pk]),
        (
            IntegrityError,
            f"INSERT INTO {ITEM_TABLE} (version_id, code, position, section, section_en, kind, text, text_en,"
            " scale, choices, target_groups) VALUES (%s, 'sleep', 100, '', '', 'text', 'Ny fråga', '', '',"
            " '[]', '{}')",
            [published.pk],
        ),
    ]

    for error, statement, params in statements:
        with pytest.raises(error), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement, params)

    published.refresh_from_db()
    assert published.changes == ""
    assert published.published_at is not None
    assert Item.objects.get(pk=wellbeing.pk).text == "Hur mår du just nu?"
    assert published.items.count() == 21


def test_the_items_of_a_published_version_cannot_be_added_changed_deleted_or_moved(published, draft):
    wellbeing = item(published, "wellbeing")
    draft_item = item(draft, "own_words")
    attempts = [
        lambda: new_item(published).save(),
        lambda: Item.objects.bulk_create([new_item(published)]),
        lambda: Item.objects.filter(pk=wellbeing.pk).update(text="Hur mår du i dag?"),
        lambda: Item.objects.filter(version=published).update(higher_is_better=None),
        lambda: Item.objects.filter(pk=wellbeing.pk).delete(),
        lambda: Item.objects.filter(pk=wellbeing.pk).update(version=draft, position=200),  # out of it
        lambda: Item.objects.filter(pk=draft_item.pk).update(version=published, position=200),  # into it
    ]

    for attempt in attempts:
        with pytest.raises(IntegrityError, match=ITEMS_FINAL), transaction.atomic():
            attempt()

    assert Item.objects.get(pk=wellbeing.pk).text == "Hur mår du just nu?"
    assert list(published.items.values_list("higher_is_better", flat=True)).count(None) == 7
    assert published.items.count() == draft.items.count() == 21
    assert Item.objects.get(pk=draft_item.pk).version == draft


def test_a_draft_can_be_edited_and_publishing_freezes_it(published, draft):
    wellbeing = item(draft, "wellbeing")

    new_item(draft).save()
    Item.objects.filter(pk=wellbeing.pk).update(text="Hur mår du i dag?")
    item(draft, "has_children").delete()
    draft.changes = "Omformulerad fråga om mående; ny fråga om sömn; frågan om barn borttagen."
    draft.save()

    draft.refresh_from_db()
    assert draft.changes.startswith("Omformulerad")
    assert item(draft, "wellbeing").text == "Hur mår du i dag?"
    assert set(draft.items.values_list("code", flat=True)) == {
        *published.items.exclude(code="has_children").values_list("code", flat=True),
        "sleep",
    }

    draft.published_at = timezone.now()
    draft.save(update_fields=["published_at"])

    with pytest.raises(IntegrityError, match=ITEMS_FINAL), transaction.atomic():
        Item.objects.filter(pk=wellbeing.pk).update(text="Hur mår du nu?")
    with pytest.raises(IntegrityError, match=ITEMS_FINAL), transaction.atomic():
        new_item(draft, code="appetite", position=101).save()
    with pytest.raises(IntegrityError, match=ITEMS_FINAL), transaction.atomic():
        item(draft, "sleep").delete()
    with pytest.raises(InternalError, match=VERSION_FINAL), transaction.atomic():
        InstrumentVersion.objects.filter(pk=draft.pk).update(published_at=None)
    assert item(draft, "wellbeing").text == "Hur mår du i dag?"
    assert draft.items.count() == 21


# -- The admin ---------------------------------------------------------------------------------------------


def version_post(version, **changes_to_first_item) -> dict[str, object]:
    """The admin change form of a version with its items, as the browser would send it."""
    items = list(version.items.order_by("position"))
    data: dict[str, object] = {
        "instrument": version.instrument_id,
        "number": version.number,
        "time_points": ",".join(version.time_points),
        "changes": version.changes,
        "items-TOTAL_FORMS": len(items),
        "items-INITIAL_FORMS": len(items),
        "items-MIN_NUM_FORMS": 0,
        "items-MAX_NUM_FORMS": 1000,
        "_save": "Spara",
    }
    for index, entry in enumerate(items):
        values = {
            "id": entry.pk,
            "version": version.pk,
            "position": entry.position,
            "code": entry.code,
            "section": entry.section,
            "kind": entry.kind,
            "text": entry.text,
            "text_en": entry.text_en,
            "scale": entry.scale,
            "choices": json.dumps(entry.choices),
            "min_value": "" if entry.min_value is None else entry.min_value,
            "max_value": "" if entry.max_value is None else entry.max_value,
            "higher_is_better": {None: "unknown", True: "true", False: "false"}[entry.higher_is_better],
            "target_groups": ",".join(entry.target_groups),
            **(changes_to_first_item if index == 0 else {}),
        }
        data.update({f"items-{index}-{name}": value for name, value in values.items()})
    return data


def change_url(version) -> str:
    return reverse("admin:assessments_instrumentversion_change", args=[version.pk])


def test_which_questionnaire_models_the_admin_offers(client, admin):
    client.force_login(admin)

    assert [django_admin.site.is_registered(model) for model in (Instrument, InstrumentVersion)] == [True, True]
    # Items only inside their version; answers are client data and never in the admin.
    for model in (Item, Administration, Answer, TabletCode):
        assert not django_admin.site.is_registered(model)
        assert client.get(f"/admin/assessments/{model._meta.model_name}/").status_code == 404
    assert client.get(reverse("admin:assessments_instrumentversion_changelist")).status_code == 200


def test_the_admin_edits_the_items_of_a_draft(client, admin, draft):
    client.force_login(admin)
    first = draft.items.order_by("position").first()

    response = client.post(change_url(draft), version_post(draft, text="Har du en partner just nu?"))

    assert response.status_code == 302
    assert Item.objects.get(pk=first.pk).text == "Har du en partner just nu?"


def test_a_crafted_admin_post_cannot_change_a_published_version(client, admin, published):
    client.force_login(admin)
    first = published.items.order_by("position").first()

    page = client.get(change_url(published))
    changed = client.post(change_url(published), version_post(published, text="Har du en partner just nu?"))
    deleted = client.post(reverse("admin:assessments_instrumentversion_delete", args=[published.pk]), {"post": "yes"})

    assert page.status_code == 200  # shown, read only
    assert 'name="_save"' not in page.content.decode()
    assert (changed.status_code, deleted.status_code) == (403, 403)
    assert Item.objects.get(pk=first.pk).text == "Har du en partner?"
    assert InstrumentVersion.objects.filter(pk=published.pk).exists()
    assert published.items.count() == 21


def test_publishing_in_the_admin_freezes_the_version_there_too(client, admin, draft):
    client.force_login(admin)
    changelist = reverse("admin:assessments_instrumentversion_changelist")

    response = client.post(changelist, {"action": "publish", "_selected_action": [draft.pk]})

    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.is_published
    refused = client.post(change_url(draft), version_post(draft, text="Har du en partner just nu?"))
    assert refused.status_code == 403
    assert draft.items.order_by("position").first().text == "Har du en partner?"


# -- Answers keep their version ----------------------------------------------------------------------------


def in_treatment(client):
    open_first_period(client)
    client.status = CaseStatus.IN_TREATMENT
    client.save(update_fields=["status"])
    return client


def test_answers_keep_their_version_when_a_new_one_is_published(client, therapist, client_record, published, draft):
    older_client = in_treatment(client_record)
    actor = Actor.for_user(therapist)
    older = Administration.objects.create(
        client=older_client,
        episode=older_client.episodes.get(),
        time_point=TimePoint.START,
        version=published,  # begun on version 1, before the versions that followed it
        created_by=therapist,
    )
    answers_save(actor=actor, administration=older, answers={"wellbeing": 2, "has_children": False})
    Item.objects.filter(pk=item(draft, "wellbeing").pk).update(text="Hur mår du i dag?")
    new_item(draft).save()
    draft.published_at = timezone.now()
    draft.save(update_fields=["published_at"])
    end_version = InstrumentVersion.objects.get(instrument__code="kast-end", number=2)

    assert (version_for(TimePoint.START), version_for(TimePoint.END)) == (draft, end_version)

    # The questionnaire begun on version 1 stays on it, with its answers on version 1's items.
    older.refresh_from_db()
    assert older.version == published
    assert set(older.answers.values_list("item__version", flat=True)) == {published.pk}
    client.force_login(therapist)
    older_page = client.get(reverse("assessments:fill", args=[older.pk]))
    assert "Hur mår du just nu?" in older_page.content.decode()
    assert "item_sleep" not in older_page.context["form"].fields
    saved = client.post(
        reverse("assessments:fill", args=[older.pk]),
        as_read(older, {"item_wellbeing": "3", "item_has_children": "no", "submit": ""}),
    )
    assert saved.status_code == 302
    assert list(older.answers.order_by("item__position").values_list("item", "value_bool", "value_int")) == [
        (item(published, "has_children").pk, False, None),
        (item(published, "wellbeing").pk, None, 3),
    ]

    # A new questionnaire gets the new version.
    newer_client = in_treatment(ClientFactory(responsible_therapist=therapist))
    started = client.post(reverse("assessments:start", args=[newer_client.pk]), {"time_point": TimePoint.START})
    newer = Administration.objects.get(client=newer_client)
    assert started["Location"] == reverse("assessments:fill", args=[newer.pk])
    assert newer.version == draft
    newer_page = client.get(started["Location"])
    assert "Hur mår du i dag?" in newer_page.content.decode()
    assert "item_sleep" in newer_page.context["form"].fields
    client.post(started["Location"], as_read(newer, {"item_wellbeing": "4", "item_sleep": "5", "save": ""}))
    assert list(newer.answers.order_by("item__position").values_list("item", "value_int")) == [
        (item(draft, "wellbeing").pk, 4),
        (item(draft, "sleep").pk, 5),
    ]

    # The item code pairs the answers across the versions.
    assert sorted(Answer.objects.filter(item__code="wellbeing").values_list("item__version__number", "value_int")) == [
        (1, 3),
        (draft.number, 4),
    ]
    # And version 1's submitted answers read as they were asked.
    answers_page = client.get(reverse("assessments:fill", args=[older.pk])).content.decode()
    assert "Hur mår du just nu?" in answers_page
    assert "Hur mår du i dag?" not in answers_page
