"""A questionnaire marked as entered in error leaves every figure: exact counts before and after marking one."""

from __future__ import annotations

import datetime

import pytest

from assessments.models import TimePoint
from assessments.services import administration_mark_in_error
from clients.models import TargetGroup
from figures import reports, statistics
from figures.research import research_file, research_selection
from kast.actor import Actor
from kast.models import Role
from tests.factories import ClientFactory, UserFactory
from tests.figures.test_reports import administer, period

pytestmark = pytest.mark.django_db

START, END = TimePoint.START, TimePoint.END
REASON = "SENTINEL-error-reason-5150 gavs till fel klient"


@pytest.fixture
def caseload(therapist, colleague):
    """Göteborg, 2025: Ove (start and end), Per (start and end), the colleague's Lars (start only).

    Table 1: n 3; bought sex ever 2 of 3 (Ove, Per), has a partner 2 of 3 (Ove, Lars).
    Wellbeing start -> end: Ove 2 -> 4 (better), Per 3 -> 3 (same).
    Coverage (periods opened in 2025 that reached treatment): the therapist's 2 periods, start 2, end 2, both 2;
    the colleague's 1 period, start 1.
    """
    ove = ClientFactory(responsible_therapist=therapist, code="GBG-2025-0001", target_groups=[TargetGroup.BUYING_SEX])
    first = period(ove, "2025-01-10")
    ove_start = administer(
        first, START, {"bought_sex_ever": True, "has_partner": True, "wellbeing": 2}, submitted="2025-01-15"
    )
    administer(first, END, {"wellbeing": 4}, submitted="2025-06-15")
    per = ClientFactory(responsible_therapist=therapist, code="GBG-2025-0002", target_groups=[TargetGroup.BUYING_SEX])
    second = period(per, "2025-02-01")
    administer(second, START, {"bought_sex_ever": True, "has_partner": False, "wellbeing": 3}, submitted="2025-02-05")
    administer(second, END, {"wellbeing": 3}, submitted="2025-08-20")
    lars = ClientFactory(responsible_therapist=colleague, code="GBG-2025-0003", target_groups=[TargetGroup.COMPULSIVE])
    administer(
        period(lars, "2025-03-01"),
        START,
        {"bought_sex_ever": False, "has_partner": True, "wellbeing": 4},
        submitted="2025-03-05",
    )
    return {"ove_start": ove_start}


def table_1(selection) -> tuple[int, dict[str, tuple[int, int]]]:
    table = reports.table_1(selection)
    rows = {row.code: (row.count, row.answered) for row in table.rows if row.answered}
    return table.n, rows


def wellbeing_change(selection) -> tuple | None:
    """(n, better, same, worse, median, p) of wellbeing from start to end."""
    for c in reports.paired_changes(selection):
        if (c.earlier, c.later, c.code) == (START, END, "wellbeing"):
            return (c.n, c.improved, c.unchanged, c.worsened, c.median, c.p_value)
    return None


def coverage(selection) -> list[tuple]:
    return [
        (r.group, r.year, r.periods, r.start, r.end, r.follow_up, r.start_and_end, r.all_three)
        for r in reports.coverage(selection)
    ]


def dashboard_coverage(gbg) -> dict[str, int]:
    figures = statistics.dashboard(gbg, datetime.date(2025, 1, 1), datetime.date(2025, 12, 31))
    return figures.coverage


def mark(therapist, administration) -> None:
    administration_mark_in_error(actor=Actor.for_user(therapist), administration=administration, reason=REASON)


def test_marking_one_start_questionnaire_changes_table_1_the_paired_change_and_the_coverage_exactly(
    caseload, gbg, therapist, colleague
):
    selection = reports.Selection(clinic=gbg)
    assert table_1(selection) == (3, {"bought_sex_ever": (2, 3), "has_partner": (2, 3)})
    assert wellbeing_change(selection) == (2, 1, 1, 0, 1.0, 1.0)
    assert coverage(selection) == [
        (therapist.get_full_name(), 2025, 2, 2, 2, 0, 2, 0),
        (colleague.get_full_name(), 2025, 1, 1, 0, 0, 0, 0),
    ]
    assert dashboard_coverage(gbg) == {"periods": 3, "start": 3, "end": 2, "follow_up": 0}
    assert reports.people_in(selection) == 3

    mark(therapist, caseload["ove_start"])

    # Ove's start questionnaire is gone from Table 1: one person fewer, his yes and his partner with him.
    assert table_1(selection) == (2, {"bought_sex_ever": (1, 2), "has_partner": (1, 2)})
    # Only Per's pair is left (the same), so no change and no test.
    assert wellbeing_change(selection) == (1, 0, 1, 0, 0.0, None)
    # Ove's period still counts, without a start questionnaire.
    assert coverage(selection) == [
        (therapist.get_full_name(), 2025, 2, 1, 2, 0, 1, 0),
        (colleague.get_full_name(), 2025, 1, 1, 0, 0, 0, 0),
    ]
    assert dashboard_coverage(gbg) == {"periods": 3, "start": 2, "end": 2, "follow_up": 0}
    # Ove still answered at the end, so he still counts among the people who answered.
    assert reports.people_in(selection) == 3


def test_marking_an_end_questionnaire_takes_the_pair_out(caseload, gbg, therapist):
    """The later questionnaire marked: the pair is as incomplete as without it (the later one decides the pair)."""
    selection = reports.Selection(clinic=gbg)
    ove_end = caseload["ove_start"].episode.administrations.get(time_point=END)

    mark(therapist, ove_end)

    assert wellbeing_change(selection) == (1, 0, 1, 0, 0.0, None)
    assert reports.table_2(selection).n == 1


def test_the_research_file_leaves_it_out_and_never_holds_the_reason(therapist, gbg):
    """Six alike men who buy sex (k = 5 keeps them as they are), each with a start questionnaire; one is marked."""
    researcher = UserFactory(username="greta", role=Role.RESEARCHER, clinic=None)
    starts = []
    for n in range(6):
        person = ClientFactory(
            responsible_therapist=therapist,
            code=f"GBG-2025-{n + 10:04d}",
            gender="man",
            birth_year=1977,
            target_groups=[TargetGroup.BUYING_SEX],
        )
        starts.append(administer(period(person, "2025-01-10"), START, {"wellbeing": 3}, submitted="2025-01-20"))
    actor = Actor.for_user(researcher)
    selection = research_selection(researcher)

    before = research_file(actor=actor, selection=selection, purpose="Utvärdering", decision="Dnr 1")
    mark(therapist, starts[0])
    after = research_file(actor=actor, selection=selection, purpose="Utvärdering", decision="Dnr 1")

    assert (len(before.rows), before.people) == (6, 6)
    assert (len(after.rows), after.people) == (5, 5)
    assert REASON not in repr(after.rows)
