"""Personas for every test: the people a clinic has, as in healthchecks' alice/bob/charlie.

- `therapist`: responsible for `client` (Göteborg)
- `colleague`: another Göteborg therapist, not on the case
- `other_clinic_therapist`: a Malmö therapist
- `manager`: Göteborg unit manager
- `admin`: system administrator (no clinic)

The database roles (kast.db_roles): the suite logs in as a superuser and works as the runtime role the app
uses; the owner makes, migrates and drops the test database; a superuser empties it after a transactional test.
"""

from __future__ import annotations

import io

import pytest
from django.core.cache import cache
from django.db import connections, transaction
from django.test import Client as TestClient
from django.test import TransactionTestCase
from django_otp import DEVICE_ID_SESSION_KEY

from kast import backup, db_roles
from kast.models import Role
from tests.factories import ClientFactory, ClinicFactory, UserFactory
from tests.otp import authenticator_for

# log_sentinel fails any test whose application log lines hold client data (sentinels, personnummer);
# demo_data seeds the demo data once for the tests that only read it (`demo_db`); parallel shares the tests out
# between pytest-xdist workers (`make test`).
pytest_plugins = ["tests.log_sentinel", "tests.demo_data", "tests.parallel"]

#: Key of the advisory lock (pg_advisory_lock) held while the roles are made: parallel test runs (pytest-xdist
#: workers, other work trees on the same server) then make them one after the other.
ROLES_LOCK = 0x6B617374

_password_only_login = TestClient.force_login


def _work_as(role: str) -> None:
    """From its next connection on, the default connection works as `role` (SET ROLE; the login stays the same)."""
    connection = connections["default"]
    connection.close()
    connection.settings_dict["OPTIONS"]["assume_role"] = role


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """Both roles exist (made by the superuser the suite logs in as), and the owner makes the test database.

    Under pytest-xdist each worker has a database of its own (pytest-django's suffix: test_kast_gw0, ...)."""
    settings_dict = connections["default"].settings_dict
    if settings_dict["OPTIONS"].get("assume_role") != db_roles.RUNTIME_ROLE:
        pytest.exit("The tests derive their database roles from a superuser: unset DATABASE_OWNER_URL.", returncode=2)
    conn = backup._connect(settings_dict, "postgres")
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            if not cursor.fetchone()[0]:
                pytest.exit(
                    "The tests log in as a superuser and make the roles kast_owner and kast_app from it: "
                    "DATABASE_URL must name a superuser (or leave it unset for the embedded server).",
                    returncode=2,
                )
            cursor.execute("SELECT pg_advisory_lock(%s)", [ROLES_LOCK])
            try:
                db_roles.create_roles(cursor)
            finally:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [ROLES_LOCK])
    finally:
        conn.close()
    _work_as(db_roles.OWNER_ROLE)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The test database, made and migrated by the owner (pytest-django's own fixture); the tests work as the
    runtime role; the owner drops the database at the end."""
    with django_db_blocker.unblock():
        _keep_migrated_rows()
    _work_as(db_roles.RUNTIME_ROLE)
    yield
    _work_as(db_roles.OWNER_ROLE)


#: Table -> its rows right after the migrations (COPY's text format): the rows data migrations make (the published
#: questionnaires, the themes, the referral destinations), which many tests rely on.
_migrated_rows: dict[str, str] = {}


def _keep_migrated_rows() -> None:
    connection = connections["default"]
    tables = connection.introspection.django_table_names(only_existing=True, include_views=False)
    with connection.cursor() as cursor:
        cursor.execute("SET ROLE NONE")
        for table in sorted(tables):
            name = connection.ops.quote_name(table)
            cursor.execute(f"SELECT EXISTS (SELECT FROM {name})")
            if cursor.fetchone()[0]:
                rows = io.StringIO()
                cursor.copy_expert(f"COPY {name} TO STDOUT", rows)
                _migrated_rows[table] = rows.getvalue()


def _put_back_migrated_rows(connection) -> None:
    """(As a superuser.) The migrations' rows again in every table the flush left empty, as they were: with no
    trigger fired (no history, no guard), keys and all. Tables post_migrate fills again (content types,
    permissions) keep what it made."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        for table, rows in _migrated_rows.items():
            name = connection.ops.quote_name(table)
            cursor.execute(f"SELECT EXISTS (SELECT FROM {name})")
            if not cursor.fetchone()[0]:
                cursor.copy_expert(f"COPY {name} FROM STDIN", io.StringIO(rows))


_flush = TransactionTestCase._fixture_teardown


def _flush_as_superuser(self):
    """After a transactional test every table is emptied (TRUNCATE): only a superuser may empty the append-only
    ones, so the login's own role does it, and the connection works as the runtime role again after.

    The rows the migrations made are then put back, so the database is as migrated again, as a test that runs
    next expects it (pytest-django runs the transactional tests last for that reason; under pytest-xdist a
    worker runs them in between)."""
    connection = connections["default"]
    with connection.cursor() as cursor:
        cursor.execute("SET ROLE NONE")
    try:
        _flush(self)
        _put_back_migrated_rows(connection)
    finally:
        with connection.cursor() as cursor:
            cursor.execute(connection.ops.compose_sql("SET ROLE %s", [db_roles.RUNTIME_ROLE]))


TransactionTestCase._fixture_teardown = _flush_as_superuser


def _two_factor_login(self, user, backend=None):
    """Client.force_login, and the second factor passed with the user's authenticator, as a real login ends."""
    _password_only_login(self, user, backend)
    session = self.session
    session[DEVICE_ID_SESSION_KEY] = authenticator_for(user).persistent_id
    session.save()


@pytest.fixture(autouse=True)
def two_factor_force_login(monkeypatch):
    """Every page but the login's own needs both factors: `client.force_login(user)` gives a session with both."""
    monkeypatch.setattr(TestClient, "force_login", _two_factor_login)


@pytest.fixture(autouse=True)
def empty_cache():
    """Each test starts with nothing cached (the managers' figures: figures.cached_figures), as a new worker does."""
    cache.clear()


@pytest.fixture
def new_layout_process():
    """The PDFs of the test are laid out by a process forked during it (kast.pdf keeps one per worker between
    documents), so what the test patched before printing reaches it; stopped again after, patches and all."""
    from kast import pdf

    pdf.stop_layout_process()
    yield
    pdf.stop_layout_process()


@pytest.fixture
def password_only_login():
    """`password_only_login(client, user)`: a session that has passed the password but not the second factor."""
    return _password_only_login


@pytest.fixture
def gbg(db):
    return ClinicFactory(name="Göteborg", code="GBG")


@pytest.fixture
def mlm(db):
    return ClinicFactory(name="Malmö", code="MLM")


@pytest.fixture
def therapist(gbg):
    return UserFactory(username="anna", first_name="Anna", role=Role.THERAPIST, clinic=gbg)


@pytest.fixture
def colleague(gbg):
    return UserFactory(username="bertil", first_name="Bertil", role=Role.THERAPIST, clinic=gbg)


@pytest.fixture
def other_clinic_therapist(mlm):
    return UserFactory(username="cecilia", first_name="Cecilia", role=Role.THERAPIST, clinic=mlm)


@pytest.fixture
def manager(gbg):
    return UserFactory(username="doris", first_name="Doris", role=Role.MANAGER, clinic=gbg)


@pytest.fixture
def admin(db):
    return UserFactory(username="erik", role=Role.ADMIN, clinic=None, is_staff=True, is_superuser=True)


@pytest.fixture
def client_record(therapist):
    return ClientFactory(responsible_therapist=therapist, code="GBG-2026-0001")


@pytest.fixture
def personas(therapist, colleague, other_clinic_therapist, manager, admin):
    return {
        "anonymous": None,
        "therapist": therapist,
        "colleague": colleague,
        "other_clinic": other_clinic_therapist,
        "manager": manager,
        "admin": admin,
    }
