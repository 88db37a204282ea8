"""The family map's lock: deleted freely until it is part of a signed text or a printed summary, then only marked
as entered in error, with the reason, out of the genogram and listed apart."""

from __future__ import annotations

import datetime
import importlib
import io
import re

import pytest
from django.apps import apps as django_apps
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from pypdf import PdfReader

from clients import services
from clients.models import Client, FamilyMember, FamilyRelationship
from kast.actor import Actor
from kast.models import AccessLogEntry
from tests.factories import (
    AssessmentConversationFactory,
    ClientFactory,
    DeepInterviewSectionFactory,
    FamilyMemberFactory,
    FamilyRelationshipFactory,
    open_first_period,
    relative_record,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def family(case):
    """The client, their mother (married to a wrongly added "Styvfar Kurt"), and Kurt."""
    me = case.family_members.get(relation="client")
    mother = FamilyMemberFactory(client=case, label="Mamma Birgit", relation="parent", sex="female", birth_year=1952)
    kurt = FamilyMemberFactory(client=case, label="Styvfar Kurt", relation="step_parent", sex="male", birth_year=1949)
    me.parents.set([mother])
    married = FamilyRelationshipFactory(client=case, a=kurt, b=mother, kind="married")
    close = FamilyRelationshipFactory(client=case, a=me, b=mother, kind="close")
    return {"me": me, "mother": mother, "kurt": kurt, "married": married, "close": close}


def lock(record: Client) -> None:
    Client.objects.filter(pk=record.pk).update(family_map_locked_at=timezone.now())
    record.refresh_from_db()


def page_messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def pdf_text(response) -> str:
    assert response["Content-Type"] == "application/pdf"
    return re.sub(r"\s+", " ", " ".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages))


# -- what locks the map ---------------------------------------------------------------------------------------------


def test_the_map_locks_when_the_intake_summary_is_printed_and_keeps_its_first_date(client, therapist, case, family):
    client.force_login(therapist)
    assert case.family_map_locked_at is None

    assert client.post(reverse("clients:intake_pdf", args=[case.pk])).status_code == 200
    first = Client.objects.get(pk=case.pk).family_map_locked_at
    client.post(reverse("clients:intake_pdf", args=[case.pk]))

    assert first is not None
    assert Client.objects.get(pk=case.pk).family_map_locked_at == first


@pytest.mark.parametrize("part", ["assessment", "section"])
def test_the_map_locks_when_a_part_is_signed(therapist, case, family, part):
    actor = Actor.for_user(therapist)
    if part == "assessment":
        conversation = AssessmentConversationFactory(client=case)
        services.assessment_sign(actor=actor, client=case, conversation=conversation, version=conversation.version)
    else:
        section = DeepInterviewSectionFactory(client=case, text="Text.")
        services.interview_section_sign(actor=actor, client=case, section=section.section, version=section.version)

    assert Client.objects.get(pk=case.pk).family_map_locked


# -- before the lock: delete as before --------------------------------------------------------------------------------


def test_before_the_lock_people_and_relationships_are_deleted(client, therapist, case, family):
    client.force_login(therapist)

    client.post(reverse("clients:relationship_delete", args=[case.pk, family["close"].pk]))
    client.post(reverse("clients:family_member_delete", args=[case.pk, family["kurt"].pk]))

    assert set(case.family_members.values_list("label", flat=True)) == {case.code, "Mamma Birgit"}
    assert not FamilyRelationship.objects.exists()  # Kurt's line went with him


# -- after the lock: never deleted, marked ------------------------------------------------------------------------------


def test_after_the_lock_a_delete_is_refused_with_a_message_not_a_500(client, therapist, case, family):
    lock(case)
    client.force_login(therapist)

    person = client.post(reverse("clients:family_member_delete", args=[case.pk, family["kurt"].pk]), follow=True)
    line = client.post(reverse("clients:relationship_delete", args=[case.pk, family["married"].pk]), follow=True)

    assert person.status_code == line.status_code == 200
    assert str(services.FAMILY_MAP_LOCKED) in page_messages(person)
    assert str(services.FAMILY_MAP_LOCKED) in page_messages(line)
    assert FamilyMember.objects.filter(pk=family["kurt"].pk).exists()
    assert FamilyRelationship.objects.count() == 2


def test_after_the_lock_the_pages_offer_the_mark_instead_of_the_delete(client, therapist, case, family):
    lock(case)
    client.force_login(therapist)

    member_page = client.get(reverse("clients:family_member", args=[case.pk, family["kurt"].pk])).content.decode()
    map_page = client.get(reverse("clients:family", args=[case.pk])).content.decode()

    assert reverse("clients:family_member_error", args=[case.pk, family["kurt"].pk]) in member_page
    assert reverse("clients:family_member_delete", args=[case.pk, family["kurt"].pk]) not in member_page
    assert reverse("clients:relationship_error", args=[case.pk, family["married"].pk]) in map_page
    assert reverse("clients:relationship_delete", args=[case.pk, family["married"].pk]) not in map_page


def test_marking_needs_a_reason_given_on_the_field(client, therapist, case, family):
    lock(case)
    client.force_login(therapist)

    person = client.post(reverse("clients:family_member_error", args=[case.pk, family["kurt"].pk]), {"reason": "  "})
    prefix = f"rel-{family['married'].pk}"
    line = client.post(
        reverse("clients:relationship_error", args=[case.pk, family["married"].pk]), {f"{prefix}-reason": ""}
    )

    assert (person.status_code, line.status_code) == (400, 400)
    assert person.context["error_form"].errors["reason"]
    line_forms = dict(line.context["relationships"])
    assert line_forms[family["married"]].errors["reason"]
    assert f'id="id_{prefix}-reason"' in line.content.decode()
    assert not FamilyMember.objects.filter(entered_in_error_at__isnull=False).exists()
    assert not FamilyRelationship.objects.filter(entered_in_error_at__isnull=False).exists()


def test_a_marked_person_leaves_the_genogram_and_stays_listed_with_the_reason(client, therapist, case, family):
    lock(case)
    client.force_login(therapist)
    before = client.get(reverse("clients:family", args=[case.pk]))
    assert "Styvfar Kurt" in before.context["svg"]

    response = client.post(
        reverse("clients:family_member_error", args=[case.pk, family["kurt"].pk]),
        {"reason": "Fel person: det var grannen."},
    )

    assert response.status_code == 302
    kurt = FamilyMember.objects.get(pk=family["kurt"].pk)
    assert (kurt.entered_in_error_by, kurt.error_reason) == (therapist, "Fel person: det var grannen.")
    # His line is marked with him (a line to someone not in the map cannot be drawn); the others stay.
    married = FamilyRelationship.objects.get(pk=family["married"].pk)
    assert married.error_reason == "Fel person: det var grannen."
    assert FamilyRelationship.objects.get(pk=family["close"].pk).entered_in_error_at is None
    page = client.get(reverse("clients:family", args=[case.pk]))
    html = page.content.decode()
    assert "Styvfar Kurt" not in page.context["svg"]
    assert "Mamma Birgit" in page.context["svg"]
    assert {m.label for m in page.context["members"]} == {case.code, "Mamma Birgit"}
    assert [rel for rel, _ in page.context["relationships"]] == [family["close"]]
    assert "<del>Styvfar Kurt" in html
    assert "Fel person: det var grannen." in html
    # Nor is he offered as anyone's parent or in a new relationship.
    assert kurt not in page.context["member_form"].fields["parents"].queryset
    assert kurt not in page.context["relationship_form"].fields["a"].queryset


def test_a_marked_relationship_leaves_the_map_and_stays_listed(client, therapist, case, family):
    lock(case)
    client.force_login(therapist)
    prefix = f"rel-{family['married'].pk}"

    client.post(
        reverse("clients:relationship_error", args=[case.pk, family["married"].pk]),
        {f"{prefix}-reason": "De var aldrig gifta."},
    )

    page = client.get(reverse("clients:family", args=[case.pk]))
    assert [rel for rel, _ in page.context["relationships"]] == [family["close"]]
    assert "De var aldrig gifta." in page.content.decode()
    assert "Styvfar Kurt" in page.context["svg"]  # the person stays


def test_the_printed_genogram_omits_a_marked_person(client, therapist, case, family):
    client.force_login(therapist)
    services.family_member_mark(actor=Actor.for_user(therapist), member=family["kurt"], reason="Fel person.")

    text = pdf_text(client.post(reverse("clients:intake_pdf", args=[case.pk])))

    assert "Mamma Birgit" in text
    assert "Styvfar Kurt" not in text


def test_the_extract_lists_what_was_entered_in_error_with_the_reason(client, therapist, case, family):
    client.force_login(therapist)
    services.family_member_mark(actor=Actor.for_user(therapist), member=family["kurt"], reason="Fel person.")

    text = pdf_text(client.post(reverse("archive:right_of_access", args=[case.pk])))

    # The map as it stands names the mother; Kurt first appears under "Entered in error", with who and why.
    in_error = text.index(_("Entered in error"))
    assert text.index("Mamma Birgit") < in_error < text.index("Styvfar Kurt")
    listed = text[in_error:]
    assert "Fel person." in listed
    assert str(therapist) in listed


def test_marking_twice_says_so_and_changes_nothing(client, therapist, case, family):
    lock(case)
    client.force_login(therapist)
    url = reverse("clients:family_member_error", args=[case.pk, family["kurt"].pk])
    client.post(url, {"reason": "Fel person."})

    again = client.post(url, {"reason": "Ett annat skäl."}, follow=True)

    assert _("This entry is already marked as entered in error.") in page_messages(again)
    assert FamilyMember.objects.get(pk=family["kurt"].pk).error_reason == "Fel person."


def test_maps_printed_before_the_lock_existed_are_locked_from_their_first_print(therapist, case, gbg):
    """The data migration: the intake summary's print is in the access log; the extract's and a relative's are not
    intake prints."""
    migration = importlib.import_module("clients.migrations.0010_lock_printed_family_maps")
    extract_only = open_first_period(ClientFactory(responsible_therapist=therapist))
    relative = relative_record(therapist)
    first, later = timezone.now() - datetime.timedelta(days=30), timezone.now() - datetime.timedelta(days=2)

    def printed(record, at, reason=""):
        AccessLogEntry.objects.create(
            at=at,
            user=therapist,
            role="therapist",
            clinic=gbg,
            action="print",
            client_id=record.pk,
            object_type="clients.client",
            object_id=str(record.pk),
            reason=reason,
        )

    for at in (later, first):
        printed(case, at)
    printed(extract_only, first, reason="right_of_access")
    printed(relative, first)

    migration.lock_printed_maps(django_apps, None)

    assert Client.objects.get(pk=case.pk).family_map_locked_at == first
    assert Client.objects.get(pk=extract_only.pk).family_map_locked_at is None
    assert Client.objects.get(pk=relative.pk).family_map_locked_at is None
