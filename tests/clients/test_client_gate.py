"""The one gate for client records (Client.objects.visible_to), and the pages behind it at a fixed query count."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import AnonymousUser
from django.urls import reverse

from clients.models import Client
from kast.models import AccessLogEntry
from tests.factories import ClientFactory, UserFactory

pytestmark = pytest.mark.django_db


def visible(user):
    return list(Client.objects.visible_to(user))


# -- Client.objects.visible_to ------------------------------------------------------------------------------


def test_the_responsible_therapist_sees_the_client(therapist, client_record):
    assert visible(therapist) == [client_record]


def test_a_co_therapist_sees_the_client(colleague, client_record):
    client_record.co_therapists.add(colleague)

    assert visible(colleague) == [client_record]


def test_a_colleague_not_on_the_case_does_not(colleague, client_record):
    assert visible(colleague) == []


def test_another_clinic_s_therapist_does_not_even_as_co_therapist(other_clinic_therapist, client_record):
    """An inconsistent co-therapist row across clinics must not open the record."""
    client_record.co_therapists.add(other_clinic_therapist)

    assert visible(other_clinic_therapist) == []


def test_managers_administrators_and_anonymous_see_none(manager, admin, client_record):
    client_record.co_therapists.add(manager, admin)

    assert (visible(manager), visible(admin), visible(AnonymousUser())) == ([], [], [])


def test_an_inactive_therapist_sees_none(therapist, client_record):
    therapist.is_active = False
    therapist.save(update_fields=["is_active"])

    assert visible(therapist) == []


def test_no_duplicates_when_responsible_and_co_therapist(therapist, colleague, client_record):
    client_record.co_therapists.add(therapist, colleague)

    assert visible(therapist) == [client_record]
    assert visible(colleague) == [client_record]
    assert Client.objects.visible_to(therapist).count() == 1


# -- Query counts at two data sizes -------------------------------------------------------------------------


@pytest.fixture
def caseload(therapist, colleague):
    """The therapist's own clients plus one shared with the colleague; the colleague also has clients of their own."""

    def make(size):
        own = ClientFactory.create_batch(size, responsible_therapist=therapist)
        shared = ClientFactory(responsible_therapist=colleague)
        shared.co_therapists.add(therapist)
        ClientFactory.create_batch(2, responsible_therapist=colleague)
        return [*own, shared]

    return make


def listed_codes(response):
    return re.findall(r'<a href="/clients/[0-9a-f-]{36}/">([^<]+)</a>', response.content.decode())


@pytest.mark.parametrize("size", [3, 30])
def test_client_list_query_count_and_content(client, therapist, caseload, size, django_assert_num_queries):
    mine = caseload(size)
    client.force_login(therapist)

    # 1 session, 2 user + clinic, 3 the second factor's device, 4 count for the paginator, 5 the page of clients with
    # their responsible therapist
    with django_assert_num_queries(5):
        response = client.get(reverse("clients:list"))

    assert response.status_code == 200
    assert listed_codes(response) == sorted(c.code for c in mine)


@pytest.mark.parametrize("size", [3, 30])
def test_client_detail_query_count(client, therapist, client_record, size, django_assert_num_queries):
    ClientFactory.create_batch(size, responsible_therapist=therapist)
    client.force_login(therapist)

    # 1 session, 2 user + clinic, 3 the second factor's device, 4 the client with clinic and responsible therapist,
    # 5 insert the access-log entry, 6 co-therapists, 7 deep-interview sections, 8 current assessment conversation,
    # 9 the child perspective, 10 the linked relatives, 11 the goals (none here: their reviews are not read),
    # 12 the group meetings attended (none here: no addenda read), 13 status history, 14 the clinic's referral
    # destinations
    with django_assert_num_queries(14):
        response = client.get(reverse("clients:detail", args=[client_record.pk]))

    assert response.status_code == 200
    assert AccessLogEntry.objects.filter(client_id=client_record.pk, action="view").count() == 1


@pytest.mark.parametrize("size", [3, 30])
def test_access_log_query_count(client, manager, therapist, colleague, client_record, size, django_assert_num_queries):
    writers = [therapist, colleague, UserFactory(clinic=manager.clinic)]
    AccessLogEntry.objects.bulk_create(
        AccessLogEntry(
            user=writers[i % 3],
            role=writers[i % 3].role,
            clinic=manager.clinic,
            action="view",
            client_id=client_record.pk,
        )
        for i in range(size)
    )
    client.force_login(manager)

    # 1 session, 2 user + clinic, 3 the second factor's device, 4 count for the paginator, 5 the page of entries with
    # user, clinic and client code, 6 the clinic's staff for the filter
    with django_assert_num_queries(6):
        response = client.get(reverse("access_log"))

    assert response.status_code == 200
    assert response.content.decode().count(f"<td>{client_record.code}</td>") == size
