"""Every page, for every kind of user, carries the security headers; its cookies are Secure, HttpOnly, SameSite.

The pages are the role matrix's (tests/kast/test_role_matrix.py: every URL outside the admin site)
plus the admin site's lists and add forms, each requested over HTTPS (as behind the proxy) with the
security settings of kast.settings.production, read from that module in a subprocess.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys

import pytest
from django.conf import settings
from django.contrib.admin import site as admin_site
from django.templatetags.static import static
from django.test import Client, override_settings
from django.urls import reverse

from tests.kast.test_role_matrix import KWARGS, MATRIX, PERSONAS

#: The settings that decide headers and cookies; production's values are used for the whole walk.
SECURITY_PREFIXES = ("SECURE_", "SESSION_COOKIE_", "CSRF_COOKIE_", "LANGUAGE_COOKIE_", "CSRF_TRUSTED_")
SECURITY_NAMES = ("X_FRAME_OPTIONS", "CONTENT_SECURITY_POLICY", "MIDDLEWARE")
HTTPS = {"headers": {"X-Forwarded-Proto": "https"}}  # production sits behind a TLS-terminating proxy
WALKED = ["anonymous", "therapist", "manager", "admin"]
HSTS = "max-age=31536000; includeSubDomains; preload"


@pytest.fixture(scope="session")
def production_security() -> dict:
    code = (
        "import json; from django.conf import settings as s; "
        f"print(json.dumps({{n: getattr(s, n) for n in dir(s) if n.startswith({SECURITY_PREFIXES!r}) "
        f"or n in {SECURITY_NAMES!r}}}))"
    )
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "kast.settings.production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "testserver",
        "TRUSTED_PROXY_COUNT": "0",
    }
    environment.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    values = json.loads(result.stdout)
    values["SECURE_PROXY_SSL_HEADER"] = tuple(values["SECURE_PROXY_SSL_HEADER"])
    # Production's own redirect would send the test client to https://testserver/... for every request;
    # the requests here come in as HTTPS already, so it never fires (test_http_is_redirected_to_https).
    return values


@pytest.fixture
def production(production_security):
    with override_settings(**production_security):
        yield production_security


def header_problems(response) -> list[str]:
    problems = []
    csp = response.headers.get("Content-Security-Policy", "")
    directives = {part.split()[0]: part.split()[1:] for part in csp.split(";") if part.strip()}
    script_src = directives.get("script-src", directives.get("default-src"))
    if not script_src:
        problems.append(f"no CSP script-src (CSP: {csp!r})")
    for name, sources in directives.items():
        if "'unsafe-inline'" in sources or "'unsafe-eval'" in sources:
            problems.append(f"CSP {name} allows {sources}")
    if directives.get("frame-ancestors") != ["'none'"] or directives.get("object-src") != ["'none'"]:
        problems.append(f"CSP frame-ancestors/object-src not 'none': {csp!r}")
    expected = {
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "X-Frame-Options": "DENY",
        "Strict-Transport-Security": HSTS,
    }
    for header, value in expected.items():
        if response.headers.get(header) != value:
            problems.append(f"{header}: {response.headers.get(header)!r}, expected {value!r}")
    cache_control = {d.strip() for d in response.headers.get("Cache-Control", "").split(",")}
    if "no-store" not in cache_control:
        problems.append(f"Cache-Control: {response.headers.get('Cache-Control')!r}, expected no-store")
    return problems


def walk(personas, urls) -> dict[str, list[str]]:
    """persona -> problems, after requesting each URL as each persona with a fresh client."""
    found: dict[str, list[str]] = {}
    for persona in WALKED:
        client = Client()
        if personas[persona] is not None:
            client.force_login(personas[persona])
        for url in urls:
            response = client.get(url, **HTTPS)
            assert response.status_code < 500, (persona, url)
            for problem in header_problems(response):
                found.setdefault(f"{persona} {url} ({response.status_code})", []).append(problem)
    return found


@pytest.mark.parametrize(("url_name", "kwargs"), [pytest.param(n, k, id=n) for n, k, _ in MATRIX])
def test_every_page_carries_the_security_headers(production, personas, client_record, url_name, kwargs):
    url = reverse(url_name, kwargs=KWARGS[kwargs](client_record))

    assert walk(personas, [url]) == {}


def test_every_admin_list_and_add_form_carries_the_security_headers(production, personas):
    urls = [
        reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{page}")
        for model in admin_site._registry
        for page in ("changelist", "add")
    ]
    assert len(urls) >= 8

    assert walk(personas, [reverse("admin:index"), *urls]) == {}


def test_the_walk_covers_every_persona_kind_of_the_matrix():
    assert set(WALKED) <= set(PERSONAS)


def test_header_check_fails_a_page_without_them():
    """Control: the check is not blind (a bare response fails on every count)."""
    from django.http import HttpResponse

    problems = header_problems(HttpResponse("x"))

    assert len(problems) == 7


def test_static_files_are_not_marked_no_store(client, production):
    """Static files carry no client data: caching them is fine (WhiteNoise answers before the middleware)."""
    response = client.get(static("js/autosave.js"), **HTTPS)

    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Strict-Transport-Security"] == HSTS


def test_http_is_redirected_to_https(client, production):
    response = client.get(reverse("login"), headers={"X-Forwarded-Proto": "http"})

    assert response.status_code == 301
    assert response["Location"] == "https://testserver" + reverse("login")


def _cookie_flags(morsel) -> dict[str, object]:
    return {"secure": morsel["secure"], "httponly": morsel["httponly"], "samesite": morsel["samesite"]}


def test_production_cookies_are_secure_httponly_and_samesite(client, production, therapist):
    """Signing in sets the session and CSRF cookies; choosing English sets the language cookie."""
    login_page = client.get(reverse("login"), **HTTPS)
    response = client.post(
        reverse("login"),
        {"username": therapist.username, "password": "correct-horse-battery"},
        **HTTPS,
    )
    language = client.post(reverse("set_language"), {"language": "en", "next": "/"}, **HTTPS)

    cookies = {**login_page.cookies, **response.cookies, **language.cookies}
    assert set(cookies) >= {"__Host-sessionid", "__Host-csrftoken", settings.LANGUAGE_COOKIE_NAME}
    for name in ("__Host-sessionid", "__Host-csrftoken", settings.LANGUAGE_COOKIE_NAME):
        assert _cookie_flags(cookies[name]) == {"secure": True, "httponly": True, "samesite": "Lax"}, name
        # __Host- cookies are only accepted by browsers without a Domain and with Path=/.
        assert cookies[name]["domain"] == ""
        assert cookies[name]["path"] == "/"
