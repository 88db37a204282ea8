"""A therapist opens the client's questionnaires, then the answers side by side: one row for a question reworded
between versions, a line for a graded item, the questionnaire entered in error left out. Axe on the page."""

from __future__ import annotations

import pytest
from django.utils import translation
from django.utils.translation import gettext as _
from playwright.sync_api import expect

from tests.assessments.test_answers_over_time import REWORDED, SLEEP
from tests.assessments.test_answers_over_time import history as history  # the fixture: two periods, three forms

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_answers_side_by_side(page, login, live_server, history, check_page):
    login(history.responsible_therapist)
    page.goto(f"{live_server.url}/clients/{history.pk}/questionnaires/")
    with translation.override("sv"):
        link, heading = _("Answers side by side"), _("Questionnaire answers side by side")
        good, bad, neither = _("Good"), _("Bad"), _("Neither good nor bad")

    page.get_by_role("link", name=link).click()

    expect(page.get_by_role("heading", name=heading, level=2)).to_be_visible()
    table = page.get_by_role("table")
    expect(table.locator("thead th")).to_have_count(5)  # the question, three time points, the line over time
    wellbeing = table.get_by_role("row").filter(has=page.get_by_role("rowheader", name=REWORDED))
    expect(wellbeing).to_have_count(1)
    expect(wellbeing.locator("td:not(.spark)")).to_have_text([bad, neither, good])
    expect(wellbeing.get_by_role("img")).to_have_count(1)
    expect(table.get_by_role("rowheader", name=SLEEP)).to_be_visible()
    check_page(page, "side-by-side")
