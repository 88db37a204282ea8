"""The dashboard: every figure exact on a known caseload, never a word of content, fixed queries, bad input."""

from __future__ import annotations

import csv
import datetime
import html
import io
import json
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from assessments.models import Administration, Answer, ItemKind, TimePoint
from assessments.services import version_for
from clients.models import (
    CaseStatus,
    Client,
    DeepInterviewSection,
    EndReason,
    Episode,
    ReferralDestination,
    StatusChange,
)
from figures.statistics import dashboard, dashboard_tables
from kast.models import AccessLogEntry, Role
from relatives.models import ChildPerspective
from sessions.models import Attendance, FollowUp, FollowUpKind, SessionKind, SessionParticipant
from tests.factories import (
    ClientFactory,
    NoteFactory,
    TherapySessionFactory,
    UserFactory,
    history_since_joining,
    link,
    open_first_period,
    put_in_treatment,
    relative_record,
)

pytestmark = pytest.mark.django_db

SENTINEL = "SENTINEL-dashboard-7"
QUARTER = {"period": "quarter", "start": "2025-02-15"}  # 1 January to 31 March 2025
START, END = datetime.date(2025, 1, 1), datetime.date(2025, 3, 31)


def d(text: str) -> datetime.date:
    return datetime.date.fromisoformat(text)


def close(client, closed: str, reason: str) -> None:
    Episode.objects.filter(client=client).update(closed_on=d(closed), end_reason=reason)


@pytest.fixture
def caseload(gbg, therapist, colleague, other_clinic_therapist):
    """Göteborg, first quarter of 2025, with every figure worked out by hand in EXPECTED; noise in Malmö."""
    therapist.fte = Decimal("0.50")
    therapist.save(update_fields=["fte"])
    history_since_joining(therapist)  # half time since she joined: in the quarter too
    session = TherapySessionFactory
    # c1 (Anna): contact 10 Jan, in treatment now; held 20 Jan (200 kr, paid) and 3 Feb (couple, 300 kr, unpaid),
    # missed 10 Feb, cancelled by the client 17 Feb; one held session marked as wrongly recorded does not count.
    c1 = ClientFactory(
        responsible_therapist=therapist,
        first_contact_date=d("2025-01-10"),
        target_groups=["buying_sex"],
        referral_source="self",
        alias=SENTINEL,
    )
    put_in_treatment(open_first_period(c1))
    first = session(client=c1, date=d("2025-01-20"), fee_charged=200, fee_paid=True)
    NoteFactory(session=first, text=SENTINEL)
    session(client=c1, date=d("2025-02-03"), kind=SessionKind.COUPLE, fee_charged=300)
    session(client=c1, date=d("2025-02-10"), attendance=Attendance.NO_SHOW)
    session(client=c1, date=d("2025-02-17"), attendance=Attendance.CANCELLED_BY_CLIENT)
    session(client=c1, date=d("2025-02-20"), voided_at=timezone.now(), voided_by=therapist, void_reason="Fel klient")
    DeepInterviewSection.objects.create(client=c1, section="childhood", text=SENTINEL, updated_by=therapist)
    # c2 (Bertil): contact 5 Feb, held 25 Feb (150 kr), the clinic cancelled 5 Mar; ended 20 Mar, goal reached.
    c2 = ClientFactory(
        responsible_therapist=colleague,
        first_contact_date=d("2025-02-05"),
        target_groups=["compulsive", "relative"],
        referral_source="police",
    )
    put_in_treatment(open_first_period(c2))
    session(client=c2, date=d("2025-02-25"), fee_charged=150)
    session(client=c2, date=d("2025-03-05"), attendance=Attendance.CANCELLED_BY_CLINIC)
    close(c2, "2025-03-20", EndReason.GOAL_REACHED)
    FollowUp.objects.create(client=c2, episode=c2.episodes.get(), kind=FollowUpKind.FOLLOW_UP, due_on=d("2025-03-25"))
    # c3 (Anna): in treatment since June 2024, ended 31 Jan 2025 by the client's choice (8 months); followed up.
    c3 = ClientFactory(responsible_therapist=therapist, first_contact_date=d("2024-06-01"))
    put_in_treatment(open_first_period(c3))
    session(client=c3, date=d("2024-06-20"))
    close(c3, "2025-01-31", EndReason.CLIENT_ENDED)
    FollowUp.objects.create(
        client=c3,
        episode=c3.episodes.get(),
        kind=FollowUpKind.FOLLOW_UP,
        due_on=d("2025-02-15"),
        done_on=d("2025-02-16"),
    )
    # c4 (Anna): contact 1 Mar, referred on 3 Mar.
    c4 = open_first_period(
        ClientFactory(
            responsible_therapist=therapist,
            first_contact_date=d("2025-03-01"),
            target_groups=["buying_sex"],
            referral_source="health_care",
        )
    )
    StatusChange.objects.create(
        client=c4,
        episode=c4.episodes.get(),
        from_status=CaseStatus.CONTACT,
        to_status=CaseStatus.REFERRED,
        referred_to=ReferralDestination.objects.get(clinic=gbg, name="Beroendevården"),
        destination=SENTINEL,  # the record's details: never in figures
        by=therapist,
        at=timezone.make_aware(datetime.datetime(2025, 3, 3, 10)),
    )
    # c1 filled in the start questionnaire, with a free-text answer.
    administration = Administration.objects.create(
        client=c1,
        episode=c1.episodes.get(),
        time_point=TimePoint.START,
        version=version_for(TimePoint.START),
        created_by=therapist,
        submitted_at=timezone.make_aware(datetime.datetime(2025, 1, 20, 11)),
    )
    text_item = administration.version.items.filter(kind=ItemKind.TEXT).first()
    assert text_item is not None, "the start questionnaire has a free-text item"
    Answer.objects.create(administration=administration, item=text_item, value_text=SENTINEL)
    # Malmö: never counted for Göteborg.
    m1 = put_in_treatment(
        open_first_period(
            ClientFactory(responsible_therapist=other_clinic_therapist, first_contact_date=d("2025-02-01"))
        )
    )
    session(client=m1, date=d("2025-02-01"), fee_charged=999)
    # When each period reached treatment: c1 15 Jan, c2 10 Feb, c3 10 June 2024 (Malmö's m1 1 Feb).
    for record, day in ((c1, "2025-01-15"), (c2, "2025-02-10"), (c3, "2024-06-10"), (m1, "2025-02-01")):
        StatusChange.objects.filter(client=record, to_status=CaseStatus.IN_TREATMENT).update(
            at=timezone.make_aware(datetime.datetime.combine(d(day), datetime.time(10)))
        )
    return gbg


#: Every figure of the Göteborg dashboard for the first quarter of 2025, worked out by hand from `caseload`.
EXPECTED = {
    "active": [1],  # c1
    "contacts": [  # (total, buying_sex, compulsive, relative, police, health_care) per month
        (1, 1, 0, 0, 0, 0),
        (1, 0, 1, 1, 1, 0),
        (1, 1, 0, 0, 0, 1),
    ],
    "referred": [("Beroendevården", 1)],
    "held_by_month": [1, 2, 0],
    "sessions": {"held": 3, "cancelled_client": 1, "cancelled_clinic": 1, "no_show": 1, "booked": 0},
    "fees": (Decimal("650.00"), Decimal("200.00")),
    "fte": Decimal("1.50"),  # Anna half time, Bertil full time
    "held_per_fte": 2.0,
    "waiting": {"n": 2, "median": 15.0, "p90": 19.0},  # c1 10 days, c2 20 days
    "lengths": {"n": 2, "under_3": 1, "3_6": 0, "6_12": 1, "over_12": 0},
    "follow_ups": {"due": 2, "done": 1, "overdue": 1},
    "coverage": {"periods": 2, "start": 1, "end": 0, "follow_up": 0},
    # At the end of January c1 (c3 closed on the 31st); of February c1 and c2; of March c1 (c2 closed on the 20th).
    "active_by_month": [1, 2, 1],
}


def test_every_figure_is_exact(caseload, django_assert_num_queries):
    # 1 active periods, 2 new contacts, 3 referrals, 4 sessions, 5 FTE, 6 waiting time, 7 ended periods,
    # 8 follow-ups, 9 questionnaire coverage, 10 active periods at each month's end, 11 relatives, 12 children,
    # 13 methods used (the common ones and "other"), 14 the clinic's own methods, 15 the client's goals,
    # 16 outreach and attitude work by kind (figures.outreach), 17 advice contacts without a record, 18 the persons
    # treated and their profile (figures.persons), 19 group programmes (figures.groups).
    with django_assert_num_queries(19):
        figures = dashboard(caseload, START, END)

    assert [n for _name, n in figures.active_by_group] == EXPECTED["active"]
    assert [n for _month, n in figures.active_by_month] == EXPECTED["active_by_month"]
    assert figures.relatives == {"new": 0, "new_unlinked": 0, "in_support": 0}
    assert figures.children == {"with_children": 0, "considered": 0, "children": 0, "reports": 0}
    assert [
        (
            m["total"],
            m["group_buying_sex"],
            m["group_compulsive"],
            m["group_relative"],
            m["source_police"],
            m["source_health_care"],
        )
        for m in figures.contacts_by_month
    ] == EXPECTED["contacts"]
    assert figures.referred == EXPECTED["referred"]
    assert [m["held"] for m in figures.sessions_by_month] == EXPECTED["held_by_month"]
    assert figures.sessions["kind_couple"] == 1
    assert figures.sessions["kind_individual"] == 2
    assert {key: figures.sessions[key] for key in EXPECTED["sessions"]} == EXPECTED["sessions"]
    assert (figures.sessions["fees_charged"], figures.sessions["fees_paid"]) == EXPECTED["fees"]
    assert figures.fte == EXPECTED["fte"]
    assert figures.held_per_fte == EXPECTED["held_per_fte"]
    assert figures.share("held") == 0.5
    assert figures.share("no_show") == pytest.approx(1 / 6)
    assert figures.waiting == EXPECTED["waiting"]
    assert figures.lengths == EXPECTED["lengths"]
    assert figures.end_reasons == {
        "goal_reached": 1,
        "client_ended": 1,
        "moved": 0,
        "referred_on": 0,
        "other": 0,
        "": 0,
    }
    assert figures.follow_ups == EXPECTED["follow_ups"]
    assert figures.coverage == EXPECTED["coverage"]
    assert not figures.is_empty


@pytest.fixture
def families(caseload, therapist, colleague):
    """On top of `caseload`: relatives with records of their own, a group session, and child perspectives."""
    c1 = caseload.clients.get(alias=SENTINEL)
    c2, c3 = (caseload.clients.get(first_contact_date=d(day)) for day in ("2025-02-05", "2024-06-01"))
    # r1, c1's partner: first contact 12 Feb, in support; alone on 19 Feb, with c1 and r3 in a group on 12 Mar.
    r1 = put_in_treatment(relative_record(therapist))
    Client.objects.filter(pk=r1.pk).update(first_contact_date=d("2025-02-12"))
    link(r1, c1)
    alone = TherapySessionFactory(client=r1, kind=SessionKind.RELATIVE, date=d("2025-02-19"))
    NoteFactory(session=alone, text=SENTINEL)
    # r2: came without a registered client on 5 Mar, Bertil's, still at the first contact.
    r2 = relative_record(colleague)
    Client.objects.filter(pk=r2.pk).update(first_contact_date=d("2025-03-05"))
    # r3: in support since November 2024: not new in the quarter, but in support now.
    r3 = put_in_treatment(relative_record(colleague))
    Client.objects.filter(pk=r3.pk).update(first_contact_date=d("2024-11-01"))
    group = TherapySessionFactory(client=c1, kind=SessionKind.GROUP, date=d("2025-03-12"))
    for person in (r1, r3):
        SessionParticipant.objects.create(session=group, client=person, episode=person.episodes.get())
    # Children: c1 two, considered 25 Jan; r1 the same two, considered 20 Feb with a report of concern;
    # c3 one, considered back in July 2024; c2 none.
    for record, children, considered, actions in (
        (c1, 2, "2025-01-25", ["information"]),
        (r1, 2, "2025-02-20", ["report_of_concern"]),
        (c3, 1, "2024-07-01", ["conversation"]),
        (c2, 0, None, []),
    ):
        ChildPerspective.objects.create(
            record=record,
            children_in_household=children,
            considered_on=d(considered) if considered else None,
            actions=actions,
            updated_by=therapist,
        )
    return caseload


def test_relatives_and_children_figures_are_exact(families):
    figures = dashboard(families, START, END)

    assert figures.relatives == {"new": 2, "new_unlinked": 1, "in_support": 2}
    assert figures.children == {"with_children": 3, "considered": 2, "children": 4, "reports": 1}
    assert figures.sessions["kind_relative"] == 1
    assert figures.sessions["kind_group"] == 1
    # Relatives are a target group of new contacts, but never clients in the treatment figures.
    assert [m["group_relative"] for m in figures.contacts_by_month] == [0, 2, 1]  # c2 and r1, then r2
    assert [n for _name, n in figures.active_by_group] == EXPECTED["active"]
    assert figures.waiting == EXPECTED["waiting"]
    assert [n for _month, n in figures.active_by_month] == EXPECTED["active_by_month"]


def test_the_relatives_table_shows_them(client, manager, families):
    client.force_login(manager)

    response = client.get(reverse("figures:dashboard"), QUARTER)

    keys = (
        "relatives_new",
        "relatives_unlinked",
        "relatives_in_support",
        "relative",
        "couple",
        "group",
        "households",
        "children_considered",
        "children",
        "reports",
    )
    (table,) = [table for table in response.context["tables"]() if table.key == "relatives"]
    assert [row.key for row in table.rows] == list(keys)
    assert [row.cells[0].value for row in table.rows] == [2, 1, 2, 1, 1, 1, 3, 2, 4, 1]
    # Every one of them under 5: the page shows none of them (figures.suppression), to the manager too.
    shown = cells(response.content.decode())
    assert [shown[f"relatives.{key}.0"] for key in keys] == ["<5"] * 10
    assert SENTINEL not in response.content.decode()


def cells(body: str) -> dict[str, str]:
    return {key: html.unescape(value.strip()) for key, value in re.findall(r'data-figure="([\w.-]+)">([^<]*)<', body)}


def test_the_manager_sees_the_figures_in_the_tables(client, manager, caseload):
    """The caseload with 40 more sessions held in March: 1, 2 and 40 held in the three months, 43 in all.

    Every count under 5 is "<5" for the manager too. Complementary suppression (figures.suppression): March's 40
    and its 40 individual sessions are withheld (".."), since 43 less 40 is January's and February's 3, and
    February's two kinds of session make it at least 2, which would pin January's 1 and February's 2. The
    attendance shares would give the sessions due (46), which less the 43 held pins the three 1s of
    cancellations and absence: the shares are left out instead.
    """
    more_sessions(caseload, 40)
    client.force_login(manager)

    response = client.get(reverse("figures:dashboard"), QUARTER)

    assert response.status_code == 200
    assert response.context["figures"].sessions["held"] == 43
    shown = cells(response.content.decode())
    assert [shown[f"sessions_by_kind.2025-0{month}.0"] for month in (1, 2, 3)] == ["<5", "<5", ".."]
    assert [shown[f"sessions_by_kind.2025-03.{column}"] for column in range(4)] == ["..", "..", "0", "0"]
    assert [shown[f"attendance.{key}.0"] for key in ("held", "cancelled_client", "cancelled_clinic", "no_show")] == [
        "43",
        "<5",
        "<5",
        "<5",
    ]
    assert [shown[f"attendance.{key}.1"] for key in ("held", "cancelled_client", "cancelled_clinic", "no_show")] == [
        ""
    ] * 4
    assert shown["volume.held.0"] == "43"
    # Staff are not persons in care: their number and full-time equivalents are shown as they are, and the
    # sessions per full-time therapist rest on the sessions held only (43 / 1.5).
    assert (shown["volume.therapists.0"], shown["volume.fte.0"], shown["volume.held_per_fte.0"]) == ("2", "1,5", "28,7")
    assert shown["volume.fee_charged.0"] == "650"
    assert shown["volume.fee_paid.0"] == "200"
    assert shown["waiting.n.0"] == "<5"
    assert shown["waiting.median.0"] == shown["waiting.p90.0"] == ""  # two clients' waiting times
    assert shown["lengths.under_3.0"] == shown["lengths.6_12.0"] == "<5"
    assert shown["lengths.3_6.0"] == "0"  # a zero points at nobody
    assert shown["end_reasons.goal_reached.0"] == "<5"
    assert shown["follow_ups.overdue.0"] == "<5"
    assert (shown["coverage.start.0"], shown["coverage.start.1"]) == ("<5", "")
    assert (shown["coverage.end.0"], shown["coverage.end.1"]) == ("0", "")  # 0 of 2: a share of 2 periods
    assert shown["referred.0.0"] == "<5"
    assert shown["relatives.couple.0"] == "<5"
    assert [shown[f"active_over_time.2025-0{month}.0"] for month in (1, 2, 3)] == ["<5", "<5", "<5"]
    body = response.content.decode()
    charted = json.loads(re.search(r'<script id="dashboard-data" type="application/json">(.*?)</script>', body)[1])
    assert charted["sessions_by_kind"]["datasets"][0]["data"] == [None, None, None]  # nothing hidden is drawn
    assert charted["attendance"]["datasets"][0]["data"] == [43.0, None, None, None]
    assert 'id="dashboard-data"' in body
    assert "<script>" not in body.replace('<script id="dashboard-data" type="application/json">', "")


def test_no_content_in_the_page_or_any_csv(client, manager, caseload):
    client.force_login(manager)

    pages = [client.get(reverse("figures:dashboard"), QUARTER)]
    keys = [table.key for table in dashboard_tables(dashboard(caseload, START, END))]
    pages += [client.get(reverse("figures:dashboard_csv", args=[key]), QUARTER) for key in keys]

    # The fourteen of before, methods used, the goals, outreach, the advice contacts, the persons treated with
    # their age, gender identity and education (figures.persons), and the group programmes (figures.groups).
    assert len(keys) == 23
    for response in pages:
        assert response.status_code == 200
        assert SENTINEL not in response.content.decode()
    assert AccessLogEntry.objects.filter(user=manager, action="export", object_type="kast.dashboard").count() == len(
        keys
    )


def test_csv_shows_small_counts_as_less_than_five(client, manager, caseload):
    client.force_login(manager)

    response = client.get(reverse("figures:dashboard_csv", args=["attendance"]), QUARTER)

    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert len(rows) == 5 and len(rows[0]) == 3  # heading, then held, cancelled twice, missed
    assert [row[1] for row in rows[1:]] == ["<5", "<5", "<5", "<5"]
    assert response["Content-Disposition"].startswith('attachment; filename="kast-attendance-2025-01-01-2025-03-31')
    entry = AccessLogEntry.objects.get(user=manager, action="export")
    assert "table=attendance" in entry.reason and "clinic=GBG" in entry.reason


def test_unknown_table_is_404(client, manager, caseload):
    client.force_login(manager)
    assert client.get(reverse("figures:dashboard_csv", args=["notes"]), QUARTER).status_code == 404


def more_sessions(caseload, count: int) -> None:
    c = caseload.clients.filter(status=CaseStatus.IN_TREATMENT).first()
    for i in range(count):
        TherapySessionFactory(client=c, date=d("2025-03-01") + datetime.timedelta(days=i % 20))


@pytest.mark.parametrize("extra", [0, 40])
def test_fixed_number_of_queries(client, manager, caseload, django_assert_num_queries, extra):
    more_sessions(caseload, extra)
    client.force_login(manager)
    # 1 the login session, 2 the user with their clinic, 3 the second factor's device, 4 the figures' stamps
    # (figures.cached_figures; this test's own transaction has written, so they are computed), 5-23 the nineteen
    # figure queries (see test_every_figure_is_exact), 24-43 the stamps and the nineteen again for the same
    # period a year earlier (the key figures' change, figures.key_figures).
    with django_assert_num_queries(43):
        response = client.get(reverse("figures:dashboard"), QUARTER)
    assert response.context["figures"].sessions["held"] == 3 + extra


def test_end_before_start_is_a_field_error(client, manager, caseload):
    client.force_login(manager)

    response = client.get(
        reverse("figures:dashboard"), {"period": "custom", "start": "2025-03-01", "end": "2025-02-01"}
    )

    assert response.status_code == 400
    assert "end" in response.context["form"].errors
    assert "figures" not in response.context


def test_custom_period_needs_both_dates(client, manager, caseload):
    client.force_login(manager)
    response = client.get(reverse("figures:dashboard"), {"period": "custom", "start": "2025-03-01"})
    assert response.status_code == 400
    assert "end" in response.context["form"].errors


@pytest.mark.parametrize(
    "params", [{"period": "month", "start": "2019-05-10"}, {"period": "year", "start": "2030-01-01"}]
)
def test_an_empty_period_says_so(client, manager, caseload, params):
    client.force_login(manager)

    response = client.get(reverse("figures:dashboard"), params)

    assert response.status_code == 200
    assert response.context["figures"].is_empty
    body = response.content.decode()
    assert "data-empty" in body and "dashboard-data" not in body


def test_a_clinic_with_no_data_says_so(client, mlm):
    manager = UserFactory(role=Role.MANAGER, clinic=mlm)
    client.force_login(manager)

    response = client.get(reverse("figures:dashboard"))

    assert response.status_code == 200
    assert "data-empty" in response.content.decode()


def test_another_clinic_is_refused_and_logged(client, manager, caseload, mlm):
    client.force_login(manager)

    for url in (reverse("figures:dashboard"), reverse("figures:dashboard_csv", args=["attendance"])):
        response = client.get(url, {"clinic": mlm.pk})
        assert response.status_code == 403
        assert AccessLogEntry.objects.filter(user=manager, action=AccessLogEntry.Action.DENIED, path=url).exists()
    # Their own clinic asked for by id is fine.
    assert client.get(reverse("figures:dashboard"), {"clinic": caseload.pk, **QUARTER}).status_code == 200


def test_a_therapist_sees_only_their_own_caseload(client, therapist, caseload):
    client.force_login(therapist)

    response = client.get(reverse("figures:dashboard"), QUARTER)

    figures = response.context["figures"]
    assert figures.sessions["held"] == 2  # c1's two, not Bertil's
    assert figures.sessions["fees_charged"] == Decimal("500.00")
    assert figures.held_per_fte == 4.0  # Anna works half time
    assert [row["total"] for row in figures.contacts_by_month] == [1, 0, 1]
    assert figures.lengths["n"] == 1  # c3
    assert figures.follow_ups == {"due": 1, "done": 1, "overdue": 0}
    assert SENTINEL not in response.content.decode()


def test_national_follow_up_sees_less_than_five(client, caseload, mlm):
    national = UserFactory(role=Role.NATIONAL, clinic=None)
    client.force_login(national)

    response = client.get(reverse("figures:dashboard"), {**QUARTER, "clinic": caseload.pk})

    assert response.status_code == 200
    shown = cells(response.content.decode())
    assert shown["attendance.held.0"] == "<5"
    assert shown["attendance.held.1"] == ""  # a share would reveal the small count
    assert shown["waiting.median.0"] == ""
    assert "<5" in response.content.decode()
    drawn = re.search(r'<script id="dashboard-data" type="application/json">(.*?)</script>', response.content.decode())
    chart = json.loads(drawn.group(1))["attendance"]["datasets"][0]["data"]
    assert chart == [None, None, None, None]
    # All clinics together: Göteborg and Malmö.
    everything = client.get(reverse("figures:dashboard"), QUARTER).context["figures"]
    assert everything.scope.clinic is None
    assert everything.sessions["held"] == 4


def test_admin_is_refused(client, admin):
    client.force_login(admin)
    assert client.get(reverse("figures:dashboard")).status_code == 403
