"""The manager's first screen in the browser: key figures as cards at 390 px, and a chart's table opened from the
keyboard."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from kast.models import Role
from tests.factories import UserFactory
from tests.figures.test_first_screen import first_screen as first_screen  # the fixture: two known quarters

pytestmark = pytest.mark.django_db(transaction=True)

QUARTER = "/dashboard/?period=quarter&start=2025-02-15"


def test_the_cards_fit_a_phone_and_a_table_opens_from_the_keyboard(page, login, live_server, first_screen, check_page):
    manager = UserFactory(username="karin", first_name="Karin", role=Role.MANAGER, clinic=first_screen)
    page.set_viewport_size({"width": 390, "height": 844})
    login(manager)

    page.goto(f"{live_server.url}{QUARTER}")

    cards = page.locator("[data-key-figures] li[data-card]")
    expect(cards).to_have_count(6)
    expect(page.locator("[data-card=new_contacts] [data-card-value]")).to_have_text("12")
    expect(page.locator("[data-card=new_contacts] [data-card-change]")).to_contain_text("+3")
    for i in range(6):
        box = cards.nth(i).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, i
    row = page.locator("[data-key-figures] ul").bounding_box()
    assert row is not None and row["x"] >= 0 and row["x"] + row["width"] <= 390
    # Nothing on the page wider than the phone: no sideways scrolling.
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    check_page(page, "first-screen-390")

    # The table under the sessions' chart: collapsed, opened with the keyboard on its summary.
    table = page.locator("table[data-table=sessions_by_kind]")
    expect(table).to_be_hidden()
    page.locator("details[data-table-details=sessions_by_kind] > summary").focus()
    page.keyboard.press("Enter")
    expect(table).to_be_visible()
    expect(table.locator("[data-figure='sessions_by_kind.2025-01.0']")).to_be_visible()
