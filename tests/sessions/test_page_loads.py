"""Logging a session, from the start page to a signed note, takes at most 3 page loads."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest
from django.urls import reverse
from django.utils import timezone

from sessions.models import Attendance, Note, SessionKind, TherapySession

pytestmark = pytest.mark.django_db

NOTE_TEXT = "Klienten beskrev veckan och vad som hände före handlingen."


@dataclass
class Form:
    """One <form> as a browser sees it: where it goes, and what it would submit."""

    action: str
    method: str
    attrs: dict
    fields: list[tuple[str, str]] = field(default_factory=list)  # (name, value) of the successful controls
    options: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # select name -> (value, label)
    buttons: list[tuple[str, str]] = field(default_factory=list)  # named submit buttons
    names: set[str] = field(default_factory=set)  # every control's name

    def data(self, *, button: str | None = None, **changes) -> dict[str, list[str]]:
        """What submitting it sends, with `changes` typed in and the named submit button pressed."""
        unknown = set(changes) - self.names
        assert not unknown, f"the form offers no {unknown}"
        data: dict[str, list[str]] = {}
        for name, value in self.fields:
            data.setdefault(name, []).append(value)
        for name, value in changes.items():
            data[name] = value if isinstance(value, list) else [value]
        if button is not None:
            assert button in dict(self.buttons), f"the form has no {button!r} button"
            data[button] = [dict(self.buttons)[button]]
        return data

    def option(self, name: str, label: str) -> str:
        [value] = [value for value, text in self.options[name] if text == label]
        return value


class FormParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms: list[Form] = []
        self._select: tuple[str, list] | None = None
        self._option: list | None = None
        self._textarea: list | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        form = self.forms[-1] if self.forms else None
        if tag == "form":
            self.forms.append(Form(action=a.get("action", ""), method=a.get("method", "get").lower(), attrs=a))
        elif form is None or ("name" not in a and tag != "option"):
            return
        elif tag == "input":
            form.names.add(a["name"])
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    form.fields.append((a["name"], a.get("value", "on")))
            elif kind == "submit":
                form.buttons.append((a["name"], a.get("value", "")))
            elif "disabled" not in a:
                form.fields.append((a["name"], a.get("value", "")))
        elif tag == "button" and a.get("type", "submit") == "submit":
            form.names.add(a["name"])
            form.buttons.append((a["name"], a.get("value", "")))
        elif tag == "select":
            form.names.add(a["name"])
            self._select = (a["name"], [])
            form.options[a["name"]] = []
        elif tag == "option" and self._select is not None:
            self._option = [a.get("value"), "", "selected" in a]
        elif tag == "textarea":
            form.names.add(a["name"])
            self._textarea = [a["name"], ""]

    def handle_data(self, data):
        if self._option is not None:
            self._option[1] += data
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        form = self.forms[-1] if self.forms else None
        if tag == "option" and self._option is not None:
            value, label, selected = self._option
            label = label.strip()
            value = label if value is None else value
            self.forms[-1].options[self._select[0]].append((value, label))
            self._select[1].append((value, selected))
            self._option = None
        elif tag == "select" and self._select is not None:
            name, options = self._select
            chosen = [value for value, selected in options if selected] or [value for value, _ in options[:1]]
            form.fields.extend((name, value) for value in chosen)
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            name, text = self._textarea
            form.fields.append((name, text.removeprefix("\n")))
            self._textarea = None


def forms_of(response) -> list[Form]:
    parser = FormParser()
    parser.feed(response.content.decode())
    return parser.forms


class Browser:
    """The test client, counting page loads as a browser would: a POST and the redirect it answers with is one."""

    def __init__(self, client):
        self.client = client
        self.loads: list[str] = []
        self.url = ""

    def _land(self, response, url: str):
        while response.status_code in (301, 302, 303):
            url = response["Location"]
            response = self.client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        assert response["Content-Type"].startswith("text/html")
        self.loads.append(url)
        self.url = url
        return response

    def visit(self, url: str):
        return self._land(self.client.get(url), url)

    def submit(self, form: Form, data: dict):
        assert form.method == "post"
        url = form.action or self.url
        return self._land(self.client.post(url, data), url)


def test_from_the_start_page_to_a_signed_note_in_three_page_loads(client, therapist, case):
    client.force_login(therapist)
    browser = Browser(client)

    start = browser.visit("/")  # page load 1
    [quick_log] = [f for f in forms_of(start) if f.action == reverse("sessions:quick_log")]
    assert quick_log.option("kind", "Enskilt") == SessionKind.INDIVIDUAL
    note_page = browser.submit(quick_log, quick_log.data(client=quick_log.option("client", case.code)))  # 2

    session = TherapySession.objects.get(client=case)
    [note_form] = [f for f in forms_of(note_page) if f.attrs.get("id") == "note-form"]
    signed_page = browser.submit(note_form, note_form.data(button="sign", **{"note-text": NOTE_TEXT}))  # 3

    note_url = reverse("sessions:detail", args=[session.pk])
    assert browser.loads == ["/", note_url, note_url]  # the start page, the note to write, the signed note
    note = Note.objects.get(session=session)
    assert note.is_signed
    assert (note.text, note.author) == (NOTE_TEXT, therapist)
    session.refresh_from_db()
    assert (session.date, session.attendance, session.kind) == (
        timezone.localdate(),
        Attendance.ATTENDED,
        SessionKind.INDIVIDUAL,
    )
    html = signed_page.content.decode()
    assert NOTE_TEXT in html
    assert "Anteckningen är signerad." in html
    assert not [f for f in forms_of(signed_page) if f.attrs.get("id") == "note-form"]  # nothing left to edit
