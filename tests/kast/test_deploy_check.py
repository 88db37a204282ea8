"""Production settings pass Django's deployment checklist, and refuse to start without a secret key."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    # os.environ carries DATABASE_URL when one is set; without it the embedded server is found.
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "kast.settings.production"}
    # kast.settings.test has put its own throwaway key into this process's environment, and the
    # browser tests' conftest the async-safety switch Playwright's sync API needs: neither is production's.
    environment.pop("SECRET_KEY", None)
    environment.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
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

    result = manage("check", ALLOWED_HOSTS="kast.example.se")

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("kast: configuration error:")
    assert "SECRET_KEY" in line
