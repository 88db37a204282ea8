"""Two requests racing past the form's check to the same unique row: the loser gets a form error, not a 500.

The rival's row is written in a second connection and left uncommitted, so the request's own check cannot
see it; the request then waits on the unique index. Once the request is seen waiting, the rival commits and
the database refuses the request's row. The log sentinel (tests/log_sentinel.py) fails the test should a
personnummer reach the log (a DETAIL line).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from django.db import connection, connections, transaction
from django.test import Client as Browser
from django.urls import reverse
from django.utils import translation

from clients.identity import normalize_personnummer
from clients.models import Client, FamilyRelationship, RelationshipKind
from relatives.models import ReactionReview
from tests.factories import ClientFactory, FamilyMemberFactory, relative_record

pytestmark = pytest.mark.django_db(transaction=True)

PERSONNUMMER = "811218-9876"  # Skatteverket's test number


def _in_thread(work: Callable[[], None]) -> threading.Thread:
    def run():
        try:
            work()
        finally:
            connections.close_all()  # this thread's own connection

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def _waiting_on_a_lock() -> bool:
    # pg_locks, not pg_stat_activity's wait_event: the tests work as the runtime role (tests/conftest.py), which
    # is shown the wait events of its own sessions only, and the threads' sessions log in as the suite's superuser.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
            " WHERE NOT l.granted AND a.datname = current_database()"
        )
        return cursor.fetchone()[0] > 0


def race(rival_writes: Callable[[], None], request: Callable[[], object]):
    """The response of `request` made while `rival_writes` is uncommitted, the rival committing meanwhile."""
    written, commit = threading.Event(), threading.Event()
    result = {}

    def rival():
        with transaction.atomic():
            rival_writes()
            written.set()
            commit.wait(10)

    rival_thread = _in_thread(rival)
    assert written.wait(10)
    request_thread = _in_thread(lambda: result.update(response=request()))
    deadline = time.monotonic() + 10
    while not _waiting_on_a_lock() and time.monotonic() < deadline:
        time.sleep(0.02)
    waited = _waiting_on_a_lock()
    commit.set()
    rival_thread.join(10)
    request_thread.join(10)
    assert waited, "the request never reached the unique index: the race was not run"
    return result["response"]


def swedish(message: str) -> str:
    """The message as the (Swedish) page shows it."""
    with translation.override("sv"):
        return translation.gettext(message)


def _browser(user) -> Browser:
    browser = Browser(raise_request_exception=False)  # a 500 is an answer to assert on, not an exception
    browser.force_login(user)
    return browser


def test_two_identities_saved_with_the_same_personnummer(therapist):
    mine = ClientFactory(responsible_therapist=therapist, code="GBG-2026-0001")
    theirs = ClientFactory(responsible_therapist=therapist, code="GBG-2026-0002")
    stored = normalize_personnummer(PERSONNUMMER)
    browser = _browser(therapist)

    response = race(
        lambda: Client.objects.filter(pk=theirs.pk).update(personnummer=stored),
        lambda: browser.post(
            reverse("clients:identity_edit", args=[mine.pk]), {"version": mine.version, "personnummer": PERSONNUMMER}
        ),
    )

    assert response.status_code == 200
    assert response.context["form"].errors == {
        "personnummer": [swedish("A client with this personnummer is already registered at the clinic.")]
    }
    mine.refresh_from_db()
    assert (mine.personnummer, mine.version) == ("", 1)


def test_two_reaction_reviews_on_the_same_date(therapist):
    partner = relative_record(therapist)
    browser = _browser(therapist)
    scores = {"loss_of_control": 4, "guilt": 3, "shame": 4, "displaced_anger": 2}

    response = race(
        lambda: ReactionReview.objects.create(
            relative=partner, recorded_by=therapist, reviewed_on="2026-09-01", **{**scores, "guilt": 1}
        ),
        lambda: browser.post(
            reverse("relatives:reactions", args=[partner.pk]), {"reviewed_on": "2026-09-01", **scores}
        ),
    )

    assert response.status_code == 400
    assert response.context["reaction_form"].errors == {
        "reviewed_on": [swedish("The reactions are already recorded for this date.")]
    }
    assert list(ReactionReview.objects.values_list("guilt", flat=True)) == [1]


def test_two_identical_family_relationships(therapist):
    case = ClientFactory(responsible_therapist=therapist, code="GBG-2026-0001")
    a = FamilyMemberFactory(client=case)
    b = FamilyMemberFactory(client=case)
    browser = _browser(therapist)

    response = race(
        lambda: FamilyRelationship.objects.create(client=case, a=a, b=b, kind=RelationshipKind.MARRIED),
        lambda: browser.post(
            reverse("clients:relationship_add", args=[case.pk]),
            {"a": a.pk, "b": b.pk, "kind": RelationshipKind.MARRIED},
        ),
    )

    assert response.status_code == 400
    assert response.context["relationship_form"].non_field_errors() == [
        swedish("This relationship is already in the family map.")
    ]
    assert FamilyRelationship.objects.count() == 1
