"""Background saves on relatives' and children's pages: the child perspective's comment (js/autosave.js), and the
goal form, kept in the browser only."""

from __future__ import annotations

import pytest
from django.urls import reverse

from kast.models import AccessLogEntry
from relatives.models import ChildPerspective
from tests.factories import open_first_period, relative_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(client_record):
    return open_first_period(client_record)


def url(record):
    return reverse("relatives:children_autosave", args=[record.pk])


def test_the_comment_autosaves_and_each_save_counts_up(client, therapist, case):
    client.force_login(therapist)

    first = client.post(url(case), {"comment": "Två barn, 4 och 7 år.", "version": "0"})
    second = client.post(url(case), {"comment": "Två barn, 4 och 7 år. Mamman har vårdnaden.", "version": "1"})

    assert (first.status_code, second.status_code) == (200, 200)
    assert (first.json()["version"], second.json()["version"]) == (1, 2)
    perspective = ChildPerspective.objects.get(record=case)
    assert (perspective.comment, perspective.version, perspective.actions, perspective.considered_on) == (
        "Två barn, 4 och 7 år. Mamman har vårdnaden.",
        2,
        [],
        None,
    )
    # Logged as writes by the record's therapist: the first save creates, the next updates.
    logged = AccessLogEntry.objects.filter(user=therapist, client_id=case.pk, object_type="relatives.childperspective")
    assert list(logged.order_by("pk").values_list("action", flat=True)) == ["create", "update"]


def test_the_comment_autosave_leaves_the_facts_as_saved(client, therapist, case):
    """The facts (children, date, actions) are the page's submit's: a comment's save never changes them."""
    client.force_login(therapist)
    page = reverse("relatives:children", args=[case.pk])
    client.post(
        page, {"children_in_household": 2, "considered_on": "2026-11-10", "actions": ["information"], "version": 0}
    )

    response = client.post(url(case), {"comment": "Samtal om barnen.", "version": "1", "children_in_household": "9"})

    assert response.status_code == 200
    perspective = ChildPerspective.objects.get(record=case)
    assert (perspective.children_in_household, perspective.actions, perspective.comment) == (
        2,
        ["information"],
        "Samtal om barnen.",
    )


def test_a_stale_comment_is_refused_with_the_saved_one(client, therapist, case):
    client.force_login(therapist)
    client.post(url(case), {"comment": "Flik A.", "version": "0"})

    refused = client.post(url(case), {"comment": "Flik B.", "version": "0"})

    assert refused.status_code == 409
    assert (refused.json()["version"], refused.json()["texts"]) == (1, [{"label": "Kommentar", "text": "Flik A."}])
    assert ChildPerspective.objects.get(record=case).comment == "Flik A."


def test_an_over_long_comment_is_400_with_the_fields_message(client, therapist, case):
    client.force_login(therapist)

    response = client.post(url(case), {"comment": "a" * 5001, "version": "0"})

    assert response.status_code == 400
    assert "5" in response.json()["error"]
    assert not ChildPerspective.objects.exists()


@pytest.mark.parametrize(("persona", "status"), [("colleague", 404), ("other_clinic", 404), ("manager", 403)])
def test_others_cannot_autosave_the_comment(client, personas, case, persona, status):
    client.force_login(personas[persona])

    response = client.post(url(case), {"comment": "Någon annans.", "version": "0"})

    assert response.status_code == status
    assert not ChildPerspective.objects.exists()


def test_a_relatives_record_has_it_too_and_the_goal_form_is_kept_in_the_browser(client, therapist):
    relative = relative_record(therapist)
    client.force_login(therapist)

    saved = client.post(url(relative), {"comment": "Ett barn.", "version": "0"})
    page = client.get(reverse("relatives:detail", args=[relative.pk])).content.decode()

    assert saved.status_code == 200
    assert ChildPerspective.objects.get(record=relative).comment == "Ett barn."
    # The goal form: no server draft (a goal is added whole), a copy in this browser until it is sent.
    assert f'data-storage-key="kast-goal-{relative.pk}"' in page
    assert 'data-autosave-fields="text"' in page and "data-autosave-url" not in page
