"""The dashboard's first screen: key figures exact against the same period a year earlier, small counts hidden in
the cards and in their change, the last twelve months by default, tables collapsed under their charts."""

from __future__ import annotations

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from clients.models import CaseStatus, Client, EndReason, Episode, StatusChange
from figures import statistics
from figures.forms import DashboardFilterForm, Period, period_bounds
from figures.key_figures import earlier_period, key_figures
from figures.statistics import dashboard, dashboard_marks
from kast.models import Role
from sessions.models import FollowUp, FollowUpKind
from tests.factories import ClientFactory, TherapySessionFactory, UserFactory, open_first_period, put_in_treatment
from tests.figures.test_dashboard import QUARTER, caseload  # noqa: F401 (a fixture, used by name)

pytestmark = pytest.mark.django_db

#: The first quarter of 2025, and of 2024 for the change.
START, END = datetime.date(2025, 1, 1), datetime.date(2025, 3, 31)


def d(text: str) -> datetime.date:
    return datetime.date.fromisoformat(text)


def treated(therapist, *, contact, in_treatment):
    """A client registered at `contact`, in treatment from `in_treatment`."""
    record = put_in_treatment(
        open_first_period(ClientFactory(responsible_therapist=therapist, first_contact_date=d(contact)))
    )
    StatusChange.objects.filter(client=record, to_status=CaseStatus.IN_TREATMENT).update(
        at=timezone.make_aware(datetime.datetime.combine(d(in_treatment), datetime.time(10)))
    )
    return record


def new_clients(therapist, colleague, *, contact: str, waits: list[int], second: str) -> list[Client]:
    """Clients with first contact on `contact`, their first session `waits` days later, a second one on `second`."""
    records = []
    for i, wait in enumerate(waits):
        record = treated(therapist if i % 2 else colleague, contact=contact, in_treatment=contact)
        TherapySessionFactory(client=record, date=d(contact) + datetime.timedelta(days=wait))
        TherapySessionFactory(client=record, date=d(second))
        records.append(record)
    return records


def end(records: list[Client], on: str, reasons: list[str], *, due: str, done: int) -> None:
    """Close each record's period on `on` with its reason; each gets a follow-up due on `due`, the first `done` of
    them done."""
    for i, (record, reason) in enumerate(zip(records, reasons, strict=True)):
        Episode.objects.filter(client=record).update(closed_on=d(on), end_reason=reason)
        FollowUp.objects.create(
            client=record,
            episode=record.episodes.get(),
            kind=FollowUpKind.FOLLOW_UP,
            due_on=d(due),
            done_on=d(due) + datetime.timedelta(days=1) if i < done else None,
        )


@pytest.fixture
def first_screen(gbg, therapist, colleague):
    """Göteborg in the first quarters of 2025 and 2024, every key figure worked out by hand in EXPECTED.

    Two full-time therapists. Six clients in treatment since November 2023, never ended, no session in either
    quarter. 2024: nine new contacts on 8 January, first sessions 10-50 days later (median 20), a second session
    each on 4 March (18 held); five ended on 20 March with the goal reached, five follow-ups due on 25 March, all
    done. 2025: twelve new contacts on 6 January, first sessions 3-30 days later (median (12 + 14) / 2 = 13), a
    second each on 3 March (24 held); ten ended on 20 March, five with the goal reached and five by the client's
    choice; ten follow-ups due on 25 March, six done.
    """
    for _i in range(6):
        treated(therapist, contact="2023-11-01", in_treatment="2023-11-10")
    earlier = new_clients(
        therapist, colleague, contact="2024-01-08", waits=[10, 10, 20, 20, 20, 30, 30, 40, 50], second="2024-03-04"
    )
    end(earlier[:5], "2024-03-20", [EndReason.GOAL_REACHED] * 5, due="2024-03-25", done=5)
    now = new_clients(
        therapist,
        colleague,
        contact="2025-01-06",
        waits=[3, 5, 7, 9, 10, 12, 14, 16, 18, 20, 25, 30],
        second="2025-03-03",
    )
    reasons = [EndReason.GOAL_REACHED] * 5 + [EndReason.CLIENT_ENDED] * 5
    end(now[:10], "2025-03-20", reasons, due="2025-03-25", done=6)
    return gbg


#: card -> (as shown, the change in words) for the first quarter of 2025 against 2024.
EXPECTED = {
    # The 6 since 2023, the 4 of 2024's nine not ended and the 2 of 2025's twelve; a year earlier the 6 and the 4.
    "in_treatment": ("12", "+2 compared with the same period a year earlier"),
    "new_contacts": ("12", "+3 compared with the same period a year earlier"),
    "waiting_median": ("13.0", "−7.0 days compared with the same period a year earlier"),
    # 24 held by 2.0 full-time therapists; 18 a year earlier.
    "held_per_fte": ("12.0", "+3.0 compared with the same period a year earlier"),
    # 5 of 10; 5 of 5 a year earlier.
    "ended_as_planned": ("50\xa0%", "−50 percentage points compared with the same period a year earlier"),
    # 6 of 10 due; 5 of 5 a year earlier.
    "follow_up_coverage": ("60\xa0%", "−40 percentage points compared with the same period a year earlier"),
}


def cards_for(clinic, start=START, end=END):
    now, earlier = dashboard(clinic, start, end), dashboard(clinic, *earlier_period(start, end))
    with translation.override("en"):
        return {
            card.key: (card.text, card.change)
            for card in key_figures(now, dashboard_marks(now), earlier, dashboard_marks(earlier))
        }


def test_every_card_and_its_change_is_exact(first_screen):
    assert cards_for(first_screen) == EXPECTED


def test_the_earlier_period_is_the_same_a_year_before():
    assert earlier_period(START, END) == (d("2024-01-01"), d("2024-03-31"))
    assert earlier_period(d("2024-02-29"), d("2025-02-28")) == (d("2023-02-28"), d("2024-02-28"))


def test_the_manager_sees_the_cards_first(client, manager, first_screen):
    client.force_login(manager)

    response = client.get(reverse("figures:dashboard"), QUARTER)

    body = response.content.decode()
    assert response.status_code == 200
    # The cards come before the first chart and its table.
    assert body.index("data-key-figures") < body.index("data-chart=")
    shown = dict(re.findall(r'data-card="(\w+)".*?data-card-value>\s*(.*?)\s*</p>', body, re.S))
    assert shown["in_treatment"] == "12"
    assert shown["new_contacts"] == "12"
    # A list of cards, each with a heading; the change said in words beside the figure.
    assert re.search(r'<ul[^>]*>\s*<li class="col" data-card="in_treatment">', body)
    assert body.count("<h3") >= len(EXPECTED)
    assert body.count("data-card-change") == len(EXPECTED)


def test_small_counts_are_hidden_in_the_cards_and_in_their_change(caseload):  # noqa: F811 (the fixture)
    """The caseload of test_dashboard: three new contacts, one in treatment at the end, two ended, two due."""
    cards = cards_for(caseload)

    assert cards["new_contacts"][0] == "<5"
    assert cards["in_treatment"][0] == "<5"
    # Each rests on a count under 5: left out.
    for key in ("waiting_median", "held_per_fte", "ended_as_planned", "follow_up_coverage"):
        assert cards[key][0] == "", key
    assert all(change == "" for _shown, change in cards.values())


def test_a_change_is_not_shown_when_the_year_before_is_hidden(first_screen):
    """Twelve new contacts now, three a year earlier: "+9" would give away the hidden three."""
    moved = Client.objects.filter(first_contact_date=d("2024-01-08")).order_by("pk")[:6]
    Client.objects.filter(pk__in=[c.pk for c in moved]).update(first_contact_date=d("2023-12-01"))

    cards = cards_for(first_screen)

    assert cards["new_contacts"] == ("12", "")


def test_a_change_is_not_shown_when_the_period_is_hidden(first_screen):
    """A year earlier nine new contacts, now three: a change of minus six would give away the hidden three."""
    moved = Client.objects.filter(first_contact_date=d("2025-01-06")).order_by("pk")[:9]
    Client.objects.filter(pk__in=[c.pk for c in moved]).update(first_contact_date=d("2024-12-01"))

    cards = cards_for(first_screen)

    assert cards["new_contacts"] == ("<5", "")


def test_the_page_never_shows_a_change_from_a_hidden_count(client, manager, first_screen):
    moved = Client.objects.filter(first_contact_date=d("2024-01-08")).order_by("pk")[:6]
    Client.objects.filter(pk__in=[c.pk for c in moved]).update(first_contact_date=d("2023-12-01"))
    client.force_login(manager)

    body = client.get(reverse("figures:dashboard"), QUARTER).content.decode()

    card = re.search(r'data-card="new_contacts".*?</li>', body, re.S).group(0)
    assert "+9" not in card and "+" not in card


def test_the_last_twelve_months_are_the_default(client, manager, first_screen):
    today = timezone.localdate()
    assert DashboardFilterForm(user=manager).fields["period"].initial == Period.LAST_12_MONTHS
    first, last = period_bounds(Period.LAST_12_MONTHS, today)
    assert last == period_bounds(Period.MONTH, today)[1]
    assert (first.year * 12 + first.month) + 11 == today.year * 12 + today.month
    assert first.day == 1
    # Something this month, so the page has figures to show.
    TherapySessionFactory(client=Client.objects.filter(status=CaseStatus.IN_TREATMENT).first(), date=today)
    client.force_login(manager)

    response = client.get(reverse("figures:dashboard"))

    figures = response.context["figures"]
    assert (figures.scope.start, figures.scope.end) == (first, last)
    assert len(figures.sessions_by_month) == 12
    body = response.content.decode()
    table = re.search(r'<table[^>]*data-table="sessions_by_kind".*?</table>', body, re.S).group(0)
    assert table.count('<th scope="row"') == 12
    assert re.search(r'<option value="last_12_months" selected>', body)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        ("2026-12-06", ("2026-01-01", "2026-12-31")),
        ("2026-01-15", ("2025-02-01", "2026-01-31")),
        ("2024-02-29", ("2023-03-01", "2024-02-29")),
    ],
)
def test_twelve_months_up_to_and_including_the_month(day, expected):
    assert period_bounds(Period.LAST_12_MONTHS, d(day)) == tuple(d(e) for e in expected)


def test_a_chart_has_its_table_collapsed_under_it_and_its_csv_link_open(client, manager, first_screen):
    client.force_login(manager)

    body = client.get(reverse("figures:dashboard"), QUARTER).content.decode()

    section = re.search(r'<section aria-labelledby="table-sessions_by_kind-heading".*?</section>', body, re.S).group(0)
    details = re.search(r"<details.*?</details>", section, re.S).group(0)
    assert section.index("data-chart") < section.index("<details")
    assert "<summary>" in details and 'data-table="sessions_by_kind"' in details
    assert "open" not in details.split(">")[0]
    csv = reverse("figures:dashboard_csv", args=["sessions_by_kind"])
    assert csv in section and csv not in details


@pytest.mark.parametrize("extra", [0, 40])
def test_fixed_number_of_queries(client, manager, first_screen, django_assert_num_queries, extra):
    record = Client.objects.filter(first_contact_date=d("2023-11-01")).first()
    for i in range(extra):
        TherapySessionFactory(client=record, date=d("2025-02-01") + datetime.timedelta(days=i % 20))
        TherapySessionFactory(client=record, date=d("2024-02-01") + datetime.timedelta(days=i % 20))
    client.force_login(manager)
    # 1 the login session, 2 the user, 3 the second factor's device, 4 the period's stamps, 5-23 its nineteen
    # figure queries, 24 the stamps again and 25-43 the nineteen for the same period a year earlier.
    with django_assert_num_queries(43):
        response = client.get(reverse("figures:dashboard"), QUARTER)
    assert response.context["figures"].held == 24 + extra


def test_national_follow_up_sees_the_clinics_side_by_side(client, first_screen, mlm):
    national = UserFactory(role=Role.NATIONAL, clinic=None)
    client.force_login(national)

    body = client.get(reverse("figures:dashboard"), QUARTER).content.decode()

    table = re.search(r'<table[^>]*data-table="key_figures_by_clinic".*?</table>', body, re.S).group(0)
    assert re.findall(r'<th scope="col" class="text-end">(.*?)</th>', table) == ["Göteborg", "Malmö"]
    cell = dict(
        re.findall(r'data-figure="key_figures_by_clinic\.(\w+\.\d)">\s*<span data-card-value>(.*?)</span>', table)
    )
    assert (cell["new_contacts.0"], cell["new_contacts.1"]) == ("12", "0")
    assert (cell["in_treatment.0"], cell["in_treatment.1"]) == ("12", "0")
    assert cell["ended_as_planned.0"] == "50\xa0%"
    assert cell["ended_as_planned.1"] == "–"  # none ended: no share to give
    # Göteborg's change beside its figure; Malmö's noughts against noughts say ±0.
    assert "+3" in re.search(r'key_figures_by_clinic\.new_contacts\.0".*?</td>', table, re.S).group(0)
    # One clinic chosen: its own cards, no table of clinics.
    one = client.get(reverse("figures:dashboard"), {**QUARTER, "clinic": first_screen.pk}).content.decode()
    assert "key_figures_by_clinic" not in one and "data-key-figures" in one


def test_all_clinics_less_the_others_never_gives_a_clinics_hidden_card_away(gbg, therapist, other_clinic_therapist):
    """A period not yet over: six in treatment today at Göteborg, two at Malmö. All clinics' eight beside
    Göteborg's six would give Malmö's two away: one of them is withheld."""
    for _i in range(6):
        treated(therapist, contact="2025-06-02", in_treatment="2025-06-09")
    for _i in range(2):
        treated(other_clinic_therapist, contact="2025-06-02", in_treatment="2025-06-09")
    today = timezone.localdate()
    start, end = today.replace(month=1, day=1), today.replace(month=12, day=31)
    mlm = other_clinic_therapist.clinic
    whole, by_clinic = statistics.dashboard_marks_across(
        dashboard(None, start, end), {gbg.pk: dashboard(gbg, start, end), mlm.pk: dashboard(mlm, start, end)}
    )

    assert dashboard(None, start, end).active_at_end == 8
    assert by_clinic[mlm.pk]["active.at_end"] == "<5"
    assert "active.at_end" in whole or "active.at_end" in by_clinic[gbg.pk]
