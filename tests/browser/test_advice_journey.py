"""A therapist logs an anonymous advice call from the main menu and registers the caller as a client (the call is the
record's first contact); the unit manager opens the year's figures and finds the advice and outreach tables. axe
checks the advice list and form, the outreach list and form, and the dashboard."""

from __future__ import annotations

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from advice.models import AdviceContact, AdviceTopic
from advice.services import clinic_install_advice_topics
from clients.models import Client
from kast.actor import Actor
from kast.models import Role
from outreach.models import Partner
from outreach.services import activity_record
from tests.factories import ClinicFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_an_advice_call_becomes_a_client_and_the_year_counts_it(page, login, check_page):
    clinic = ClinicFactory(name="Malmö", code="MLM")
    clinic_install_advice_topics(clinic)
    topic = AdviceTopic.objects.get(clinic=clinic, name="Frågor om behandling")
    therapist = UserFactory(username="sara", first_name="Sara", role=Role.THERAPIST, clinic=clinic)
    manager = UserFactory(username="per", first_name="Per", role=Role.MANAGER, clinic=clinic)
    partner = Partner.objects.create(clinic=clinic, name="Polisen region Syd")
    # The call came in a few days ago (in this year, so the year's figures count it), logged today.
    day = max(timezone.localdate() - datetime.timedelta(days=3), timezone.localdate().replace(month=1, day=1))
    activity_record(
        actor=Actor.for_user(manager),
        kind="collaboration",
        date=day,
        hours=2,
        staff=[therapist, manager],
        audience_kind="police",
        audience_size=8,
        partner=partner,
        description="Samverkansmöte om hänvisning",
    )

    login(therapist)
    contact = log_the_call(page, check_page, day=day, topic=topic, therapist=therapist)

    # One click registers the caller: the record's page says when and how the first contact came.
    page.get_by_role("button", name="Registrera som klient").click()
    page.wait_for_url(re.compile(r"/clients/[0-9a-f-]{36}/$"))
    record = Client.objects.get()
    assert (record.first_contact_date, record.contact_method, record.responsible_therapist) == (day, "phone", therapist)
    contact.refresh_from_db()
    assert contact.converted_to == record
    expect(page.locator("main")).to_contain_text(record.code)
    first_contact = page.locator("dt", has_text="Datum för första kontakt").locator("xpath=following-sibling::dd[1]")
    expect(first_contact).to_have_text(re.compile(rf"^\s*{day:%Y-%m-%d} \(telefon\)\s*$"))
    # The list now links the contact to its record instead of offering to register it again.
    page.locator("#main-nav a[href='/advice/']").click()
    expect(page.get_by_role("link", name=record.code)).to_be_visible()
    expect(page.get_by_role("button", name="Registrera som klient")).to_have_count(0)

    # The unit manager's year: the figures for the whole year, with the advice and outreach tables.
    page.context.clear_cookies()  # another person at another computer
    login(manager)
    the_managers_year(page, check_page, day=day)


def log_the_call(page, check_page, *, day, topic, therapist) -> AdviceContact:
    """From the main menu to the advice form and back to the list, with the call in it."""
    # The labels are translated; the menu link and the fields are found by their address and names.
    page.locator("#main-nav a[href='/advice/']").click()
    check_page(page, "advice-list-empty")
    page.locator("a[href='/advice/new/']").click()
    check_page(page, "advice-form")
    page.locator("input[name=date]").fill(day.isoformat())
    page.locator("input[name=minutes]").fill("20")
    page.locator("input[name=channel][value=phone]").check()
    page.locator("input[name=who][value=self]").check()
    page.locator("select[name=target_group]").select_option("buying_sex")
    page.locator("select[name=topic]").select_option(str(topic.pk))
    page.locator("input[name=outcome][value=offered]").check()
    page.locator("main form button[type=submit]").click()

    expect(page.get_by_role("cell", name="Frågor om behandling")).to_be_visible()
    check_page(page, "advice-list")
    contact = AdviceContact.objects.get()
    assert (contact.date, contact.channel, contact.outcome, contact.topic, contact.logged_by) == (
        day,
        "phone",
        "offered",
        topic,
        therapist,
    )
    return contact


def the_managers_year(page, check_page, *, day) -> None:
    """The clinic's outreach list and form, then the dashboard's year with the advice, outreach, persons and group
    tables."""
    page.locator("#main-nav a[href='/outreach/']").click()
    expect(page.get_by_role("cell", name="Polisen region Syd")).to_be_visible()
    check_page(page, "outreach-list")
    page.locator("a[href='/outreach/new/']").click()
    check_page(page, "outreach-form")
    page.locator("#main-nav a[href='/dashboard/']").click()
    page.locator("select[name=period]").select_option("year")
    page.locator("main form[method=get] button[type=submit]").click()
    page.wait_for_url(re.compile(r"period=year"))
    expect(page.locator("[data-period]")).to_contain_text(f"{day.year}-01-01")
    advice = page.locator("table[data-table=advice]")
    outreach = page.locator("table[data-table=outreach]")
    # A table with a chart is collapsed under it: one click on its summary opens it.
    expect(outreach).to_be_hidden()
    page.locator("details[data-table-details=outreach] > summary").click()
    expect(advice).to_be_visible()
    expect(outreach).to_be_visible()
    # One contact is under 5: hidden, as every small count; the activity is not a person and is shown.
    expect(advice.locator("[data-figure='advice.total.0']")).to_have_text("<5")
    expect(outreach.locator("[data-figure='outreach.collaboration.0']")).to_have_text("1")
    assert "Frågor om behandling" not in page.locator("table[data-table=advice]").inner_text()
    # The year's other new tables: the persons treated and their profile, and the group programmes.
    for key in ("persons", "persons_age", "persons_gender", "persons_education", "groups"):
        expect(page.locator(f"table[data-table={key}]")).to_be_attached()
    check_page(page, "dashboard-year")
