"""`seed_demo` fills in the questionnaires of most treatment periods, with gaps, so the reports have figures to show."""

from __future__ import annotations

import datetime
import io
import random
import re
from collections import Counter, defaultdict

import pytest
import time_machine
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from assessments.models import Administration, Answer, FilledBy, Item, ItemKind, TimePoint
from assessments.services import DECLINED, _value_fields, version_for
from clients.models import CaseStatus, Client, Episode, StatusChange, TargetGroup
from demo import assessments as assessments_demo
from demo import clients as demo
from demo import sessions as sessions_demo
from figures import reports
from kast.models import Clinic

START, END, FOLLOW_UP = TimePoint.START, TimePoint.END, TimePoint.FOLLOW_UP
BULK_CLIENTS = 150
SEEDED_ON = datetime.datetime(2026, 6, 15, 10, 0, tzinfo=datetime.UTC)


def seed(*args: str) -> str:
    out = io.StringIO()
    with override_settings(DEBUG=True):
        call_command("seed_demo", *args, stdout=out, verbosity=2)
    return out.getvalue()


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """The demo caseloads and a small load test on top, seeded once for the module (the tests only read).

    On one fixed day: the demo is dated from today, so without it the shares below would be those of whichever
    day the suite runs (seeded generators make the same data on the same day, not on every day)."""
    with time_machine.travel(SEEDED_ON, tick=True), django_db_blocker.unblock(), transaction.atomic():
        demo_out = seed()
        demo_clients = set(Client.objects.values_list("pk", flat=True))
        yield (demo_out, seed("--clients", str(BULK_CLIENTS))), demo_clients
        transaction.set_rollback(True)


@pytest.fixture
def output(seeded, db):
    return seeded[0]


@pytest.fixture
def demo_clients(seeded, db):
    """The demo therapists' own caseloads (not the load test's clients)."""
    return seeded[1]


def steps_by_episode() -> dict[int, dict[str, datetime.date]]:
    """Episode -> status reached -> the local day it was reached."""
    steps: dict[int, dict[str, datetime.date]] = defaultdict(dict)
    for episode_id, status, at in StatusChange.objects.values_list("episode_id", "to_status", "at"):
        steps[episode_id][status] = timezone.localdate(at)
    return steps


def value_of(answer: Answer) -> object:
    """The typed value an answer stores, as the form would hand it to answers_save."""
    if answer.declined:
        return DECLINED
    kind = answer.item.kind
    if kind == ItemKind.YES_NO:
        return answer.value_bool
    if kind in (ItemKind.SCALE, ItemKind.FREQUENCY, ItemKind.NUMBER):
        return answer.value_int
    if kind == ItemKind.LAST_OCCURRENCE:
        return answer.value_date
    if kind == ItemKind.SINGLE:
        return answer.value_choices[0] if answer.value_choices else None
    if kind == ItemKind.MULTIPLE:
        return answer.value_choices
    return answer.value_text


def test_the_output_counts_the_questionnaires(output):
    demo_out, bulk_out = output
    found = re.search(r"^Demo questionnaires: (\d+) \((\d+) submitted\) with (\d+) answers\.$", demo_out, re.M)
    added = re.search(r"^Added (\d+) questionnaires \((\d+) submitted\) with (\d+) answers\.$", bulk_out, re.M)
    assert found and added, (demo_out, bulk_out)
    total = [int(a) + int(b) for a, b in zip(found.groups(), added.groups(), strict=True)]
    assert total == [
        Administration.objects.count(),
        Administration.objects.filter(submitted_at__isnull=False).count(),
        Answer.objects.count(),
    ]
    assert int(found.group(1)) > 30 and int(added.group(1)) > 50


def test_most_treated_periods_have_questionnaires_not_all(output):
    rows = reports.coverage(reports.Selection())
    periods = sum(row.periods for row in rows)
    started = sum(row.start for row in rows)
    assert periods > 100
    assert 0.7 * periods <= started < periods  # about 85 %

    steps = steps_by_episode()
    submitted = defaultdict(set)
    for episode_id, point in Administration.objects.filter(submitted_at__isnull=False).values_list(
        "episode_id", "time_point"
    ):
        submitted[point].add(episode_id)
    ended = [e for e, reached in steps.items() if CaseStatus.ENDED in reached]
    followed_up = [e for e, reached in steps.items() if CaseStatus.FOLLOWED_UP in reached]
    with_end = sum(e in submitted[END] for e in ended)
    with_follow_up = sum(e in submitted[FOLLOW_UP] for e in followed_up)
    assert 0.45 * len(ended) <= with_end < len(ended)  # about 65 %
    assert 0.2 * len(followed_up) <= with_follow_up <= 0.8 * len(followed_up)  # about half
    # Some were started and never submitted; a few were filled in on the tablet, most with the therapist.
    assert Administration.objects.filter(submitted_at__isnull=True).exists()
    filled_by = Counter(Administration.objects.values_list("filled_by", flat=True))
    assert 0 < filled_by[FilledBy.CLIENT] < 0.3 * filled_by[FilledBy.THERAPIST], filled_by


def test_only_periods_that_reached_treatment_and_the_points_they_reached(output):
    steps = steps_by_episode()
    reached_for = {START: CaseStatus.IN_TREATMENT, END: CaseStatus.ENDED, FOLLOW_UP: CaseStatus.FOLLOWED_UP}
    versions = {point: version_for(point).pk for point in reached_for}
    for administration in Administration.objects.select_related("episode", "client"):
        assert reached_for[administration.time_point] in steps[administration.episode_id], administration.pk
        assert administration.client_id == administration.episode.client_id
        assert administration.version_id == versions[administration.time_point]
        assert administration.created_by_id == administration.client.responsible_therapist_id
    assert set(Administration.objects.values_list("time_point", flat=True)) == {START, END, FOLLOW_UP}


def test_dated_near_the_start_the_end_and_six_months_after(output):
    steps = steps_by_episode()
    now = timezone.now()
    began_at: dict[int, dict[str, datetime.datetime]] = defaultdict(dict)
    for administration in Administration.objects.select_related("episode"):
        began_at[administration.episode_id][administration.time_point] = administration.started_at
        episode, reached = administration.episode, steps[administration.episode_id]
        began = administration.started_at
        assert began <= now
        if administration.submitted_at is not None:
            assert began < administration.submitted_at <= now
            assert administration.submitted_at - began <= datetime.timedelta(minutes=30)
        day = timezone.localdate(began)
        if administration.time_point == START:
            treated = reached[CaseStatus.IN_TREATMENT]
            assert episode.opened_on <= treated <= day <= treated + datetime.timedelta(days=45), administration.pk
            assert episode.closed_on is None or day <= episode.closed_on
        elif administration.time_point == END:
            assert episode.closed_on - datetime.timedelta(days=45) <= day <= episode.closed_on, administration.pk
        else:
            after = (day - episode.closed_on).days
            assert 150 <= after <= 240, (administration.pk, after)
    for began in began_at.values():
        points = [began[point] for point in (START, END, FOLLOW_UP) if point in began]
        assert points == sorted(points)


def test_every_answer_fits_its_item_and_its_client(output):
    answers = Answer.objects.select_related("item", "administration__client")
    assert answers.count() > 1000
    declined = 0
    for answer in answers:
        administration, item = answer.administration, answer.item
        assert item.version_id == administration.version_id
        # A targeted question is asked only of its target groups.
        assert item.applies_to(administration.client.target_groups), (item.code, administration.client.target_groups)
        value = value_of(answer)
        columns = _value_fields(item, value)  # the services' own check: raises when the value does not fit
        for column, expected in columns.items():
            assert getattr(answer, column) == expected
        declined += answer.declined
        if item.kind == ItemKind.TEXT and not answer.declined:
            # Free text: a short neutral sentence from the bank, never anything about who the client is.
            assert value in {text for texts in assessments_demo.OWN_WORDS.values() for text in texts}
    assert 0 < declined < 0.05 * answers.count()
    targeted = Item.objects.exclude(target_groups=[]).values_list("pk", flat=True)
    outside = Answer.objects.filter(item__in=list(targeted)).exclude(
        administration__client__target_groups__contains=[TargetGroup.BUYING_SEX]
    )
    assert not outside.exists()


def test_answers_agree_with_the_record(output):
    by_administration: dict[int, dict[str, Answer]] = defaultdict(dict)
    rows: Counter = Counter()
    for answer in Answer.objects.select_related("item"):
        rows[answer.administration_id] += 1
        if not answer.declined:
            by_administration[answer.administration_id][answer.item.code] = answer
    left_empty = 0
    administrations = Administration.objects.select_related("client", "version").prefetch_related("version__items")
    for administration in administrations:
        client = administration.client
        answers = by_administration[administration.pk]
        day = timezone.localdate(administration.started_at)
        if "has_partner" in answers:
            assert answers["has_partner"].value_bool == client.in_relationship
        if "has_children" in answers:
            assert answers["has_children"].value_bool == client.has_children
        buying = TargetGroup.BUYING_SEX in client.target_groups
        if buying and "bought_sex_ever" in answers:
            assert answers["bought_sex_ever"].value_bool is True
        last = answers.get("last_buying_sex")
        if last is not None:
            assert last.value_date <= day
            if "bought_sex_last_year" in answers:
                assert answers["bought_sex_last_year"].value_bool == ((day - last.value_date).days <= 365)
            if "freq_buying_sex" in answers and answers["freq_buying_sex"].value_int > 0:
                assert (day - last.value_date).days <= 31
        if administration.is_submitted:
            asked = [i for i in administration.version.items.all() if i.applies_to(client.target_groups)]
            left_empty += rows[administration.pk] < len(asked)
    assert left_empty > 0  # a few items are left empty


def test_the_reports_show_figures_and_improvement(output):
    selection = reports.Selection()
    table_1, table_2 = reports.table_1(selection), reports.table_2(selection)
    assert table_1.n > 30 and table_2.n > 10
    assert all(row.answered > 0 for row in table_1.rows + table_2.rows)
    care = {row.code: row for row in table_2.rows}
    for code in ("staff_respectful", "staff_non_judgmental", "staff_dignified", "came_as_often", "got_help_needed"):
        assert care[code].count > 0.6 * care[code].answered, code  # mostly yes

    changes = {(c.earlier, c.later, c.code): c for c in reports.paired_changes(selection)}
    wellbeing = changes[(START, END, "wellbeing")]
    assert wellbeing.n > 10
    assert 2 * wellbeing.worsened < wellbeing.improved < wellbeing.n  # better on average, not for everyone
    mean = sum(change * count for change, count in wellbeing.changes.items()) / wellbeing.n
    assert mean > 0.3
    assert wellbeing.median >= 0
    for code in ("stop_impulses", "guilt_shame", "freq_pornography"):
        assert changes[(START, END, code)].improved > changes[(START, END, code)].worsened, code
    assert (END, FOLLOW_UP, "wellbeing") in changes and (START, FOLLOW_UP, "wellbeing") in changes

    # And per clinic, as a clinic's own staff see it.
    for clinic in Clinic.objects.filter(code__in=("GBG", "MLM")):
        report = reports.report_for(reports.Selection(clinic=clinic))
        assert report.table_1.n > 0 and report.table_2.n > 0 and report.coverage, clinic.code


def test_the_demo_caseloads_have_questionnaires(demo_clients):
    # Every demo therapist's own caseload has start questionnaires and at least one at the end; the demo some follow-up.
    submitted = Administration.objects.filter(client__in=demo_clients, submitted_at__isnull=False)
    for username in ("behandlare1", "behandlare2", "behandlare3"):
        points = Counter(
            submitted.filter(client__responsible_therapist__username=username).values_list("time_point", flat=True)
        )
        assert points[START] >= 8, (username, points)
    assert submitted.filter(time_point=END).count() >= 3
    assert submitted.filter(time_point=FOLLOW_UP).exists()
    # The demo alone shows wellbeing improving from start to end, on average.
    scores: dict[int, dict[str, int]] = defaultdict(dict)
    for episode_id, point, value in Answer.objects.filter(
        administration__in=submitted, item__code="wellbeing", declined=False
    ).values_list("administration__episode_id", "administration__time_point", "value_int"):
        scores[episode_id][point] = value
    changes = [s[END] - s[START] for s in scores.values() if START in s and END in s]
    assert len(changes) >= 3 and sum(changes) > 0, changes


def test_running_again_adds_no_questionnaires(output):
    counts = Administration.objects.count(), Answer.objects.count()

    seed()

    assert (Administration.objects.count(), Answer.objects.count()) == counts


def test_the_same_seed_gives_the_same_answers(output):
    therapist = Client.objects.filter(responsible_therapist__username="behandlare1").first().responsible_therapist
    versions = {point: version_for(point) for point in (START, END, FOLLOW_UP)}
    items = {point: list(version.items.order_by("position")) for point, version in versions.items()}
    now = timezone.now()

    def planned(seed: int, answers_seed: int) -> list[tuple]:
        faked = demo.Faked(seed=seed)
        faked.now = now  # the same moment for both runs: plans are capped at it
        cases = [
            faked.case(therapist=therapist, status=status, taken_personnummer=set(), identified=False, span_days=540)
            for status in demo.DEMO_CASELOAD
        ]
        plan = sessions_demo.plan_sessions(
            cases,
            {therapist.clinic_id: therapist.clinic},
            rng=random.Random(f"sessions-{seed}"),
            today=faked.today,
            now=now,
            demo=True,
        )
        number = {id(case.client): n for n, case in enumerate(cases)}
        return [
            (number[id(p.client)], p.time_point, p.filled_by, p.started_at, p.submitted_at, p.answers)
            for p in assessments_demo.plan_answers(
                cases, plan, items, rng=random.Random(f"answers-{answers_seed}"), now=now
            )
        ]

    assert planned(7, 7) == planned(7, 7)
    assert planned(7, 7) != planned(7, 8)


def test_episodes_without_treatment_have_none(output):
    never_treated = Episode.objects.exclude(
        pk__in=StatusChange.objects.filter(to_status=CaseStatus.IN_TREATMENT).values("episode_id")
    )
    assert never_treated.exists()
    assert not Administration.objects.filter(episode__in=never_treated).exists()


def test_the_new_versions_questions_are_answered_too(output):
    """The demo answers the shipped versions: how often for every behaviour, the follow-up's outcome questions and
    its graded satisfaction, so the reports' pairs and the follow-up have figures in the demo."""
    answered = Counter(
        Answer.objects.filter(declined=False, administration__submitted_at__isnull=False).values_list(
            "item__version__instrument__code", "item__code"
        )
    )

    for code in ("freq_webcam", "freq_escort_ads", "freq_other", "wellbeing"):
        assert answered[("kast-start", code)] > 0, code
        assert answered[("kast-end", code)] > 0, code
    for code in ("satisfaction_overall", "satisfaction_amount", "seek_similar_again", "recommend_to_friend"):
        assert answered[("kast-follow-up", code)] > 0, code
    assert answered[("kast-follow-up", "stopped_buying_sex")] > 0
    satisfaction = set(
        Answer.objects.filter(item__code="satisfaction_overall", declined=False).values_list("value_int", flat=True)
    )
    assert satisfaction <= {1, 2, 3, 4, 5} and len(satisfaction) > 1
