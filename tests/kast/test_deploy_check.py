"""Production settings pass Django's deployment checklist, and refuse to start without a secret key, without
the number of trusted proxies stated, or on a database connection that is a superuser or owns the tables."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from kast import backup
from kast.db_roles import OWNER_ROLE, RUNTIME_ROLE


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    # os.environ carries DATABASE_URL when one is set; without it the embedded server is found.
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "kast.settings.production"}
    # kast.settings.test has put its own throwaway key into this process's environment, and the
    # browser tests' conftest the async-safety switch Playwright's sync API needs: neither is production's.
    environment.pop("SECRET_KEY", None)
    environment.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    environment.pop("TRUSTED_PROXY_COUNT", None)
    environment.pop("DATABASE_OWNER_URL", None)
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_settings_pass_the_deployment_checklist():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="kast.example.se",
        TRUSTED_PROXY_COUNT="0",  # stated, even if none
    )

    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def dotenv_sets(name: str) -> bool:
    path = Path(settings.BASE_DIR) / ".env"
    lines = path.read_text().splitlines() if path.exists() else []
    return any(line.strip().startswith(f"{name}=") for line in lines)


def test_production_settings_without_secret_key_fail_with_one_clear_line():
    if dotenv_sets("SECRET_KEY"):
        pytest.skip(".env sets SECRET_KEY, so it cannot be missing here")

    result = manage("check", ALLOWED_HOSTS="kast.example.se", TRUSTED_PROXY_COUNT="0")

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("kast: configuration error:")
    assert "SECRET_KEY" in line


def test_production_settings_without_trusted_proxy_count_fail_with_one_clear_line():
    if dotenv_sets("TRUSTED_PROXY_COUNT"):
        pytest.skip(".env sets TRUSTED_PROXY_COUNT, so it cannot be missing here")

    result = manage("check", SECRET_KEY=secrets.token_urlsafe(50), ALLOWED_HOSTS="kast.example.se")

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line == (
        "kast: configuration error: TRUSTED_PROXY_COUNT is not set: set it to the number of reverse proxies in "
        "front of the app that append to X-Forwarded-For (0 if none)."
    )


def test_production_settings_load_with_trusted_proxy_count_zero():
    result = manage(
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings; print(settings.TRUSTED_PROXY_COUNT)",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="kast.example.se",
        TRUSTED_PROXY_COUNT="0",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "0"


#: Connects to the database, as every request does.
CONNECT = "from django.db import connection; connection.ensure_connection(); print('connected')"


def production(**env: str) -> dict[str, str]:
    return {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "kast.example.se",
        "TRUSTED_PROXY_COUNT": "0",
        **env,
    }


def url_as(role: str | None) -> str:
    """DATABASE_URL of the test database, logged in as `role` (None: the superuser the tests log in as)."""
    db = connection.settings_dict
    if role is not None:
        db = {**db, "USER": role, "PASSWORD": ""}
    return backup.database_url(db, db["NAME"])


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "what"), [(None, "a superuser"), (OWNER_ROLE, "the owner of the tables (or can act as it)")]
)
def test_production_refuses_a_superuser_or_the_owner_as_the_app_s_connection(role, what):
    result = manage("shell", "--no-imports", "-c", CONNECT, **production(DATABASE_URL=url_as(role)))

    assert result.returncode == 1
    assert "connected" not in result.stdout
    [line] = result.stderr.strip().splitlines()
    assert line == (
        f"kast: configuration error: The app's database connection (DATABASE_URL) is {what}: production serves as "
        "a role that is neither (see README, Database roles). Migrations run as the owner: DATABASE_OWNER_URL."
    )


@pytest.mark.django_db
def test_production_serves_as_the_runtime_role_and_migrates_as_the_owner():
    urls = {"DATABASE_URL": url_as(RUNTIME_ROLE), "DATABASE_OWNER_URL": url_as(OWNER_ROLE)}

    served = manage("shell", "--no-imports", "-c", CONNECT, **production(**urls))
    migrated = manage("migrate", "--check", **production(**urls))

    assert served.returncode == 0, served.stderr
    assert served.stdout.strip() == "connected"
    assert migrated.returncode == 0, migrated.stderr


@pytest.mark.django_db
def test_a_production_worker_stops_at_its_start_on_a_superuser_connection():
    environment = {
        **os.environ,
        **production(DATABASE_URL=url_as(None)),
        "DJANGO_SETTINGS_MODULE": "kast.settings.production",
    }
    environment.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)

    result = subprocess.run(
        [sys.executable, "-c", "import kast.wsgi"],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 1
    assert "ImproperlyConfigured: The app's database connection (DATABASE_URL) is a superuser" in result.stderr
