"""The therapist's caseload (order and filters), and every page of a client record at a fixed query count."""

from __future__ import annotations

import datetime
import re

import pytest
from django.urls import reverse

from clients.models import CaseStatus, Episode, InterviewSection, StatusChange, TreatmentGoal
from kast.models import Role
from tests.factories import (
    AssessmentConversationFactory,
    ClientFactory,
    DeepInterviewSectionFactory,
    FamilyMemberFactory,
    FamilyRelationshipFactory,
    UserFactory,
    open_first_period,
)

pytestmark = pytest.mark.django_db


def listed_codes(response) -> list[str]:
    return re.findall(r'<a href="/clients/[0-9a-f-]{36}/">([^<]+)</a>', response.content.decode())


# -- Order and filters ----------------------------------------------------------------------------------------


@pytest.fixture
def mixed_caseload(therapist, colleague):
    """The therapist's clients in a known code order, plus one shared by the colleague and two of the colleague's own."""

    def make(code, next_contact=None, status="contact", groups=("buying_sex",), responsible=therapist):
        return ClientFactory(
            responsible_therapist=responsible,
            code=code,
            next_contact_date=next_contact,
            status=status,
            target_groups=list(groups),
        )

    shared = make("GBG-2025-0009", datetime.date(2026, 12, 2), "in_treatment", ["compulsive"], colleague)
    shared.co_therapists.add(therapist)
    make("GBG-2025-0010", datetime.date(2026, 11, 30), responsible=colleague)
    make("GBG-2025-0011", None, responsible=colleague)
    return {
        c.code: c
        for c in [
            make("GBG-2025-0001", None, "assessment"),
            make("GBG-2025-0002", datetime.date(2026, 12, 10), "in_treatment", ["buying_sex", "compulsive"]),
            make("GBG-2025-0003", datetime.date(2026, 11, 25), "contact", ["other"]),
            make("GBG-2025-0004", None, "in_treatment", ["compulsive"]),
            make("GBG-2025-0005", datetime.date(2026, 12, 10), "ended"),
            shared,
        ]
    }


def test_the_caseload_is_sorted_by_next_planned_contact_with_none_last(client, therapist, mixed_caseload):
    client.force_login(therapist)

    response = client.get(reverse("clients:list"))

    assert response.status_code == 200
    assert listed_codes(response) == [
        "GBG-2025-0003",  # 25 Nov
        "GBG-2025-0009",  # 2 Dec, shared by the colleague
        "GBG-2025-0002",  # 10 Dec, code before 0005
        "GBG-2025-0005",  # 10 Dec
        "GBG-2025-0001",  # none: by code
        "GBG-2025-0004",
    ]


@pytest.mark.parametrize(
    ("params", "codes"),
    [
        ({"status": "in_treatment"}, ["GBG-2025-0009", "GBG-2025-0002", "GBG-2025-0004"]),
        ({"status": "ended"}, ["GBG-2025-0005"]),
        ({"status": "referred"}, []),
        ({"target_group": "compulsive"}, ["GBG-2025-0009", "GBG-2025-0002", "GBG-2025-0004"]),
        ({"target_group": "other"}, ["GBG-2025-0003"]),
        ({"status": "in_treatment", "target_group": "buying_sex"}, ["GBG-2025-0002"]),
        (
            {"status": "", "target_group": ""},
            ["GBG-2025-0003", "GBG-2025-0009", "GBG-2025-0002", "GBG-2025-0005", "GBG-2025-0001", "GBG-2025-0004"],
        ),
    ],
)
def test_filters(client, therapist, mixed_caseload, params, codes):
    client.force_login(therapist)

    response = client.get(reverse("clients:list"), params)

    assert response.status_code == 200
    assert listed_codes(response) == codes


def test_the_caseload_pages_by_fifty(client, therapist):
    ClientFactory.create_batch(51, responsible_therapist=therapist)
    client.force_login(therapist)

    first = client.get(reverse("clients:list"))
    second = client.get(reverse("clients:list"), {"page": 2})

    assert (len(listed_codes(first)), len(listed_codes(second))) == (50, 1)
    assert set(listed_codes(first)).isdisjoint(listed_codes(second))


# -- Query counts at two data sizes -------------------------------------------------------------------------


def grow(record, therapist, size: int):
    """`size` of everything a record page loops over: clients in the caseload, co-therapists, periods and their
    history, interview sections (at most nine) written by different people, family members with parents and lines,
    the current period's goals.
    """
    ClientFactory.create_batch(size - 1, responsible_therapist=therapist)
    colleagues = UserFactory.create_batch(size, role=Role.THERAPIST, clinic=therapist.clinic)
    record.co_therapists.set(colleagues)
    # Finished periods before the current one: each is contact -> closed.
    for number in range(1, size):
        episode = Episode.objects.create(
            client=record, number=number, opened_on=datetime.date(2020, 1, 1), closed_on=datetime.date(2020, 1, 2)
        )
        for from_status, to_status in (("", CaseStatus.CONTACT), (CaseStatus.CONTACT, CaseStatus.CLOSED)):
            StatusChange.objects.create(
                client=record, episode=episode, from_status=from_status, to_status=to_status, by=colleagues[number]
            )
    current = Episode.objects.create(client=record, number=size, opened_on=datetime.date(2025, 1, 1))
    StatusChange.objects.create(client=record, episode=current, from_status="", to_status="contact", by=therapist)
    AssessmentConversationFactory(client=record, updated_by=colleagues[0])
    TreatmentGoal.objects.bulk_create(
        TreatmentGoal(client=record, episode=current, wording=f"Mål {n}", position=n, created_by=colleagues[n - 1])
        for n in range(1, size + 1)
    )
    for key, author in zip(InterviewSection.values[:size], colleagues, strict=False):
        DeepInterviewSectionFactory(client=record, section=key, updated_by=author)
    grow_family(record, size)


def grow_family(record, size: int):
    """The client's node plus `size - 1` people: parents, and siblings of the client with both parents and a line."""
    me = record.family_members.get_or_create(relation="client", defaults={"label": record.code})[0]
    if size == 1:
        return
    mother = FamilyMemberFactory(client=record, label="Mamma", relation="parent", sex="female", birth_year=1950)
    father = FamilyMemberFactory(client=record, label="Pappa", relation="parent", sex="male", birth_year=1948)
    me.parents.set([mother, father])
    FamilyRelationshipFactory(client=record, a=father, b=mother, kind="married")
    for number in range(size - 3):
        sibling = FamilyMemberFactory(
            client=record, label=f"Syskon {number}", birth_year=1970 + number, parents=[mother, father]
        )
        FamilyRelationshipFactory(client=record, a=me, b=sibling, kind="close")


@pytest.fixture
def sized(client_record, therapist):
    def make(size):
        grow(client_record, therapist, size)
        return client_record

    return make


#: (url name, extra kwargs, expected queries, what they are). Every page starts with 1 session, 2 user and clinic,
#: 3 the second factor's device, then the gate: 4 the client with clinic and responsible therapist, 5 insert the
#: access-log entry.
PAGES = [
    (
        "detail",
        {},
        15,
        "6 the interview sections with their authors, 7 the co-therapists, 8 the current assessment with its period "
        "and author, 9 the child perspective, 10 the linked relatives with their relation, 11 the goals with their "
        "periods, 12 their reviews, 13 the group meetings attended (their addenda only with a signed group note: "
        "none here), 14 the status history with period and author, 15 the clinic's referral "
        "destinations for the status form",
    ),
    ("interview", {}, 6, "6 the sections with their authors"),
    ("interview_section", {"section": "childhood"}, 6, "6 the section with its author"),
    (
        "assessment",
        {},
        10,
        "6 the current assessment with its period and author, 7 the current period, 8 its goals, 9 their reviews, "
        "10 the clinic's referral destinations",
    ),
    (
        "family_member",
        {"member_id": "last"},
        8,
        "6 the person, 7 their parents (the form's initial), 8 the other people for the parents checkboxes",
    ),
    (
        "intake_pdf",
        {},
        19,
        "(a POST) 5 a savepoint: the print is logged with the PDF or not at all, 6 the family map locked (its first "
        "print), 7 insert the access-log entry, 8 the family members, 9 their parents (prefetch), 10 the "
        "relationships with both people, 11 the status history with period and author, 12 the current assessment "
        "with who saved and signed it, 13 its addenda, 14 the interview sections with who saved and signed them, "
        "15 their addenda, 16 the questionnaires for the answers side by side, the start questionnaire's among "
        "them (none here: no items or answers read), 17 the goals with their periods, 18 their reviews, "
        "19 the savepoint released",
    ),
    (
        "edit",
        {},
        8,
        "6 the co-therapists (the form's initial), 7 the clinic's therapists for the responsible-therapist choice, "
        "8 the same for the co-therapist checkboxes",
    ),
]


@pytest.mark.parametrize("size", [1, 50])
@pytest.mark.parametrize(("url_name", "kwargs", "queries", "named"), PAGES, ids=[p[0] for p in PAGES])
def test_record_page_query_count(
    client, therapist, sized, size, url_name, kwargs, queries, named, django_assert_num_queries
):
    record = sized(size)
    if kwargs.get("member_id") == "last":
        kwargs = {"member_id": record.family_members.order_by("id").last().pk}
    client.force_login(therapist)
    url = reverse(f"clients:{url_name}", kwargs={"client_id": record.pk, **kwargs})

    with django_assert_num_queries(queries, info=named):
        response = client.post(url) if url_name == "intake_pdf" else client.get(url)

    assert response.status_code == 200


@pytest.mark.parametrize("size", [1, 50])
def test_client_list_query_count(client, therapist, sized, size, django_assert_num_queries):
    sized(size)
    client.force_login(therapist)

    # 1 session, 2 user and clinic, 3 the second factor's device, 4 count for the paginator, 5 the page of clients
    # with their responsible therapist
    with django_assert_num_queries(5):
        response = client.get(reverse("clients:list"))

    assert len(listed_codes(response)) == size


@pytest.mark.parametrize("size", [1, 50])
def test_client_search_query_count(client, therapist, sized, size, django_assert_num_queries):
    sized(size)
    client.force_login(therapist)

    # 1 session, 2 user and clinic, 3 the second factor's device, 4 count for the paginator, 5 the page of matching
    # clients with their therapist
    with django_assert_num_queries(5):
        response = client.post(reverse("clients:list"), {"q": "-20"})

    assert len(listed_codes(response)) == size  # every code has "-20" in its year


@pytest.mark.parametrize("size", [1, 40])
def test_family_map_query_count(client, therapist, client_record, size, django_assert_num_queries):
    open_first_period(client_record)
    grow_family(client_record, size)
    client.force_login(therapist)

    # 1 session, 2 user and clinic, 3 the second factor's device, 4 the client, 5 insert the access-log entry, 6 the
    # members, 7 their parents (prefetch), 8 the relationships with both people, 9 and 10 the people and the
    # relationships marked as entered in error, 11 the people for the "parents" checkboxes of the add form, 12 and
    # 13 the people for the relationship form's two choices
    with django_assert_num_queries(13):
        response = client.get(reverse("clients:family", args=[client_record.pk]))

    assert response.status_code == 200
    assert client_record.family_members.count() == size
