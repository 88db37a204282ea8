"""Two database roles: the owner of the tables, and the runtime role the app serves requests as.

The **owner** (`kast_owner` on the embedded server; DATABASE_OWNER_URL elsewhere) owns every table and
runs the migrations (`manage.py migrate`) and the maintenance (`retention`, which must delete; `backup`
and `restore_drill`; `seed_demo` on a development machine). The **runtime** role (`kast_app`; DATABASE_URL) is neither
a superuser nor the owner of any table and may not create anything in the schema: it may read and
write the ordinary tables, but only read and add to the append-only ones (the access log, the login
log, log reviews, removal records, addenda and every change-history table of django-pghistory).

After every `migrate`, as the owner (`after_migrate`, a post_migrate receiver):
- **grants** are set afresh from these rules, so a table a migration adds gets them at once;
- **guards** are installed: plain PostgreSQL triggers that never read `pgtrigger.ignore`, the session
  setting with which any connection can set django-pgtrigger's triggers aside. Each trigger of ours
  that refuses a write (`pgtrigger.Protect` and the other BEFORE triggers: a signed note is final, ...)
  gets a twin that runs the same test for every role that cannot act as the table's owner. The owner
  passes the twin (it could drop the trigger anyway), so retention, as the owner, still sets
  pgtrigger's own trigger aside by name inside its transaction. The history tables refuse UPDATE and
  DELETE to the same roles, and every guarded table refuses TRUNCATE to everyone but a superuser (a
  TRUNCATE fires no row trigger).

The superuser side (`create_roles`, `prepare_database`) is used by the embedded server (`make db`) and
by the test suite, which logs in as a superuser and works as the runtime role (Django's `assume_role`).
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ImproperlyConfigured
from psycopg2 import errors, sql
from psycopg2.extensions import cursor as Cursor

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.migrations import Migration
    from django.db.models import Model
    from pgtrigger import Trigger

    #: A model and one of its triggers, as pgtrigger's registry types them (the model class as `Model`).
    TriggerPair = tuple[Model, Trigger]

#: The roles the embedded server and the test suite create (a server with DATABASE_URL names its own).
OWNER_ROLE = "kast_owner"
RUNTIME_ROLE = "kast_app"
#: The DATABASES alias of the owner's connection.
OWNER_ALIAS = "owner"
#: Keys of a DATABASES entry that say who logs in where (NAME stays: the owner works on the same database).
LOGIN_KEYS = ("USER", "PASSWORD", "HOST", "PORT", "OPTIONS")
#: A guard's name begins with this (pgtrigger's own begin with "pgtrigger_"); PostgreSQL fires BEFORE
#: triggers in the order of their names, so a guard answers before the trigger it doubles.
GUARD_PREFIX = "kast_guard_"
HISTORY_GUARD = "kast_append_only"
TRUNCATE_GUARD = "kast_no_truncate"

_acting_as_owner: contextvars.ContextVar[bool] = contextvars.ContextVar("kast_acting_as_owner", default=False)


def _one_row(cursor: Cursor) -> tuple[Any, ...]:
    """The row of a query that always returns one (a SELECT of expressions, without FROM a table)."""
    row = cursor.fetchone()
    if row is None:
        raise RuntimeError("the query returned no row")
    return row


# -- the superuser's part: roles and databases (embedded server, test suite) -----------------------------------


def create_roles(cursor: Cursor, *, owner: str = OWNER_ROLE, runtime: str = RUNTIME_ROLE) -> None:
    """(A cursor of an autocommit connection, as a superuser.) Both roles, able to log in and never superusers;
    the owner may create databases (the test database, a restore drill's), the runtime role nothing. Idempotent,
    and safe when two processes do it at once."""
    wanted = {
        owner: "LOGIN NOSUPERUSER CREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS",
        runtime: "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS",
    }
    for role, attributes in wanted.items():
        cursor.execute(
            "SELECT rolsuper OR rolcreaterole OR rolreplication OR rolbypassrls OR NOT rolcanlogin"
            " OR rolcreatedb <> %s FROM pg_roles WHERE rolname = %s",
            [role == owner, role],
        )
        row = cursor.fetchone()
        if row is not None and not row[0]:
            continue
        verb = "CREATE" if row is None else "ALTER"
        # Another process may make or change it at the same moment (test runs side by side on one server).
        with contextlib.suppress(errors.DuplicateObject, errors.UniqueViolation, errors.InternalError_):
            cursor.execute(sql.SQL(verb + " ROLE {} " + attributes).format(sql.Identifier(role)))
    # The runtime role must not be able to become the owner (SET ROLE).
    cursor.execute("SELECT pg_has_role(%s, %s, 'MEMBER')", [runtime, owner])
    if _one_row(cursor)[0]:
        cursor.execute(sql.SQL("REVOKE {} FROM {}").format(sql.Identifier(owner), sql.Identifier(runtime)))


def prepare_database(cursor: Cursor, *, owner: str = OWNER_ROLE, runtime: str = RUNTIME_ROLE) -> None:
    """(Connected to the database as a superuser.) The owner owns the database, its schema and every object in
    it (tables a superuser made before the roles existed are handed over); the runtime role may connect."""
    cursor.execute("SELECT current_database(), current_schema()")
    database, schema = _one_row(cursor)
    owner_id = sql.Identifier(owner)
    cursor.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(sql.Identifier(database), owner_id))
    cursor.execute(
        "SELECT n.nspowner::regrole::text FROM pg_namespace n WHERE n.nspname = current_schema()",
    )
    if _one_row(cursor)[0] not in ("pg_database_owner", owner):  # PostgreSQL < 15: the bootstrap superuser's
        cursor.execute(sql.SQL("ALTER SCHEMA {} OWNER TO {}").format(sql.Identifier(schema), owner_id))
    cursor.execute(sql.SQL("REVOKE CREATE ON SCHEMA {} FROM PUBLIC").format(sql.Identifier(schema)))
    # Tables (their identity sequences and indexes follow), free-standing sequences, views, functions.
    cursor.execute(
        """
        SELECT CASE c.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                    ELSE 'TABLE' END, c.relname
        FROM pg_class c
        WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p', 'S', 'v', 'm')
          AND c.relowner <> %s::regrole
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i'))
        ORDER BY c.relkind DESC, c.relname
        """,
        [owner],
    )
    for kind, name in cursor.fetchall():
        cursor.execute(sql.SQL("ALTER {} {} OWNER TO {}").format(sql.SQL(kind), sql.Identifier(schema, name), owner_id))
    cursor.execute(
        "SELECT p.oid::regprocedure::text FROM pg_proc p"
        " WHERE p.pronamespace = current_schema()::regnamespace AND p.proowner <> %s::regrole",
        [owner],
    )
    for (function,) in cursor.fetchall():
        cursor.execute(sql.SQL("ALTER FUNCTION {} OWNER TO {}").format(sql.SQL(function), owner_id))
    cursor.execute(
        sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(database), sql.Identifier(runtime))
    )


# -- which tables are guarded -----------------------------------------------------------------------------------


def _operations(trigger: Trigger) -> set[str]:
    return set(str(trigger.operation).split(" OR "))


def guarded_triggers() -> list[TriggerPair]:
    """(model, trigger) for every pgtrigger trigger that refuses a write: those that run BEFORE the row is written.

    (pghistory's and the figures' stamps run AFTER; a BEFORE trigger here is always one that raises.)
    """
    import pgtrigger
    from pgtrigger import registry

    found = [
        (model, trigger)
        for model, trigger in registry.registered()
        if str(trigger.when) == str(pgtrigger.Before) and not model._meta.proxy and model._meta.managed
    ]
    for model, trigger in found:
        if str(trigger.level) != str(pgtrigger.Row):
            raise ImproperlyConfigured(f"{trigger.get_uri(model)}: only row-level BEFORE triggers can be guarded.")
    return sorted(found, key=lambda pair: trigger_uri(pair))


def trigger_uri(pair: TriggerPair) -> str:
    model, trigger = pair
    return trigger.get_uri(model)


def history_tables() -> list[str]:
    """django-pghistory's event tables: one row per change of a tracked model."""
    from django.apps import apps
    from pghistory.models import Event

    return sorted(
        model._meta.db_table
        for model in apps.get_models()
        if issubclass(model, Event) and model._meta.managed and not model._meta.proxy
    )


def append_only_tables() -> list[str]:
    """Tables the runtime role may only read and add to: those whose every row is refused UPDATE and DELETE
    (pgtrigger.Protect without a condition), and the history tables."""
    import pgtrigger

    tables = set(history_tables())
    for model, trigger in guarded_triggers():
        if (
            isinstance(trigger, pgtrigger.Protect)
            and not trigger.condition
            and {"UPDATE", "DELETE"} <= _operations(trigger)
        ):
            tables.add(model._meta.db_table)
    return sorted(tables)


def truncate_guarded_tables() -> list[str]:
    """Every table with a guard: TRUNCATE would empty it without firing one row trigger."""
    return sorted(set(append_only_tables()) | {model._meta.db_table for model, _ in guarded_triggers()})


# -- the owner's part: guards and grants, after every migrate ---------------------------------------------------

_FUNCTIONS = """
CREATE OR REPLACE FUNCTION kast_acts_as_owner(relation oid) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog AS $$
    -- True for the owner of the table, a role that can act as it, and a superuser: those could drop a guard.
    SELECT pg_has_role(current_user, c.relowner, 'USAGE') FROM pg_class c WHERE c.oid = relation
$$;

CREATE OR REPLACE FUNCTION kast_refuse_change() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    IF kast_acts_as_owner(TG_RELID) THEN
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'kast: % is append-only: rows are never changed or deleted', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE OR REPLACE FUNCTION kast_refuse_truncate() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = current_user AND rolsuper) THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'kast: % cannot be truncated: it must never lose a row', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
"""


def _guard_sql(model: Model, trigger: Trigger) -> tuple[str, str, str]:
    """The twin of a refusing pgtrigger trigger: (trigger name, function name, SQL)."""
    name = f"{GUARD_PREFIX}{trigger.name}"[:63]
    function = f"{GUARD_PREFIX}{trigger.get_pgid(model).removeprefix('pgtrigger_')}"[:63]
    # The same test, the same message: the model's own trigger is rendered, only pgtrigger.ignore is not asked.
    # search_path puts pg_temp last, so a temporary table cannot stand in for a table the test reads.
    statement = f"""
        CREATE OR REPLACE FUNCTION {function}() RETURNS trigger
        LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
            {trigger.render_declare(model)}
            BEGIN
                IF kast_acts_as_owner(TG_RELID) THEN
                    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
                    RETURN NEW;
                END IF;
                {trigger.render_func(model)}
            END;
        $$;
        CREATE OR REPLACE TRIGGER {name} BEFORE {trigger.operation} ON {_quote(model._meta.db_table)}
            FOR EACH ROW {trigger.render_condition(model)} EXECUTE FUNCTION {function}();
    """
    return name, function, statement


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def install_guards(cursor: Cursor) -> None:
    """The guards of the current rules; guards of rules that are gone are dropped."""
    cursor.execute(
        "SELECT c.relname FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r'"
    )
    existing = {name for (name,) in cursor.fetchall()}
    cursor.execute(_FUNCTIONS)
    expected_triggers: set[tuple[str, str]] = set()
    expected_functions: set[str] = set()
    for model, trigger in guarded_triggers():
        table = model._meta.db_table
        if table not in existing:  # migrated back to before the table existed
            continue
        name, function, statement = _guard_sql(model, trigger)
        cursor.execute(statement)
        expected_triggers.add((table, name))
        expected_functions.add(function)
    for table in history_tables():
        if table in existing:
            cursor.execute(
                f"CREATE OR REPLACE TRIGGER {HISTORY_GUARD} BEFORE UPDATE OR DELETE ON {_quote(table)}"
                " FOR EACH ROW EXECUTE FUNCTION kast_refuse_change()"
            )
            expected_triggers.add((table, HISTORY_GUARD))
    for table in truncate_guarded_tables():
        if table in existing:
            cursor.execute(
                f"CREATE OR REPLACE TRIGGER {TRUNCATE_GUARD} BEFORE TRUNCATE ON {_quote(table)}"
                " FOR EACH STATEMENT EXECUTE FUNCTION kast_refuse_truncate()"
            )
            expected_triggers.add((table, TRUNCATE_GUARD))
    cursor.execute(
        r"""
        SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
        WHERE c.relnamespace = current_schema()::regnamespace AND NOT t.tgisinternal AND t.tgname LIKE 'kast\_%'
        """
    )
    for table, name in cursor.fetchall():
        if (table, name) not in expected_triggers:
            cursor.execute(f"DROP TRIGGER {_quote(name)} ON {_quote(table)}")
    cursor.execute(
        "SELECT p.proname FROM pg_proc p WHERE p.pronamespace = current_schema()::regnamespace AND p.proname LIKE %s",
        [GUARD_PREFIX.replace("_", r"\_") + "%"],
    )
    for (function,) in cursor.fetchall():
        if function not in expected_functions:
            cursor.execute(f"DROP FUNCTION {_quote(function)}()")


def grant(cursor: Cursor, *, runtime: str) -> None:
    """The runtime role's privileges, set afresh on every table the current role owns: ordinary tables read and
    written, append-only ones read and added to, django_migrations read; sequences used; nothing created."""
    cursor.execute("SELECT current_user, current_schema()")
    owner, schema = _one_row(cursor)
    append_only = set(append_only_tables())
    cursor.execute(
        """
        SELECT c.relname, c.relkind FROM pg_class c
        WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
          AND pg_has_role(current_user, c.relowner, 'USAGE')
        ORDER BY c.relname
        """
    )
    role = sql.Identifier(runtime)
    statements = []
    for name, kind in cursor.fetchall():
        relation = sql.Identifier(schema, name)
        if kind == "S":
            statements.append(sql.SQL("REVOKE ALL ON SEQUENCE {} FROM {}").format(relation, role))
            statements.append(sql.SQL("GRANT USAGE, SELECT ON SEQUENCE {} TO {}").format(relation, role))
            continue
        if kind in ("v", "m") or name == "django_migrations":
            privileges = "SELECT"
        elif name in append_only:
            privileges = "SELECT, INSERT"
        else:
            privileges = "SELECT, INSERT, UPDATE, DELETE"
        statements.append(sql.SQL("REVOKE ALL ON TABLE {} FROM {}").format(relation, role))
        statements.append(sql.SQL("GRANT " + privileges + " ON TABLE {} TO {}").format(relation, role))
    statements.append(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(sql.Identifier(schema), role))
    cursor.execute(sql.SQL(";\n").join(statements))
    cursor.execute(
        "SELECT pg_has_role(current_user, n.nspowner, 'USAGE') FROM pg_namespace n WHERE n.nspname = current_schema()"
    )
    if _one_row(cursor)[0]:
        cursor.execute(sql.SQL("REVOKE CREATE ON SCHEMA {} FROM PUBLIC").format(sql.Identifier(schema)))
        cursor.execute(sql.SQL("REVOKE CREATE ON SCHEMA {} FROM {}").format(sql.Identifier(schema), role))
    cursor.execute(
        "SELECT has_schema_privilege(%s, current_schema(), 'CREATE'),"
        " EXISTS (SELECT 1 FROM pg_roles WHERE rolname = %s AND rolsuper),"
        " pg_has_role(%s, current_user, 'MEMBER')",
        [runtime, runtime, runtime],
    )
    can_create, is_superuser, can_become_owner = _one_row(cursor)
    if is_superuser or can_become_owner or can_create:
        raise ImproperlyConfigured(
            f"The runtime database role {runtime} is a superuser, can act as the owner {owner}, or may create objects "
            f"in schema {schema}: it must be none of these (see README, Database roles)."
        )


def after_migrate(
    sender: object, *, using: str, plan: list[tuple[Migration, bool]] | None = None, **kwargs: object
) -> None:
    """post_migrate: guards and grants, as the role that ran the migrations. (A flush sends post_migrate too,
    without a plan: nothing to do then.)"""
    if plan is None:
        return
    from django.conf import settings
    from django.db import connections, transaction

    connection = connections[using]
    with transaction.atomic(using=using), connection.cursor() as cursor:
        install_guards(cursor.cursor)
        cursor.execute("SELECT current_user")
        runtime = settings.DATABASE_RUNTIME_ROLE
        if runtime and runtime != cursor.fetchone()[0]:
            grant(cursor.cursor, runtime=runtime)


# -- acting as the owner (migrate, retention, seed_demo) ------------------------------------------------------------


def _login(db: dict[str, Any]) -> tuple[object, ...]:
    options = {k: v for k, v in (db.get("OPTIONS") or {}).items() if k != "assume_role"}
    return (db.get("USER"), db.get("PASSWORD"), db.get("HOST"), db.get("PORT"), sorted(options.items()))


@contextlib.contextmanager
def owner_connection() -> Iterator[None]:
    """Inside, the default connection works as the owner of the tables: for the maintenance that must (migrate,
    retention, seed_demo). Every query through the default alias, data migrations' included, then runs as owner.

    - No separate owner (DATABASE_URL without DATABASE_OWNER_URL: development): nothing changes.
    - One login that assumes either role (the test suite: a superuser; Django's `assume_role`): SET ROLE, also
      inside a transaction.
    - Two logins (the embedded server; production): the default connection is closed and opened again as the
      owner, and back after. Not inside a transaction, which would be lost.
    """
    from django.conf import settings
    from django.db import DEFAULT_DB_ALIAS, connections

    runtime_db = settings.DATABASES[DEFAULT_DB_ALIAS]
    owner_db = settings.DATABASES.get(OWNER_ALIAS)
    connection = connections[DEFAULT_DB_ALIAS]
    runtime_role = (runtime_db.get("OPTIONS") or {}).get("assume_role")
    owner_role = ((owner_db or {}).get("OPTIONS") or {}).get("assume_role")
    token = _acting_as_owner.set(True)
    try:
        if owner_db is None or (_login(owner_db) == _login(runtime_db) and owner_role == runtime_role):
            yield
        elif _login(owner_db) == _login(runtime_db):
            _set_role(connection, owner_role)
            try:
                yield
            finally:
                _set_role(connection, runtime_role)
        else:
            if connection.in_atomic_block:
                raise RuntimeError("owner_connection() reconnects: it cannot be used inside a transaction.")
            saved = {key: copy.deepcopy(runtime_db.get(key)) for key in LOGIN_KEYS}
            connection.close()
            connection.settings_dict.update({key: copy.deepcopy(owner_db.get(key)) for key in LOGIN_KEYS})
            try:
                yield
            finally:
                connection.close()
                connection.settings_dict.update(saved)
    finally:
        _acting_as_owner.reset(token)


def _set_role(connection: BaseDatabaseWrapper, role: str | None) -> None:
    from django.db.backends.postgresql.operations import DatabaseOperations

    ops = connection.ops
    if not isinstance(ops, DatabaseOperations):  # kast.settings.base accepts no other engine
        raise ImproperlyConfigured("SET ROLE needs a PostgreSQL connection.")
    with connection.cursor() as cursor:
        cursor.execute(ops.compose_sql("SET ROLE %s", [role]) if role else "SET ROLE NONE")


# -- production: never serve as a superuser or as the owner -----------------------------------------------------

PRIVILEGED_QUERY = """
    SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname IN (current_user, session_user) AND rolsuper),
           EXISTS (SELECT 1 FROM pg_class c WHERE c.relnamespace = current_schema()::regnamespace
                   AND c.relkind IN ('r', 'p')
                   AND (pg_has_role(current_user, c.relowner, 'MEMBER') OR pg_has_role(session_user, c.relowner, 'MEMBER')))
"""


def refuse_privileged_runtime(sender: object, connection: BaseDatabaseWrapper, **kwargs: object) -> None:
    """connection_created (production settings): the app's own connection may be neither a superuser nor a role
    that owns a table (or can become its owner), which could switch every guard off."""
    from django.db import DEFAULT_DB_ALIAS

    if connection.alias != DEFAULT_DB_ALIAS or _acting_as_owner.get():
        return
    with connection.connection.cursor() as cursor:
        cursor.execute(PRIVILEGED_QUERY)
        superuser, owner = cursor.fetchone()
    if superuser or owner:
        connection.close()  # or the next use would find it open and unchecked
        what = "a superuser" if superuser else "the owner of the tables (or can act as it)"
        raise ImproperlyConfigured(
            f"The app's database connection (DATABASE_URL) is {what}: production serves as a role that is neither "
            "(see README, Database roles). Migrations run as the owner: DATABASE_OWNER_URL."
        )


def refuse_privileged_runtime_at_start() -> None:
    """At the start of a production worker: connect once, so a privileged DATABASE_URL stops it before it serves."""
    from django.conf import settings
    from django.db import DEFAULT_DB_ALIAS, OperationalError, connections

    if not getattr(settings, "DATABASE_REFUSE_PRIVILEGED_RUNTIME", False):
        return
    connection = connections[DEFAULT_DB_ALIAS]
    try:
        connection.ensure_connection()
    except OperationalError:
        return  # the server is not up yet: the first request's connection is checked the same way
    finally:
        connection.close()
