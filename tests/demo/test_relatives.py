"""seed_demo's relatives: partners for a realistic share of clients, relatives without a client, one couples group."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from django.db.models import F
from django.test import override_settings

from clients.models import CaseStatus, Client, RecordKind
from relatives.models import ChildPerspective, Goal, ReactionReview, Relative, RelativeLink
from sessions.models import SessionKind, SessionParticipant, TherapySession
from sessions.services import JOINT_KINDS, _check_participants

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(demo_db):
    """The demo data, seeded once for all these tests (tests.demo_data)."""


def test_a_realistic_share_of_clients_has_a_partner_with_a_record(seeded):
    clients = Client.objects.filter(kind=RecordKind.CLIENT)
    partnered = clients.filter(relative_links__isnull=False).distinct()
    # Of clients living in a relationship about half; of all clients between a sixth and a half.
    assert clients.count() / 6 <= partnered.count() <= clients.count() / 2
    assert not partnered.filter(in_relationship=False).exists()
    for link in RelativeLink.objects.select_related("relative", "client"):
        assert link.relative.kind == RecordKind.RELATIVE and link.client.kind == RecordKind.CLIENT
        assert link.relative.clinic_id == link.client.clinic_id
    # Some partners see another therapist than the client: the wall then separates two caseloads.
    assert RelativeLink.objects.exclude(relative__responsible_therapist=F("client__responsible_therapist")).exists()


def test_some_relatives_came_without_a_registered_client(seeded):
    relatives = Client.objects.filter(kind=RecordKind.RELATIVE)
    unlinked = relatives.filter(client_links__isnull=True)
    assert unlinked.count() >= 4
    assert set(unlinked.values_list("clinic__code", flat=True)) == {"GBG", "MLM"}
    assert Relative.objects.count() == relatives.count()


def test_relatives_in_support_have_reactions_over_time_goals_and_sessions_of_their_own(seeded):
    in_support = Client.objects.filter(kind=RecordKind.RELATIVE, status=CaseStatus.IN_TREATMENT)
    assert in_support.exists()
    for record in in_support:
        assert ReactionReview.objects.filter(relative=record).exists(), record.code
        assert Goal.objects.filter(relative=record).exists(), record.code
        assert TherapySession.objects.filter(client=record, kind=SessionKind.RELATIVE).exists(), record.code
    # Reviewed more than once, and easing on average from the first review to the last.
    first_last = []
    for record in in_support:
        reviews = list(ReactionReview.objects.filter(relative=record).order_by("reviewed_on"))
        if len(reviews) > 1:
            first_last.append((reviews[0].loss_of_control, reviews[-1].loss_of_control))
    assert first_last
    assert sum(last for _, last in first_last) < sum(first for first, _ in first_last)


def test_couple_sessions_have_the_linked_partner_as_participant(seeded):
    couple = TherapySession.objects.filter(kind=SessionKind.COUPLE, participants__isnull=False).distinct()
    assert couple.exists()
    for session in couple:
        (participant,) = session.participants.all()
        assert RelativeLink.objects.filter(
            relative=participant.client, client=session.client, client_consents=True, relative_consents=True
        ).exists()


def test_one_couples_group_evenings_per_couple_then_the_relatives_alone(seeded):
    group = list(
        TherapySession.objects.filter(kind=SessionKind.GROUP, participants__isnull=False).distinct().order_by("date")
    )
    people = [
        {session.client_id, *SessionParticipant.objects.filter(session=session).values_list("client_id", flat=True)}
        for session in group
    ]
    couples_evenings = [p for p in people if Client.objects.filter(pk__in=p, kind=RecordKind.CLIENT).exists()]
    relatives_evenings = [p for p in people if p not in couples_evenings]

    assert 2 <= len(relatives_evenings) <= 3
    assert all(len(p) >= 2 for p in relatives_evenings)
    assert len(couples_evenings) >= 4  # two evenings, noted once per couple
    assert all(len(p) == 2 for p in couples_evenings)  # one client and the partner: no other couple in the note


def test_every_joint_session_of_the_demo_passes_the_wall_the_app_applies(seeded):
    joint = TherapySession.objects.filter(kind__in=JOINT_KINDS, participants__isnull=False).distinct()
    assert joint.count() > 5
    for session in joint.select_related("client"):
        participants = [p.client for p in session.participants.select_related("client")]
        _check_participants(session, participants)  # raises ValidationError where the wall would refuse


def test_the_child_perspective_is_recorded_for_records_with_children(seeded):
    perspectives = ChildPerspective.objects.select_related("record")
    assert perspectives.filter(record__kind=RecordKind.CLIENT).exists()
    assert perspectives.filter(record__kind=RecordKind.RELATIVE).exists()
    assert perspectives.filter(considered_on__isnull=False).count() > perspectives.count() / 2
    assert all(p.record.has_children for p in perspectives)


def test_load_test_clients_get_partners_too(db):
    out = io.StringIO()
    with override_settings(DEBUG=True):
        call_command("seed_demo", "--clients", "200", stdout=out)
    match = re.search(r"^Added (\d+) partners with records of their own", out.getvalue(), re.M)
    assert match, out.getvalue()
    bulk = Client.objects.filter(kind=RecordKind.RELATIVE, responsible_therapist__username__startswith="last-")
    assert bulk.count() == int(match.group(1)) > 0
    for record in bulk.select_related("relative_profile"):
        (link,) = record.client_links.all()
        assert link.client.responsible_therapist_id == record.responsible_therapist_id
        assert link.client.in_relationship and record.episodes.count() == 1
        assert record.relative_profile.relation in ("partner", "spouse")
