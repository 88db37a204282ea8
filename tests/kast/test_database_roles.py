"""Issue 15: integrity that no database session can switch off, and least privilege (kast.db_roles).

The app serves as the runtime role: no superuser, owner of no table, only reading and adding to the append-only
tables. Guards that never read `pgtrigger.ignore` keep those tables append-only and a signed note final, and
TRUNCATE of them is refused to everyone but a superuser. The tests marked `committed` log in as the roles
themselves, on connections of their own, so the rows they try to change are committed first (and the test
database is emptied after them, by a superuser).
"""

from __future__ import annotations

import datetime
import zoneinfo
from collections.abc import Iterator
from contextlib import contextmanager

import pghistory.models
import pgtrigger
import psycopg2
import pytest
import time_machine
from django.apps import apps
from django.db import DatabaseError, InternalError, ProgrammingError, connection, transaction
from pgtrigger import registry

from archive import services as archive_services
from audit.models import LogReview, Outcome, ReviewKind
from clients.models import Client
from kast import backup, db_roles
from kast.db_roles import OWNER_ROLE, RUNTIME_ROLE, owner_connection
from kast.models import AccessLogEntry, LoginEvent
from sessions.models import Addendum, Method, Note, NoteMethod, NoteTheme, Theme
from tests.factories import ClientFactory, NoteFactory, TherapySessionFactory

STOCKHOLM = zoneinfo.ZoneInfo("Europe/Stockholm")
committed = pytest.mark.django_db(transaction=True)

#: Every table whose rows the app may only add, besides the change history.
APPEND_ONLY = {
    "archive_removalrecord",
    "audit_logreview",
    "clients_goalreview",
    "clients_partaddendum",
    "groups_groupaddendum",
    "kast_accesslogentry",
    "kast_loginevent",
    "therapy_sessions_addendum",
}
#: The pgtrigger triggers that refuse a write, each with its guard.
GUARDED = [
    "archive.RemovalRecord:append_only",
    "assessments.Administration:entered_in_error_is_final",
    "assessments.InstrumentVersion:published_version_is_final",
    "assessments.Item:published_items_are_final",
    "audit.LogReview:review_is_final",
    "clients.AssessmentConversation:signed_assessment_is_final",
    "clients.Client:family_map_lock_is_final",
    "clients.DeepInterviewSection:signed_section_is_final",
    "clients.FamilyMember:family_member_error_mark_is_final",
    "clients.FamilyMember:family_member_kept_once_locked",
    "clients.FamilyRelationship:relationship_error_mark_is_final",
    "clients.FamilyRelationship:relationship_kept_once_locked",
    "clients.GoalReview:goal_review_is_final",
    "clients.PartAddendum:part_addendum_is_final",
    "clients.TreatmentGoal:reviewed_goal_is_final",
    "groups.GroupAddendum:group_addendum_is_final",
    "groups.GroupNote:signed_group_note_is_final",
    "kast.AccessLogEntry:append_only",
    "kast.LoginEvent:append_only",
    "therapy_sessions.Addendum:addendum_is_final",
    "therapy_sessions.Note:signed_note_is_final",
    "therapy_sessions.NoteMethod:signed_note_methods_are_final",
    "therapy_sessions.NoteTheme:signed_note_themes_are_final",
]


@contextmanager
def login_as(role: str | None) -> Iterator[psycopg2.extensions.connection]:
    """A connection of its own to the test database, logged in as `role` (None: the suite's superuser)."""
    db = connection.settings_dict
    if role is not None:
        db = {**db, "USER": role, "PASSWORD": ""}
    conn = backup._connect(db)
    try:
        yield conn
    finally:
        conn.close()


def every_trigger_set_aside(cursor) -> None:
    """What any session may do: name every pgtrigger trigger of the project in pgtrigger.ignore."""
    pgids = sorted({trigger.get_pgid(model) for model, trigger in registry.registered()})
    cursor.execute("SET pgtrigger.ignore = %s", ["{" + ",".join(pgids) + "}"])


def refused(conn, statement: str, params=()) -> str:
    """The error PostgreSQL answers `statement` with (the transaction is rolled back); fails if it was accepted."""
    try:
        with conn.cursor() as cursor:
            cursor.execute(statement, params)
    except psycopg2.Error as error:
        conn.rollback()
        return f"{type(error).__name__}: {error.pgerror.splitlines()[0]}"
    conn.rollback()
    pytest.fail(f"accepted: {statement}")


def scalar(cursor, query: str, params=()):
    cursor.execute(query, params)
    return cursor.fetchone()[0]


# -- who the app is ------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_app_works_as_the_runtime_role():
    with connection.cursor() as cursor:
        assert scalar(cursor, "SELECT current_user") == RUNTIME_ROLE


@pytest.mark.django_db
def test_the_runtime_role_is_no_superuser_owns_no_table_and_may_create_nothing():
    with login_as(RUNTIME_ROLE) as conn, conn.cursor() as cursor:
        cursor.execute(
            "SELECT session_user, rolsuper, rolcreatedb, rolcreaterole, rolbypassrls FROM pg_roles"
            " WHERE rolname = current_user"
        )
        assert cursor.fetchone() == (RUNTIME_ROLE, False, False, False, False)
        assert scalar(cursor, "SELECT count(*) FROM pg_class WHERE relowner = current_user::regrole") == 0
        assert scalar(cursor, "SELECT has_schema_privilege(current_user, current_schema(), 'CREATE')") is False
        assert scalar(cursor, "SELECT pg_has_role(current_user, %s, 'MEMBER')", [OWNER_ROLE]) is False
        # The owner owns every table the migrations made.
        assert (
            scalar(
                cursor,
                "SELECT count(*) FROM pg_class WHERE relnamespace = current_schema()::regnamespace"
                " AND relkind = 'r' AND relowner <> %s::regrole",
                [OWNER_ROLE],
            )
            == 0
        )
        assert scalar(cursor, "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()") > 50


@pytest.mark.django_db
def test_the_runtime_role_may_only_read_and_add_to_the_append_only_tables():
    history = db_roles.history_tables()
    assert {"clients_clientevent", "therapy_sessions_therapysessionevent", "kast_userevent"} <= set(history)
    assert len(history) == len(
        [m for m in apps.get_models() if issubclass(m, pghistory.models.Event) and m._meta.managed]
    )
    assert set(db_roles.append_only_tables()) == APPEND_ONLY | set(history)

    def privileges(table: str) -> set[str]:
        kinds = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")
        with connection.cursor() as cursor:
            return {
                k for k in kinds if scalar(cursor, "SELECT has_table_privilege(%s, %s, %s)", [RUNTIME_ROLE, table, k])
            }

    for table in sorted(APPEND_ONLY | set(history)):
        assert privileges(table) == {"SELECT", "INSERT"}, table
    for table in ("clients_client", "therapy_sessions_note", "therapy_sessions_notetheme", "pghistory_context"):
        assert privileges(table) == {"SELECT", "INSERT", "UPDATE", "DELETE"}, table
    assert privileges("django_migrations") == {"SELECT"}


@pytest.mark.django_db
def test_every_refusing_trigger_has_its_guard_in_the_database():
    assert [db_roles.trigger_uri(pair) for pair in db_roles.guarded_triggers()] == GUARDED
    history = db_roles.history_tables()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgname, count(*) FROM pg_trigger WHERE tgname LIKE 'kast\\_%%' AND NOT tgisinternal"
            " GROUP BY tgname ORDER BY tgname"
        )
        installed = dict(cursor.fetchall())
    assert installed == {
        "kast_append_only": len(history),
        "kast_guard_addendum_is_final": 1,
        "kast_guard_append_only": 3,  # the access log, the login log, removal records
        "kast_guard_entered_in_error_is_final": 1,
        "kast_guard_family_map_lock_is_final": 1,
        "kast_guard_family_member_error_mark_is_final": 1,
        "kast_guard_family_member_kept_once_locked": 1,
        "kast_guard_goal_review_is_final": 1,
        "kast_guard_group_addendum_is_final": 1,
        "kast_guard_part_addendum_is_final": 1,
        "kast_guard_published_items_are_final": 1,
        "kast_guard_published_version_is_final": 1,
        "kast_guard_relationship_error_mark_is_final": 1,
        "kast_guard_relationship_kept_once_locked": 1,
        "kast_guard_review_is_final": 1,
        "kast_guard_reviewed_goal_is_final": 1,
        "kast_guard_signed_assessment_is_final": 1,
        "kast_guard_signed_group_note_is_final": 1,
        "kast_guard_signed_note_is_final": 1,
        "kast_guard_signed_note_methods_are_final": 1,
        "kast_guard_signed_note_themes_are_final": 1,
        "kast_guard_signed_section_is_final": 1,
        # + notes, their themes and methods, versions, items, questionnaires; clients, assessment conversations,
        # interview sections, family members and relationships, treatment goals; group notes
        "kast_no_truncate": len(APPEND_ONLY) + len(history) + 13,
    }


# -- what no session can switch off ---------------------------------------------------------------------------------


@pytest.fixture
def rows(therapist, manager, client_record):
    """One row of each table the issue names: committed, so other connections see them."""
    entry = AccessLogEntry.objects.create(
        user=therapist, role=therapist.role, clinic=therapist.clinic, action="view", client_id=client_record.pk
    )
    note = NoteFactory(session=TherapySessionFactory(client=client_record), text="Signerad.")
    return {
        "access log": (AccessLogEntry._meta.db_table, entry.pk, "reason", "id"),
        "login log": (
            LoginEvent._meta.db_table,
            LoginEvent.objects.create(event="login", user=therapist, username=therapist.username).pk,
            "reason",
            "id",
        ),
        "log review": (
            LogReview._meta.db_table,
            LogReview.objects.create(
                entry=entry, kind=ReviewKind.EMERGENCY, outcome=Outcome.JUSTIFIED, reviewed_by=manager
            ).pk,
            "comment",
            "id",
        ),
        "history event": (
            "clients_clientevent",
            apps.get_model("clients", "ClientEvent").objects.get(pgh_obj_id=client_record.pk, pgh_label="insert").pk,
            "alias",
            "pgh_id",
        ),
        "signed note": (Note._meta.db_table, note.pk, "text", "id"),
    }


def table_state() -> list:
    return [
        sorted(AccessLogEntry.objects.values_list("pk", "reason")),
        sorted(LoginEvent.objects.values_list("pk", "reason")),
        sorted(LogReview.objects.values_list("pk", "comment")),
        sorted(apps.get_model("clients", "ClientEvent").objects.values_list("pgh_id", "alias")),
        sorted(Note.objects.values_list("pk", "text", "signed_at")),
    ]


@committed
@pytest.mark.parametrize("what", ["access log", "login log", "log review", "history event", "signed note"])
def test_the_runtime_role_cannot_change_delete_or_truncate_even_with_pgtrigger_ignore(rows, what):
    table, pk, column, pk_column = rows[what]
    before = table_state()

    with login_as(RUNTIME_ROLE) as conn:
        with conn.cursor() as cursor:
            every_trigger_set_aside(cursor)
        conn.commit()  # the setting lasts for the session
        answers = [
            refused(conn, f'UPDATE "{table}" SET "{column}" = \'changed\' WHERE "{pk_column}" = %s', [pk]),
            refused(conn, f'DELETE FROM "{table}" WHERE "{pk_column}" = %s', [pk]),
            refused(conn, f'TRUNCATE "{table}" CASCADE'),
        ]

    if what == "signed note":  # drafts may change, so the guard (the note's own rule) answers
        final = "RaiseException: ERROR:  pgtrigger: Cannot update or delete rows from therapy_sessions_note table"
        assert answers[:2] == [final, final]
    else:
        assert answers[:2] == [f"InsufficientPrivilege: ERROR:  permission denied for table {table}"] * 2
    assert answers[2] == f"InsufficientPrivilege: ERROR:  permission denied for table {table}"
    assert table_state() == before


@committed
def test_not_even_the_owner_may_truncate_them_but_a_superuser_may(rows):
    before = table_state()
    tables = sorted({table for table, *_ in rows.values()})

    with login_as(OWNER_ROLE) as conn:
        answers = {table: refused(conn, f'TRUNCATE "{table}" CASCADE') for table in tables}
    with login_as(None) as conn, conn.cursor() as cursor:
        for table in tables:
            cursor.execute(f'TRUNCATE "{table}" CASCADE')
            assert scalar(cursor, f'SELECT count(*) FROM "{table}"') == 0
        conn.rollback()  # the flush after the test is the superuser's TRUNCATE too

    assert answers == {
        table: f"InsufficientPrivilege: ERROR:  kast: {table} cannot be truncated: it must never lose a row"
        for table in tables
    }
    assert table_state() == before


@committed
def test_a_signed_note_takes_only_addenda_and_a_draft_still_changes(rows, therapist, client_record):
    note_table, signed, *_ = rows["signed note"]
    draft = NoteFactory(session=TherapySessionFactory(client=client_record), signed_at=None, text="Utkast.")
    theme = Theme.objects.filter(clinic=client_record.clinic).first() or Theme.objects.create(
        clinic=client_record.clinic, name="Tema"
    )
    method = Method.objects.filter(clinic=client_record.clinic).first()

    with login_as(RUNTIME_ROLE) as conn:
        with conn.cursor() as cursor:
            every_trigger_set_aside(cursor)
            # A temporary table of the same name must not stand in for the notes the guard reads.
            cursor.execute(f'CREATE TEMP TABLE "{note_table}" (id bigint, signed_at timestamptz)')
        conn.commit()
        theme_added = refused(
            conn, f'INSERT INTO "{NoteTheme._meta.db_table}" (note_id, theme_id) VALUES (%s, %s)', [signed, theme.pk]
        )
        method_added = refused(
            conn, f'INSERT INTO "{NoteMethod._meta.db_table}" (note_id, method_id) VALUES (%s, %s)', [signed, method.pk]
        )
        with conn.cursor() as cursor:
            cursor.execute(
                f'INSERT INTO "{Addendum._meta.db_table}" (note_id, author_id, text, created_at)'
                " VALUES (%s, %s, 'Tillägg.', now())",
                [signed, therapist.pk],
            )
            cursor.execute(f"UPDATE public.\"{note_table}\" SET text = 'Ändrat utkast.' WHERE id = %s", [draft.pk])
        conn.commit()

    assert theme_added == "IntegrityConstraintViolation: ERROR:  The themes of a signed note cannot change."
    assert method_added == "IntegrityConstraintViolation: ERROR:  The methods of a signed note cannot change."
    assert list(Addendum.objects.filter(note_id=signed).values_list("text", flat=True)) == ["Tillägg."]
    assert Note.objects.get(pk=draft.pk).text == "Ändrat utkast."
    assert Note.objects.get(pk=signed).text == "Signerad."


@pytest.mark.django_db
def test_the_app_s_own_connection_cannot_set_the_guards_aside_either(therapist, client_record):
    note = NoteFactory(session=TherapySessionFactory(client=client_record), text="Signerad.")
    entry = AccessLogEntry.objects.create(user=therapist, role=therapist.role, clinic=therapist.clinic, action="view")
    uris = [trigger.get_uri(model) for model, trigger in registry.registered()]

    final = pytest.raises(InternalError, match="Cannot update or delete rows from therapy_sessions_note")
    with pgtrigger.ignore(*uris):
        with final, transaction.atomic():
            Note.objects.filter(pk=note.pk).update(text="Ändrad.")
        with final, transaction.atomic():
            Note.objects.filter(pk=note.pk).delete()
        with (
            pytest.raises(ProgrammingError, match="permission denied for table kast_accesslogentry"),
            transaction.atomic(),
        ):
            AccessLogEntry.objects.filter(pk=entry.pk).delete()

    assert Note.objects.get(pk=note.pk).text == "Signerad."
    assert AccessLogEntry.objects.filter(pk=entry.pk).exists()


def messages(error: BaseException | None) -> Iterator[str]:
    """The error and those it was raised while handling (pgtrigger.ignore's reset after the refusal)."""
    while error is not None:
        yield str(error)
        error = error.__context__


# -- the owner's work ---------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_retention_runs_as_the_owner_and_the_runtime_role_alone_could_not_remove_a_record(therapist):
    with time_machine.travel(datetime.datetime(2019, 3, 1, 10, tzinfo=STOCKHOLM), tick=False):
        record = ClientFactory(responsible_therapist=therapist)
        note = NoteFactory(session=TherapySessionFactory(client=record))
        Addendum.objects.create(note=note, author=therapist, text="Tillägg.")
    today = datetime.date(2026, 1, 1)
    client_events = apps.get_model("clients", "ClientEvent").objects.filter(pgh_obj_id=record.pk)
    assert client_events.exists()

    with pytest.raises(DatabaseError) as refusal:
        archive_services.record_remove(record_id=record.pk, today=today)
    assert "permission denied for table therapy_sessions_addendum" in " | ".join(messages(refusal.value))
    assert Client.objects.filter(pk=record.pk).exists()

    with owner_connection():
        with connection.cursor() as cursor:
            assert scalar(cursor, "SELECT current_user") == OWNER_ROLE
        removal = archive_services.record_remove(record_id=record.pk, today=today)

    with connection.cursor() as cursor:
        assert scalar(cursor, "SELECT current_user") == RUNTIME_ROLE
    assert removal.counts["therapy_sessions.Addendum"] == 1
    assert removal.counts["therapy_sessions.Note"] == 1
    assert not Client.objects.filter(pk=record.pk).exists()
    assert not Note.objects.filter(pk=note.pk).exists()
    assert not client_events.exists()


@pytest.mark.django_db
def test_a_table_a_migration_adds_gets_the_runtime_role_s_grants_at_once():
    def can(privilege: str) -> bool:
        with connection.cursor() as cursor:
            return scalar(cursor, "SELECT has_table_privilege(%s, 'kast_probe', %s)", [RUNTIME_ROLE, privilege])

    with owner_connection(), connection.cursor() as cursor:
        cursor.execute("CREATE TABLE kast_probe (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, x text)")
    assert not can("SELECT")

    with owner_connection():
        db_roles.after_migrate(sender=None, using="default", plan=[])

    assert [can(p) for p in ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE")] == [True, True, True, True, False]
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO kast_probe (x) VALUES ('a') RETURNING id")
        assert cursor.fetchone() == (1,)
