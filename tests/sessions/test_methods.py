"""Methods recorded the same way: the clinic's list, ticked on the note, saved by the page and the autosave, refused
when not on the list, final once signed; and every clinic has the common list with the same codes."""

from __future__ import annotations

import html
import importlib
import re

import pytest
from django.apps import apps as django_apps
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kast.actor import Actor
from kast.models import Clinic
from sessions.models import Method, MethodCode, Note, NoteMethod, TherapySession
from sessions.services import note_save
from tests.factories import ClinicFactory
from tests.sessions.test_notes import autosave_url, detail_url, document, fresh

pytestmark = pytest.mark.django_db

OWN = "(the clinic's own)"


def methods_of(session, *codes: str) -> list[Method]:
    return [Method.objects.get(clinic=session.clinic, code=code) for code in codes]


def with_methods(data: dict, methods) -> dict:
    return {**data, "note-methods": [str(m.pk) for m in methods]}


def test_every_clinic_starts_with_the_common_methods_in_order(gbg, mlm):
    for clinic in (gbg, mlm):
        assert list(Method.objects.filter(clinic=clinic).values_list("code", flat=True)) == MethodCode.values
    # The same code means the same method everywhere: that is what makes them comparable across clinics.
    assert set(Method.objects.filter(code=MethodCode.CBT_STOP).values_list("clinic", flat=True)) == {gbg.pk, mlm.pk}


def test_the_data_migration_gives_an_existing_clinic_the_common_methods_once():
    migration = importlib.import_module("sessions.migrations.0009_install_methods")
    clinic = Clinic.objects.create(code="UME", name="KAST Umeå")  # made without the lists a new clinic gets
    assert not Method.objects.filter(clinic=clinic).exists()

    migration.install(django_apps, None)
    migration.install(django_apps, None)  # twice: nothing doubled

    assert list(Method.objects.filter(clinic=clinic).values_list("code", flat=True)) == MethodCode.values
    # The migration's own list is the list of the code, so the seeded and the newly installed clinics agree.
    assert MethodCode.values == migration.CODES


def test_methods_are_ticked_and_saved_with_the_note(client, therapist, held_session):
    chosen = methods_of(held_session, MethodCode.EXTERNALISING, MethodCode.CBT_STOP)
    client.force_login(therapist)

    response = client.post(
        detail_url(held_session),
        with_methods(document(held_session, text="Vi satte ord på handlingarna.", note_version=0), chosen),
    )

    assert response.status_code == 302
    note = Note.objects.get(session=held_session)
    assert set(note.methods.all()) == set(chosen)
    page = client.get(detail_url(held_session))
    assert set(page.context["note_form"].initial["methods"]) == set(chosen)


def test_the_note_page_lists_the_clinics_methods_and_marks_its_own(client, therapist, held_session):
    own = Method.objects.create(clinic=held_session.clinic, name="Gruppsamtal om tillit", position=99)
    Method.objects.create(clinic=held_session.clinic, name="Ur bruk", active=False, position=100)
    client.force_login(therapist)

    response = client.get(detail_url(held_session))

    body = response.content.decode()
    listed = list(response.context["note_form"].fields["methods"].queryset)
    assert [m.code for m in listed[: len(MethodCode)]] == MethodCode.values
    assert listed[len(MethodCode) :] == [own]  # the one out of use is not offered
    assert html.escape(f"Gruppsamtal om tillit {_(OWN)}") in body
    assert str(MethodCode.PORN_ABSTINENCE.label) in body


def test_the_autosave_sends_the_methods_and_saves_them(client, therapist, held_session):
    """The page's script sends the fields named in data-autosave-fields; the methods are among them."""
    first, second = methods_of(held_session, MethodCode.SYSTEMIC, MethodCode.PSYCHOEDUCATION)
    client.force_login(therapist)

    page = client.get(detail_url(held_session)).content.decode()
    fields = re.search(r'data-autosave-fields="([^"]*)"', page).group(1).split()
    assert "note-methods" in fields
    assert f'name="note-methods" value="{first.pk}"' in page

    saved = client.post(
        autosave_url(held_session), {"note-text": "Utkast.", "note-version": "0", "note-methods": [str(first.pk)]}
    )
    again = client.post(
        autosave_url(held_session),
        {"note-text": "Utkast, mer.", "note-version": "1", "note-methods": [str(first.pk), str(second.pk)]},
    )

    assert (saved.status_code, again.status_code) == (200, 200)
    assert set(Note.objects.get(session=held_session).methods.all()) == {first, second}


@pytest.mark.parametrize("how", ["another clinic's", "no such", "not a number"])
def test_a_method_not_on_the_clinics_list_is_a_field_error_and_nothing_is_saved(
    client, therapist, held_session, mlm, how
):
    value = {
        "another clinic's": str(Method.objects.filter(clinic=mlm).first().pk),
        "no such": "987654321",
        "not a number": "x1",
    }[how]
    client.force_login(therapist)
    data = {**document(held_session, text="Ska inte sparas.", note_version=0), "note-methods": [value]}

    response = client.post(detail_url(held_session), data)
    autosaved = client.post(
        autosave_url(held_session), {"note-text": "Ska inte sparas.", "note-version": "0", "note-methods": [value]}
    )

    assert response.status_code == 200
    assert "methods" in response.context["note_form"].errors
    assert autosaved.status_code == 400
    assert not Note.objects.filter(session=held_session).exists()


def test_the_service_refuses_another_clinics_method(therapist, held_session, mlm):
    elsewhere = Method.objects.filter(clinic=mlm).first()
    session = TherapySession.objects.get(pk=held_session.pk)

    with pytest.raises(ValidationError) as refused:
        note_save(actor=Actor.for_user(therapist), session=session, version=0, text="Text.", methods=[elsewhere])

    assert refused.value.message_dict == {"methods": [_("Choose methods from the clinic's list.")]}
    assert not Note.objects.filter(session=held_session).exists()


def test_a_method_taken_out_of_use_stays_on_the_notes_that_have_it(client, therapist, draft):
    method = methods_of(draft.session, MethodCode.EXPOSURE)[0]
    draft.methods.add(method)
    Method.objects.filter(pk=method.pk).update(active=False)
    client.force_login(therapist)

    response = client.get(detail_url(draft.session))

    assert method in response.context["note_form"].fields["methods"].queryset
    assert response.context["note_form"].initial["methods"] == [method]


def test_signing_keeps_the_methods_and_the_signed_page_shows_them(client, therapist, held_session):
    chosen = methods_of(held_session, MethodCode.SELF_COMPASSION)
    client.force_login(therapist)
    client.post(
        detail_url(held_session),
        with_methods(document(held_session, text="Övning i självmedkänsla.", note_version=0, button="sign"), chosen),
    )

    note = Note.objects.get(session=held_session)
    assert note.is_signed
    assert list(note.methods.all()) == chosen
    page = client.get(detail_url(held_session)).content.decode()
    assert str(MethodCode.SELF_COMPASSION.label) in page


def test_the_methods_of_a_signed_note_cannot_be_added_changed_or_removed(draft):
    """As the runtime role (the tests work as it): PostgreSQL refuses, whatever route the change takes."""
    first, second = methods_of(draft.session, MethodCode.SYSTEMIC, MethodCode.PARTNER)
    NoteMethod.objects.create(note=draft, method=first)
    Note.objects.filter(pk=draft.pk).update(signed_at=timezone.now())
    note = fresh(draft)

    with pytest.raises(IntegrityError, match="The methods of a signed note cannot change"), transaction.atomic():
        note.methods.add(second)
    with pytest.raises(IntegrityError, match="The methods of a signed note cannot change"), transaction.atomic():
        NoteMethod.objects.filter(note=note).delete()
    with pytest.raises(IntegrityError, match="The methods of a signed note cannot change"), transaction.atomic():
        NoteMethod.objects.filter(note=note).update(method=second)

    assert list(fresh(draft).methods.all()) == [first]


def test_the_service_refuses_to_change_a_signed_notes_methods(therapist, signed_note):
    method = methods_of(signed_note.session, MethodCode.EXPOSURE)[0]
    session = TherapySession.objects.get(pk=signed_note.session_id)

    with pytest.raises(ValidationError):
        note_save(actor=Actor.for_user(therapist), session=session, version=1, text="Ändrad.", methods=[method])

    assert not fresh(signed_note).methods.exists()


def test_a_clinics_own_method_needs_a_name_and_a_common_code_is_once_per_clinic(gbg):
    with pytest.raises(IntegrityError, match="method_has_name"), transaction.atomic():
        Method.objects.create(clinic=gbg)
    with pytest.raises(IntegrityError, match="method_code_once"), transaction.atomic():
        Method.objects.create(clinic=gbg, code=MethodCode.EXPOSURE)
    with pytest.raises(IntegrityError, match="method_code_valid"), transaction.atomic():
        Method.objects.create(clinic=gbg, code="invented")
    own = Method.objects.create(clinic=gbg, name="Mindfulness")
    assert own.is_own and str(own) == "Mindfulness"
    assert not Method.objects.get(clinic=gbg, code=MethodCode.EXPOSURE).is_own


def test_the_administrator_keeps_the_methods_on_the_clinics_page(client, admin, gbg):
    client.force_login(admin)

    response = client.get(reverse("admin:kast_clinic_change", args=[gbg.pk]))

    assert response.status_code == 200
    assert 'name="methods-TOTAL_FORMS"' in response.content.decode()


def test_a_clinic_made_in_the_admin_site_starts_with_the_common_methods():
    clinic = ClinicFactory(code="KST", name="KAST Karlstad")
    assert list(Method.objects.filter(clinic=clinic).values_list("code", flat=True)) == MethodCode.values


def test_the_admin_form_keeps_a_saved_methods_code(gbg):
    """Its notes were counted under that code: the past must not be recounted as another method."""
    from sessions.admin import MethodForm

    exposure = Method.objects.get(clinic=gbg, code=MethodCode.EXPOSURE)
    data = {"position": "7", "name": "", "active": "on"}

    changed = MethodForm(instance=exposure, data={**data, "code": ""})
    renamed = MethodForm(instance=exposure, data={**data, "code": MethodCode.EXPOSURE, "name": "Exponering"})
    new = MethodForm(instance=Method(clinic=gbg), data={**data, "code": "", "name": "Promenadsamtal"})

    assert list(changed.errors) == ["code"]
    assert renamed.is_valid(), renamed.errors
    assert new.is_valid(), new.errors
