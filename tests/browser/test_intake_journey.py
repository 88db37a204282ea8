"""A therapist registers an anonymous contact, holds the assessment conversation, writes the deep interview, draws the family map, prints the intake."""

from __future__ import annotations

import io
import re

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from clients.models import Client, DeepInterviewSection, FamilyMember
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def add_person(page, label: str, relation: str, sex: str, born: str, parents: tuple[str, ...] = ()) -> None:
    form = page.locator("form[action$='/family/']")
    form.locator("#id_label").fill(label)
    form.locator("#id_relation").select_option(relation)
    form.locator("#id_sex").select_option(sex)
    form.locator("#id_birth_year").fill(born)
    for parent in parents:
        form.get_by_label(parent, exact=True).check()
    form.get_by_role("button", name="Lägg till").click()
    expect(page.locator(".genogram, svg").first).to_contain_text(label)


def sign_and_add(page, check_page, addendum: str) -> None:
    """On a section's page: sign it; the page is then read-only, with the form for a dated addendum."""
    page.locator("form[action$='/sign/'] button").click()
    expect(page.locator("form[action$='/addendum/'] textarea")).to_be_visible()
    expect(page.locator("input[name=done]")).to_have_count(0)
    check_page(page, "interview-signed")
    page.locator("form[action$='/addendum/'] textarea").fill(addendum)
    page.locator("form[action$='/addendum/'] button").click()
    expect(page.get_by_text(addendum)).to_be_visible()


def mark_in_error(page, check_page, url: str, member: FamilyMember, reason: str) -> None:
    """On a person's page of a locked map: no removal, a mark with the reason; the person leaves the genogram."""
    label = member.label
    page.goto(url)
    expect(page.locator("form[action$='/delete/']")).to_have_count(0)
    page.locator("form[action$='/in-error/'] textarea").fill(reason)
    page.locator("form[action$='/in-error/'] button").click()
    expect(page.locator("#main del").first).to_contain_text(label)
    expect(page.locator("svg").first).not_to_contain_text(label)
    expect(page.get_by_text(reason)).to_be_visible()
    check_page(page, "family-entered-in-error")
    assert FamilyMember.objects.get(pk=member.pk).error_reason == reason


def test_intake_from_first_contact_to_the_printed_summary(page, login, live_server, gbg, check_page):
    therapist = UserFactory(username="anna", first_name="Anna", last_name="Lind", clinic=gbg)
    login(therapist)

    # Register an anonymous contact: no name, no personnummer.
    page.get_by_role("navigation", name="Huvudmeny").get_by_role("link", name="Mina klienter").click()
    page.goto(f"{live_server.url}/clients/new/")
    check_page(page, "register")
    page.locator("input[name=target_groups][value=buying_sex]").check()
    page.fill("#id_birth_year", "1979")
    page.select_option("#id_gender", "man")
    page.fill("#id_reason", "Vill sluta köpa sex innan relationen går sönder.")
    page.get_by_role("button", name="Registrera").click()
    expect(page.get_by_role("heading", name=re.compile(r"Klient GBG-\d{4}-0001"))).to_be_visible()
    client = Client.objects.get()
    assert (client.full_name, client.personnummer) == ("", "")
    check_page(page, "client")

    # The assessment conversation: accepted for treatment.
    page.get_by_role("link", name="Påbörja bedömningssamtalet").click()
    page.fill("#id_problem", "Köper sex vid stress, på resor.")
    page.fill("#id_goals", "Sluta helt.")
    page.select_option("#id_decision", "accepted")
    check_page(page, "assessment")
    page.get_by_role("button", name="Spara").click()
    expect(page.locator("#main .badge").first).to_have_text("I behandling")

    # Two sections of the deep interview.
    for title, text in [("Barndom", "Uppvuxen i Borås, två syskon."), ("Puberteten", "Ensam, ingen att prata med.")]:
        page.get_by_role("link", name="Djupintervju", exact=True).click()
        page.get_by_role("link", name=title, exact=True).click()
        page.fill("#id_text", text)
        page.get_by_role("button", name="Spara avsnittet").click()
        expect(page.get_by_text(f"”{title}” är sparat.")).to_be_visible()
    check_page(page, "interview")
    assert DeepInterviewSection.objects.filter(client=client).count() == 2

    # Sign the puberty section: it is final, read-only, and takes a dated addendum.
    page.get_by_role("link", name="Puberteten", exact=True).click()
    sign_and_add(page, check_page, "Hade en vän i klassen ändå.")
    assert DeepInterviewSection.objects.get(client=client, section="puberty").signed_by == therapist

    # A family over three generations, drawn as a genogram.
    page.get_by_role("link", name="Familjekarta", exact=True).click()
    add_person(page, "Morfar Olle", "grandparent", "male", "1925")
    add_person(page, "Mormor Elsa", "grandparent", "female", "1928")
    add_person(page, "Mamma Birgit", "parent", "female", "1952", parents=("Morfar Olle", "Mormor Elsa"))
    add_person(page, "Pappa Sven", "parent", "male", "1950")
    genogram = page.locator("svg").first
    for label in ("Morfar Olle", "Mormor Elsa", "Mamma Birgit", "Pappa Sven", client.code):
        expect(genogram).to_contain_text(label)
    check_page(page, "family")
    assert FamilyMember.objects.filter(client=client).count() == 5

    # Print the intake summary: a real PDF from the same signed-in browser.
    page.get_by_role("link", name="Översikt", exact=True).click()
    token = page.locator("form[action$='/intake.pdf'] input[name=csrfmiddlewaretoken]").input_value()
    response = page.request.post(
        f"{live_server.url}/clients/{client.pk}/intake.pdf",
        form={"csrfmiddlewaretoken": token},
        headers={"Referer": page.url},
    )
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.body())).pages)
    printed = (client.code, "Köper sex vid stress, på resor.", "Uppvuxen i Borås, två syskon.", "Morfar Olle")
    for expected in (*printed, "Hade en vän i klassen ändå."):  # the last: the signed section's addendum
        assert expected in text

    # The map is locked (a section is signed, the summary printed): a wrong person is marked, not removed.
    sven = FamilyMember.objects.get(client=client, label="Pappa Sven")
    mark_in_error(page, check_page, f"{live_server.url}/clients/{client.pk}/family/{sven.pk}/", sven, "Fel namn.")
