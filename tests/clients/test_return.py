"""A former client returns: the earlier period's follow-ups still open are kept due or closed as not needed, by
the therapist's explicit choice; closed ones leave the start page and the figures' open and overdue counts."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from clients.models import CaseStatus
from figures import statistics
from sessions.models import FollowUp
from sessions.selectors import start_page_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def ended(client, therapist, case):
    """Treated and ended today: the six-month follow-up and the long-term check are due later."""
    client.force_login(therapist)
    for to_status in (CaseStatus.ASSESSMENT, CaseStatus.IN_TREATMENT):
        response = client.post(reverse("clients:transition", args=[case.pk]), {"to_status": to_status})
        assert response.status_code == 302
    today = timezone.localdate().isoformat()
    response = client.post(
        reverse("sessions:end_treatment", args=[case.pk]),
        {"ended_on": today, "reason": "goal_reached", "long_term_check": "on"},
    )
    assert response.status_code == 302
    assert FollowUp.objects.filter(client=case).count() == 2
    return case


def reopen(client, case, **data):
    return client.post(reverse("clients:reopen", args=[case.pk]), {"reason": "Återfall", **data})


def test_the_page_asks_what_becomes_of_the_open_follow_ups(client, ended):
    page = client.get(reverse("clients:detail", args=[ended.pk])).content.decode()

    assert 'name="follow_ups"' in page
    assert page.count('name="follow_ups"') == 2


def test_without_a_choice_no_period_is_opened(client, ended):
    response = reopen(client, ended)

    # The last message: the fixture's own steps left theirs before it.
    assert [str(m) for m in get_messages(response.wsgi_request)][-1] == _(
        "Choose what becomes of the earlier follow-ups still open."
    )
    ended.refresh_from_db()
    assert (ended.status, ended.episodes.count()) == (CaseStatus.ENDED, 1)


def test_closing_them_keeps_them_dated_and_takes_them_off_the_diary_and_the_counts(client, therapist, ended):
    assert reopen(client, ended, follow_ups="close").status_code == 302

    ended.refresh_from_db()
    assert (ended.status, ended.episodes.count()) == (CaseStatus.CONTACT, 2)
    assert (
        list(FollowUp.objects.filter(client=ended).values_list("dropped_on", "done_on"))
        == [(timezone.localdate(), None)] * 2
    )
    assert FollowUp.objects.open().count() == 0
    assert start_page_for(therapist).follow_ups == []
    counts = statistics.clinic_session_counts(ended.clinic)
    assert (counts.follow_ups_overdue, counts.follow_ups_due_30_days) == (0, 0)


def test_keeping_them_leaves_them_due(client, ended):
    assert reopen(client, ended, follow_ups="keep").status_code == 302

    assert FollowUp.objects.open().filter(client=ended).count() == 2


def test_a_client_without_open_follow_ups_is_not_asked(client, therapist, case):
    client.force_login(therapist)
    for to_status in (CaseStatus.ASSESSMENT, CaseStatus.CLOSED):
        client.post(reverse("clients:transition", args=[case.pk]), {"to_status": to_status, "reason": "x"})

    assert 'name="follow_ups"' not in client.get(reverse("clients:detail", args=[case.pk])).content.decode()
    assert reopen(client, case).status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.CONTACT
