"""PostgreSQL itself keeps signed parts, their addenda and a locked family map: the runtime role the app serves as
cannot change or delete them, not even after naming every pgtrigger trigger in `pgtrigger.ignore` (the guards of
kast.db_roles never read it). Each test commits its rows, so another connection sees them."""

from __future__ import annotations

import pytest
from django.utils import timezone

from clients.models import (
    AssessmentConversation,
    Client,
    DeepInterviewSection,
    FamilyMember,
    FamilyRelationship,
    PartAddendum,
)
from kast.db_roles import RUNTIME_ROLE
from tests.factories import (
    AssessmentConversationFactory,
    ClientFactory,
    DeepInterviewSectionFactory,
    FamilyMemberFactory,
    FamilyRelationshipFactory,
    open_first_period,
)
from tests.kast.test_database_roles import every_trigger_set_aside, login_as, refused

committed = pytest.mark.django_db(transaction=True)


def _set_aside(conn) -> None:
    """What any session of the app's role could do: name every pgtrigger trigger in pgtrigger.ignore."""
    with conn.cursor() as cursor:
        every_trigger_set_aside(cursor)
    conn.commit()  # the setting lasts for the session


@pytest.fixture
def signed(therapist, client_record):
    """A signed conversation and section of `client_record`, each with an addendum; an unsigned section beside."""
    open_first_period(client_record)
    now = timezone.now()
    conversation = AssessmentConversationFactory(
        client=client_record, problem="Signerat.", signed_at=now, signed_by=therapist
    )
    section = DeepInterviewSectionFactory(
        client=client_record, section="childhood", text="Signerat.", done=True, signed_at=now, signed_by=therapist
    )
    draft = DeepInterviewSectionFactory(client=client_record, section="puberty", text="Utkast.")
    return {
        "conversation": conversation,
        "section": section,
        "draft": draft,
        "addenda": [
            PartAddendum.objects.create(conversation=conversation, author=therapist, text="Tillägg 1."),
            PartAddendum.objects.create(section=section, author=therapist, text="Tillägg 2."),
        ],
    }


@committed
def test_the_runtime_role_cannot_change_or_delete_a_signed_part_or_an_addendum(signed):
    conversation_table = AssessmentConversation._meta.db_table
    section_table = DeepInterviewSection._meta.db_table
    addendum_table = PartAddendum._meta.db_table
    conversation, section = signed["conversation"], signed["section"]
    addendum = signed["addenda"][0]

    with login_as(RUNTIME_ROLE) as conn:
        _set_aside(conn)
        answers = {
            "conversation updated": refused(
                conn, f"UPDATE \"{conversation_table}\" SET problem = 'Ändrat.' WHERE id = %s", [conversation.pk]
            ),
            "conversation unsigned": refused(
                conn,
                f'UPDATE "{conversation_table}" SET signed_at = NULL, signed_by_id = NULL WHERE id = %s',
                [conversation.pk],
            ),
            "conversation deleted": refused(
                conn, f'DELETE FROM "{conversation_table}" WHERE id = %s', [conversation.pk]
            ),
            "section updated": refused(
                conn, f"UPDATE \"{section_table}\" SET text = 'Ändrat.' WHERE id = %s", [section.pk]
            ),
            "section deleted": refused(conn, f'DELETE FROM "{section_table}" WHERE id = %s', [section.pk]),
            "addendum updated": refused(
                conn, f"UPDATE \"{addendum_table}\" SET text = 'Ändrat.' WHERE id = %s", [addendum.pk]
            ),
            "addendum deleted": refused(conn, f'DELETE FROM "{addendum_table}" WHERE id = %s', [addendum.pk]),
        }
        # The unsigned section beside them still changes.
        with conn.cursor() as cursor:
            cursor.execute(
                f"UPDATE \"{section_table}\" SET text = 'Ändrat utkast.' WHERE id = %s", [signed["draft"].pk]
            )
        conn.commit()

    final = "RaiseException: ERROR:  pgtrigger: Cannot update or delete rows from {} table"
    assert answers == {
        "conversation updated": final.format(conversation_table),
        "conversation unsigned": final.format(conversation_table),
        "conversation deleted": final.format(conversation_table),
        "section updated": final.format(section_table),
        "section deleted": final.format(section_table),
        # Append-only: the runtime role has no UPDATE or DELETE on the table at all.
        "addendum updated": f"InsufficientPrivilege: ERROR:  permission denied for table {addendum_table}",
        "addendum deleted": f"InsufficientPrivilege: ERROR:  permission denied for table {addendum_table}",
    }
    assert AssessmentConversation.objects.get().problem == "Signerat."
    assert DeepInterviewSection.objects.get(pk=section.pk).text == "Signerat."
    assert DeepInterviewSection.objects.get(pk=signed["draft"].pk).text == "Ändrat utkast."
    assert sorted(PartAddendum.objects.values_list("text", flat=True)) == ["Tillägg 1.", "Tillägg 2."]


@committed
def test_an_addendum_must_follow_exactly_one_part(therapist, signed):
    table = PartAddendum._meta.db_table

    with login_as(RUNTIME_ROLE) as conn:
        both = refused(
            conn,
            f'INSERT INTO "{table}" (conversation_id, section_id, author_id, text, created_at)'
            " VALUES (%s, %s, %s, 'X.', now())",
            [signed["conversation"].pk, signed["section"].pk, therapist.pk],
        )
        empty = refused(
            conn,
            f"INSERT INTO \"{table}\" (conversation_id, author_id, text, created_at) VALUES (%s, %s, '', now())",
            [signed["conversation"].pk, therapist.pk],
        )

    assert both.startswith("CheckViolation:") and "part_addendum_of_one_part" in both
    assert empty.startswith("CheckViolation:") and "part_addendum_not_empty" in empty


@pytest.fixture
def maps(therapist):
    """Two family maps: one locked, one not, each with a person and a relationship."""
    made = {}
    for name in ("locked", "open"):
        record = open_first_period(ClientFactory(responsible_therapist=therapist))
        me = record.family_members.get(relation="client")
        person = FamilyMemberFactory(client=record, label="Morbror", relation="aunt_uncle")
        line = FamilyRelationshipFactory(client=record, a=me, b=person, kind="close")
        made[name] = (record, person, line)
    Client.objects.filter(pk=made["locked"][0].pk).update(family_map_locked_at=timezone.now())
    return made


@committed
def test_the_runtime_role_cannot_delete_a_locked_map_s_rows_nor_unlock_it(maps, therapist):
    record, person, line = maps["locked"]
    _, open_person, open_line = maps["open"]
    members, relationships = FamilyMember._meta.db_table, FamilyRelationship._meta.db_table
    clients = Client._meta.db_table

    with login_as(RUNTIME_ROLE) as conn:
        _set_aside(conn)
        answers = [
            refused(conn, f'DELETE FROM "{relationships}" WHERE id = %s', [line.pk]),
            refused(conn, f'DELETE FROM "{relationships}" WHERE a_id = %s OR b_id = %s', [person.pk, person.pk]),
            refused(conn, f'DELETE FROM "{members}" WHERE id = %s', [person.pk]),
            refused(conn, f'UPDATE "{clients}" SET family_map_locked_at = NULL WHERE id = %s', [record.pk]),
        ]
        with conn.cursor() as cursor:
            # Marking is an UPDATE, and allowed; the open map's rows are still deleted freely.
            cursor.execute(
                f'UPDATE "{members}" SET entered_in_error_at = now(), entered_in_error_by_id = %s,'
                " error_reason = 'Fel.' WHERE id = %s",
                [therapist.pk, person.pk],
            )
            cursor.execute(f'DELETE FROM "{relationships}" WHERE id = %s', [open_line.pk])
            cursor.execute(f'DELETE FROM "{members}" WHERE id = %s', [open_person.pk])
        conn.commit()
        # A mark is final: neither taken back nor the row deleted.
        unmarked = refused(
            conn,
            f"UPDATE \"{members}\" SET entered_in_error_at = NULL, entered_in_error_by_id = NULL, error_reason = ''"
            " WHERE id = %s",
            [person.pk],
        )

    locked = (
        "IntegrityConstraintViolation: ERROR:  The family map is locked: its people and relationships are marked as "
        "entered in error, never deleted."
    )
    assert answers == [
        locked,
        locked,
        locked,
        f"RaiseException: ERROR:  pgtrigger: Cannot update rows from {clients} table",
    ]
    assert unmarked == f"RaiseException: ERROR:  pgtrigger: Cannot update or delete rows from {members} table"
    assert FamilyMember.objects.get(pk=person.pk).error_reason == "Fel."
    assert FamilyRelationship.objects.filter(pk=line.pk).exists()
    assert Client.objects.get(pk=record.pk).family_map_locked
    assert not FamilyMember.objects.filter(pk=open_person.pk).exists()


@committed
def test_a_mark_needs_its_reason_in_the_database_too(maps, therapist):
    _, person, _ = maps["locked"]

    with login_as(RUNTIME_ROLE) as conn:
        answer = refused(
            conn,
            f'UPDATE "{FamilyMember._meta.db_table}" SET entered_in_error_at = now(), entered_in_error_by_id = %s'
            " WHERE id = %s",
            [therapist.pk, person.pk],
        )

    assert answer.startswith("CheckViolation:") and "family_member_error_has_reason" in answer
