"""`seed_demo` gives the demo therapists realistic, consistent fake caseloads, and `--clients N` adds load."""

from __future__ import annotations

import io
import re
import uuid
from collections import defaultdict
from itertools import pairwise

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count, Q
from django.test import override_settings
from django.utils import timezone

from clients.identity import normalize_personnummer
from clients.models import (
    FINISHED,
    TRANSITIONS,
    AssessmentConversation,
    AssessmentDecision,
    CaseStatus,
    Client,
    DeepInterviewSection,
    Episode,
    FamilyMember,
    FamilyRelation,
    FamilyRelationship,
    InterviewSection,
    RecordKind,
    StatusChange,
)
from demo import clients as demo
from demo.clients import DEMO_CASELOAD
from kast.models import Clinic, User

CODE = re.compile(r"^(GBG|MLM|STH)-\d{4}-\d{4}$")
TREATED = (CaseStatus.IN_TREATMENT, CaseStatus.ENDED, CaseStatus.FOLLOWED_UP)
DECISION = {
    CaseStatus.IN_TREATMENT: AssessmentDecision.ACCEPTED,
    CaseStatus.ENDED: AssessmentDecision.ACCEPTED,
    CaseStatus.FOLLOWED_UP: AssessmentDecision.ACCEPTED,
    CaseStatus.REFERRED: AssessmentDecision.REFERRED,
    CaseStatus.CLOSED: AssessmentDecision.NOT_NOW,
    CaseStatus.ASSESSMENT: "",
}


def clients():
    """The demo clients' records (the demo relatives have their own tests: tests/relatives)."""
    return Client.objects.filter(kind=RecordKind.CLIENT)


def seed(*args: str) -> str:
    out = io.StringIO()
    with override_settings(DEBUG=True):
        call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    models = (Client, Episode, StatusChange, AssessmentConversation, DeepInterviewSection, FamilyMember)
    return {
        **{model.__name__: model.objects.count() for model in models},
        "FamilyRelationship": FamilyRelationship.objects.count(),
        "parents": FamilyMember.parents.through.objects.count(),
        "co_therapists": Client.co_therapists.through.objects.count(),
    }


@pytest.fixture
def seeded(demo_db):
    """The demo data, seeded once for all these tests (tests.demo_data)."""


def test_every_status_for_every_demo_therapist(seeded):
    per_therapist = defaultdict(set)
    for username, status in clients().values_list("responsible_therapist__username", "status"):
        per_therapist[username].add(status)

    # Stockholm's therapist has the first eight of the caseload (seed_demo.STOCKHOLM_CASELOAD): no closed case.
    assert dict(per_therapist) == {
        **{name: set(CaseStatus.values) for name in ("behandlare1", "behandlare2", "behandlare3")},
        "behandlare4": set(CaseStatus.values) - {CaseStatus.CLOSED},
    }
    assert clients().count() == 3 * len(DEMO_CASELOAD) + 8 == 77  # twenty-three each, and Stockholm's eight
    assert set(clients().filter(clinic__code="GBG").values_list("status", flat=True)) == set(CaseStatus.values)


def test_status_histories_follow_the_workflow(seeded):
    changes = defaultdict(list)
    for change in StatusChange.objects.select_related("episode").order_by("at", "id"):
        changes[change.client_id].append(change)

    for client in clients().all():
        chain = changes[client.pk]
        episodes = list(client.episodes.order_by("number"))
        assert [e.number for e in episodes] == list(range(1, len(episodes) + 1))
        # Episode by episode: each opens with "" -> contact and walks the allowed transitions.
        for episode in episodes:
            steps = [c for c in chain if c.episode_id == episode.pk]
            assert (steps[0].from_status, steps[0].to_status) == ("", CaseStatus.CONTACT)
            for previous, step in pairwise(steps):
                assert step.from_status == previous.to_status
                assert step.to_status in TRANSITIONS[step.from_status]
            if episode != episodes[-1]:
                assert steps[-1].to_status in FINISHED
            assert (episode.closed_on is not None) == any(
                s.to_status in (CaseStatus.ENDED, CaseStatus.REFERRED, CaseStatus.CLOSED) for s in steps
            )
            assert episode.opened_on == timezone.localdate(steps[0].at)
        assert chain[-1].to_status == client.status
        assert [c.at for c in chain] == sorted(c.at for c in chain)
        assert chain[-1].at <= timezone.now()
        assert client.first_contact_date == timezone.localdate(chain[0].at)
        for change in chain:
            assert change.by_id == client.responsible_therapist_id
            if change.to_status == CaseStatus.REFERRED:
                assert change.referred_to.clinic_id == client.clinic_id and change.destination and change.reason


def test_episodes_closed_exactly_when_the_case_is_finished(seeded):
    for client in clients().prefetch_related("episodes"):
        current = max(client.episodes.all(), key=lambda e: e.number)
        assert (current.closed_on is not None) == (client.status in FINISHED), client.code
        assert (client.next_contact_date is not None) == (client.status not in FINISHED), client.code

    returning = clients().annotate(n=Count("episodes")).filter(n=2)
    assert returning.count() == 4  # one per demo therapist
    for client in returning:
        first, second = client.episodes.order_by("number")
        assert first.closed_on is not None and second.closed_on is None
        assert first.closed_on <= second.opened_on


def test_assessment_decision_matches_the_status(seeded):
    for client in clients().all():
        current = client.episodes.order_by("-number").first()
        conversation = AssessmentConversation.objects.filter(episode=current).first()
        if client.status == CaseStatus.CONTACT:
            assert conversation is None
        else:
            assert conversation.decision == DECISION[client.status], client.code
            assert conversation.problem and conversation.goals and conversation.assessment


def test_clients_in_treatment_have_interview_and_three_generation_family_map(seeded):
    treated = clients().filter(status__in=TREATED)
    # A therapist's twenty-three: 12 in treatment, 3 ended, 2 followed up; Stockholm's eight: 2, 1 and 1.
    assert treated.count() == 3 * 17 + 4

    for client in treated:
        sections = DeepInterviewSection.objects.filter(client=client)
        assert set(sections.values_list("section", flat=True)) == set(InterviewSection.values)
        for section in sections:
            sentences = [s for s in re.split(r"(?<=[.!?])\s+", section.text) if s]
            assert 2 <= len(sentences) <= 5, (client.code, section.section, section.text)
        members = list(client.family_members.prefetch_related("parents"))
        assert 8 <= len(members) <= 20
        assert {0, 1, 2} <= {m.generation for m in members}
        nodes = [m for m in members if m.relation == FamilyRelation.CLIENT]
        assert len(nodes) == 1
        assert nodes[0].label == client.code  # never the alias: the genogram is shown without a reveal
        # The client descends from both parents; the children are the client's.
        assert {p.relation for p in nodes[0].parents.all()} == {FamilyRelation.PARENT}
        assert len(nodes[0].parents.all()) == 2
        children = [m for m in members if m.relation == FamilyRelation.CHILD]
        assert sorted(timezone.localdate().year - c.birth_year for c in children) == sorted(client.children_ages)
        assert all(nodes[0] in c.parents.all() for c in children)
        for member in members:
            if member.relation == FamilyRelation.HALF_SIBLING:
                assert {p.relation for p in member.parents.all()} == {
                    FamilyRelation.PARENT,
                    FamilyRelation.PARENTS_PARTNER,
                }
        assert client.family_relationships.exists()

    done = DeepInterviewSection.objects.filter(client__in=treated)
    assert done.filter(done=True).count() > done.count() / 2


def test_every_record_has_one_client_node_in_its_family_map(seeded):
    seed("--clients", "50")

    nodes = clients().annotate(n=Count("family_members", filter=Q(family_members__relation="client")))
    assert list(nodes.values_list("n", flat=True)) == [1] * (77 + 50)


def test_codes_unique_and_well_formed(seeded):
    codes = list(clients().values_list("code", "clinic__code", "first_contact_date"))

    assert len({code for code, _, _ in codes}) == len(codes)
    for code, clinic_code, first_contact in codes:
        assert CODE.match(code), code
        assert code.startswith(f"{clinic_code}-{first_contact.year}-")


def test_identities_and_details_are_plausible(seeded):
    records = list(clients().all())
    identified = [c for c in records if c.personnummer]

    assert identified
    assert 1 <= sum(c.protected_identity for c in records) <= 3  # one or two, and one in Stockholm's caseload
    for client in identified:
        assert normalize_personnummer(client.personnummer) == client.personnummer
        assert int(client.personnummer[:4]) == client.birth_year
        assert client.full_name.startswith(client.alias)
    for client in records:
        client.full_clean()  # every choice and length as a form would check it
        assert client.alias
        assert 1950 <= client.birth_year <= 2000
        assert client.target_groups and set(client.target_groups) <= {"buying_sex", "compulsive"}
        assert client.reason
        assert client.has_children == bool(client.children_ages)
        youngest_parent_age = timezone.localdate().year - client.birth_year - 15
        assert all(0 <= age <= youngest_parent_age for age in client.children_ages), client.code
    assert sum(c.gender == "man" for c in records) > len(records) / 2
    assert Client.co_therapists.through.objects.exists()
    # The protected identity a colleague works on: shows that the co-therapist sees the case, not the person.
    assert clients().filter(protected_identity=True, co_therapists__isnull=False).count() == 1
    assert all(
        co.user.clinic_id == co.client.clinic_id and co.user_id != co.client.responsible_therapist_id
        for co in Client.co_therapists.through.objects.select_related("user", "client")
    )


def test_family_rows_pass_model_validation(seeded):
    for member in FamilyMember.objects.all():
        member.full_clean()
    for line in FamilyRelationship.objects.select_related("a", "b"):
        line.full_clean()
        assert line.a.client_id == line.b.client_id == line.client_id


def test_running_twice_keeps_counts(seeded):
    before = counts()

    seed()

    assert counts() == before


def test_extra_clients_are_added_with_unique_codes(seeded):
    before = clients().count()

    out = seed("--clients", "200")

    assert clients().count() == before + 200
    # The demo's 4 returning clients, and about a fifth of the load test's: an earlier treatment period each.
    episodes = Episode.objects.filter(client__kind=RecordKind.CLIENT)
    returning = episodes.count() - episodes.values("client").distinct().count()
    assert 4 + 15 <= returning <= 4 + 70
    codes = list(clients().values_list("code", flat=True))
    assert len(set(codes)) == len(codes)
    assert all(CODE.match(code) for code in codes)
    periods = 200 + returning - 4
    assert re.search(rf"^Added 200 clients \(GBG 100, MLM 100\) with {periods} treatment periods", out, re.M)
    assert re.search(r"for 4 load-test therapists\.$", out, re.M)

    seed("--clients", "200")

    assert clients().count() == before + 400
    codes = list(clients().values_list("code", flat=True))
    assert len(set(codes)) == len(codes)
    # The second load test's clients go to new colleagues, numbered on.
    load_testers = User.objects.filter(username__startswith="last-")
    assert sorted(load_testers.values_list("username", flat=True)) == [
        *(f"last-gbg-00{n}" for n in range(1, 5)),
        *(f"last-mlm-00{n}" for n in range(1, 5)),
    ]
    assert not any(user.has_usable_password() for user in load_testers)


def test_extra_clients_have_valid_histories(seeded):
    seed("--clients", "300")

    chains = defaultdict(list)
    for change in StatusChange.objects.order_by("at", "id"):
        chains[change.episode_id].append((change.from_status, change.to_status))
    for chain in chains.values():
        assert chain[0] == ("", CaseStatus.CONTACT)
        for (_, reached), (source, target) in pairwise(chain):
            assert source == reached and target in TRANSITIONS[source]
    current = {}
    for episode in Episode.objects.filter(client__kind=RecordKind.CLIENT).order_by("number"):
        current[episode.client_id] = chains[episode.pk][-1][1]
    assert dict(clients().values_list("pk", "status")) == current
    assert clients().count() == 77 + 300
    # Given to load-test therapists, 60 each, the two clinics in turn; the demo caseloads stay as they were.
    assert sorted(clients().values_list("responsible_therapist__username").annotate(n=Count("id"))) == [
        ("behandlare1", 23),
        ("behandlare2", 23),
        ("behandlare3", 23),
        ("behandlare4", 8),
        ("last-gbg-001", 60),
        ("last-gbg-002", 60),
        ("last-gbg-003", 60),
        ("last-mlm-001", 60),
        ("last-mlm-002", 60),
    ]
    assert set(User.objects.filter(username__startswith="last-gbg-").values_list("clinic__code", flat=True)) == {"GBG"}


def test_extra_codes_continue_after_the_highest_number(seeded):
    year = timezone.localdate().year
    therapist = User.objects.get(username="behandlare1")
    template = clients().filter(responsible_therapist=therapist).first()
    for code in (f"GBG-{year}-0500", f"GBG-{year - 1}-0500"):
        template.pk, template.code, template.personnummer = uuid.uuid4(), code, ""
        template.save(force_insert=True)
    before = set(clients().values_list("code", flat=True))

    seed("--clients", "200")

    new = [code for code in clients().values_list("code", flat=True) if code not in before]
    assert len(new) == 200
    recent = [code for code in new if code.startswith((f"GBG-{year}-", f"GBG-{year - 1}-"))]
    assert recent
    assert all(int(code[-4:]) > 500 for code in recent)


def test_a_failure_leaves_nothing_half_seeded(db, monkeypatch):
    def fail(*args, **kwargs):
        raise ValueError("The client codes of GBG for the last 8 years are used up.")

    monkeypatch.setattr(demo, "seed_bulk_clients", fail)

    with pytest.raises(CommandError, match="used up"):
        seed("--clients", "10")

    assert not (Clinic.objects.exists() or User.objects.exists() or clients().exists())


def test_refuses_with_debug_off(db):
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("seed_demo", "--clients", "10")

    assert not clients().exists()
