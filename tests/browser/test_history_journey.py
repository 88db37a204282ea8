"""A therapist opens the record's history from its tab, reads the change of status (the fixture saves it in one
step) and shows a changed phone number. Axe on both views."""

from __future__ import annotations

import pytest
from django.utils import translation
from django.utils.translation import gettext as _
from playwright.sync_api import expect

from clients.models import CaseStatus, Client
from tests.sessions.conftest import case as case  # the fixture: a client in treatment

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_history_tab_lists_the_changes_and_shows_identity_on_request(page, login, live_server, case, check_page):
    Client.objects.filter(pk=case.pk).update(phone="070-1112233")  # outside a request: by "the system"
    login(case.responsible_therapist)
    page.goto(f"{live_server.url}/clients/{case.pk}/")

    page.get_by_role("link", name="Historik").click()

    with translation.override("sv"):
        heading, caption_start = _("Change history"), _("Changes to the record")
        status = f"{_('Status')}: {CaseStatus.CONTACT.label} → {CaseStatus.IN_TREATMENT.label}"
    expect(page.get_by_role("heading", name=heading, level=2)).to_be_visible()
    table = page.get_by_role("table")
    expect(table.locator("caption")).to_contain_text(caption_start)
    expect(table).to_contain_text(status)
    expect(table).not_to_contain_text("070-1112233")
    check_page(page, "hidden")

    page.get_by_role("button", name="Visa identitet").click()

    expect(page.get_by_role("table")).to_contain_text("070-1112233")
    check_page(page, "shown")
