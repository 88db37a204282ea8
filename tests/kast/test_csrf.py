"""Every state change needs the CSRF token: a POST without one is refused (403) and writes nothing.

Each URL of the role matrix (tests/kast/test_role_matrix.py) and each add form of the admin site
is posted to by a persona the role table lets in, with a client that enforces CSRF as a browser
would meet it. The CSRF check runs before the role table, so not even a refusal is logged.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.admin import site as admin_site
from django.test import Client
from django.urls import reverse

from tests.kast.database_state import BOOKKEEPING, changed_tables, fingerprint
from tests.kast.test_role_matrix import KWARGS, MATRIX
from tests.kast.walk import allowed_persona

#: Only the sign-in's own bookkeeping may change (a request stamps its session); the access log may not:
#: the CSRF check comes before the role table, so a refused POST is not even a look at a record.
SESSION_ONLY = BOOKKEEPING - {"kast_accesslogentry"}


CASES = [
    pytest.param(name, kwargs, allowed_persona(statuses), id=f"{name}-{allowed_persona(statuses)}")
    for name, kwargs, statuses in MATRIX
]


def assert_refused_for_csrf(response):
    assert response.status_code == 403
    # Our own page for it (templates/403_csrf.html), not the role table's refusal.
    assert 'id="main"' in response.content.decode()
    assert "403_csrf.html" in [t.name for t in response.templates]


@pytest.mark.parametrize(("url_name", "kwargs", "persona"), CASES)
def test_a_post_without_csrf_token_is_refused_and_writes_nothing(personas, client_record, url_name, kwargs, persona):
    url = reverse(url_name, kwargs=KWARGS[kwargs](client_record))
    browser = Client(enforce_csrf_checks=True)
    if personas[persona] is not None:
        browser.force_login(personas[persona])
    before = fingerprint(exclude=SESSION_ONLY)

    response = browser.post(url, {"text": "SENTINEL-csrf", "to_status": "closed", "fee_paid": "on", "version": "1"})

    assert_refused_for_csrf(response)
    assert changed_tables(before, fingerprint(exclude=SESSION_ONLY)) == []


@pytest.mark.parametrize("model", list(admin_site._registry), ids=lambda m: m._meta.label_lower)
def test_an_admin_form_posted_without_csrf_token_is_refused(admin, model):
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_add")
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(admin)
    before = fingerprint(exclude=SESSION_ONLY)

    response = browser.post(url, {"name": "SENTINEL-csrf", "code": "CSRF", "username": "csrf"})

    assert_refused_for_csrf(response)
    assert changed_tables(before, fingerprint(exclude=SESSION_ONLY)) == []


def test_the_same_post_with_the_token_is_not_refused(therapist):
    """Control: with the token from the page the request reaches the view (the form answers with its errors)."""
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(therapist)
    page = browser.get(reverse("clients:register"))
    assert page.status_code == 200, (page.status_code, page.get("Location"))
    token = page.context["csrf_token"]

    response = browser.post(reverse("clients:register"), {"csrfmiddlewaretoken": token})

    assert response.status_code == 200
    assert response.context["form"].errors
    assert settings.CSRF_COOKIE_NAME in browser.cookies
