"""The unit manager records the clinic's outreach from the main menu and finds it in the list; axe checks both pages."""

from __future__ import annotations

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from kast.models import Role
from outreach.models import Activity, Partner
from tests.factories import ClinicFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_manager_records_an_activity(page, login, check_page):
    clinic = ClinicFactory(name="Göteborg", code="GBG")
    manager = UserFactory(username="karin", first_name="Karin", role=Role.MANAGER, clinic=clinic)
    therapist = UserFactory(username="anna", first_name="Anna", role=Role.THERAPIST, clinic=clinic)
    partner = Partner.objects.create(clinic=clinic, name="Polisen Hisingen")
    day = timezone.localdate() - datetime.timedelta(days=2)

    login(manager)
    # The labels are translated; the menu link and the fields are found by their address and names.
    page.locator("#main-nav a[href='/outreach/']").click()
    check_page(page, "outreach-list-empty")
    page.locator("a[href='/outreach/new/']").click()
    check_page(page, "outreach-form")
    page.locator("select[name=kind]").select_option("collaboration")
    page.locator("input[name=date]").fill(day.isoformat())
    page.locator("input[name=hours]").fill("0")  # refused on its field first
    page.locator(f"input[name=staff][value='{therapist.pk}']").check()
    page.locator("select[name=audience_kind]").select_option("police")
    page.locator("input[name=audience_size]").fill("15")
    page.locator("select[name=partner]").select_option(str(partner.pk))
    page.locator("textarea[name=description]").fill("Samverkansmöte om uppsökande arbete")
    page.get_by_role("button", name="Spara").click()
    expect(page.locator("#id_hours")).to_have_class(re.compile("is-invalid"))
    assert not Activity.objects.exists()
    check_page(page, "outreach-form-error")

    page.locator("input[name=hours]").fill("2.5")
    page.get_by_role("button", name="Spara").click()

    expect(page.get_by_role("cell", name="Polisen Hisingen")).to_be_visible()
    check_page(page, "outreach-list")
    activity = Activity.objects.get()
    assert (activity.kind, str(activity.hours), activity.partner, activity.created_by) == (
        "collaboration",
        "2.5",
        partner,
        manager,
    )
    assert list(activity.staff.all()) == [therapist]
