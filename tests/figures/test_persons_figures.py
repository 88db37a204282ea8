"""The persons treated (figures.persons): per target group, new, continuing and returning; their age, gender identity
and education; sessions per full-time therapist. Exact on a known year, small counts hidden, on the dashboard, in
the CSV files and in the yearly report PDF (text read from the real PDF)."""

from __future__ import annotations

import csv
import datetime
import html
import io
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from advice.models import AdviceContact, AdviceTopic
from advice.services import clinic_install_advice_topics
from clients.models import Education, Episode, Gender
from figures import persons
from figures.statistics import Scope
from kast.models import Role
from outreach.models import Activity
from sessions.models import Attendance, SessionKind, SessionParticipant
from tests.factories import (
    ClientFactory,
    TherapySessionFactory,
    UserFactory,
    link,
    open_first_period,
    put_in_treatment,
    relative_record,
)
from tests.figures.test_year_report import body_text, pdf_pages, year_pdf

pytestmark = pytest.mark.django_db

YEAR = 2025
START, END = datetime.date(YEAR, 1, 1), datetime.date(YEAR, 12, 31)
THE_YEAR = {"period": "year", "start": "2025-06-01"}


def d(text: str) -> datetime.date:
    return datetime.date.fromisoformat(text)


def client_with(therapist, contact, group, **profile):
    return put_in_treatment(
        open_first_period(
            ClientFactory(
                responsible_therapist=therapist,
                first_contact_date=d(contact),
                target_groups=[group],
                **profile,
            )
        )
    )


def come_back(client, closed: str, reopened: str) -> Episode:
    """The first period ended on `closed`; a returning former client's new period opened on `reopened`."""
    Episode.objects.filter(client=client, number=1).update(closed_on=d(closed), end_reason="goal_reached")
    return Episode.objects.create(client=client, number=2, opened_on=d(reopened))


@pytest.fixture
def year(gbg, therapist, colleague, other_clinic_therapist):
    """Göteborg in 2025, thirteen clients with a session held in the year:

    - new (6, buying sexual services, men, university): first session in 2025. Five born 1990 (35 in 2025), one
      born 1991 (34); one of them first made contact in November 2024, the others in January 2025. The first
      has a couple session with a linked relative, whose own record is counted on the relatives' row (1, new).
    - continuing (5, compulsive behaviour, born 1980, upper secondary school): treated in 2024 and 2025; four men
      and one woman. One of them came back in 2024 already (period 2 opened in November 2024): continuing.
    - returning (2, target group "other", birth year, gender and education not stated): treated in 2023, their
      period ended, period 2 opened in March 2025 with three sessions held in it.

    Not counted: a Göteborg client whose only sessions in 2025 were marked as wrongly recorded or missed; one
    treated in 2024 only; a Malmö client treated in 2025.
    """
    new = []
    for i in range(6):
        c = client_with(
            therapist if i % 2 else colleague,
            "2024-11-20" if i == 0 else "2025-01-10",
            "buying_sex",
            birth_year=1991 if i == 5 else 1990,
            gender=Gender.MAN,
            education=Education.UNIVERSITY,
        )
        TherapySessionFactory(client=c, date=d("2025-02-03"))
        new.append(c)
    relative = relative_record(therapist)
    link(relative, new[0])
    couple = TherapySessionFactory(client=new[0], date=d("2025-02-24"), kind=SessionKind.COUPLE)
    SessionParticipant.objects.create(session=couple, client=relative, episode=relative.episodes.get())
    for i in range(5):
        c = client_with(
            therapist,
            "2022-04-01" if i == 1 else "2024-09-01",
            "compulsive",
            birth_year=1980,
            gender=Gender.WOMAN if i == 0 else Gender.MAN,
            education=Education.GYMNASIUM,
        )
        if i == 1:
            TherapySessionFactory(client=c, date=d("2022-05-01"))
            come_back(c, "2022-12-31", "2024-11-01")
        TherapySessionFactory(client=c, date=d("2024-11-15"))
        TherapySessionFactory(client=c, date=d("2025-01-15"))
    for _i in range(2):
        c = client_with(therapist, "2023-01-10", "other")
        TherapySessionFactory(client=c, date=d("2023-02-01"))
        come_back(c, "2023-06-30", "2025-03-01")
        for day in ("2025-03-10", "2025-03-17", "2025-03-24"):
            TherapySessionFactory(client=c, date=d(day))
    # Not treated in 2025.
    voided = client_with(therapist, "2025-01-10", "buying_sex", birth_year=1950)
    TherapySessionFactory(
        client=voided, date=d("2025-02-03"), voided_at=timezone.now(), voided_by=therapist, void_reason="Fel klient"
    )
    TherapySessionFactory(client=voided, date=d("2025-02-10"), attendance=Attendance.NO_SHOW)
    earlier = client_with(therapist, "2024-01-10", "buying_sex", birth_year=1950)
    TherapySessionFactory(client=earlier, date=d("2024-02-03"))
    malmo = client_with(other_clinic_therapist, "2025-01-10", "buying_sex", birth_year=1950)
    TherapySessionFactory(client=malmo, date=d("2025-02-03"))
    return gbg


#: The persons table for Göteborg 2025, as the page shows it: (persons, new, continuing, returning) per row.
#: All clients: 13 = 6 new + 5 continuing + 2 returning. The 2 returning are "<5"; with the 13, the 6 and the 5
#: shown they could be worked out by subtraction, so the smallest other part, the 5 continuing, is withheld
#: (figures.suppression). The other target group's 2 are "<5" twice: nothing pins them to one value.
PERSONS_SHOWN = {
    "all": ["13", "6", "..", "<5"],
    "buying_sex": ["6", "6", "0", "0"],
    "compulsive": ["5", "0", "5", "0"],
    "other": ["<5", "0", "0", "<5"],
    "relatives": ["<5", "<5", "0", "0"],
}
#: The profile of the 13 clients. Ages: 34 (1), 35 (5), 45 (5), not stated (2): the two small counts add up to 3,
#: so each may be 1 or 2, and nothing is withheld. Gender: 10 men, 1 woman, 2 not stated: likewise. Education:
#: 6 university, 5 upper secondary school, 2 not stated: the 2 would be 13 - 6 - 5, so the 5 are withheld.
AGE_SHOWN = ["0", "<5", "5", "5", "0", "0", "<5"]
GENDER_SHOWN = {"man": "10", "woman": "<5", "non_binary": "0", "other": "0", "not_stated": "<5"}
EDUCATION_SHOWN = {"gymnasium": "..", "university": "6", "other": "0", "not_stated": "<5"}


def test_the_counts_are_exact(year, django_assert_num_queries):
    with django_assert_num_queries(1):
        counts = persons.person_counts(Scope(start=START, end=END, clinic=year))

    def row(name):
        return [counts[persons.key(name, column)] for column in ["n", "new", "continuing", "returning"]]

    assert row("all") == [13, 6, 5, 2]
    assert row("buying_sex") == [6, 6, 0, 0]
    assert row("compulsive") == [5, 0, 5, 0]
    assert row("other") == [2, 0, 0, 2]
    assert row("relatives") == [1, 1, 0, 0]
    assert [counts[persons.key("age", band)] for band, *_rest in persons.AGE_BANDS] == [0, 1, 5, 5, 0, 0, 2]
    assert [counts[persons.key("gender", g)] for g in Gender.values] == [10, 1, 0, 0, 2]
    assert [counts[persons.key("education", e)] for e in Education.values] == [5, 6, 0, 2]
    # All clinics: Malmö's client is one more new person (born 1950: 75, "65 or older").
    everywhere = persons.person_counts(Scope(start=START, end=END))
    assert everywhere[persons.key("all", "n")] == 14 and everywhere[persons.key("all", "new")] == 7
    assert everywhere[persons.key("age", "65_over")] == 1
    # 2024: the continuing five and the one treated only then are new that year, with the one who came back in
    # November 2024 (treated in 2022: returning); nobody else.
    last_year = persons.person_counts(Scope(start=d("2024-01-01"), end=d("2024-12-31"), clinic=year))
    assert [last_year[persons.key("all", c)] for c in ["n", "new", "continuing", "returning"]] == [6, 5, 0, 1]


def test_a_therapists_own_figures_count_their_own_records(year, therapist, colleague):
    counts = persons.person_counts(Scope(start=START, end=END, clinic=year, therapist=colleague))
    # Three of the new clients are the colleague's; the relative is the therapist's.
    assert [counts[persons.key("all", c)] for c in ["n", "new"]] == [3, 3]
    assert counts[persons.key("relatives", "n")] == 0


def cells(body: str) -> dict[str, str]:
    return {key: html.unescape(value.strip()) for key, value in re.findall(r'data-figure="([\w.-]+)">([^<]*)<', body)}


def test_the_dashboard_shows_the_tables_protected(client, manager, year):
    client.force_login(manager)

    response = client.get(reverse("figures:dashboard"), THE_YEAR)

    assert response.status_code == 200
    shown = cells(response.content.decode())
    for row, expected in PERSONS_SHOWN.items():
        assert [shown[f"persons.{row}.{column}"] for column in range(4)] == expected, row
    assert [shown[f"persons_age.{band}.0"] for band, *_rest in persons.AGE_BANDS] == AGE_SHOWN
    assert {g: shown[f"persons_gender.{g}.0"] for g in Gender.values} == GENDER_SHOWN
    assert {e: shown[f"persons_education.{e}.0"] for e in Education.values} == EDUCATION_SHOWN
    # Staff are not persons in care: two therapists and their 2.0 full-time equivalents are shown, and so are
    # the sessions per full-time therapist (resting on the 18 sessions held only).
    assert shown["volume.held.0"] == "18"  # 5 in January, 6 and the couple session in February, 6 in March
    assert shown["volume.therapists.0"] == "2"
    assert shown["volume.fte.0"] == "2,0"
    assert shown["volume.held_per_fte.0"] == "9,0"


def test_each_table_has_its_csv(client, manager, year):
    client.force_login(manager)

    def rows(table):
        response = client.get(reverse("figures:dashboard_csv", args=[table]), THE_YEAR)
        assert response.status_code == 200
        return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))

    persons_csv = rows("persons")
    assert persons_csv[0] == [
        _("Target group"),
        _("Persons"),
        _("New"),
        _("Continuing"),
        _("Returning former clients"),
    ]
    assert [row[1:] for row in persons_csv[1:]] == list(PERSONS_SHOWN.values())
    assert persons_csv[1][0] == _("All clients")
    assert persons_csv[-1][0] == _("Relatives, support of their own")
    assert [row[1] for row in rows("persons_age")[1:]] == AGE_SHOWN
    assert [row[1] for row in rows("persons_gender")[1:]] == list(GENDER_SHOWN.values())
    assert [row[1] for row in rows("persons_education")[1:]] == [EDUCATION_SHOWN[e] for e in Education.values]
    volume = {row[0]: row[1] for row in rows("volume")[1:]}
    assert volume[_("Sessions held per full-time therapist")] == "9.0"


@pytest.fixture
def advice_and_outreach(year, therapist):
    """Five advice calls and two e-mails in 2025, and two outreach activities (field work with the police)."""
    clinic_install_advice_topics(year)
    topic = AdviceTopic.objects.filter(clinic=year).first()
    for channel, n in (("phone", 5), ("email", 2)):
        for _i in range(n):
            AdviceContact.objects.create(
                clinic=year,
                logged_by=therapist,
                date=d("2025-04-01"),
                channel=channel,
                who="self",
                target_group="buying_sex",
                topic=topic,
                outcome="advice",
            )
    for hours in ("3.5", "2"):
        activity = Activity.objects.create(
            clinic=year,
            date=d("2025-05-01"),
            kind="field_work",
            hours=Decimal(hours),
            audience_kind="police",
            audience_size=10,
            description="SENTINEL-outreach",
            created_by=therapist,
        )
        activity.staff.set([therapist])
    return year


def test_the_yearly_report_prints_the_new_tables(client, manager, advice_and_outreach):
    client.force_login(manager)

    response = year_pdf(client, YEAR)

    assert response.status_code == 200
    text = body_text(pdf_pages(response))
    summary = _(
        "%(persons)s clients received treatment, %(new)s of them for the first time and %(returning)s returning "
        "after an earlier treatment period."
    ) % {"persons": "13", "new": "6", "returning": "<5"}
    assert re.sub(r"\s+", " ", summary) in text
    first = _("In %(year)s the clinic held %(held)s sessions, %(per_fte)s per full-time therapist.")
    assert first % {"year": YEAR, "held": "18", "per_fte": "9,0"} in text
    labels = {
        "all": _("All clients"),
        "buying_sex": _("Buying sexual services"),
        "compulsive": _("Compulsive sexual behaviour"),
        "other": _("Other"),
        "relatives": _("Relatives, support of their own"),
    }
    for row, shown in PERSONS_SHOWN.items():
        assert f"{labels[row]} {' '.join(shown)} " in text, row
    age_labels = [str(label) for _key, label, *_ages in persons.AGE_BANDS]
    for label, n in zip(age_labels, AGE_SHOWN, strict=True):  # row by row: a page may break inside the table
        assert f"{label} {n} " in text, label
    assert f"{_('Man')} 10 {_('Woman')} <5 {_('Non-binary')} 0 " in text
    assert f"{_('University')} 6 " in text and f"{_('Upper secondary school (gymnasium)')} .. " in text
    for title in (
        _("Persons who received treatment, by target group"),
        _("Clients treated, by age"),
        _("Clients treated, by gender identity"),
        _("Clients treated, by education"),
        _("Outreach and attitude work"),
        _("Advice contacts without a record"),
    ):
        assert text.count(title) == 1, title  # the table's heading; its bars stand beside its figures
    # Advice contacts and outreach: a table each, with their figures.
    assert f"{_('Advice contacts')} 7 " in text
    # The 2 e-mails are "<5"; with the 7 and the 5 calls they could be worked out, so the calls are withheld.
    assert f"{_('Phone')} .. {_('E-mail')} <5 " in text
    assert f"{_('Field work')} 2 5,5 20 " in text
    assert "SENTINEL" not in text


def test_national_follow_up_sees_the_persons_protected_across_clinics(client, year):
    client.force_login(UserFactory(role=Role.NATIONAL, clinic=None))

    everything = cells(client.get(reverse("figures:dashboard"), THE_YEAR).content.decode())

    # All clinics' 7 new (Göteborg's 6 and Malmö's 1): Göteborg's page for national follow-up would give Malmö's 1
    # by subtraction, so one of the two sevens-and-sixes is withheld (figures.suppression.protect_across).
    one = cells(client.get(reverse("figures:dashboard"), {**THE_YEAR, "clinic": year.pk}).content.decode())
    assert (everything["persons.all.1"], one["persons.all.1"]) in {("..", "6"), ("7", "..")}
    assert everything["persons.relatives.0"] == "<5"


@pytest.mark.parametrize("more", [0, 8])
def test_the_age_bands_and_one_query_at_any_size(therapist, django_assert_num_queries, more):
    """The ages reached in 2025 at each band's edges: 24 and 25, 34 and 35, 64 and 65; one query with more
    persons too."""
    for birth_year in (2001, 2000, 1991, 1990, 1961, 1960, *([1975] * more)):
        c = client_with(therapist, "2025-01-10", "compulsive", birth_year=birth_year)
        TherapySessionFactory(client=c, date=d("2025-05-05"))

    with django_assert_num_queries(1):
        counts = persons.person_counts(Scope(start=START, end=END, clinic=therapist.clinic))

    ages = [counts[persons.key("age", band)] for band, *_rest in persons.AGE_BANDS]
    assert ages == [1, 2, 1, more, 1, 1, 0]  # 24 | 25, 34 | 35 | the 50-year-olds | 64 | 65 | none unstated
    assert counts[persons.key("all", "n")] == counts[persons.key("all", "new")] == 6 + more
