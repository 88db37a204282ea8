"""Every endpoint of the role table, and every form its view builds, takes generated hostile input.

For each URL, as a persona allowed to use it, the view is first asked once (GET with a query,
POST with a body) to learn which forms it builds and which request keys it reads; then hypothesis
sends generated values for exactly those (tests/kast/fuzzing.py): 100 000-character strings, NUL
bytes, odd Unicode, wrong types, JSON where a form is expected. Every answer must hold:

- never a server error (the test client raises the view's exception);
- every form the view validated: errors on its own fields, NUL refused, valid text and choices as sent;
- a request whose form was invalid wrote nothing (only the access log and sign-in bookkeeping may change).

Each generated request runs in a savepoint that is rolled back, so each starts from the same data.
"""

from __future__ import annotations

import copy
import json

import pytest
from django.contrib.admin import site as admin_site
from django.test import Client
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from tests.kast.database_state import changed_tables, fingerprint, write_counts, written_tables
from tests.kast.fuzzing import FEW, FUZZ, Recorder, form_problems, payloads, rolled_back
from tests.kast.walk import CASES, open_tablet, prepared_url

PROBE = {"probe": "1"}  # so that `Form(request.POST or None)` and `FilterSet(request.GET or None)` are bound
#: What an invalid session form may still write: the note's draft, which the note page always keeps (its ticked
#: methods stamp the clinic's figures, which count them).
DRAFT_KEPT = {
    "therapy_sessions_note",
    "therapy_sessions_note_themes",
    "therapy_sessions_notetheme",
    "therapy_sessions_notemethod",
    "kast_figuresstamp",
}
json_bodies = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=8,
)


class Endpoint:
    """One URL as one user: what its view reads, and the checks on each generated request."""

    def __init__(self, url: str, user, browser: Client) -> None:
        self.url, self.browser = url, browser
        if user is not None:
            browser.force_login(user)
        self.signed_in()

    def signed_in(self) -> None:
        """Remember the session cookie: each request is rolled back, the session row with it, so each starts
        from this cookie again (even after one that signed out or opened another session)."""
        self.cookies = copy.deepcopy(self.browser.cookies)

    def request(self, method: str, data, *, content_type: str | None = None):
        self.browser.cookies = copy.deepcopy(self.cookies)
        recorder = Recorder()
        with recorder.recording():
            if method == "get":
                response = self.browser.get(self.url, data)
            elif content_type:
                response = self.browser.post(self.url, data, content_type=content_type)
            else:
                response = self.browser.post(self.url, data)
        return response, recorder

    def discover(self, method: str):
        with rolled_back():
            response, recorder = self.request(method, PROBE)
        return response, recorder.fields(), recorder.keys - set(PROBE)

    def check(self, response, recorder: Recorder, counts: dict[str, int], before: dict[str, str]) -> None:
        assert response.status_code < 500
        assert [problem for form in recorder.forms for problem in form_problems(form)] == []
        refused = [form for form in recorder.bound_forms() if form._errors is not None and form.errors]
        # PostgreSQL's own write counts first (cheap); a table they name is compared row by row.
        if refused and written_tables(counts):
            changed = set(changed_tables(before, fingerprint()))
            if all(type(form).__name__ == "SessionForm" for form in refused):
                # The note page keeps the note's draft when only the session's facts are wrong (nothing lost).
                changed -= DRAFT_KEPT
            assert sorted(changed) == [], f"invalid {type(refused[0]).__name__} wrote data"


def fuzz(endpoint: Endpoint, method: str, fields, keys, profile, *, tag: bool = True) -> None:
    before = fingerprint()
    bodies = payloads(fields, keys, tag=tag)
    if method == "post":
        bodies = st.one_of(bodies, bodies, bodies, json_bodies.map(lambda value: ("json", value)))

    @profile
    @given(body=bodies)
    def send(body):
        with rolled_back():
            counts = write_counts()
            if isinstance(body, tuple):
                response, recorder = endpoint.request(method, json.dumps(body[1]), content_type="application/json")
            else:
                response, recorder = endpoint.request(method, body)
            endpoint.check(response, recorder, counts, before)

    send()


@pytest.mark.parametrize(("url_name", "kwargs", "persona"), [pytest.param(*case, id=case[0]) for case in CASES])
def test_endpoint_takes_generated_input(personas, client_record, url_name, kwargs, persona):
    url = prepared_url(url_name, kwargs, client_record)
    endpoint = Endpoint(url, personas[persona], Client())
    if url_name == "assessments:tablet_form":
        open_tablet(endpoint.browser, personas["therapist"])
        endpoint.signed_in()

    # The admin site echoes an unknown `_to_field` into Django's security log: not client data, so no sentinel.
    tag = not url_name.startswith("admin:")
    for method in ("post", "get"):
        response, fields, keys = endpoint.discover(method)
        if method == "post" and response.status_code == 405:
            continue  # the view takes no POST: nothing can be sent to it
        if method == "get" and not (fields or keys):
            continue  # the page reads no query
        # POST bodies get the full count; queries, pages that only show something and PDFs (a second or so
        # each) a few, except a query that fills a form (the figures' filters).
        is_pdf = response.get("Content-Type", "").startswith("application/pdf")
        full = fields if method == "get" else (fields or keys)
        fuzz(endpoint, method, fields, keys, FUZZ if full and not is_pdf else FEW, tag=tag)


#: Inputs that fuzzing once turned into a server error, kept so that a fresh clone (without the example
#: database in var/hypothesis/) tries them first: (url name, method, data).
FOUND = [
    ("sessions:autosave", "post", {"note-text": "", "note-themes": ""}),  # a theme id that is not a number
    ("clients:interview_section", "post", {"version": "1", "text": ""}),  # a version of a section never saved
    ("clients:reopen", "post", {"reason": "a\x00b"}),  # NUL in a field read without a form
    ("login", "post", {"challenge_device": ""}),  # the code step asked for before the password step
    ("two_factor:setup", "post", {"next": "-1"}),  # a `next` that is not a path
    ("login", "get", {"next": "-1"}),
    ("figures:dashboard", "get", {"period": "month", "start": "9999-12-15"}),  # the period's end in year 10000
    ("figures:dashboard", "get", {"period": "custom", "start": "0001-01-01", "end": "9999-12-31"}),
    ("figures:reports", "get", {"start": "0001-01-01", "end": "9999-12-31"}),
]
CASE_OF = {case[0]: case for case in CASES}


@pytest.mark.parametrize(("url_name", "method", "data"), [pytest.param(*f, id=f"{f[0]}-{f[1]}") for f in FOUND])
def test_inputs_that_once_caused_a_server_error(personas, client_record, url_name, method, data):
    _, kwargs, persona = CASE_OF[url_name]
    endpoint = Endpoint(prepared_url(url_name, kwargs, client_record), personas[persona], Client())
    # "login" as a signed-in user too: the page sends them on, to `next` if it is a path.
    if url_name == "login" and method == "get":
        endpoint = Endpoint(endpoint.url, personas["therapist"], Client())

    with rolled_back():
        counts, before = write_counts(), fingerprint()
        response, recorder = endpoint.request(method, data)
        endpoint.check(response, recorder, counts, before)


@pytest.mark.parametrize("model", list(admin_site._registry), ids=lambda m: m._meta.label_lower)
def test_admin_add_form_takes_generated_input(admin, model):
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_add")
    endpoint = Endpoint(url, admin, Client())
    response, fields, keys = endpoint.discover("post")
    if response.status_code == 403:
        # Read-only in the admin site (login events, lockouts): nothing may be added, whatever is sent.
        assert not admin_site._registry[model].has_add_permission(response.wsgi_request)
    else:
        assert response.status_code == 200
        assert fields

    fuzz(endpoint, "post", fields, keys, FEW, tag=False)


def test_the_checks_catch_a_form_that_keeps_a_nul_byte(db):
    """Control: a form that accepts NUL (as a field without Django's validator would) fails the checks."""
    from django import forms

    class Careless(forms.Form):
        text = forms.CharField(required=False)

    Careless.base_fields["text"].validators = []
    form = Careless({"text": "a\x00b"})
    form.is_valid()

    assert form_problems(form) == [
        "Careless.text: a NUL byte was accepted",
        "Careless.text: cleaned data holds a NUL byte",
    ]


def test_the_checks_catch_a_form_that_changes_text(db):
    from django import forms

    class Changing(forms.Form):
        name = forms.CharField()

        def clean(self):
            self.cleaned_data["name"] = self.cleaned_data["name"].upper()
            return self.cleaned_data

    form = Changing({"name": "åsa"})
    form.is_valid()

    assert form_problems(form) == ["Changing.name: sent 'åsa', cleaned to 'ÅSA'"]
