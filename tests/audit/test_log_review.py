"""Break-the-glass and the log review: an opening outside the caseload is reasoned, logged, queued and reviewed;
a burst of records in one hour is caught; the log filters by record, user and period."""

from __future__ import annotations

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from audit.models import LogReview
from audit.selectors import VOLUME_LIMIT, review_queue
from clients.models import EmergencyAccess
from kast.models import AccessLogEntry
from tests.factories import ClientFactory, UserFactory

pytestmark = pytest.mark.django_db

REASON = "Klienten ringde i kris och behandlaren är sjuk."


def open_glass(client, colleague, record, reason=REASON):
    client.force_login(colleague)
    return client.post(reverse("clients:emergency"), {"code": record.code.lower(), "reason": reason})


def test_a_colleague_opens_a_record_only_after_giving_a_reason(client, colleague, client_record):
    client.force_login(colleague)
    detail = reverse("clients:detail", args=[client_record.pk])
    assert client.get(detail).status_code == 404

    no_reason = client.post(reverse("clients:emergency"), {"code": client_record.code, "reason": " "})
    assert no_reason.status_code == 200 and "reason" in no_reason.context["form"].errors
    assert client.get(detail).status_code == 404

    response = open_glass(client, colleague, client_record)
    assert response.status_code == 302 and response["Location"] == detail
    assert client.get(detail).status_code == 200
    access = EmergencyAccess.objects.get()
    assert (access.user, access.client, access.reason) == (colleague, client_record, REASON)
    logged = AccessLogEntry.objects.get(reason=f"emergency:{access.pk}")
    assert (logged.user, logged.client_id, logged.action) == (colleague, client_record.pk, "view")
    assert REASON not in logged.reason  # the free text stays in its own row, not in the log


def test_the_access_expires(client, colleague, client_record):
    open_glass(client, colleague, client_record)
    EmergencyAccess.objects.update(
        opened_at=timezone.now() - datetime.timedelta(hours=5), expires_at=timezone.now() - datetime.timedelta(hours=1)
    )
    assert client.get(reverse("clients:detail", args=[client_record.pk])).status_code == 404


def test_only_the_own_clinics_records_can_be_opened(client, other_clinic_therapist, client_record):
    response = open_glass(client, other_clinic_therapist, client_record)
    assert response.status_code == 200
    assert "code" in response.context["form"].errors
    assert not EmergencyAccess.objects.exists()


def test_the_protected_identity_stays_hidden_after_breaking_the_glass(client, colleague, client_record):
    client_record.protected_identity = True
    client_record.full_name = "Hemlig Person"
    client_record.save()
    open_glass(client, colleague, client_record)
    response = client.post(reverse("clients:reveal_identity", args=[client_record.pk]))
    assert "Hemlig Person" not in response.content.decode()


def test_managers_cannot_break_the_glass(client, manager, client_record):
    client.force_login(manager)
    assert client.post(reverse("clients:emergency"), {"code": client_record.code, "reason": REASON}).status_code == 403
    assert not EmergencyAccess.objects.exists()


def test_the_opening_is_queued_reviewed_and_then_leaves_the_queue(client, colleague, manager, client_record):
    open_glass(client, colleague, client_record)
    client.force_login(manager)

    page = client.get(reverse("audit:queue"))
    assert page.status_code == 200
    entry = AccessLogEntry.objects.get(reason__startswith="emergency:")
    assert [(e.pk, e.kind) for e in page.context["page"].object_list] == [(entry.pk, "emergency")]
    assert REASON in page.content.decode()  # the reviewer reads the stated reason

    response = client.post(reverse("audit:review", args=[entry.pk]), {"outcome": "justified", "comment": "Ok."})
    assert response.status_code == 302
    review = LogReview.objects.get()
    assert (review.entry, review.kind, review.outcome, review.reviewed_by) == (entry, "emergency", "justified", manager)
    assert not client.get(reverse("audit:queue")).context["page"].object_list
    again = client.post(reverse("audit:review", args=[entry.pk]), {"outcome": "reported"})
    assert again.status_code == 404 and LogReview.objects.count() == 1


def test_no_outcome_is_chosen_for_the_reviewer(client, colleague, manager, client_record):
    """The outcome starts empty and must be chosen: a reviewer who only meant to look records nothing."""
    open_glass(client, colleague, client_record)
    client.force_login(manager)
    page = client.get(reverse("audit:queue")).content.decode()
    entry = AccessLogEntry.objects.get(reason__startswith="emergency:")
    assert '<option value="" selected>' in page
    assert not re.search(r'<option value="(justified|followed_up|reported)"[^>]*selected', page)

    response = client.post(reverse("audit:review", args=[entry.pk]), {"comment": "Tittade bara."}, follow=True)
    assert gettext("Choose an outcome.") in response.content.decode()
    assert not LogReview.objects.exists()


def test_the_queue_catches_a_burst_of_records_in_one_hour(gbg, therapist, colleague, manager, mlm):
    """The seeded anomaly: Bertil opens VOLUME_LIMIT different records within one hour; Anna one fewer."""
    clients = ClientFactory.create_batch(VOLUME_LIMIT, responsible_therapist=therapist)
    hour = timezone.make_aware(datetime.datetime(2026, 10, 5, 14, 0))
    entries = AccessLogEntry.objects.bulk_create(
        [
            AccessLogEntry(
                user=colleague,
                role="therapist",
                clinic=gbg,
                action="view",
                client_id=c.pk,
                at=hour + datetime.timedelta(minutes=i),
            )
            for i, c in enumerate(clients)
        ]
        + [
            AccessLogEntry(user=therapist, role="therapist", clinic=gbg, action="view", client_id=c.pk, at=hour)
            for c in clients[: VOLUME_LIMIT - 1]
        ]
    )
    queue = list(review_queue(manager))
    assert [(e.pk, e.kind, e.user) for e in queue] == [(entries[0].pk, "volume", colleague)]
    # Anna, one record short of the limit, is not a burst; another clinic's manager sees nothing of it.
    assert not list(review_queue(UserFactory(role="manager", clinic=mlm)))


def test_prints_exports_and_refusals_are_queued(client, therapist, colleague, manager, client_record):
    client.force_login(therapist)
    client.post(reverse("clients:intake_pdf", args=[client_record.pk]))
    client.force_login(colleague)
    client.get(reverse("clients:detail", args=[client_record.pk]))  # 404, logged as denied
    kinds = sorted(e.kind for e in review_queue(manager))
    assert kinds == ["denied", "print"]


def test_the_log_filters_by_record_user_and_period(client, therapist, colleague, manager, gbg, client_record):
    other = ClientFactory(responsible_therapist=therapist)
    day = timezone.make_aware(datetime.datetime(2026, 9, 1, 10))
    AccessLogEntry.objects.bulk_create(
        [
            AccessLogEntry(
                user=therapist, role="therapist", clinic=gbg, action="view", client_id=client_record.pk, at=day
            ),
            AccessLogEntry(user=therapist, role="therapist", clinic=gbg, action="view", client_id=other.pk, at=day),
            AccessLogEntry(
                user=colleague,
                role="therapist",
                clinic=gbg,
                action="denied",
                client_id=client_record.pk,
                at=day + datetime.timedelta(days=10),
            ),
        ]
    )
    client.force_login(manager)

    def shown(**params):
        response = client.get(reverse("access_log"), params)
        return [(e.user.username, e.client_code) for e in response.context["page"].object_list]

    assert shown(code=client_record.code.lower()) == [("bertil", client_record.code), ("anna", client_record.code)]
    assert shown(staff=colleague.pk) == [("bertil", client_record.code)]
    # Newest first; the two of the same moment by entry, the later first.
    assert shown(start="2026-09-01", end="2026-09-05") == [("anna", other.code), ("anna", client_record.code)]
    bad = client.get(reverse("access_log"), {"start": "2026-09-05", "end": "2026-09-01"})
    assert bad.status_code == 400 and "end" in bad.context["form"].errors


@pytest.mark.parametrize("size", [1, 20])
def test_the_queue_keeps_its_query_count(client, therapist, colleague, manager, gbg, size, django_assert_num_queries):
    records = ClientFactory.create_batch(size, responsible_therapist=therapist)
    for record in records:
        open_glass(client, colleague, record)
    AccessLogEntry.objects.bulk_create(
        AccessLogEntry(user=therapist, role="therapist", clinic=gbg, action="print", client_id=r.pk) for r in records
    )
    client.force_login(manager)
    # 1 session, 2 user and clinic, 3 the second factor's device, 4 count of the queue, 5 its page (with user
    # and client code), 6 the stated reasons of the openings on the page
    with django_assert_num_queries(6):
        response = client.get(reverse("audit:queue"))
    assert len(response.context["page"].object_list) == min(2 * size, 25)


def test_another_clinics_refused_attempt_on_our_record_is_in_our_queue_and_log(
    client, other_clinic_therapist, manager, client_record
):
    """A Malmö therapist probing a Göteborg record concerns Göteborg's reviewer, who sees the record's code."""
    client.force_login(other_clinic_therapist)
    assert client.get(reverse("clients:detail", args=[client_record.pk])).status_code == 404

    queued = list(review_queue(manager))
    client.force_login(manager)
    log = client.get(reverse("access_log"), {"code": client_record.code})

    assert [(e.kind, e.user, e.client_code) for e in queued] == [("denied", other_clinic_therapist, client_record.code)]
    assert [e.user for e in log.context["page"].object_list] == [other_clinic_therapist]


def test_a_refusal_by_the_role_table_names_the_record(client, manager, client_record):
    """A manager asking for a relative's page is refused by the role table; the entry names the record tried."""
    from tests.factories import relative_record

    relative = relative_record(client_record.responsible_therapist)
    client.force_login(manager)
    assert client.get(reverse("relatives:detail", args=[relative.pk])).status_code == 403

    assert [(e.kind, e.client_code) for e in review_queue(manager)] == [("denied", relative.code)]


def test_calendar_feed_fetches_are_logged_but_not_queued(client, therapist, manager):
    from sessions.services import calendar_feed_renew

    token = calendar_feed_renew(user=therapist)
    assert client.get(reverse("sessions:calendar_feed", args=[token])).status_code == 200

    assert AccessLogEntry.objects.filter(object_type="therapy_sessions.calendarfeed").count() == 1
    assert list(review_queue(manager)) == []
