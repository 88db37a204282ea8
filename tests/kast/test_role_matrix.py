"""Every URL, requested as every persona, answers with the status the role table promises.

Columns: anonymous, the responsible therapist (own record), a colleague in the same clinic
who is not on the case, a therapist of another clinic, the unit manager, the administrator.
"""

from __future__ import annotations

import pytest
from django.urls import get_resolver, reverse

from kast.access import url_view_names
from kast.models import AccessLogEntry

PERSONAS = ["anonymous", "therapist", "colleague", "other_clinic", "manager", "admin"]

LOGIN = "login"  # a 302 to the login page

# url name, needs the client's id, expected status per persona (in PERSONAS order)
MATRIX = [
    ("home", False, [LOGIN, 200, 200, 200, 200, 200]),
    ("healthz", False, [200, 200, 200, 200, 200, 200]),
    # A signed-in user asking for the login page is sent on to the start page.
    ("login", False, [200, 302, 302, 302, 302, 302]),
    # Logging out is POST only; a GET is refused as a method, not as a role.
    ("logout", False, [LOGIN, 405, 405, 405, 405, 405]),
    ("password_change", False, [LOGIN, 200, 200, 200, 200, 200]),
    ("password_change_done", False, [LOGIN, 200, 200, 200, 200, 200]),
    # set_language on GET only redirects back.
    ("set_language", False, [302, 302, 302, 302, 302, 302]),
    ("clients:list", False, [LOGIN, 200, 200, 200, 403, 403]),
    # Not visible and not existing look the same: 404, never a hint that the record exists.
    ("clients:detail", True, [LOGIN, 200, 404, 404, 403, 403]),
    ("access_log", False, [LOGIN, 403, 403, 403, 200, 200]),
    ("admin:index", False, [LOGIN, 403, 403, 403, 403, 200]),
    ("admin:kast_user_changelist", False, [LOGIN, 403, 403, 403, 403, 200]),
    ("admin:kast_clinic_changelist", False, [LOGIN, 403, 403, 403, 403, 200]),
]

CASES = [
    pytest.param(name, needs_client, persona, expected, id=f"{name}-{persona}")
    for name, needs_client, statuses in MATRIX
    for persona, expected in zip(PERSONAS, statuses, strict=True)
]


@pytest.mark.parametrize(("url_name", "needs_client", "persona", "expected"), CASES)
def test_role_matrix(client, personas, client_record, url_name, needs_client, persona, expected):
    user = personas[persona]
    if user is not None:
        client.force_login(user)
    url = reverse(url_name, kwargs={"client_id": client_record.pk} if needs_client else None)

    response = client.get(url)

    if expected == LOGIN:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login") + "?next=")
        return
    assert response.status_code == expected
    if expected == 403:
        assert AccessLogEntry.objects.filter(user=user, action=AccessLogEntry.Action.DENIED, path=url).exists()


def test_matrix_covers_every_url_outside_the_admin_site():
    named = {name for name, _ in url_view_names(get_resolver().url_patterns) if not name.startswith("admin:")}
    in_matrix = {name for name, _, _ in MATRIX}
    assert named - in_matrix == set(), "add the new URL to MATRIX with its expected status per persona"


def test_every_admin_site_url_is_for_administrators_only():
    from kast.access import ADMINS, rule_for_name

    admin_names = [name for name, _ in url_view_names(get_resolver().url_patterns) if name.startswith("admin:")]
    assert len(admin_names) > 10
    assert {rule_for_name(name) for name in admin_names} == {ADMINS}
