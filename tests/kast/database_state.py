"""What the database holds, table by table, to show that a refused request wrote nothing."""

from __future__ import annotations

from django.db import connection
from psycopg2 import sql

#: Written by an ordinary request that changes nothing: the sign-in's own session rows, login events and
#: lockout counters (axes_*, and the wrong tablet codes that rate-limit the tablet page), and the access log
#: (a refused or invalid request on a record is still a look at it, and is logged as one).
BOOKKEEPING = frozenset(
    {
        "django_session",
        "kast_accesslogentry",
        "kast_loginevent",
        "kast_staffsession",
        "axes_*",
        "otp_*",
        "assessments_wrongtabletcode",
    }
)


def _excluded(table: str, exclude: frozenset[str]) -> bool:
    return table in exclude or any(p.endswith("*") and table.startswith(p[:-1]) for p in exclude)


def fingerprint(exclude: frozenset[str] = BOOKKEEPING) -> dict[str, str]:
    """table -> md5 of all its rows (as text, sorted): equal fingerprints, equal contents."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind = 'r' AND n.nspname = 'public' ORDER BY relname"
        )
        tables = [name for (name,) in cursor.fetchall() if not _excluded(name, exclude)]
        cursor.execute(
            sql.SQL(" UNION ALL ")
            .join(
                sql.SQL("SELECT {}, md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) FROM {} t").format(
                    sql.Literal(table), sql.Identifier(table)
                )
                for table in tables
            )
            .as_string(cursor.cursor)
        )
        return dict(cursor.fetchall())


def changed_tables(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return sorted(table for table in set(before) | set(after) if before.get(table) != after.get(table))


def write_counts() -> dict[str, int]:
    """table -> rows inserted, updated or deleted so far in this transaction (PostgreSQL's own count: cheap)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname, n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_xact_user_tables")
        return dict(cursor.fetchall())


def written_tables(before: dict[str, int], exclude: frozenset[str] = BOOKKEEPING) -> list[str]:
    """Tables written to since `before` (writes later rolled back included), bookkeeping left out."""
    after = write_counts()
    return sorted(t for t, n in after.items() if n != before.get(t, 0) and not _excluded(t, exclude))
