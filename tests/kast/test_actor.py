"""Who acts: kast.middleware.ActorMiddleware sets request.actor once per request, and no service needs the request."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings
from django.urls import reverse

from kast.actor import Actor

pytestmark = pytest.mark.django_db

BASE_DIR = Path(settings.BASE_DIR)


@override_settings(TRUSTED_PROXY_COUNT=1)
def test_the_middleware_sets_the_signed_in_actor(client, therapist):
    client.force_login(therapist)

    response = client.get(reverse("home"), REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR="203.0.113.66, 198.51.100.7")

    actor = response.wsgi_request.actor
    assert response.status_code == 200
    assert actor.user == therapist
    assert actor.role == therapist.role
    assert actor.clinic_id == therapist.clinic_id
    # One proxy: the entry it appended, not the one the client wrote further left, nor the proxy's own address.
    assert actor.address == "198.51.100.7"
    assert actor.path == reverse("home")


@override_settings(TRUSTED_PROXY_COUNT=0)
def test_without_proxies_the_header_is_not_believed(client, therapist):
    client.force_login(therapist)

    response = client.get(reverse("home"), REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR="203.0.113.66")

    assert response.wsgi_request.actor.address == "10.0.0.9"


def test_an_anonymous_request_has_an_actor_without_a_user(client):
    response = client.get(reverse("assessments:tablet"), REMOTE_ADDR="10.0.0.9")

    actor = response.wsgi_request.actor
    assert response.status_code == 200
    assert (actor.user, actor.role, actor.clinic_id, actor.address) == (None, "", None, "10.0.0.9")


def test_an_actor_acting_for_another_keeps_the_address(therapist, colleague):
    actor = Actor.for_user(colleague, address="10.0.0.9", path="/tablet/")

    on_behalf = actor.acting_as(therapist)

    assert (on_behalf.user, on_behalf.clinic_id, on_behalf.address, on_behalf.path) == (
        therapist,
        therapist.clinic_id,
        "10.0.0.9",
        "/tablet/",
    )


#: Services allowed a `request` parameter: none (every caller passes `actor=request.actor`).
TRANSITIONAL: set[tuple[str, str]] = set()


def service_modules() -> list[Path]:
    return sorted(path for path in BASE_DIR.glob("*/services.py") if ".venv" not in path.parts)


def test_the_services_are_found():
    names = {path.parent.name for path in service_modules()}
    assert {"kast", "clients", "sessions", "assessments", "relatives", "audit", "archive"} <= names


@pytest.mark.parametrize("path", service_modules(), ids=lambda path: path.parent.name)
def test_no_service_needs_the_request(path):
    tree = ast.parse(path.read_text())
    imports = [
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("django.http")
        for alias in node.names
    ]
    takes_request = [
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef)
        and "request" in {arg.arg for arg in node.args.args + node.args.kwonlyargs}
        and (str(path.relative_to(BASE_DIR)), node.name) not in TRANSITIONAL
    ]

    assert "HttpRequest" not in imports
    assert takes_request == []
