"""A therapist registers a client's partner, rates the partner's reactions, sets a goal, holds a couple session
that both records show; a colleague breaks the glass with a reason and the manager reviews it. Axe on each page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from audit.models import LogReview
from clients.models import Client, RecordKind
from kast.models import Role
from relatives.models import ReactionReview, RelativeLink
from sessions.models import SessionParticipant
from tests.factories import UserFactory, working_day
from tests.sessions.conftest import case as case  # the fixture: a client in treatment

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_partner_gets_a_record_of_their_own_and_a_couple_session_reaches_both(
    page, login, live_server, case, check_page
):
    login(case.responsible_therapist)
    page.goto(f"{live_server.url}/clients/{case.pk}/")
    page.get_by_role("link", name="Registrera en anhörig").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Registrera en anhörig eller partner")
    check_page(page, "register")
    page.get_by_label("Relation till klienten").select_option(label="Make eller maka")
    page.get_by_label("Klienten samtycker till gemensamt arbete").check()
    page.get_by_label("Den anhörige samtycker till gemensamt arbete").check()
    page.get_by_role("button", name="Registrera").click()
    page.wait_for_url(re.compile(r"/relatives/[0-9a-f-]{36}/$"))
    partner = Client.objects.get(kind=RecordKind.RELATIVE)
    assert RelativeLink.objects.get().joint_work_agreed
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Anhörig {partner.code}")

    for label, level in (
        ("Kontrollförlust", "Väldigt mycket"),
        ("Tar på sig skuld", "Mycket"),
        ("Tar på sig skam", "Mycket"),
        ("Blir föremål för förskjuten ilska", "En del"),
    ):
        page.get_by_label(label).select_option(label=level)
    page.get_by_role("button", name="Spara reaktionerna").click()
    expect(page.get_by_text("Reaktionerna är registrerade.")).to_be_visible()
    assert ReactionReview.objects.get(relative=partner).loss_of_control == 4
    page.get_by_label("Den anhöriges mål, med egna ord").fill("Kunna sova hela nätter igen")
    page.get_by_role("button", name="Lägg till målet").click()
    expect(page.get_by_text("Kunna sova hela nätter igen")).to_be_visible()
    check_page(page, "relative")

    # A couple session, logged from the client's record with the partner's code.
    page.goto(f"{live_server.url}/clients/{case.pk}/sessions/new/")
    page.get_by_label("Typ").select_option(label="Par: klienten med sin partner")
    page.get_by_label("Datum").fill(working_day(1).isoformat())  # a booking inside the opening hours
    page.get_by_label("Starttid").fill("10:15")
    page.get_by_label("Övriga deltagare").fill(partner.code)
    page.get_by_role("button", name="Spara samtalet").click()
    page.wait_for_url(re.compile(r"/sessions/[0-9a-f-]{36}/$"))
    assert SessionParticipant.objects.get().client == partner
    check_page(page, "couple-session")
    session_path = page.url.removeprefix(live_server.url)
    for record_path in (f"/clients/{case.pk}/sessions/", f"/clients/{partner.pk}/sessions/"):
        page.goto(f"{live_server.url}{record_path}")
        assert page.locator(f'a[href="{session_path}"]').count() >= 1, record_path
    check_page(page, "relative-timeline")


def test_break_the_glass_then_the_manager_reviews_it(page, login, live_server, case, check_page):
    colleague = UserFactory(username="bertil", first_name="Bertil", role=Role.THERAPIST, clinic=case.clinic)
    login(colleague)
    page.goto(f"{live_server.url}/clients/")
    page.get_by_role("link", name=re.compile("Öppna en akt utanför din klientlista")).click()
    check_page(page, "emergency")
    page.get_by_label("Aktens kod").fill(case.code)
    page.get_by_label("Varför du måste öppna akten").fill("Klienten ringde i kris, behandlaren är sjuk.")
    page.get_by_role("button", name="Öppna akten").click()
    page.wait_for_url(f"{live_server.url}/clients/{case.pk}/")
    expect(page.get_by_role("heading", level=1)).to_contain_text(case.code)

    manager = UserFactory(username="karin", first_name="Karin", role=Role.MANAGER, clinic=case.clinic)
    page.context.clear_cookies()  # another person at another computer
    login(manager)
    page.goto(f"{live_server.url}/log-review/")
    expect(page.get_by_text("Klienten ringde i kris, behandlaren är sjuk.")).to_be_visible()
    check_page(page, "review-queue")
    page.get_by_label("Utfall").first.select_option(index=1)
    page.get_by_role("button", name="Granskad").first.click()
    expect(page.get_by_text("Granskningen är sparad.")).to_be_visible()
    assert LogReview.objects.get().reviewed_by == manager
    page.goto(f"{live_server.url}/access-log/?code={case.code}")
    check_page(page, "access-log")
