"""Error pages, the health check, and one clear line instead of a traceback when the database is missing."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.urls import get_resolver, reverse

from kast import embedded_db
from kast.settings import base

UNREACHABLE = "postgres://nobody@127.0.0.1:1/nothing"


@pytest.mark.parametrize("persona", ["anonymous", "therapist"])
def test_unknown_url_is_a_404_in_the_site_layout(client, personas, persona):
    if personas[persona] is not None:
        client.force_login(personas[persona])

    response = client.get("/finns-inte/")

    assert response.status_code == 404
    content = response.content.decode()
    assert '<main id="main"' in content
    assert "<h1>Sidan finns inte</h1>" in content


def test_healthz_answers_ok_without_login(client, db):
    response = client.get(reverse("healthz"))

    assert response.status_code == 200
    assert response.content == b"ok"
    assert response["Content-Type"] == "text/plain"


def test_server_error_page_is_swedish_and_hides_the_exception(client, therapist, monkeypatch):
    """The 500 page must not echo the exception: its message can hold client data."""

    def failing_home(request):
        raise RuntimeError("secret detail from the failing view")

    # start/urls.py holds the function itself, so patching start.views.home would not reach the resolver.
    [home] = [
        p
        for top in get_resolver().url_patterns
        for p in getattr(top, "url_patterns", [top])
        if getattr(p, "name", None) == "home"
    ]
    monkeypatch.setattr(home, "callback", failing_home)
    client.force_login(therapist)
    client.raise_request_exception = False

    response = client.get(reverse("home"))

    assert response.status_code == 500
    content = response.content.decode()
    assert "<h1>Något gick fel</h1>" in content
    assert "secret detail" not in content
    assert "RuntimeError" not in content


def manage(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env={**os.environ, "DATABASE_URL": UNREACHABLE},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    "command", [["migrate", "--noinput"], ["check", "--database", "default"]], ids=["migrate", "check"]
)
def test_unreachable_database_gives_one_line_naming_database_url(command):
    result = manage(*command)

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("kast: cannot reach the database (")
    assert "DATABASE_URL" in line


def test_no_database_configured_says_what_to_set(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setattr(embedded_db, "database_settings", lambda user: None)

    with pytest.raises(ImproperlyConfigured) as excinfo:
        base._databases()

    assert "DATABASE_URL" in str(excinfo.value)
    assert "`make db`" in str(excinfo.value)
