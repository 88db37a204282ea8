"""Questionnaire reports: every figure exact on a hand-built caseload, by role, across versions, at two data sizes."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from assessments.models import Administration, Answer, InstrumentVersion, Item, ItemKind, Scale, TimePoint
from assessments.services import DECLINED, version_for
from clients.models import CaseStatus, Client, Episode, RecordKind, StatusChange, TargetGroup
from figures import reports
from figures.views import REFUSED
from kast.models import Role
from tests.factories import ClientFactory, UserFactory

pytestmark = pytest.mark.django_db

SENTINEL = "SENTINEL-reports-4711"
START, END, FOLLOW_UP = TimePoint.START, TimePoint.END, TimePoint.FOLLOW_UP
BUYING, COMPULSIVE = TargetGroup.BUYING_SEX, TargetGroup.COMPULSIVE


def at(day: str) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.fromisoformat(f"{day} 10:00"))


def period(client: Client, opened: str, *, number: int = 1, treated: bool = True, closed: str | None = None) -> Episode:
    """A treatment period of `client`; with `treated` it went contact -> assessment -> in treatment."""
    episode = Episode.objects.create(
        client=client,
        number=number,
        opened_on=datetime.date.fromisoformat(opened),
        closed_on=datetime.date.fromisoformat(closed) if closed else None,
        end_reason="other" if closed else "",
    )
    steps = [("", CaseStatus.CONTACT)]
    if treated:
        steps += [(CaseStatus.CONTACT, CaseStatus.ASSESSMENT), (CaseStatus.ASSESSMENT, CaseStatus.IN_TREATMENT)]
    for source, target in steps:
        StatusChange.objects.create(
            client=client, episode=episode, from_status=source, to_status=target, by=client.responsible_therapist
        )
    return episode


def value_fields(value: object) -> dict[str, object]:
    if value == DECLINED:
        return {"declined": True}
    if isinstance(value, bool):
        return {"value_bool": value}
    if isinstance(value, int):
        return {"value_int": value}
    if isinstance(value, list):
        return {"value_choices": value}
    return {"value_text": value}


def administer(
    episode: Episode,
    point: str,
    answers: dict[str, object],
    *,
    submitted: str | None,
    version: InstrumentVersion | None = None,
) -> Administration:
    """A questionnaire of `episode` with these answers (item code -> value or DECLINED), submitted on that day."""
    version = version or version_for(point)
    administration = Administration.objects.create(
        client=episode.client,
        episode=episode,
        time_point=point,
        version=version,
        submitted_at=at(submitted) if submitted else None,
        created_by=episode.client.responsible_therapist,
    )
    items = {item.code: item for item in version.items.all()}
    Answer.objects.bulk_create(
        Answer(administration=administration, item=items[code], **value_fields(value))
        for code, value in answers.items()
    )
    return administration


@pytest.fixture
def national(db):
    return UserFactory(username="fredrik", first_name="Fredrik", role=Role.NATIONAL, clinic=None)


@pytest.fixture
def caseload(therapist, colleague, other_clinic_therapist):
    """Göteborg: three clients with questionnaires, one only at contact, one treated without any; Malmö: one.

    Table 1 (Göteborg, start):  n 3; ever 2/3, last year 1/3, partner 2/3, children 2/3, harms self 2/3,
                                thoughts 2/2 (one declined), relations 1/2 (one left empty).
    Table 2 (Göteborg, end):    n 2; last year 0/2, as often 1/2, as long 2/2, respectful 2/2, non-judgmental 1/1
                                (one declined), dignified 2/2, talk 1/2, help 2/2, stop impulses 1/2.
    """
    ove = ClientFactory(
        responsible_therapist=therapist,
        code="GBG-2025-0001",
        alias=SENTINEL,
        full_name=f"{SENTINEL} Fullname",
        birth_year=1977,
        gender="man",
        target_groups=[BUYING],
    )
    first = period(ove, "2025-01-10")
    administer(
        first,
        START,
        {
            "bought_sex_ever": True,
            "bought_sex_last_year": True,
            "has_partner": True,
            "has_children": False,
            "behaviour_harms_self": True,
            "thoughts_harm_self": DECLINED,
            "behaviour_harms_relations": True,
            "seek_reason": ["own_wish", "partner"],
            "wellbeing": 2,
            "guilt_shame": 5,
            "own_words": SENTINEL,
        },
        submitted="2025-01-15",
    )
    administer(
        first,
        END,
        {
            "bought_sex_last_year": False,
            "came_as_often": True,
            "came_as_long": True,
            "staff_respectful": True,
            "staff_non_judgmental": True,
            "staff_dignified": True,
            "talk_sexual_issues": True,
            "got_help_needed": True,
            "stop_impulses_due_to_treatment": True,
            "wellbeing": 4,
            "guilt_shame": 2,
            "own_words": SENTINEL,
        },
        submitted="2025-06-15",
    )
    administer(first, FOLLOW_UP, {"bought_sex_last_year": False, "wellbeing": 5}, submitted="2025-12-15")

    per = ClientFactory(
        responsible_therapist=therapist, code="GBG-2025-0002", birth_year=1984, target_groups=[BUYING, COMPULSIVE]
    )
    second = period(per, "2025-02-01")
    administer(
        second,
        START,
        {
            "bought_sex_ever": True,
            "bought_sex_last_year": False,
            "has_partner": False,
            "has_children": True,
            "behaviour_harms_self": False,
            "thoughts_harm_self": True,
            "wellbeing": 3,
        },
        submitted="2025-02-05",
    )
    administer(
        second,
        END,
        {
            "bought_sex_last_year": False,
            "came_as_often": False,
            "came_as_long": True,
            "staff_respectful": True,
            "staff_non_judgmental": DECLINED,
            "staff_dignified": True,
            "talk_sexual_issues": False,
            "got_help_needed": True,
            "stop_impulses_due_to_treatment": False,
            "wellbeing": 3,
        },
        submitted="2025-08-20",
    )

    lars = ClientFactory(responsible_therapist=colleague, code="GBG-2025-0003", target_groups=[COMPULSIVE])
    administer(
        period(lars, "2025-03-01"),
        START,
        {
            "bought_sex_ever": False,
            "bought_sex_last_year": False,
            "has_partner": True,
            "has_children": True,
            "behaviour_harms_self": True,
            "thoughts_harm_self": True,
            "behaviour_harms_relations": False,
            "wellbeing": 4,
        },
        submitted="2025-03-05",
    )

    # Only at contact, with a questionnaire started but not submitted: in no figure.
    nils = ClientFactory(responsible_therapist=therapist, code="GBG-2025-0004", target_groups=[COMPULSIVE])
    administer(period(nils, "2025-04-01", treated=False), START, {"bought_sex_ever": True}, submitted=None)
    # In treatment since 2024, no questionnaire: counts in coverage only.
    period(ClientFactory(responsible_therapist=therapist, code="GBG-2024-0009", target_groups=[BUYING]), "2024-11-01")

    # Malmö: one client, start and end.
    malmo = ClientFactory(responsible_therapist=other_clinic_therapist, code="MLM-2025-0001", target_groups=[BUYING])
    episode = period(malmo, "2025-01-20")
    administer(episode, START, {"bought_sex_ever": True, "has_partner": True, "wellbeing": 1}, submitted="2025-01-25")
    administer(episode, END, {"came_as_often": True, "wellbeing": 2}, submitted="2025-05-25")
    return {"ove": ove, "per": per, "lars": lars, "nils": nils, "malmo": malmo}


@pytest.fixture
def five_more(caseload, therapist):
    """Five more Göteborg clients with a start questionnaire on 10 February 2025: all have bought sex at some
    time and none has a partner. Göteborg then has 8 people who answered (a clinic's page shows them)."""
    for n in range(5):
        client = ClientFactory(responsible_therapist=therapist, code=f"GBG-2025-{n + 20:04d}", target_groups=[BUYING])
        administer(
            period(client, "2025-02-01"),
            START,
            {"bought_sex_ever": True, "has_partner": False},
            submitted="2025-02-10",
        )
    return caseload


def figures(table: reports.CountTable) -> dict[str, tuple[int, int]]:
    return {row.code: (row.count, row.answered) for row in table.rows}


def changes_of(report_changes: list[reports.PairedChange]) -> dict[tuple[str, str, str], tuple]:
    return {
        (c.earlier, c.later, c.code): (c.n, c.improved, c.unchanged, c.worsened, c.median, c.p_value)
        for c in report_changes
    }


GBG_TABLE_1 = {
    "bought_sex_ever": (2, 3),
    "bought_sex_last_year": (1, 3),
    "has_partner": (2, 3),
    "has_children": (2, 3),
    "behaviour_harms_self": (2, 3),
    "thoughts_harm_self": (2, 2),
    "behaviour_harms_relations": (1, 2),
}
GBG_TABLE_2 = {
    "bought_sex_last_year": (0, 2),
    "came_as_often": (1, 2),
    "came_as_long": (2, 2),
    "staff_respectful": (2, 2),
    "staff_non_judgmental": (1, 1),
    "staff_dignified": (2, 2),
    "talk_sexual_issues": (1, 2),
    "got_help_needed": (2, 2),
    "stop_impulses_due_to_treatment": (1, 2),
}
#: (earlier, later, code) -> (n, better, same, worse, median, p). Ove improved, Per stayed; one pair each is p = 1.
GBG_CHANGES = {
    (START, END, "bought_sex_last_year"): (2, 1, 1, 0, 0.5, 1.0),
    (START, END, "wellbeing"): (2, 1, 1, 0, 1.0, 1.0),
    (START, END, "guilt_shame"): (1, 1, 0, 0, 3.0, 1.0),  # lower is better: 5 -> 2
    (END, FOLLOW_UP, "bought_sex_last_year"): (1, 0, 1, 0, 0.0, None),
    (END, FOLLOW_UP, "wellbeing"): (1, 1, 0, 0, 1.0, 1.0),
    (START, FOLLOW_UP, "bought_sex_last_year"): (1, 1, 0, 0, 1.0, 1.0),
    (START, FOLLOW_UP, "wellbeing"): (1, 1, 0, 0, 3.0, 1.0),
}


def test_tables_1_and_2_count_the_evaluations_rows(caseload, gbg):
    selection = reports.Selection(clinic=gbg)

    table_1, table_2 = reports.table_1(selection), reports.table_2(selection)

    assert table_1.n == 3
    assert figures(table_1) == GBG_TABLE_1
    assert [row.code for row in table_1.rows] == [code for code, _label in reports.TABLE_1_ROWS]
    assert table_2.n == 2
    assert figures(table_2) == GBG_TABLE_2


def test_paired_change_on_the_same_people(caseload, gbg):
    changes = reports.paired_changes(reports.Selection(clinic=gbg))

    assert changes_of(changes) == GBG_CHANGES
    # In the forms' order: start -> end first, and within it as the questions come.
    assert [(c.earlier, c.later) for c in changes][:3] == [(START, END)] * 3


def test_coverage_per_therapist_and_year(caseload, gbg, therapist, colleague):
    rows = reports.coverage(reports.Selection(clinic=gbg))

    # (group, year): periods, start, end, follow-up, start and end, all three. Nils never reached treatment.
    assert [(r.group, r.year, r.periods, r.start, r.end, r.follow_up, r.start_and_end, r.all_three) for r in rows] == [
        (therapist.get_full_name(), 2024, 1, 0, 0, 0, 0, 0),
        (therapist.get_full_name(), 2025, 2, 2, 2, 1, 2, 1),
        (colleague.get_full_name(), 2025, 1, 1, 0, 0, 0, 0),
    ]


def test_a_relatives_support_period_is_not_counted_as_a_treatment_period(caseload, gbg, therapist, colleague):
    """Questionnaires are for clients' treatment: a partner's period of support ("in treatment" on the relative's
    own record) would otherwise count as a period whose questionnaires are missing (the demo's partners did)."""
    partner = ClientFactory(
        responsible_therapist=therapist, kind=RecordKind.RELATIVE, target_groups=[TargetGroup.RELATIVE]
    )
    period(partner, "2025-03-01")

    rows = reports.coverage(reports.Selection(clinic=gbg))

    assert [(r.group, r.year, r.periods, r.start, r.end, r.follow_up, r.start_and_end, r.all_three) for r in rows] == [
        (therapist.get_full_name(), 2024, 1, 0, 0, 0, 0, 0),
        (therapist.get_full_name(), 2025, 2, 2, 2, 1, 2, 1),
        (colleague.get_full_name(), 2025, 1, 1, 0, 0, 0, 0),
    ]


def test_coverage_is_shown_per_year_and_per_therapist(caseload, gbg, therapist, colleague):
    """Two short tables instead of one row per therapist and year (4 000 rows at national scale)."""
    report = reports.report_for(reports.Selection(clinic=gbg))

    def counts(rows):
        return [(r.group, r.year, r.periods, r.start, r.end, r.follow_up, r.start_and_end, r.all_three) for r in rows]

    assert counts(reports.coverage_totals(report.coverage, per="year")) == [
        ("", 2024, 1, 0, 0, 0, 0, 0),
        ("", 2025, 3, 3, 2, 1, 2, 1),
    ]
    assert counts(reports.coverage_totals(report.coverage, per="group")) == [
        (therapist.get_full_name(), 0, 3, 2, 2, 1, 2, 1),
        (colleague.get_full_name(), 0, 1, 1, 0, 0, 0, 0),
    ]
    shown = reports.shown_report(report)
    # 1 and 3 periods: under 5, "<5" for every role (figures.suppression); the zeros stay zeros.
    assert [(row.label, row.cells) for row in shown.coverage_by_year] == [
        ("2024", ["<5", "0", "0", "0", "0", "0", "0", "0", "0", "0", "0"]),
        ("2025", ["<5", "<5", "<5", "<5", "0", "<5", "<5", "0", "<5", "0", "<5"]),
    ]
    # Three people answered: the page refuses the whole report (tests below).
    assert (report.people, shown.refused) == (3, True)


def test_coverage_by_clinic_for_national_follow_up(caseload):
    rows = reports.coverage(reports.Selection(), by="clinic")

    assert [(r.group, r.year, r.periods, r.start, r.end, r.follow_up, r.start_and_end, r.all_three) for r in rows] == [
        ("Göteborg", 2024, 1, 0, 0, 0, 0, 0),
        ("Göteborg", 2025, 3, 3, 2, 1, 2, 1),
        ("Malmö", 2025, 1, 1, 1, 0, 1, 0),
    ]


def test_sign_test_and_median_by_hand(gbg, therapist):
    """12 people answer "how are you" at start and end: 8 better (2 by one step, 6 by two), 3 the same, 1 worse.

    Sign test: 9 changed, 1 the less common way; p = 2 * (C(9,0) + C(9,1)) / 2^9 = 2 * 10 / 512 = 0.0390625.
    Median of -1, 0, 0, 0, 1, 1, 2, 2, 2, 2, 2, 2: the 6th and 7th are 1 and 2, so 1.5.
    """
    moves = [(2, 3)] * 2 + [(2, 4)] * 6 + [(3, 3)] * 3 + [(4, 3)]
    for n, (before, after) in enumerate(moves):
        episode = period(ClientFactory(responsible_therapist=therapist, code=f"GBG-2025-{n + 100:04d}"), "2025-01-01")
        administer(episode, START, {"wellbeing": before}, submitted="2025-01-02")
        administer(episode, END, {"wellbeing": after}, submitted="2025-05-02")

    (change,) = reports.paired_changes(reports.Selection(clinic=gbg))

    assert (change.n, change.improved, change.unchanged, change.worsened) == (12, 8, 3, 1)
    assert change.median == 1.5
    assert change.p_value == 20 / 512
    with translation.override("sv"):
        assert reports.shown_p(change.p_value) == "0,04"
        # As every role sees it: the same 3 and the worse 1 are under 5. With them hidden, the median and the
        # p-value (which would give them back) are left out and the difference is not tested in words.
        (row,) = reports.shown_report(reports.report_for(reports.Selection(clinic=gbg))).changes[0][1]
        assert row.cells == ["12", "8", "<5", "<5", "", ""]
        assert row.sentence == reports.change_sentence(change)
        assert row.sentence == " ".join(
            [
                _(
                    "Of %(n)s who answered both times, %(better)s answered for the better, %(same)s the same and "
                    "%(worse)s for the worse."
                )
                % {"n": "12", "better": "8", "same": "<5", "worse": "<5"},
                _("Some of these counts are hidden so that no one can be recognised, so the difference is not tested."),
            ]
        )


def test_change_in_words_when_every_count_may_be_shown():
    """20 pairs: 10 better, 5 the same, 5 worse. p = 2 * (C(15,0) + ... + C(15,5)) / 2^15 = 0.3017578125."""
    change = reports.PairedChange(START, END, "wellbeing", "Hur mår du?", {1: 6, 2: 4, 0: 5, -1: 5})

    assert (change.n, change.improved, change.unchanged, change.worsened) == (20, 10, 5, 5)
    assert change.p_value == 0.3017578125
    with translation.override("sv"):
        assert reports.change_sentence(change) == " ".join(
            [
                _(
                    "Of %(n)s who answered both times, %(better)s answered for the better, %(same)s the same and "
                    "%(worse)s for the worse."
                )
                % {"n": "20", "better": "10", "same": "5", "worse": "5"},
                _("A difference this small can easily arise by chance (%(p)s).") % {"p": "p = 0,30"},
            ]
        )


@pytest.mark.parametrize(
    ("improved", "worsened", "expected"),
    [(0, 0, None), (1, 0, 1.0), (5, 0, 2 / 32), (4, 4, 1.0), (6, 1, 16 / 128), (10, 0, 2 / 1024)],
)
def test_sign_test_small_cases(improved, worsened, expected):
    assert reports.sign_test(improved, worsened) == expected


def test_p_value_is_never_rounded_up_to_the_limit():
    with translation.override("sv"):
        assert reports.shown_p(0.0496) == "0,050"
        assert reports.shown_p(0.0504) == "0,05"
        assert reports.shown_p(0.0004) == "< 0,001"
        assert reports.shown_p(0.38) == "0,38"


@pytest.fixture
def revised_end_form():
    """The next version of the end form: "how are you" reworded (same code), "it harms my relationships" replaced by a
    question of another meaning (a new code), and "as often as needed" asked on a five-step scale."""
    old = version_for(END)
    new = InstrumentVersion.objects.create(
        instrument=old.instrument, number=old.number + 1, time_points=[END, FOLLOW_UP], changes="Omformulerad"
    )
    Item.objects.create(
        version=new,
        code="bought_sex_last_year",
        position=1,
        kind=ItemKind.YES_NO,
        text="Har du köpt sexuella tjänster under det senaste året?",
        higher_is_better=False,
    )
    Item.objects.create(
        version=new,
        code="wellbeing",
        position=2,
        kind=ItemKind.SCALE,
        scale=Scale.WELLBEING,
        text="Hur har du mått den senaste veckan?",
        text_en="How have you been in the last week?",
        higher_is_better=True,
    )
    Item.objects.create(
        version=new,
        code="relations_strained",
        position=3,
        kind=ItemKind.SCALE,
        scale=Scale.AGREEMENT,
        text="Mina nära relationer är ansträngda.",
        higher_is_better=False,
    )
    Item.objects.create(
        version=new,
        code="came_as_often",
        position=4,
        kind=ItemKind.SCALE,
        scale=Scale.AGREEMENT,
        text="Jag har fått komma så ofta som jag behövt.",
        higher_is_better=True,
    )
    Item.objects.create(version=new, code="own_words", position=5, kind=ItemKind.TEXT, text="Med egna ord?")
    new.published_at = timezone.now()
    new.save(update_fields=["published_at"])
    assert version_for(END) == new
    return old, new


def test_revised_version_pairs_by_item_code(gbg, therapist, revised_end_form):
    old_end, _new_end = revised_end_form
    # Anna's client A: start on v1, end on the new version.
    a = period(ClientFactory(responsible_therapist=therapist, code="GBG-2025-0101"), "2025-01-01")
    administer(a, START, {"wellbeing": 2, "relations_affected": 4}, submitted="2025-01-02")
    administer(a, END, {"wellbeing": 4, "relations_strained": 2, "came_as_often": 4}, submitted="2025-05-02")
    # Client B: start and end on v1, follow-up on the new version.
    b = period(ClientFactory(responsible_therapist=therapist, code="GBG-2025-0102"), "2025-01-01")
    administer(b, START, {"wellbeing": 3, "relations_affected": 4}, submitted="2025-01-02")
    administer(
        b,
        END,
        {"wellbeing": 3, "relations_affected": 5, "came_as_often": False},
        submitted="2025-05-02",
        version=old_end,
    )
    administer(b, FOLLOW_UP, {"wellbeing": 5, "relations_strained": 1, "came_as_often": 5}, submitted="2025-11-02")
    # Client C: start in an earlier, closed period and end in the current one: not the same treatment period.
    c_client = ClientFactory(responsible_therapist=therapist, code="GBG-2025-0103")
    administer(period(c_client, "2024-01-01", closed="2024-06-01"), START, {"wellbeing": 1}, submitted="2024-01-02")
    administer(period(c_client, "2025-01-01", number=2), END, {"wellbeing": 5}, submitted="2025-05-02")

    changes = reports.paired_changes(reports.Selection(clinic=gbg))

    assert changes_of(changes) == {
        # Reworded, same code: pairs across versions (A: v1 -> v2 +2; B: v1 -> v1 0).
        (START, END, "wellbeing"): (2, 1, 1, 0, 1.0, 1.0),
        # Only B answered the old relationship question twice (4 -> 5, lower is better).
        (START, END, "relations_affected"): (1, 0, 0, 1, -1.0, 1.0),
        # B: v1 end -> v2 follow-up, and start -> follow-up.
        (END, FOLLOW_UP, "wellbeing"): (1, 1, 0, 0, 2.0, 1.0),
        (START, FOLLOW_UP, "wellbeing"): (1, 1, 0, 0, 2.0, 1.0),
    }
    # The new-code question never pairs with the old one; "as often" changed from yes/no to a scale: not paired.
    assert not {c.code for c in changes} & {"relations_strained", "came_as_often"}
    # The label is the newest wording.
    with translation.override("en"):
        labels = {c.code: c.label for c in reports.paired_changes(reports.Selection(clinic=gbg))}
    assert labels["wellbeing"] == "How have you been in the last week?"
    # Table 2 counts the scale answer "agree partly" (4) as a yes: A yes, B no, C did not answer it.
    table_2 = reports.table_2(reports.Selection(clinic=gbg))
    assert table_2.n == 3
    assert figures(table_2)["came_as_often"] == (1, 2)


def get_report(client, user, **params):
    client.force_login(user)
    return client.get(reverse("figures:reports"), params)


def test_filters_change_the_figures(client, five_more, therapist):
    # Period: Lars's start (5 March) and both ends (June, August) fall outside January-February; Ove's and Per's
    # starts and the five of 10 February are in it.
    response = get_report(client, therapist, start="2025-01-01", end="2025-02-28")
    assert response.status_code == 200
    assert response.context["report"].table_1.n_shown == "7"
    assert response.context["report"].table_2.n == 0
    assert _("No questionnaires in this selection.") in response.content.decode()
    # Ove's follow-up is in December: the pairs ending at follow-up need it inside the period.
    response = get_report(client, therapist, end="2025-11-30")
    pair_labels = [label for label, _rows in response.context["report"].changes]
    assert pair_labels == [str(reports.PAIR_LABELS[(START, END)])]


def test_a_selection_of_fewer_than_five_people_is_refused(client, five_more, therapist, manager):
    """A short period or a narrow group could show one person's answers ("1 of 1, 100 %"): nothing is shown."""
    refused = [
        {"target_group": COMPULSIVE},  # only Per and Lars seek help for compulsive behaviour
        {"start": "2025-01-15", "end": "2025-01-15"},  # one day: Ove's start alone
        {"start": "2025-06-01"},  # Ove's and Per's ends and Ove's follow-up
    ]
    for user in (therapist, manager):
        for params in refused:
            response = get_report(client, user, **params)
            assert response.status_code == 400, params
            assert response.context["form"].non_field_errors() == [str(REFUSED)]
            assert "report" not in response.context
            body = response.content.decode()
            assert str(REFUSED).split(",")[0] in body
            assert "100\xa0%" not in body and "<table" not in body
    # A day with nobody's answers is no one's: the page says there are none.
    empty = get_report(client, therapist, start="2025-01-16", end="2025-01-16")
    assert empty.status_code == 200
    assert empty.context["report"].people == 0


def test_end_before_start_is_a_field_error(client, caseload, therapist):
    response = get_report(client, therapist, start="2025-03-01", end="2025-02-01")

    assert response.status_code == 400
    assert response.context["form"].errors == {"end": [_("The end date cannot be before the start date.")]}
    assert "report" not in response.context


def test_manager_and_therapists_see_their_own_clinic_only(client, five_more, manager, colleague, mlm):
    for user in (manager, colleague):
        # Asking for Malmö changes nothing: the clinic is not theirs to choose.
        response = get_report(client, user, clinic=mlm.pk)
        assert "clinic" not in response.context["form"].fields
        shown = response.context["report"]
        assert (shown.table_1.n, shown.table_2.n) == (8, 2)
        # GBG_TABLE_1 with the five more: every count under 5 is "<5", and so is every share resting on one.
        # Ever bought sex: 7 of 8, so 1 did not: the 8 who answered is withheld ("..") and no share is given.
        assert [row.cells for row in shown.table_1.rows] == [
            ["7", "..", ""],  # ever: 2 + 5 of 3 + 5
            ["<5", "<5", ""],  # last year: 1 of 3
            ["<5", "8", ""],  # partner: 2 of 3 + 5
            *[["<5", "<5", ""]] * 4,  # children 2/3, harms self 2/3, thoughts 2/2, relations 1/2
        ]
        # Two answered at treatment end: that table shows no answers at all.
        assert (shown.table_2.n_shown, shown.table_2.too_few, shown.table_2.rows) == ("<5", True, [])
        body = response.content.decode()
        too_few = _(
            "Fewer than 5 people filled in this questionnaire in the selection, so their answers are not shown."
        )
        assert too_few in body


def test_other_clinic_sees_its_own_figures(client, caseload, other_clinic_therapist):
    # Malmö's one client alone: refused.
    refused = get_report(client, other_clinic_therapist)
    assert refused.status_code == 400
    assert refused.context["form"].non_field_errors() == [str(REFUSED)]


def test_other_clinic_with_six_people_sees_its_own_figures(client, more_in_malmo, other_clinic_therapist):
    shown = get_report(client, other_clinic_therapist).context["report"]

    assert (shown.table_1.n, shown.table_2.n) == (6, 1)
    assert [row.label for row in shown.coverage_by_group] == [other_clinic_therapist.get_full_name()]
    # All six have bought sex at some time: 6 of 6, 100 % of five or more people may be given.
    assert shown.table_1.rows[0].cells == ["6", "6", "100\xa0%"]


@pytest.fixture
def more_in_malmo(caseload, other_clinic_therapist):
    """Five more Malmö starts, all having bought sex and none with a partner: Malmö's start n is 6."""
    for n in range(5):
        client = ClientFactory(responsible_therapist=other_clinic_therapist, code=f"MLM-2025-{n + 10:04d}")
        administer(
            period(client, "2025-02-01"),
            START,
            {"bought_sex_ever": True, "has_partner": False},
            submitted="2025-02-10",
        )


def test_national_sees_all_clinics_with_small_counts_hidden(client, five_more, more_in_malmo, national, gbg, mlm):
    response = get_report(client, national)

    shown = response.context["report"]
    # All clinics: 8 + 6 starts, 2 + 1 ends.
    assert shown.table_1.n_shown == "14"
    assert (shown.table_2.n_shown, shown.table_2.too_few) == ("<5", True)
    cells = {row.label: row.cells for row in shown.table_1.rows}
    # Ever bought sex: 7 + 6 of 8 + 6; 1 did not, so the 14 who answered is withheld. Partner: 2 + 1 of 14.
    assert cells[str(reports.TABLE_1_ROWS[0][1])] == ["13", "..", ""]
    assert cells[str(reports.TABLE_1_ROWS[2][1])] == ["<5", "14", ""]
    # Every change rests on fewer than 5 pairs: all hidden, zeros too (they would tell what everyone answered).
    assert all(cell == "<5" for _label, rows in shown.changes for row in rows for cell in row.cells[:4])
    assert all(cell == "" for _label, rows in shown.changes for row in rows for cell in row.cells[4:])
    assert all(
        row.sentence == _("Fewer than 5 answered both times, so the change is not described.")
        for _l, rows in shown.changes
        for row in rows
    )
    # By clinic, not by therapist: Göteborg's 9 periods and Malmö's 6.
    # Periods; at start, end, six months, long term; start+end, start+six months, start+long term, end+six
    # months, end+long term; start, end and six months. Nobody has reached the long-term follow-up: zeros.
    assert [(row.label, row.cells) for row in shown.coverage_by_group] == [
        ("Göteborg", ["9", "8", "<5", "<5", "0", "<5", "<5", "0", "<5", "0", "<5"]),
        ("Malmö", ["6", "6", "<5", "0", "0", "<5", "0", "0", "0", "0", "0"]),
    ]
    # By year: 2024 Göteborg's 1; 2025 the other 14. The periods of both clinics (15) are given per clinic, so
    # 2025's 14 would give 2024's 1 back: it is withheld.
    assert [(row.label, row.cells) for row in shown.coverage_by_year] == [
        ("2024", ["<5", "0", "0", "0", "0", "0", "0", "0", "0", "0", "0"]),
        ("2025", ["..", "14", "<5", "<5", "0", "<5", "<5", "0", "<5", "0", "<5"]),
    ]
    # One clinic chosen: Göteborg's clinic row (9) is on its page, so 2025's 8 is withheld there too.
    one = get_report(client, national, clinic=gbg.pk).context["report"]
    assert one.table_1.n_shown == "8"
    assert [(row.label, row.cells[0]) for row in one.coverage_by_year] == [("2024", "<5"), ("2025", "..")]
    malmo = get_report(client, national, clinic=mlm.pk).context["report"]
    assert malmo.table_1.n_shown == "6"
    assert malmo.table_1.rows[0].cells == ["6", "6", "100\xa0%"]


def test_national_cannot_work_out_a_refused_clinic(client, five_more, national, gbg, mlm):
    """Göteborg 8 people, Malmö 1 (refused): all clinics' 9 less Göteborg's 8 would be Malmö's one person.

    Every count of all clinics is the sum of Göteborg's and Malmö's, so wherever Malmö's is not 0 national
    follow-up sees Göteborg's withheld (the smaller of the two shown, as complementary suppression takes it).
    """
    assert get_report(client, national, clinic=mlm.pk).status_code == 400
    whole = get_report(client, national).context["report"]
    one = get_report(client, national, clinic=gbg.pk).context["report"]

    assert (whole.table_1.n_shown, one.table_1.n_shown) == ("9", "..")
    # Ever bought sex: all 8 of 9, Göteborg 7 of 8 (and the answered withheld, since 1 did not); partner: all
    # 3 of 9, Göteborg 2 of 8. Malmö's one answered yes to both: Göteborg's counts that differ are withheld.
    assert [row.cells for row in whole.table_1.rows[:3]] == [["8", "..", ""], ["<5", "<5", ""], ["<5", "9", ""]]
    assert [row.cells for row in one.table_1.rows[:3]] == [["..", "..", ""], ["<5", "<5", ""], ["<5", "..", ""]]
    # Coverage: all clinics' periods of 2025 (9) and Malmö's row (<5) are on the national page, Göteborg's 8 of
    # 2025 only on Göteborg's: withheld there, and so is its one start of Malmö's in all clinics' 2025.
    assert [(row.label, row.cells[:2]) for row in whole.coverage_by_year] == [
        ("2024", ["<5", "0"]),
        ("2025", ["9", ".."]),
    ]
    assert [(row.label, row.cells[:2]) for row in one.coverage_by_year] == [
        ("2024", ["<5", "0"]),
        ("2025", ["..", ".."]),
    ]
    assert [(row.label, row.cells[:2]) for row in whole.coverage_by_group] == [
        ("Göteborg", ["9", ".."]),
        ("Malmö", ["<5", "<5"]),
    ]


def test_free_text_never_reaches_the_reports_page(client, five_more, more_in_malmo, personas, national):
    users = [personas[name] for name in ("therapist", "colleague", "other_clinic", "manager")] + [national]
    for user in users:
        response = get_report(client, user)
        assert response.status_code == 200
        body = response.content.decode()
        assert SENTINEL not in body
        assert "GBG-2025" not in body and "MLM-2025" not in body


def test_empty_selection_says_so(client, therapist):
    response = get_report(client, therapist)

    assert response.status_code == 200
    body = response.content.decode()
    assert body.count(_("No questionnaires in this selection.")) == 2
    assert _("No one in this selection has answered the same question at two time points yet.") in body
    assert _("No treatment periods in this selection.") in body


def grow(therapist, size: int, *, offset: int = 0) -> None:
    """`size` treated periods in Göteborg, each with start and end answered on four items. Inserted in bulk."""
    start, end = version_for(START), version_for(END)
    items = {
        (version.pk, item.code): item
        for version in (start, end)
        for item in version.items.filter(code__in=["bought_sex_last_year", "wellbeing", "guilt_shame", "own_words"])
    }
    clients = Client.objects.bulk_create(
        Client(clinic=therapist.clinic, responsible_therapist=therapist, code=f"GBG-2025-{n + 500:04d}")
        for n in range(offset, offset + size)
    )
    episodes = Episode.objects.bulk_create(
        Episode(client=c, number=1, opened_on=datetime.date(2025, 1, 1)) for c in clients
    )
    StatusChange.objects.bulk_create(
        StatusChange(client=e.client, episode=e, from_status=source, to_status=target, by=therapist)
        for e in episodes
        for source, target in [
            ("", CaseStatus.CONTACT),
            (CaseStatus.CONTACT, CaseStatus.ASSESSMENT),
            (CaseStatus.ASSESSMENT, CaseStatus.IN_TREATMENT),
        ]
    )
    administrations = Administration.objects.bulk_create(
        Administration(
            client=e.client, episode=e, time_point=point, version=version, submitted_at=at(day), created_by=therapist
        )
        for e in episodes
        for point, version, day in [(START, start, "2025-01-05"), (END, end, "2025-06-05")]
    )
    Answer.objects.bulk_create(
        Answer(
            administration=a,
            item=items[(a.version_id, code)],
            **value_fields(value if a.time_point == START else later),
        )
        for n, a in enumerate(administrations)
        for code, value, later in [
            ("bought_sex_last_year", True, n % 3 == 0),
            ("wellbeing", 2, 2 + n % 4),
            ("guilt_shame", 4, DECLINED if n % 5 == 0 else 3),
            ("own_words", SENTINEL, SENTINEL),
        ]
    )


@pytest.mark.parametrize("persona", ["therapist", "manager", "national"])
def test_reports_page_query_count_does_not_grow_with_data(
    client, therapist, manager, national, persona, django_assert_num_queries
):
    client.force_login({"therapist": therapist, "manager": manager, "national": national}[persona])
    url = reverse("figures:reports")
    grown = 0
    for size in (5, 40):
        grow(therapist, size, offset=grown)
        grown += size
        # 1 session, 2 user (with the clinic), 3 the second factor's device, 4 the figures' stamps (computed:
        # this test's transaction has written), 5 Table 1, 6 Table 2, 7 paired change (one UNION of the three
        # pairs of time points), 8 the questions' wording, 9 coverage, 10 the people who answered. National
        # follow-up: 5 the clinics, 6-11 all clinics' six and 12-17 Göteborg's six (each clinic's figures are
        # protected with all clinics': figures.suppression), 18 the form's clinics. Per clinic, not per row.
        with django_assert_num_queries(18 if persona == "national" else 10):
            response = client.get(url)
        assert response.status_code == 200
        assert response.context["report"].table_1.n == grown
