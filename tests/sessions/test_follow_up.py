"""Ending a treatment plans the follow-ups; they come due on the start page and a held follow-up conversation completes them."""

from __future__ import annotations

import datetime
import re

import pytest
from dateutil.relativedelta import relativedelta
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from clients.models import CaseStatus, EndReason, StatusChange
from sessions.models import Attendance, FollowUp, FollowUpKind, SessionKind, TherapySession
from tests.factories import ClientFactory, open_first_period, working_day

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


@pytest.fixture
def long_case(case):
    """`case`, whose treatment period opened a year ago (so it can end some days back)."""
    case.episodes.update(opened_on=timezone.localdate() - datetime.timedelta(days=365))
    return case


def end_treatment(client, case, **data):
    return client.post(reverse("sessions:end_treatment", args=[case.pk]), data)


def follow_ups(case) -> list[tuple[str, datetime.date, datetime.date | None]]:
    return [(f.kind, f.due_on, f.done_on) for f in FollowUp.objects.filter(client=case).order_by("due_on")]


def state(case) -> tuple:
    """Everything ending a treatment may change."""
    case.refresh_from_db()
    episode = case.episodes.get()
    return (
        case.status,
        episode.closed_on,
        episode.end_reason,
        follow_ups(case),
        list(StatusChange.objects.filter(client=case).values_list("pk", flat=True)),
    )


# -- Ending the treatment --------------------------------------------------------------------------------


@pytest.mark.parametrize(("months", "long_term_months"), [(6, 24), (3, 36)])
def test_ending_the_treatment_closes_the_period_and_plans_both_follow_ups(
    client, therapist, long_case, months, long_term_months
):
    clinic = long_case.clinic
    clinic.follow_up_months, clinic.long_term_follow_up_months = months, long_term_months
    clinic.save(update_fields=["follow_up_months", "long_term_follow_up_months"])
    ended_on = timezone.localdate() - 10 * DAY
    client.force_login(therapist)

    response = end_treatment(
        client,
        long_case,
        ended_on=ended_on.isoformat(),
        reason=EndReason.GOAL_REACHED,
        comment="Målen är nådda.",
        long_term_check="on",
    )

    assert response.status_code == 302
    # The end questionnaire is prompted next.
    assert response["Location"] == reverse("assessments:client", args=[long_case.pk]) + "?point=end"
    long_case.refresh_from_db()
    episode = long_case.episodes.get()
    assert long_case.status == CaseStatus.ENDED
    assert (episode.closed_on, episode.end_reason) == (ended_on, EndReason.GOAL_REACHED)
    assert follow_ups(long_case) == [
        (FollowUpKind.FOLLOW_UP, ended_on + relativedelta(months=months), None),
        (FollowUpKind.LONG_TERM, ended_on + relativedelta(months=long_term_months), None),
    ]
    assert list(FollowUp.objects.filter(client=long_case).values_list("episode", flat=True)) == [episode.pk] * 2
    change = StatusChange.objects.filter(client=long_case).latest("at", "id")
    assert (change.from_status, change.to_status, change.reason, change.by) == (
        CaseStatus.IN_TREATMENT,
        CaseStatus.ENDED,
        "Målen är nådda.",
        therapist,
    )


def test_without_the_long_term_check_only_the_follow_up_conversation_is_planned(client, therapist, long_case):
    ended_on = timezone.localdate() - 10 * DAY
    client.force_login(therapist)

    response = end_treatment(client, long_case, ended_on=ended_on.isoformat(), reason=EndReason.CLIENT_ENDED)

    assert response.status_code == 302
    assert follow_ups(long_case) == [(FollowUpKind.FOLLOW_UP, ended_on + relativedelta(months=6), None)]
    assert long_case.episodes.get().end_reason == EndReason.CLIENT_ENDED


def test_a_follow_up_due_on_a_day_the_month_lacks_falls_on_its_last_day(client, therapist, case):
    case.episodes.update(opened_on=datetime.date(2025, 1, 2))
    client.force_login(therapist)

    end_treatment(client, case, ended_on="2025-08-31", reason=EndReason.MOVED, long_term_check="on")

    assert follow_ups(case) == [
        (FollowUpKind.FOLLOW_UP, datetime.date(2026, 2, 28), None),
        (FollowUpKind.LONG_TERM, datetime.date(2027, 8, 31), None),
    ]


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        (
            {"ended_on": "tomorrow", "reason": EndReason.GOAL_REACHED},
            {"ended_on": ["En behandling kan inte avslutas i framtiden."]},
        ),
        ({"ended_on": "10 days ago", "reason": ""}, {"reason": ["Detta fält måste fyllas i."]}),
        ({"ended_on": "10 days ago"}, {"reason": ["Detta fält måste fyllas i."]}),
        ({"ended_on": "10 days ago", "reason": "finished"}, "reason"),
        ({"ended_on": "", "reason": EndReason.GOAL_REACHED}, {"ended_on": ["Detta fält måste fyllas i."]}),
    ],
    ids=["future", "empty-reason", "no-reason", "unknown-reason", "no-date"],
)
def test_bad_input_is_a_field_error_and_changes_nothing(client, therapist, long_case, data, errors):
    days = {"tomorrow": DAY, "10 days ago": -10 * DAY}
    if data["ended_on"] in days:
        data = {**data, "ended_on": (timezone.localdate() + days[data["ended_on"]]).isoformat()}
    before = state(long_case)
    client.force_login(therapist)

    response = end_treatment(client, long_case, long_term_check="on", **data)

    assert response.status_code == 200
    form_errors = response.context["form"].errors
    if isinstance(errors, str):
        assert list(form_errors) == [errors]  # Django's own "not one of the choices" message
    else:
        assert form_errors == errors
    assert state(long_case) == before
    assert before[:4] == (CaseStatus.IN_TREATMENT, None, "", [])


def test_an_end_before_the_period_opened_is_refused_and_nothing_is_half_done(client, therapist, case):
    """The service checks after the status has moved: the transaction must undo the move."""
    before = state(case)
    client.force_login(therapist)

    response = end_treatment(
        client,
        case,
        ended_on=(timezone.localdate() - DAY).isoformat(),  # the period opened today
        reason=EndReason.GOAL_REACHED,
        long_term_check="on",
    )

    assert response.status_code == 200
    assert response.context["form"].errors == {"ended_on": ["Behandlingen kan inte avslutas innan perioden öppnades."]}
    assert state(case) == before


@pytest.mark.parametrize("status", [CaseStatus.CONTACT, CaseStatus.ASSESSMENT, CaseStatus.ENDED])
@pytest.mark.parametrize("method", ["get", "post"])
def test_a_case_not_in_treatment_cannot_be_ended(client, therapist, long_case, status, method):
    long_case.status = status
    long_case.save(update_fields=["status"])
    before = state(long_case)
    client.force_login(therapist)

    response = getattr(client, method)(
        reverse("sessions:end_treatment", args=[long_case.pk]),
        {"ended_on": (timezone.localdate() - DAY).isoformat(), "reason": EndReason.GOAL_REACHED},
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("clients:detail", args=[long_case.pk])
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["Bara en pågående behandling kan avslutas."]
    assert state(long_case) == before


# -- Follow-ups due on the start page ----------------------------------------------------------------------


def follow_up_for(therapist, code: str, due_on, kind=FollowUpKind.FOLLOW_UP, done_on=None) -> FollowUp:
    client = open_first_period(ClientFactory(responsible_therapist=therapist, code=code, status=CaseStatus.ENDED))
    return FollowUp.objects.create(
        client=client, episode=client.episodes.get(), kind=kind, due_on=due_on, done_on=done_on
    )


def listed_follow_ups(html: str) -> list[tuple[str, bool]]:
    """(client code, has the overdue badge) of each line of the start page's "Follow-ups due"."""
    section = html[html.index('id="followups-heading"') :]
    section = section[: section.index("</section>")]
    return [
        (code, "försenad" in rest)
        for code, rest in re.findall(r'<li class="mb-1">\s*<a href="[^"]+">([^<]+)</a>(.*?)</li>', section, re.S)
    ]


def test_the_start_page_lists_follow_ups_due_within_30_days_or_overdue(client, therapist, colleague):
    today = timezone.localdate()
    overdue = follow_up_for(therapist, "GBG-2026-0011", today - 40 * DAY, kind=FollowUpKind.LONG_TERM)
    yesterday = follow_up_for(therapist, "GBG-2026-0012", today - DAY)
    due_today = follow_up_for(therapist, "GBG-2026-0013", today)
    in_30_days = follow_up_for(therapist, "GBG-2026-0014", today + 30 * DAY)
    follow_up_for(therapist, "GBG-2026-0015", today + 31 * DAY)  # not yet
    follow_up_for(therapist, "GBG-2026-0016", today - 5 * DAY, done_on=today - 6 * DAY)  # done
    follow_up_for(colleague, "GBG-2026-0017", today - 5 * DAY)  # the colleague's client
    client.force_login(therapist)

    response = client.get(reverse("home"))

    assert [f.pk for f in response.context["start"].follow_ups] == [
        overdue.pk,
        yesterday.pk,
        due_today.pk,
        in_30_days.pk,
    ]
    assert listed_follow_ups(response.content.decode()) == [
        ("GBG-2026-0011", True),
        ("GBG-2026-0012", True),
        ("GBG-2026-0013", False),
        ("GBG-2026-0014", False),
    ]


def test_with_nothing_due_the_start_page_says_so(client, therapist):
    follow_up_for(therapist, "GBG-2026-0011", timezone.localdate() + 31 * DAY)
    client.force_login(therapist)

    response = client.get(reverse("home"))

    assert response.context["start"].follow_ups == []
    assert "Inga uppföljningar" in response.content.decode()


# -- The follow-up conversation ----------------------------------------------------------------------------


def log_session(client, case, therapist, kind=SessionKind.FOLLOW_UP, attendance=Attendance.ATTENDED, start="09:00"):
    response = client.post(
        reverse("sessions:new", args=[case.pk]),
        {
            # A booking on a weekday: one on a weekend would first ask to confirm the time.
            "date": (working_day() if attendance == Attendance.BOOKED else timezone.localdate()).isoformat(),
            "start_time": start,
            "duration_minutes": "60",
            "kind": kind,
            "attendance": attendance,
            "therapists": [therapist.pk],
            "fee_charged": "",
            "version": "0",
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    return TherapySession.objects.filter(client=case).order_by("created_at").last()


@pytest.fixture
def ended_case(client, therapist, long_case):
    """`long_case` ended 10 days ago through the page, with both follow-ups planned."""
    client.force_login(therapist)
    end_treatment(
        client,
        long_case,
        ended_on=(timezone.localdate() - 10 * DAY).isoformat(),
        reason=EndReason.GOAL_REACHED,
        long_term_check="on",
    )
    long_case.refresh_from_db()
    assert long_case.status == CaseStatus.ENDED
    return long_case


def test_a_held_follow_up_conversation_completes_the_follow_up_and_the_case(client, therapist, ended_case):
    today = timezone.localdate()
    planned = follow_ups(ended_case)

    session = log_session(client, ended_case, therapist)

    follow_up, long_term = FollowUp.objects.filter(client=ended_case).order_by("due_on")
    assert (follow_up.kind, follow_up.done_on, follow_up.session) == (FollowUpKind.FOLLOW_UP, today, session)
    assert (long_term.done_on, long_term.session) == (None, None)
    assert follow_ups(ended_case) == [(planned[0][0], planned[0][1], today), planned[1]]
    ended_case.refresh_from_db()
    assert ended_case.status == CaseStatus.FOLLOWED_UP
    change = StatusChange.objects.filter(client=ended_case).latest("at", "id")
    assert (change.from_status, change.to_status, change.by, change.reason) == (
        CaseStatus.ENDED,
        CaseStatus.FOLLOWED_UP,
        therapist,
        "Uppföljningssamtal genomfört",
    )


def test_the_next_follow_up_conversation_completes_the_long_term_check(client, therapist, ended_case):
    first = log_session(client, ended_case, therapist, start="09:00")
    changes = StatusChange.objects.filter(client=ended_case).count()

    second = log_session(client, ended_case, therapist, start="11:00")

    assert [(f.kind, f.session) for f in FollowUp.objects.filter(client=ended_case).order_by("due_on")] == [
        (FollowUpKind.FOLLOW_UP, first),
        (FollowUpKind.LONG_TERM, second),
    ]
    ended_case.refresh_from_db()
    assert ended_case.status == CaseStatus.FOLLOWED_UP
    assert StatusChange.objects.filter(client=ended_case).count() == changes


@pytest.mark.parametrize(
    ("kind", "attendance"),
    [
        (SessionKind.FOLLOW_UP, Attendance.BOOKED),
        (SessionKind.FOLLOW_UP, Attendance.NO_SHOW),
        (SessionKind.FOLLOW_UP, Attendance.CANCELLED_BY_CLIENT),
        (SessionKind.INDIVIDUAL, Attendance.ATTENDED),
    ],
)
def test_only_a_held_follow_up_conversation_completes_a_follow_up(client, therapist, ended_case, kind, attendance):
    planned = follow_ups(ended_case)

    log_session(client, ended_case, therapist, kind=kind, attendance=attendance)

    assert follow_ups(ended_case) == planned
    ended_case.refresh_from_db()
    assert ended_case.status == CaseStatus.ENDED


def test_a_follow_up_held_no_longer_lists_it_on_the_start_page(client, therapist, ended_case):
    FollowUp.objects.filter(client=ended_case, kind=FollowUpKind.FOLLOW_UP).update(due_on=timezone.localdate())
    assert [f.kind for f in client.get(reverse("home")).context["start"].follow_ups] == [FollowUpKind.FOLLOW_UP]

    log_session(client, ended_case, therapist)

    assert client.get(reverse("home")).context["start"].follow_ups == []


def test_only_the_follow_up_conversation_moves_the_case_to_followed_up(client, therapist, long_case):
    """A clinic whose long-term check comes first: holding it completes the check, and the case stays ended."""
    clinic = long_case.clinic
    clinic.follow_up_months, clinic.long_term_follow_up_months = 12, 6
    clinic.save(update_fields=["follow_up_months", "long_term_follow_up_months"])
    client.force_login(therapist)
    end_treatment(
        client,
        long_case,
        ended_on=(timezone.localdate() - 10 * DAY).isoformat(),
        reason=EndReason.GOAL_REACHED,
        long_term_check="on",
    )

    check = log_session(client, long_case, therapist, start="09:00")

    long_case.refresh_from_db()
    assert long_case.status == CaseStatus.ENDED
    assert [(f.kind, f.session) for f in FollowUp.objects.filter(client=long_case).order_by("due_on")] == [
        (FollowUpKind.LONG_TERM, check),
        (FollowUpKind.FOLLOW_UP, None),
    ]

    conversation = log_session(client, long_case, therapist, start="11:00")

    long_case.refresh_from_db()
    assert long_case.status == CaseStatus.FOLLOWED_UP
    assert FollowUp.objects.get(client=long_case, kind=FollowUpKind.FOLLOW_UP).session == conversation
