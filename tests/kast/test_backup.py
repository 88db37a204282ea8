"""The backup and its restore drill: a dump that restores whole into a fresh database, or a clear failure.

The data must be committed for pg_dump (another connection) to see it, so these tests run
transactionally; the drill's database is made and dropped on the same server as the test database.
"""

from __future__ import annotations

import json
import stat

import environ
import psycopg2
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from kast import backup
from kast.models import AccessLogEntry
from sessions.models import Note
from tests.factories import ClientFactory, ClinicFactory, NoteFactory, TherapySessionFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

CANARY_NOTE = "SENTINEL-canary: Klienten berättade om helgen, ordagrant återställd."


@pytest.fixture(autouse=True)
def no_drill_database_left():
    """A drill that fails with keep=True leaves its database for inspection; a test must not leave one."""
    before = _drill_databases()
    yield
    for name in _drill_databases() - before:
        backup.drop_database(name)


@pytest.fixture
def data():
    clinic = ClinicFactory(name="Backupmottagningen", code="BKP")
    therapist = UserFactory(clinic=clinic)
    record = ClientFactory(responsible_therapist=therapist, code="BKP-2026-0001", alias="SENTINEL-alias")
    note = NoteFactory(session=TherapySessionFactory(client=record), text=CANARY_NOTE)
    entry = AccessLogEntry.objects.create(
        user=therapist, role=therapist.role, clinic=clinic, action=AccessLogEntry.Action.VIEW, client_id=record.pk
    )
    return {"note": note, "entry": entry}


def test_backup_writes_a_private_dump_its_checksum_and_a_manifest(tmp_path, data):
    result = backup.backup(tmp_path / "backups")

    assert result.dump.name.startswith("kast-") and result.dump.suffix == ".dump"
    assert result.dump.read_bytes()[:5] == b"PGDMP"  # pg_dump's custom format
    assert result.checksum.read_text() == f"{result.sha256}  {result.dump.name}\n"
    for path in (result.dump, result.checksum, result.manifest):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    manifest = json.loads(result.manifest.read_text())
    assert manifest["tables"][f"public.{Note._meta.db_table}"] == 1
    assert manifest["tables"]["public.clients_client"] == 1
    assert manifest["tables"]["public.kast_accesslogentry"] == 1
    assert manifest["canary"]["id"] == data["entry"].pk
    assert manifest["server_version"] == connection.pg_version


def test_restore_drill_restores_counts_migrations_and_the_canary(tmp_path, data):
    made = backup.backup(tmp_path)

    result = backup.restore_drill(made.dump, keep=True)

    try:
        assert result.canary_id == data["entry"].pk
        assert result.tables == len(made.tables)
        assert result.rows == sum(made.tables.values())
        # The note itself, read from the restored database, word for word.
        settings_dict = connection.settings_dict
        restored = psycopg2.connect(
            psycopg2.extensions.make_dsn(**backup._libpq_params(settings_dict, result.database)),
            password=settings_dict.get("PASSWORD") or None,
        )
        try:
            with restored.cursor() as cursor:
                cursor.execute(f"SELECT text FROM {Note._meta.db_table} WHERE id = %s", [data["note"].pk])
                assert cursor.fetchone() == (CANARY_NOTE,)
        finally:
            restored.close()
    finally:
        backup.drop_database(result.database)
    assert not _database_exists(result.database)


def test_the_commands_back_up_and_drill(tmp_path, data, capsys):
    call_command("backup", dir=tmp_path)
    [dump] = tmp_path.glob("*.dump")

    call_command("restore_drill", str(dump))

    output = capsys.readouterr().out
    assert f"Restore drill passed for {dump.name}" in output
    assert f"canary access-log row {data['entry'].pk}" in output


def test_a_damaged_dump_is_refused_before_anything_is_restored(tmp_path, data):
    made = backup.backup(tmp_path)
    content = bytearray(made.dump.read_bytes())
    content[-1] ^= 0xFF
    made.dump.write_bytes(bytes(content))

    with pytest.raises(CommandError, match="does not match its checksum"):
        call_command("restore_drill", str(made.dump))


def test_a_missing_row_fails_the_drill_and_the_drill_database_is_dropped(tmp_path, data):
    made = backup.backup(tmp_path)
    manifest = json.loads(made.manifest.read_text())
    manifest["tables"]["public.therapy_sessions_note"] += 1  # as if a row had not come back
    made.manifest.write_text(json.dumps(manifest))
    databases_before = _drill_databases()

    with pytest.raises(backup.BackupError, match=r"public.therapy_sessions_note: 2 in the backup, 1 restored"):
        backup.restore_drill(made.dump)

    assert _drill_databases() == databases_before


@pytest.mark.django_db  # no data needed: no transactional flush
def test_pg_tool_matches_the_server_version():
    tool = backup.pg_tool("pg_dump", connection.pg_version)

    assert backup._major_version(tool) == connection.pg_version // 10000


@pytest.mark.django_db  # no data needed: no transactional flush
def test_database_url_reaches_the_same_server():
    settings_dict = {**connection.settings_dict, "PASSWORD": "p@ss/word"}

    url = backup.database_url(settings_dict, "kast_drill_x")

    parsed = environ.Env.db_url_config(url)
    assert parsed["NAME"] == "kast_drill_x"
    assert parsed["PASSWORD"] == "p@ss/word"
    assert (parsed["HOST"] or parsed["OPTIONS"].get("host")) == (
        settings_dict["HOST"] or settings_dict["OPTIONS"].get("host")
    )


def _drill_databases() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s", [connection.settings_dict["NAME"] + "_drill_%"]
        )
        return {name for (name,) in cursor.fetchall()}


def _database_exists(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        return cursor.fetchone() is not None
