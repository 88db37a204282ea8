"""The unit manager opens the figures and the yearly report, with charts drawn in the browser, and reaches no client page."""

from __future__ import annotations

import io
import re

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from kast.models import Role
from tests.factories import NoteFactory, TherapySessionFactory, UserFactory
from tests.sessions.conftest import case as case  # the fixture: a client in treatment

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_manager_sees_figures_and_charts_and_no_client(page, login, live_server, case, check_page):
    session = TherapySessionFactory(client=case)
    NoteFactory(session=session, text="SENTINEL-manager-journey")
    manager = UserFactory(username="karin", first_name="Karin", role=Role.MANAGER, clinic=case.clinic)
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)

    login(manager)
    check_page(page, "start")
    page.get_by_role("navigation", name="Huvudmeny").get_by_role("link", name="Statistik").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.locator("canvas").first).to_be_visible()  # Chart.js drew from the json_script data
    assert errors == []  # no script refused by the Content-Security-Policy, no script error
    # The sessions' total is a line over the stacked kinds, not one more part of the stack.
    drawn = page.evaluate(
        "() => window.Chart.getChart(document.querySelector('canvas[data-chart=sessions_by_kind]'))"
        ".data.datasets.map((d) => [d.type || 'bar', d.stack || ''])"
    )
    assert drawn[0] == ["line", "total"]
    assert all(kind == "bar" and stack != "total" for kind, stack in drawn[1:])
    check_page(page, "dashboard")
    assert "SENTINEL-manager-journey" not in page.content()
    assert case.code not in page.content()

    # The yearly report: the dashboard's button (a form posting with the CSRF token, no link: a link from elsewhere
    # must not print) gives a real PDF for the same signed-in browser; a GET of the same address makes none.
    button = page.get_by_role("button", name=re.compile(r"Verksamhetsberättelse \d{4} som PDF"))
    expect(button).to_be_visible()
    form = page.locator("form[data-year-report]")
    action = f"{live_server.url}{form.get_attribute('action')}"
    assert page.request.get(action).status == 405
    token = form.locator("input[name=csrfmiddlewaretoken]").input_value()
    report = page.request.post(action, form={"csrfmiddlewaretoken": token}, headers={"Referer": page.url})
    assert report.status == 200
    assert report.headers["content-type"] == "application/pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(report.body())).pages)
    assert "Verksamhetsberättelse" in text
    assert "SENTINEL-manager-journey" not in text

    for path in (f"/clients/{case.pk}/", f"/sessions/{session.pk}/", f"/clients/{case.pk}/sessions/"):
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 403, path
        assert "SENTINEL-manager-journey" not in page.content()
