"""Every time point in the reports: change from the start to the end, to six months and to the long term, and from
the end to both follow-ups, on the same people across two versions of the forms; coverage with the long term; the
rows in plain words; Tables 1-2 the same whichever version the answers were given on."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from assessments.models import InstrumentVersion, TimePoint
from assessments.services import version_for
from figures import reports
from tests.factories import ClientFactory
from tests.figures.test_reports import administer, period

pytestmark = pytest.mark.django_db

START, END, FOLLOW_UP, LONG_TERM = TimePoint.START, TimePoint.END, TimePoint.FOLLOW_UP, TimePoint.LONG_TERM


def first(instrument: str) -> InstrumentVersion:
    return InstrumentVersion.objects.get(instrument__code=instrument, number=1)


@pytest.fixture
def ten_people(therapist):
    """Ten clients of one therapist, periods opened in 2025, on version 1 of the forms and on the new ones.

    Start: 0-4 on kast-start v1, 5-9 on v2. End: 0-2 on kast-end v1, 3-9 on v2 (3 and 4 start on v1, end on v2).
    Six months: 0-6 (0-1 on kast-end v1, the rest on kast-follow-up v1). Long term: 0-5 (0 on kast-end v1).
    "How are you" (5 very good): 2 at the start, 4 at the end; 4 at six months (0-4) or 5 (5-6); 3 in the long term.
    Bought sexual services in the last year: yes at the start, no after it, except person 0 again in the long term.
    How often by webcam (new in v2; 0 never): 3 at the start (5-9), 1 at the end (3-9), never in the long term (5).
    """
    old_start, old_end, new_follow_up = first("kast-start"), first("kast-end"), first("kast-follow-up")
    new_start, new_end = version_for(START), version_for(END)
    assert version_for(FOLLOW_UP) == version_for(LONG_TERM) == new_follow_up
    for i in range(10):
        episode = period(ClientFactory(responsible_therapist=therapist, code=f"GBG-2025-{i + 300:04d}"), "2025-01-01")
        start = {"wellbeing": 2, "bought_sex_last_year": True}
        if i >= 5:
            start["freq_webcam"] = 3
        administer(episode, START, start, submitted="2025-01-05", version=old_start if i < 5 else new_start)
        end = {"wellbeing": 4, "bought_sex_last_year": False}
        if i >= 3:
            end["freq_webcam"] = 1
        administer(episode, END, end, submitted="2025-06-05", version=old_end if i < 3 else new_end)
        if i < 7:
            administer(
                episode,
                FOLLOW_UP,
                {"wellbeing": 4 if i < 5 else 5, "bought_sex_last_year": False},
                submitted="2025-12-05",
                version=old_end if i < 2 else new_follow_up,
            )
        if i < 6:
            long_term = {"wellbeing": 3, "bought_sex_last_year": i == 0}
            if i == 5:
                long_term["freq_webcam"] = 0
            administer(
                episode, LONG_TERM, long_term, submitted="2027-06-05", version=old_end if i < 1 else new_follow_up
            )


#: (earlier, later, code) -> (answered both times, for the better, the same, for the worse).
PAIRED = {
    (START, END, "bought_sex_last_year"): (10, 10, 0, 0),
    (START, END, "freq_webcam"): (5, 5, 0, 0),
    (START, END, "wellbeing"): (10, 10, 0, 0),
    (START, FOLLOW_UP, "bought_sex_last_year"): (7, 7, 0, 0),
    (START, FOLLOW_UP, "wellbeing"): (7, 7, 0, 0),
    (START, LONG_TERM, "bought_sex_last_year"): (6, 5, 1, 0),
    (START, LONG_TERM, "freq_webcam"): (1, 1, 0, 0),
    (START, LONG_TERM, "wellbeing"): (6, 6, 0, 0),
    (END, FOLLOW_UP, "bought_sex_last_year"): (7, 0, 7, 0),
    (END, FOLLOW_UP, "wellbeing"): (7, 2, 5, 0),
    (END, LONG_TERM, "bought_sex_last_year"): (6, 0, 5, 1),
    (END, LONG_TERM, "freq_webcam"): (1, 1, 0, 0),
    (END, LONG_TERM, "wellbeing"): (6, 0, 0, 6),
}


def test_paired_change_for_every_pair_of_time_points(ten_people, gbg):
    changes = reports.paired_changes(reports.Selection(clinic=gbg))

    assert {(c.earlier, c.later, c.code): (c.n, c.improved, c.unchanged, c.worsened) for c in changes} == PAIRED
    # In the report's order: from the start to each later time point, then from the end to each follow-up.
    assert list(dict.fromkeys((c.earlier, c.later) for c in changes)) == [
        (START, END),
        (START, FOLLOW_UP),
        (START, LONG_TERM),
        (END, FOLLOW_UP),
        (END, LONG_TERM),
    ]
    medians = {(c.earlier, c.later, c.code): c.median for c in changes}
    assert medians[(START, FOLLOW_UP, "wellbeing")] == 2.0  # five +2, two +3
    assert medians[(END, LONG_TERM, "wellbeing")] == -1.0


def test_the_rows_say_in_plain_words_what_they_mean(ten_people, gbg):
    with translation.override("en"):
        shown = reports.shown_report(reports.report_for(reports.Selection(clinic=gbg)))

    assert not shown.refused
    assert [label for label, _rows in shown.changes] == [
        "From treatment start to treatment end",
        "From treatment start to the follow-up after six months",
        "From treatment start to the long-term follow-up",
        "From treatment end to the follow-up after six months",
        "From treatment end to the long-term follow-up",
    ]
    start_to_end = {row.label: row for row in shown.changes[0][1]}
    wellbeing = start_to_end["How are you just now?"]
    assert wellbeing.cells == ["10", "10", "0", "0", "+2", "0.002"]
    assert wellbeing.meaning == "For the better: an answer closer to “Very good”."
    assert wellbeing.sentence == (
        "Of 10 who answered both times, 10 answered for the better, 0 the same and 0 for the worse. "
        "A difference this large seldom arises by chance (p = 0.002)."
    )
    # A behaviour: better is "no" to having bought, not "doing better"; how often: better is nearer "never".
    bought = start_to_end["Have you bought sexual services in the last year?"]
    assert bought.meaning == "For the better: “No” where it was “Yes”."
    webcam = start_to_end["How often have you bought sexual services by webcam?"]
    assert webcam.meaning == "For the better: an answer closer to “Never”."
    assert webcam.cells[:4] == ["5", "5", "0", "0"]
    # End to six months: 2 of 7 better is under 5, so hidden, and the rest with it; the sentence says so.
    end_to_six = {row.label: row for row in shown.changes[3][1]}["How are you just now?"]
    assert end_to_six.cells[0] == "7" and "<5" in end_to_six.cells
    assert end_to_six.sentence.startswith("Of 7 who answered both times, <5 answered for the better")
    # End to the long term: all 6 answered for the worse.
    end_to_long = {row.label: row for row in shown.changes[4][1]}["How are you just now?"]
    assert end_to_long.cells[:5] == ["6", "0", "0", "6", "−1"]
    assert "6 for the worse" in end_to_long.sentence


def test_the_page_shows_every_pair_and_the_long_term_coverage(client, ten_people, therapist):
    client.force_login(therapist)

    with translation.override("en"):
        response = client.get(
            reverse("figures:reports"), {"start": "2024-01-01", "end": "2027-12-31"}, HTTP_ACCEPT_LANGUAGE="en"
        )

    assert response.status_code == 200
    page = response.content.decode()
    shown = response.context["report"]
    for label, _rows in shown.changes:
        assert f"{label}</caption>" in page
    assert len(shown.changes) == 5
    assert "data-better-means" in page
    assert "were doing better" not in page and "mådde bättre" not in page


def test_coverage_counts_the_long_term_and_every_pair(ten_people, gbg, therapist):
    (row,) = reports.coverage(reports.Selection(clinic=gbg))

    assert (row.group, row.year) == (therapist.get_full_name(), 2025)
    assert {name: getattr(row, name) for name in reports.COVERAGE_COUNTS} == {
        "periods": 10,
        "start": 10,
        "end": 10,
        "follow_up": 7,
        "long_term": 6,
        "start_and_end": 10,
        "start_and_follow_up": 7,
        "start_and_long_term": 6,
        "end_and_follow_up": 7,
        "end_and_long_term": 6,
        "all_three": 7,
    }
    shown = reports.shown_report(reports.report_for(reports.Selection(clinic=gbg)))
    assert [(r.label, r.cells) for r in shown.coverage_by_year] == [
        ("2025", ["10", "10", "10", "7", "6", "10", "7", "6", "7", "6", "7"])
    ]


# -- Tables 1-2 whichever version the answers were given on ------------------------------------------------------

#: Six clients' start answers (Table 1) and five clients' end answers (Table 2).
TABLE_1_ANSWERS = [
    {"bought_sex_ever": True, "bought_sex_last_year": True, "has_partner": True, "has_children": False,
     "behaviour_harms_self": True, "thoughts_harm_self": True, "behaviour_harms_relations": True},
    {"bought_sex_ever": True, "bought_sex_last_year": False, "has_partner": False, "has_children": True,
     "behaviour_harms_self": True, "thoughts_harm_self": False, "behaviour_harms_relations": True},
    {"bought_sex_ever": True, "bought_sex_last_year": True, "has_partner": True, "has_children": True,
     "behaviour_harms_self": False, "thoughts_harm_self": True},
    {"bought_sex_ever": False, "bought_sex_last_year": False, "has_partner": True, "has_children": True,
     "behaviour_harms_self": True, "thoughts_harm_self": True, "behaviour_harms_relations": False},
    {"bought_sex_ever": True, "has_partner": True, "behaviour_harms_self": True},
    {"bought_sex_ever": True, "bought_sex_last_year": True, "has_partner": False, "has_children": False,
     "behaviour_harms_self": True, "thoughts_harm_self": True, "behaviour_harms_relations": True},
]  # fmt: skip
TABLE_2_ANSWERS = [
    {"bought_sex_last_year": False, "came_as_often": True, "came_as_long": True, "staff_respectful": True,
     "staff_non_judgmental": True, "staff_dignified": True, "talk_sexual_issues": True, "got_help_needed": True,
     "stop_impulses_due_to_treatment": True},
    {"bought_sex_last_year": True, "came_as_often": False, "came_as_long": True, "staff_respectful": True,
     "staff_non_judgmental": True, "staff_dignified": True, "talk_sexual_issues": False, "got_help_needed": True,
     "stop_impulses_due_to_treatment": False},
    {"bought_sex_last_year": False, "came_as_often": True, "came_as_long": False, "staff_respectful": True,
     "staff_dignified": True, "talk_sexual_issues": True, "got_help_needed": False},
    {"bought_sex_last_year": False, "came_as_often": True, "came_as_long": True, "staff_respectful": True,
     "staff_non_judgmental": False, "staff_dignified": True, "talk_sexual_issues": True, "got_help_needed": True,
     "stop_impulses_due_to_treatment": True},
    {"came_as_often": True, "came_as_long": True, "staff_respectful": False, "staff_non_judgmental": True,
     "staff_dignified": False, "talk_sexual_issues": True, "got_help_needed": True,
     "stop_impulses_due_to_treatment": True},
]  # fmt: skip
#: code -> (yes, answered), counted by hand from the answers above.
TABLE_1 = {
    "bought_sex_ever": (5, 6),
    "bought_sex_last_year": (3, 5),
    "has_partner": (4, 6),
    "has_children": (3, 5),
    "behaviour_harms_self": (5, 6),
    "thoughts_harm_self": (4, 5),
    "behaviour_harms_relations": (3, 4),
}
TABLE_2 = {
    "bought_sex_last_year": (1, 4),
    "came_as_often": (4, 5),
    "came_as_long": (4, 5),
    "staff_respectful": (4, 5),
    "staff_non_judgmental": (3, 4),
    "staff_dignified": (4, 5),
    "talk_sexual_issues": (4, 5),
    "got_help_needed": (4, 5),
    "stop_impulses_due_to_treatment": (3, 4),
}


@pytest.mark.parametrize("on", ["version 1", "the new versions", "both"])
def test_tables_1_and_2_are_the_same_whichever_version_was_answered(therapist, gbg, on):
    versions = {
        "version 1": [(first("kast-start"), first("kast-end"))],
        "the new versions": [(version_for(START), version_for(END))],
    }
    versions["both"] = versions["version 1"] + versions["the new versions"]
    chosen = versions[on]
    for i, answers in enumerate(TABLE_1_ANSWERS):
        start_version, _end = chosen[i % len(chosen)]
        client = ClientFactory(responsible_therapist=therapist, code=f"GBG-2025-{i + 400:04d}")
        episode = period(client, "2025-01-01")
        administer(episode, START, answers, submitted="2025-01-05", version=start_version)
        if i < len(TABLE_2_ANSWERS):
            _start, end_version = chosen[(i + 1) % len(chosen)]
            administer(episode, END, TABLE_2_ANSWERS[i], submitted="2025-06-05", version=end_version)

    selection = reports.Selection(clinic=gbg)
    table_1, table_2 = reports.table_1(selection), reports.table_2(selection)

    assert (table_1.n, {row.code: (row.count, row.answered) for row in table_1.rows}) == (6, TABLE_1)
    assert (table_2.n, {row.code: (row.count, row.answered) for row in table_2.rows}) == (5, TABLE_2)
