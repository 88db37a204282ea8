"""Admin's "view on site" shortcut, /admin/r/<content_type_id>/<object_id>/, answers 404 to every input."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from clients.models import Client, FamilyRelationship

pytestmark = pytest.mark.django_db


@pytest.fixture
def paths(client_record):
    client_type = ContentType.objects.get_for_model(Client).pk
    relationship_type = ContentType.objects.get_for_model(FamilyRelationship).pk
    return [
        f"/admin/r/{client_type}/not-a-uuid/",  # a UUID-keyed model and a malformed id: was a 500
        f"/admin/r/{client_type}/00000000-0000-4000-8000-000000000000/",
        f"/admin/r/{client_type}/{client_record.pk}/",  # an existing record: still nothing to show
        f"/admin/r/{relationship_type}/abc/",  # an integer key and a non-number
        f"/admin/r/{relationship_type}/99999999999999999999999/",  # past bigint
        "/admin/r/999999/1/",  # no such content type
        "/admin/r/0/0/",
        "/admin/r/x/y/",
        "/admin/r/",
    ]


def test_every_input_answers_404_to_the_administrator(client, admin, paths):
    client.force_login(admin)
    paths = [*paths, "/admin/r/-1/%00/"]  # a NUL: PostgreSQL refuses it in any text

    answers = {path: client.get(path).status_code for path in paths}

    assert answers == dict.fromkeys(paths, 404)


def test_others_are_refused_before_the_view(client, therapist, paths):
    paths = [*paths, "/admin/r/-1/%00/"]  # the refusal is logged with the path: a NUL must not break that
    anonymous = {path: client.get(path) for path in paths}
    client.force_login(therapist)
    staff = {path: client.get(path).status_code for path in paths}

    assert {path: response.status_code for path, response in anonymous.items()} == dict.fromkeys(paths, 302)
    assert all(response["Location"].startswith(reverse("login")) for response in anonymous.values())
    assert staff == dict.fromkeys(paths, 403)


def test_the_name_still_reverses():
    assert reverse("admin:view_on_site", args=[1, "x"]) == "/admin/r/1/x/"
