"""The main journeys with the keyboard only: register a contact, log a session and sign its note, fill in a
questionnaire with the client, and the manager's figures.

After the login (the `login` fixture) nothing is clicked or filled: focus moves with Tab, Shift+Tab and the arrow
keys, controls are worked with Enter and Space, text is typed. A control that Tab cannot reach, or that shows no
focus ring when it has the focus, fails the test: such a page is fixed, never the test.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from assessments.models import Administration, FilledBy, TimePoint
from clients.models import Client
from kast.models import Role
from sessions.models import Note, TherapySession
from tests.browser.test_tablet_journey import shipped_questionnaires as shipped_questionnaires  # the fixture
from tests.factories import TherapySessionFactory, UserFactory
from tests.sessions.conftest import case as case  # the fixture: a client in treatment

pytestmark = pytest.mark.django_db(transaction=True)

#: What the page says about the focused element: its tag, type, name attribute, accessible name (approximated the
#: way a screen reader finds it: aria-label, aria-labelledby, the <label>, the text), value, and its focus styles.
FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const text = (s) => (s || "").replace(/\\s+/g, " ").trim();
  let name = el.getAttribute("aria-label");
  if (!name && el.getAttribute("aria-labelledby")) {
    name = el.getAttribute("aria-labelledby").split(/\\s+/)
      .map((id) => document.getElementById(id)).filter(Boolean).map((n) => n.textContent).join(" ");
  }
  if (!name && el.labels && el.labels.length) name = el.labels[0].textContent;
  if (!name) name = el.innerText || el.value || el.title;
  // Bootstrap's focus transitions: read their end state (an endless animation cannot finish, and is left alone).
  document.getAnimations().forEach((a) => { try { a.finish(); } catch (e) {} });
  const style = getComputedStyle(el);
  const box = el.getBoundingClientRect();
  return {
    tag: el.tagName.toLowerCase(),
    type: el.getAttribute("type") || "",
    name: text(name),
    field: el.getAttribute("name") || "",
    id: el.id,
    value: el.value === undefined ? "" : String(el.value),
    href: el.getAttribute("href") || "",
    outline: style.outlineStyle === "none" ? 0 : parseFloat(style.outlineWidth),
    shown: box.width > 1 && box.height > 1 && style.visibility !== "hidden" && style.opacity !== "0",
  };
}"""

Wanted = str | re.Pattern[str] | Callable[[dict], bool]


def focused(page: Page) -> dict | None:
    return page.evaluate(FOCUSED)


def matches(element: dict | None, wanted: Wanted) -> bool:
    if element is None:
        return False
    if isinstance(wanted, str):
        return element["name"] == wanted
    if isinstance(wanted, re.Pattern):
        return bool(wanted.search(element["name"]))
    return wanted(element)


def tab_to(page: Page, wanted: Wanted, *, max_steps: int = 80, backwards: bool = False) -> dict:
    """Press Tab (or Shift+Tab) until the focused element is the one wanted (its accessible name, a pattern for
    it, or a predicate over `FOCUSED`'s description); fails when it is not reached within max_steps presses.

    Every stop on the way must be on screen and show that it has the focus: a keyboard user sees where they are."""
    key = "Shift+Tab" if backwards else "Tab"
    seen = []
    for _ in range(max_steps):
        page.keyboard.press(key)
        element = focused(page)
        if element is not None:
            assert element["shown"], f"the focus is on something not shown: {element}"
            assert_focus_visible(element)
        if element is not None and matches(element, wanted):
            return element
        seen.append(element and (element["tag"], element["name"][:40]))
    raise AssertionError(f"not reached with {key} in {max_steps} presses: {wanted!r}; passed {seen}")


def field(name: str) -> Callable[[dict], bool]:
    """A form control by its name attribute."""
    return lambda element: element["field"] == name


def assert_focus_visible(element: dict) -> None:
    """The focused control shows the house focus ring (static/css/kast.css), an outline of at least 2 px.
    Bootstrap's own ring, a pale box-shadow under 3:1 against white, does not count."""
    assert element["outline"] >= 2, f"no visible focus ring: {element}"


def press_on(page: Page, wanted: Wanted, key: str = "Enter", **kwargs) -> dict:
    """Tab to a control, check its focus ring, and work it with the key."""
    element = tab_to(page, wanted, **kwargs)
    assert_focus_visible(element)
    page.keyboard.press(key)
    return element


def type_into(page: Page, wanted: Wanted, text: str) -> None:
    tab_to(page, wanted)
    page.keyboard.type(text)


def test_register_a_contact_with_the_keyboard(page, login, live_server, gbg, check_page):
    therapist = UserFactory(username="anna", first_name="Anna", clinic=gbg)
    login(therapist)

    # The skip link comes first and takes the focus to the content: the next Tab stays in it.
    skip = press_on(page, "Hoppa till huvudinnehållet")
    assert skip["href"] == "#main"
    assert page.evaluate("document.activeElement.id") == "main"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('main') !== null")

    # Back up to the main menu, to the clients, and to the registration form.
    press_on(page, "Mina klienter", backwards=True)
    page.wait_for_url(re.compile(r"/clients/$"))
    press_on(page, "Registrera en ny kontakt")
    page.wait_for_url(re.compile(r"/clients/new/$"))
    check_page(page, "register")

    # The required fields, in the order of the form (the date of first contact is today already).
    type_into(page, field("reason"), "Vill sluta köpa sex innan relationen går sönder.")
    tab_to(page, lambda e: e["field"] == "target_groups" and e["value"] == "buying_sex")
    page.keyboard.press("Space")
    expect(page.locator("input[name=target_groups][value=buying_sex]")).to_be_checked()
    type_into(page, field("birth_year"), "1979")
    tab_to(page, field("gender"))
    page.keyboard.type("Man")  # a closed select takes the first letters of an option
    expect(page.locator("#id_gender")).to_have_value("man")
    press_on(page, "Registrera")

    expect(page.get_by_role("heading", name=re.compile(r"Klient GBG-\d{4}-0001"))).to_be_visible()
    client = Client.objects.get()
    assert (client.birth_year, client.gender, client.target_groups) == (1979, "man", ["buying_sex"])
    assert client.reason == "Vill sluta köpa sex innan relationen går sönder."
    assert page.url == f"{live_server.url}/clients/{client.pk}/"


def test_log_a_session_and_sign_its_note_with_the_keyboard(page, login, live_server, case, check_page):
    login(case.responsible_therapist)

    tab_to(page, field("client"))
    page.keyboard.press("ArrowDown")  # from "Choose a client" to the only client
    expect(page.locator("#id_client")).to_have_value(str(case.pk))
    press_on(page, "Skriv anteckningen")
    page.wait_for_url(re.compile(r"/sessions/[0-9a-f-]{36}/$"))
    session = TherapySession.objects.get(client=case)

    type_into(page, field("note-text"), "Klienten beskrev veckan och vad som hände före handlingen.")
    tab_to(page, lambda e: e["field"] == "note-themes" and e["name"] == "Beteendets funktion")
    page.keyboard.press("Space")
    expect(page.get_by_label("Beteendets funktion")).to_be_checked()
    # The conversation guide beside the note opens from the keyboard too.
    press_on(page, "Beteendets funktion", key="Enter", max_steps=120)
    expect(page.get_by_text("Vad har handlingen/beteendet fyllt för funktion för dig?")).to_be_visible()

    press_on(page, "Signera anteckningen", backwards=True, max_steps=120)
    expect(page.get_by_role("heading", name="Anteckning")).to_be_visible()
    check_page(page, "signed")
    note = Note.objects.get(session=session)
    assert note.is_signed
    assert note.text == "Klienten beskrev veckan och vad som hände före handlingen."
    assert [str(t) for t in note.themes.all()] == ["Beteendets funktion"]


def test_fill_in_the_start_questionnaire_with_the_client_with_the_keyboard(
    page, login, live_server, case, check_page, shipped_questionnaires
):
    case.target_groups = ["buying_sex"]
    case.save(update_fields=["target_groups"])
    login(case.responsible_therapist)
    page.goto(f"{live_server.url}/clients/{case.pk}/questionnaires/")

    press_on(page, re.compile(r"^Påbörja\s*: Behandlingsstart$"))
    page.wait_for_url(re.compile(r"/questionnaires/\d+/$"))
    check_page(page, "questionnaire")

    # A group of radio buttons is one tab stop: the arrow keys choose within it, Space chooses the focused one.
    def radio_of(question: str) -> Callable[[dict], bool]:
        return lambda e: (
            e["type"] == "radio"
            and page.evaluate(
                "() => document.activeElement.closest('fieldset')?.querySelector('legend')?.textContent.trim()"
            )
            == question
        )

    tab_to(page, radio_of("Har du en partner?"))
    page.keyboard.press("Space")  # the first answer: Ja
    page.keyboard.press("Tab")  # the group's other answers are no tab stops
    assert not radio_of("Har du en partner?")(focused(page))
    tab_to(page, radio_of("Hur mår du just nu?"))
    page.keyboard.press("Space")  # the first answer, Mycket god (5) ...
    page.keyboard.press("ArrowDown")  # ... and the arrow chooses the next one: God (4)
    press_on(page, "Lämna in formuläret")

    page.wait_for_url(re.compile(r"/clients/[0-9a-f-]{36}/questionnaires/$"))
    expect(page.get_by_text("Formuläret är inlämnat.")).to_be_visible()
    administration = Administration.objects.get(client=case, time_point=TimePoint.START)
    assert administration.is_submitted
    assert administration.filled_by == FilledBy.THERAPIST
    answers = {a.item.text: (a.value_bool, a.value_int) for a in administration.answers.select_related("item")}
    assert answers == {"Har du en partner?": (True, None), "Hur mår du just nu?": (None, 4)}

    # And read back, from the questionnaires page.
    press_on(page, re.compile(r"^Läs svaren\s*: Behandlingsstart$"))
    expect(page.get_by_role("row", name="Har du en partner?")).to_contain_text("Ja")
    expect(page.get_by_role("row", name="Hur mår du just nu?")).to_contain_text("God")


def test_the_managers_figures_with_the_keyboard(page, login, live_server, case, check_page):
    TherapySessionFactory(client=case)
    manager = UserFactory(username="karin", first_name="Karin", role=Role.MANAGER, clinic=case.clinic)
    login(manager)

    press_on(page, "Statistik")
    page.wait_for_url(re.compile(r"/dashboard/$"))

    tab_to(page, field("period"))
    # A closed select steps through its options: from the last twelve months (the default) to month, quarter, year.
    for _ in range(3):
        page.keyboard.press("ArrowDown")
    expect(page.locator("#id_period")).to_have_value("year")
    press_on(page, "Visa")
    page.wait_for_url(re.compile(r"period=year"))
    expect(page.locator("[data-period]")).to_be_visible()

    csv = tab_to(page, re.compile(r"som CSV$"))
    assert_focus_visible(csv)
    assert "period=year" in csv["href"]
    button = tab_to(page, re.compile(r"^Verksamhetsberättelse \d{4} som PDF$"), backwards=True)
    assert_focus_visible(button)
    check_page(page, "figures")


def test_on_a_narrow_screen_the_folded_menu_opens_from_the_keyboard(page, login, live_server, gbg):
    """Below the large breakpoint the main menu folds behind a button: Enter opens it and Tab reaches its links."""
    page.set_viewport_size({"width": 390, "height": 844})
    login(UserFactory(username="anna", first_name="Anna", clinic=gbg))

    menu = page.get_by_role("navigation", name="Huvudmeny")
    expect(menu).to_be_hidden()  # folded

    press_on(page, "Visa menyn")
    expect(page.locator(".navbar-toggler")).to_have_attribute("aria-expanded", "true")
    expect(menu).to_be_visible()
    tab_to(page, "Mina klienter", max_steps=5)
    assert page.evaluate("document.activeElement.closest('nav') !== null")  # the menu's link, not the page's
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/clients/$"))
