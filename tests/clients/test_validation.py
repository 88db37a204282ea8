"""Friendly field errors for impossible client and family data, and nothing half-saved when they appear."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import gettext as _

from clients.identity import normalize_personnummer
from clients.models import (
    Client,
    Episode,
    FamilyMember,
    FamilyRelationship,
    StatusChange,
)
from kast.models import AccessLogEntry
from tests.clients.form_data import member_data, register_data
from tests.factories import ClientFactory, FamilyMemberFactory

pytestmark = pytest.mark.django_db

THIS_YEAR = timezone.localdate().year
INVALID_NUMBER = _("This is not a valid personnummer or samordningsnummer (check the date and the last digit).")
BAD_FORMAT = _("Enter the number as YYYYMMDD-NNNN or YYMMDD-NNNN.")
DUPLICATE = _("A client with this personnummer is already registered at the clinic.")


def stored_rows() -> dict[str, int]:
    """Everything a registration writes; all zero when a registration is refused."""
    return {
        "clients": Client.objects.count(),
        "episodes": Episode.objects.count(),
        "status_changes": StatusChange.objects.count(),
        "family_members": FamilyMember.objects.count(),
        "log_create": AccessLogEntry.objects.filter(action="create").count(),
    }


NOTHING = {"clients": 0, "episodes": 0, "status_changes": 0, "family_members": 0, "log_create": 0}


def register(http, therapist, **fields):
    http.force_login(therapist)
    return http.post(reverse("clients:register"), register_data(therapist, **fields))


def assert_field_error(response, field, message, form="form"):
    """The one error is on `field`, and the page shows it."""
    assert response.context[form].errors == {field: [message]}
    assert escape(message) in response.content.decode()


# -- normalize_personnummer -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        ("850709-1232", "19850709-1232"),
        ("8507091232", "19850709-1232"),
        ("19850709-1232", "19850709-1232"),
        ("198507091232", "19850709-1232"),
        (" 850709 1232 ", "19850709-1232"),
        # Over 100 years old: the 10-digit form says so with "+".
        ("850709+1232", "18850709-1232"),
        ("0002291235", "20000229-1235"),
        # Samordningsnummer: day + 60, stored as given (the day stays 69).
        ("850769-1239", "19850769-1239"),
        ("198507691239", "19850769-1239"),
    ],
)
def test_normalize_personnummer(value, stored):
    assert normalize_personnummer(value) == stored


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("850709-1233", "personnummer_invalid"),  # checksum
        ("19850709-1233", "personnummer_invalid"),  # checksum, 12 digits
        ("851309-1239", "personnummer_invalid"),  # month 13
        ("850230-1230", "personnummer_invalid"),  # 30 February
        ("010229-1231", "personnummer_invalid"),  # 29 February in a non-leap year
        ("850792-1230", "personnummer_invalid"),  # day 32 as samordningsnummer
        ("8507091232x", "personnummer_format"),
        ("85070912321", "personnummer_format"),
        ("8507-09", "personnummer_format"),
        ("abcdef-ghij", "personnummer_format"),
        ("", "personnummer_format"),
    ],
)
def test_normalize_personnummer_refuses(value, code):
    with pytest.raises(ValidationError) as error:
        normalize_personnummer(value)
    assert error.value.code == code


def test_normalize_personnummer_refuses_a_birth_date_in_the_future():
    with pytest.raises(ValidationError) as error:
        normalize_personnummer("20270101-1237", today=datetime.date(2026, 12, 31))
    assert error.value.code == "personnummer_future"
    assert normalize_personnummer("20270101-1237", today=datetime.date(2027, 1, 1)) == "20270101-1237"


# -- Registering: personnummer --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("850709-1233", INVALID_NUMBER),  # bad checksum
        ("851309-1239", INVALID_NUMBER),  # bad date
        ("85070912", BAD_FORMAT),  # eight digits, no serial number
        ("abc-defg", BAD_FORMAT),
    ],
)
def test_an_invalid_personnummer_is_a_field_error_and_nothing_is_registered(client, therapist, value, message):
    response = register(client, therapist, personnummer=value)

    assert response.status_code == 200
    assert_field_error(response, "personnummer", message)
    assert stored_rows() == NOTHING


def test_a_samordningsnummer_is_accepted(client, therapist):
    response = register(client, therapist, personnummer="850769-1239")

    assert response.status_code == 302
    assert Client.objects.get().personnummer == "19850769-1239"


def test_ten_and_twelve_digits_are_stored_alike_and_the_duplicate_is_refused(client, therapist):
    register(client, therapist, personnummer="8507091232")
    first = Client.objects.get()

    response = register(client, therapist, personnummer="198507091232")

    assert first.personnummer == "19850709-1232"
    assert response.status_code == 200
    assert_field_error(response, "personnummer", DUPLICATE)
    assert list(Client.objects.values_list("pk", flat=True)) == [first.pk]
    assert stored_rows() == {
        **NOTHING,
        "clients": 1,
        "episodes": 1,
        "status_changes": 1,
        "family_members": 1,
        "log_create": 1,
    }


def test_the_same_number_is_allowed_at_another_clinic(client, therapist, other_clinic_therapist):
    register(client, therapist, personnummer="850709-1232")

    response = register(client, other_clinic_therapist, personnummer="19850709-1232")

    assert response.status_code == 302
    assert sorted(Client.objects.values_list("clinic__code", "personnummer")) == [
        ("GBG", "19850709-1232"),
        ("MLM", "19850709-1232"),
    ]


def test_a_duplicate_is_refused_when_changing_the_identity_too(client, therapist):
    register(client, therapist, personnummer="850709-1232")
    register(client, therapist, personnummer="")
    other = Client.objects.get(personnummer="")

    response = client.post(
        reverse("clients:identity_edit", args=[other.pk]),
        {"version": other.version, "alias": "Nisse", "personnummer": "198507091232"},
    )

    assert response.status_code == 200
    assert_field_error(response, "personnummer", DUPLICATE)
    other.refresh_from_db()
    assert (other.alias, other.personnummer, other.version) == ("", "", 1)


def test_keeping_ones_own_number_is_not_a_duplicate(client, therapist):
    register(client, therapist, personnummer="850709-1232")
    registered = Client.objects.get()

    response = client.post(
        reverse("clients:identity_edit", args=[registered.pk]),
        {"version": registered.version, "alias": "Nisse", "personnummer": "8507091232"},
    )

    assert response.status_code == 302
    registered.refresh_from_db()
    assert (registered.alias, registered.personnummer, registered.version) == ("Nisse", "19850709-1232", 2)


# -- Registering: the facts about the client ------------------------------------------------------------------


def test_a_birth_year_in_the_future_is_a_field_error(client, therapist):
    response = register(client, therapist, birth_year=str(THIS_YEAR + 1))

    assert_field_error(response, "birth_year", _("The birth year cannot be in the future."))
    assert stored_rows() == NOTHING


def test_a_child_older_than_plausible_is_an_error_on_the_ages(client, therapist):
    response = register(client, therapist, birth_year="2000", has_children="true", children_ages="4, 30")

    message = _("A child of %(age)s does not fit a client born in %(year)s. Check the ages and the birth year.") % {
        "age": 30,
        "year": 2000,
    }
    assert_field_error(response, "children_ages", message)
    assert stored_rows() == NOTHING


def test_a_child_eleven_years_younger_than_the_client_is_an_error(client, therapist):
    age = THIS_YEAR - 2000 - 11

    response = register(client, therapist, birth_year="2000", has_children="true", children_ages=str(age))

    message = _("A child of %(age)s does not fit a client born in %(year)s. Check the ages and the birth year.") % {
        "age": age,
        "year": 2000,
    }
    assert_field_error(response, "children_ages", message)


def test_a_child_twelve_years_younger_than_the_client_is_accepted(client, therapist):
    response = register(client, therapist, birth_year="2000", has_children="true", children_ages=str(THIS_YEAR - 2012))

    assert response.status_code == 302
    assert Client.objects.get().children_ages == [THIS_YEAR - 2012]


def test_ages_with_has_children_no_is_an_error(client, therapist):
    response = register(client, therapist, has_children="false", children_ages="4")

    assert_field_error(response, "children_ages", _("Ages are given, but 'has children' says no."))
    assert stored_rows() == NOTHING


@pytest.mark.parametrize("typed", ["4 och 9", "4; 9", "4, nio", "4,,9", "-1"])
def test_ages_not_written_as_whole_numbers_get_one_plain_message(client, therapist, typed):
    response = register(client, therapist, has_children="true", children_ages=typed)

    assert_field_error(response, "children_ages", _("Give the ages as whole numbers, e.g. 4, 9"))
    assert not Client.objects.exists()


def test_an_impossible_birth_year_on_edit_leaves_the_client_unchanged(client, therapist, client_record):
    client.force_login(therapist)
    data = register_data(therapist, birth_year=str(THIS_YEAR + 1), occupation="Snickare")

    response = client.post(reverse("clients:edit", args=[client_record.pk]), {**data, "version": "1"})

    assert_field_error(response, "birth_year", _("The birth year cannot be in the future."))
    client_record.refresh_from_db()
    assert (client_record.birth_year, client_record.occupation, client_record.version) == (None, "", 1)


# -- The family map ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"death_year": "1990"}, "death_year", _("A year of death needs 'deceased' to be ticked.")),
        (
            {"deceased": "on", "death_year": "1920"},
            "death_year",
            _("The year of death must be between the birth year and this year."),
        ),
        (
            {"deceased": "on", "death_year": str(THIS_YEAR + 1)},
            "death_year",
            _("The year of death must be between the birth year and this year."),
        ),
        ({"birth_year": str(THIS_YEAR + 1)}, "birth_year", _("The birth year cannot be in the future.")),
    ],
)
def test_impossible_family_member_years_are_field_errors(client, therapist, case, fields, field, message):
    client.force_login(therapist)

    response = client.post(reverse("clients:family", args=[case.pk]), member_data(**fields))

    assert response.status_code == 200
    assert_field_error(response, field, message, form="member_form")
    assert list(case.family_members.values_list("relation", flat=True)) == ["client"]
    assert AccessLogEntry.objects.filter(action="update").count() == 0


def test_an_impossible_change_to_a_family_member_changes_nothing(client, therapist, case):
    grandfather = FamilyMemberFactory(client=case, label="Morfar", relation="grandparent", birth_year=1930)
    client.force_login(therapist)

    response = client.post(
        reverse("clients:family_member", args=[case.pk, grandfather.pk]),
        member_data(label="Morfar Olle", deceased="on", death_year="1920"),
    )

    assert_field_error(response, "death_year", _("The year of death must be between the birth year and this year."))
    grandfather.refresh_from_db()
    assert (grandfather.label, grandfather.deceased, grandfather.death_year) == ("Morfar", False, None)


def test_a_valid_family_member_is_saved(client, therapist, case):
    client.force_login(therapist)

    response = client.post(reverse("clients:family", args=[case.pk]), member_data(deceased="on", death_year="2001"))

    assert response.status_code == 302
    added = case.family_members.get(relation="grandparent")
    assert (added.label, added.sex, added.birth_year, added.deceased, added.death_year) == (
        "Morfar",
        "male",
        1930,
        True,
        2001,
    )


def test_a_relationship_with_oneself_is_refused(client, therapist, case):
    mother = FamilyMemberFactory(client=case, label="Mamma", relation="parent")
    client.force_login(therapist)

    response = client.post(
        reverse("clients:relationship_add", args=[case.pk]), {"a": mother.pk, "b": mother.pk, "kind": "close"}
    )

    assert response.status_code == 400
    assert_field_error(response, "b", _("Choose two different people."), form="relationship_form")
    assert FamilyRelationship.objects.count() == 0


def test_a_relationship_with_someone_from_another_family_map_is_refused(client, therapist, case):
    mother = FamilyMemberFactory(client=case, label="Mamma", relation="parent")
    stranger = FamilyMemberFactory(client=ClientFactory(responsible_therapist=therapist), label="Främling")
    client.force_login(therapist)

    response = client.post(
        reverse("clients:relationship_add", args=[case.pk]), {"a": mother.pk, "b": stranger.pk, "kind": "close"}
    )

    assert response.status_code == 400
    assert list(response.context["relationship_form"].errors) == ["b"]
    assert FamilyRelationship.objects.count() == 0


def test_a_valid_relationship_is_saved(client, therapist, case):
    mother = FamilyMemberFactory(client=case, label="Mamma", relation="parent")
    father = FamilyMemberFactory(client=case, label="Pappa", relation="parent")
    client.force_login(therapist)

    response = client.post(
        reverse("clients:relationship_add", args=[case.pk]), {"a": father.pk, "b": mother.pk, "kind": "divorced"}
    )

    assert response.status_code == 302
    assert list(FamilyRelationship.objects.values_list("client", "a", "b", "kind")) == [
        (case.pk, father.pk, mother.pk, "divorced")
    ]

    assert AccessLogEntry.objects.filter(action="update", object_type="clients.familyrelationship").count() == 1
