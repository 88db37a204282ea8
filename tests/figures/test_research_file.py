"""The research file: the researcher role's alone, for a recorded purpose, pseudonymised, and k-anonymous (k = 5).

The caseload below is built so that each step of the coarsening is needed by someone: a common combination kept
as it is, rare ones widened to ten-year bands, then without the clinic, without the birth years, without the
target groups, and one person whose gender alone is rarer than 5 in the file, left out.
"""

from __future__ import annotations

import csv
import datetime
import io
import random
from collections import defaultdict

import pytest
from django.test import Client as Browser
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from assessments.models import Administration, Answer, TimePoint
from assessments.services import version_for
from audit.selectors import review_queue
from clients.models import Client, Episode, TargetGroup
from figures import research
from kast.models import AccessLogEntry, Role
from tests.factories import ClientFactory, UserFactory

pytestmark = pytest.mark.django_db

SENTINEL = "SENTINEL-research-1"
BUYING, COMPULSIVE = TargetGroup.BUYING_SEX, TargetGroup.COMPULSIVE
EXPORT = AccessLogEntry.Action.EXPORT
PURPOSE = "Utvärdering av KAST: förändring mellan start och avslut"
DECISION = "Dnr 2026-01234-01"

#: (how many, gender, birth years, clinic, target groups) -> what the file shows for them, and what was coarsened.
PEOPLE = [
    # Six men of 1975-1979 in Göteborg who buy sex: common enough as they are (and each also answered at the end).
    ((6, "man", [1975, 1976, 1977, 1978, 1979, 1979], "gbg", [BUYING]), ("man", "1975-1979", "GBG", BUYING), ""),
    # Three of 1970-1974 and two of 1975-1979 with compulsive behaviour: five in the ten-year band 1970-1979.
    ((3, "man", [1971, 1972, 1973], "gbg", [COMPULSIVE]), ("man", "1970-1979", "GBG", COMPULSIVE), "birth_years"),
    ((2, "man", [1976, 1977], "gbg", [COMPULSIVE]), ("man", "1970-1979", "GBG", COMPULSIVE), "birth_years"),
    # Three women in Göteborg and two in Malmö, all of the 1980s: five only without the clinic.
    ((3, "woman", [1985, 1986, 1985], "gbg", [BUYING]), ("woman", "1980-1989", "*", BUYING), "birth_years|clinic"),
    ((2, "woman", [1988, 1981], "mlm", [BUYING]), ("woman", "1980-1989", "*", BUYING), "birth_years|clinic"),
    # Five men in Malmö who buy sex, of the 1950s and the 1990s: five only without birth years and clinic.
    ((3, "man", [1955, 1956, 1957], "mlm", [BUYING]), ("man", "*", "*", BUYING), "birth_years|clinic"),
    ((2, "man", [1995, 1996], "mlm", [BUYING]), ("man", "*", "*", BUYING), "birth_years|clinic"),
    # Five women with two kinds of target groups: five only as women.
    (
        (3, "woman", [1960, 1961, 1962], "mlm", [COMPULSIVE]),
        ("woman", "*", "*", "*"),
        "birth_years|clinic|target_groups",
    ),
    (
        (2, "woman", [1962, 1964], "gbg", [COMPULSIVE, BUYING]),
        ("woman", "*", "*", "*"),
        "birth_years|clinic|target_groups",
    ),
    # One non-binary person: no coarsening makes them one of five, so they are left out.
    ((1, "non_binary", [1990], "mlm", [COMPULSIVE]), None, None),
]


def at(day: str) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.fromisoformat(f"{day} 10:00"))


def administer(client: Client, point: str, submitted: str, answers: dict[str, object]) -> Administration:
    episode = client.episodes.first() or Episode.objects.create(
        client=client, number=1, opened_on=datetime.date(2025, 1, 2)
    )
    version = version_for(point)
    administration = Administration.objects.create(
        client=client,
        episode=episode,
        time_point=point,
        version=version,
        submitted_at=at(submitted),
        created_by=client.responsible_therapist,
    )
    items = {item.code: item for item in version.items.all()}
    Answer.objects.bulk_create(
        Answer(
            administration=administration,
            item=items[code],
            **({"value_bool": value} if isinstance(value, bool) else {"value_text": value}),
        )
        for code, value in answers.items()
    )
    return administration


@pytest.fixture
def researcher(db):
    return UserFactory(username="greta", first_name="Greta", role=Role.RESEARCHER, clinic=None)


@pytest.fixture
def caseload(therapist, other_clinic_therapist):
    """27 people (PEOPLE), each with a start questionnaire of March 2025; the first six also with an end one."""
    therapists = {"gbg": therapist, "mlm": other_clinic_therapist}
    number = 0
    for (count, gender, years, clinic, groups), _shown, _coarsened in PEOPLE:
        for year in years[:count]:
            number += 1
            person = ClientFactory(
                responsible_therapist=therapists[clinic],
                code=f"{clinic.upper()}-2025-{number:04d}",
                alias=SENTINEL,
                full_name=f"{SENTINEL} Fullname",
                gender=gender,
                birth_year=year,
                target_groups=groups,
            )
            administer(person, TimePoint.START, "2025-03-10", {"has_partner": True, "own_words": SENTINEL})
            if number <= 6:
                administer(person, TimePoint.END, "2025-09-10", {"came_as_often": True, "own_words": SENTINEL})
    assert Client.objects.count() == 27


def export(browser: Browser, **data) -> tuple[list[str], list[dict[str, str]], str]:
    response = browser.post(reverse("figures:research_export"), {"purpose": PURPOSE, "decision": DECISION, **data})
    assert response.status_code == 200, response.content.decode()[:2000]
    assert response["Content-Type"].startswith("text/csv")
    body = response.content.decode()
    reader = csv.reader(io.StringIO(body))
    header = next(reader)
    return header, [dict(zip(header, row, strict=True)) for row in reader], body


def people_by_combination(rows: list[dict[str, str]]) -> dict[tuple[str, ...], set[str]]:
    people = defaultdict(set)
    for row in rows:
        people[tuple(row[column] for column in research.QUASI_IDENTIFIERS)].add(row["subject"])
    return people


def test_no_combination_in_the_file_is_shared_by_fewer_than_five(client, caseload, researcher):
    client.force_login(researcher)

    header, rows, body = export(client)

    assert header[: len(research.EXPORT_COLUMNS)] == research.EXPORT_COLUMNS
    assert "own_words" not in header  # free-text items are never in the file
    people = people_by_combination(rows)
    assert {combination: len(subjects) for combination, subjects in people.items()} == {
        ("man", "1975-1979", "GBG", BUYING): 6,
        ("man", "1970-1979", "GBG", COMPULSIVE): 5,
        ("woman", "1980-1989", "*", BUYING): 5,
        ("man", "*", "*", BUYING): 5,
        ("woman", "*", "*", "*"): 5,
    }
    assert min(len(subjects) for subjects in people.values()) >= research.suppression.LIMIT
    # What was coarsened, row by row, as PEOPLE says; the non-binary person is not in the file.
    expected = {shown: coarsened for _person, shown, coarsened in PEOPLE if shown}
    for row in rows:
        assert row["coarsened"] == expected[tuple(row[c] for c in research.QUASI_IDENTIFIERS)]
    assert "non_binary" not in {row["gender"] for row in rows}
    # 26 people; the first six twice (start and end).
    assert len({row["subject"] for row in rows}) == 26
    assert len(rows) == 32
    assert {row["time_point"] for row in rows if row["birth_years"] == "1975-1979"} == {"start", "end"}
    assert {row["submitted_month"] for row in rows} == {"2025-03", "2025-09"}
    assert {row["has_partner"] for row in rows if row["time_point"] == "start"} == {"1"}
    # Nothing that names or points at a person.
    for secret in [SENTINEL, *Client.objects.values_list("code", flat=True)]:
        assert secret not in body


def test_the_export_records_its_purpose_and_decision(client, caseload, researcher, admin):
    client.force_login(researcher)

    export(client)

    entry = AccessLogEntry.objects.get(action=EXPORT)
    assert (entry.user, entry.role, entry.clinic, entry.object_type) == (
        researcher,
        Role.RESEARCHER,
        None,
        "assessments.research_export",
    )
    assert entry.reason == (
        f"rows=32 people=26 coarsened=20 left_out=1 clinic=all decision={DECISION} purpose={PURPOSE}"
    )
    # The administrator's log review lists it, as every export.
    assert [queued.pk for queued in review_queue(admin)] == [entry.pk]


def test_the_filters_and_a_researcher_of_one_clinic(client, caseload, researcher, gbg, mlm):
    """Göteborg's 16 people on their own: the women of the 1980s and the women with two target groups become
    five only as women; nobody is left out."""
    researcher.clinic = gbg
    researcher.save(update_fields=["clinic"])
    client.force_login(researcher)
    page = client.get(reverse("figures:research_export"))
    assert "clinic" not in page.context["form"].fields

    _header, rows, _body = export(client, clinic=mlm.pk, start="2025-01-01", end="2025-12-31")

    assert {combination: len(subjects) for combination, subjects in people_by_combination(rows).items()} == {
        ("man", "1975-1979", "GBG", BUYING): 6,
        ("man", "1970-1979", "GBG", COMPULSIVE): 5,
        ("woman", "*", "*", "*"): 5,
    }
    assert AccessLogEntry.objects.get(action=EXPORT).reason == (
        "rows=22 people=16 coarsened=10 left_out=0 from=2025-01-01 to=2025-12-31 clinic=GBG "
        f"decision={DECISION} purpose={PURPOSE}"
    )


def test_without_a_purpose_and_decision_there_is_no_file(client, caseload, researcher):
    client.force_login(researcher)

    response = client.post(reverse("figures:research_export"), {"purpose": "", "decision": ""})

    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"purpose", "decision"}
    assert not response["Content-Type"].startswith("text/csv")
    assert not AccessLogEntry.objects.filter(action=EXPORT).exists()
    # A GET shows the form only.
    page = client.get(reverse("figures:research_export"))
    assert page.status_code == 200
    assert not AccessLogEntry.objects.filter(action=EXPORT).exists()


@pytest.mark.parametrize("role", [Role.MANAGER, Role.THERAPIST, Role.ADMIN, Role.NATIONAL])
def test_no_other_role_can_produce_the_research_file(client, caseload, gbg, role):
    clinic = gbg if role in (Role.MANAGER, Role.THERAPIST) else None
    user = UserFactory(username=f"other-{role}", role=role, clinic=clinic, is_staff=role == Role.ADMIN)
    client.force_login(user)

    response = client.post(reverse("figures:research_export"), {"purpose": PURPOSE, "decision": DECISION})

    assert response.status_code == 403
    assert not AccessLogEntry.objects.filter(action=EXPORT).exists()
    assert AccessLogEntry.objects.filter(user=user, action=AccessLogEntry.Action.DENIED).exists()


def test_the_post_needs_the_csrf_token(caseload, researcher):
    browser = Browser(enforce_csrf_checks=True)
    browser.force_login(researcher)

    response = browser.post(reverse("figures:research_export"), {"purpose": PURPOSE, "decision": DECISION})

    assert response.status_code == 403
    assert not AccessLogEntry.objects.filter(action=EXPORT).exists()


def test_the_researcher_finds_the_file_from_the_start_page(client, researcher):
    client.force_login(researcher)

    with translation.override("sv"):
        body = client.get(reverse("home")).content.decode()

        assert reverse("figures:research_export") in body
        assert _("Research file") in body
    assert reverse("figures:reports") not in body  # figures are not the researcher's


def test_k_anonymity_holds_on_any_people_and_is_deterministic():
    """A thousand made-up people (seeded): every combination kept is shared by at least 5, and the same people, in
    any order, always give the same result."""
    rng = random.Random(15)
    people = {
        n: research.Person(
            gender=rng.choice(["man", "man", "man", "woman", "non_binary", "not_stated"]),
            birth_year=rng.choice([None, *range(1940, 2006)]),
            clinic=rng.choice(["GBG", "MLM", "STO"]),
            target_groups=rng.choice([BUYING, COMPULSIVE, f"{BUYING}|{COMPULSIVE}", ""]),
        )
        for n in range(1000)
    }

    kept = research.k_anonymous(people)

    assert research.k_anonymous(dict(reversed(people.items()))) == kept
    shared = defaultdict(int)
    for combination, _coarsened in kept.values():
        shared[combination] += 1
    assert min(shared.values()) >= 5
    by_step = defaultdict(int)
    for _combination, coarsened in kept.values():
        by_step[coarsened] += 1
    # Measured once on this seed: a fifth as they are, the rest coarsened, 9 of 1000 left out.
    assert dict(by_step) == {
        "": 211,
        "birth_years": 205,
        "birth_years|clinic": 558,
        "birth_years|clinic|target_groups": 17,
    }
    assert 1000 - len(kept) == 9
