"""Every page each role reaches, crawled from the start page over the demo data: axe finds nothing serious or
critical (WCAG 2.1 A and AA), no page is wider than a 390 px phone or a
768 px tablet, no page shows a raw code, and the header keeps to one line at 1366 px.

The crawl follows the links a person can follow (same site, GET, not a download or a sign-out), at most
`PER_PATTERN` pages per URL pattern, so a list of a hundred records costs three pages, not a hundred.
"""

from __future__ import annotations

import io
import re
from collections import Counter, deque
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.urls import Resolver404, resolve

from kast.models import User
from tests.browser.conftest import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

PER_PATTERN = 3
#: The admin's pages are Django's, made from one template per kind: one of each is enough to judge them.
PER_PATTERN_ADMIN = 1
#: Pages no person reads as a page: files, feeds, signing out, switching the language.
SKIPPED = re.compile(r"(\.csv|\.pdf|\.ics|/logout|/i18n/|/print|/export|/download|/feed|/calendar/|_popup=)", re.I)
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING_IMPACTS = {"serious", "critical"}
#: A phone and a tablet held upright: no page may scroll sideways at either width.
NARROW_WIDTHS = (390, 768)
#: A URL name ("clients:detail"), a dotted model or view ("therapy_sessions.calendarfeed") or a snake_case key
#: ("in_treatment") in the text a person reads is a code that was never turned into words.
RAW_CODE = re.compile(r"\b[a-z_]+:[a-z_]+\b|\b[a-z]+_[a-z_]+\b|\b[a-z_]{3,}\.[a-z_]{3,}\b")
#: Choice keys and log actions that are ordinary English words, hence not caught by RAW_CODE: in the Swedish
#: interface they can only be codes.
RAW_WORDS = re.compile(r"\b(print|denied|emergency|view|create|update|delete|individual|couple)\b")

#: The innermost elements reaching past the right edge of the window: what makes a page too wide.
WIDEST = """() => Array.from(document.querySelectorAll("body *"))
    .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1)
    .filter((e) => !Array.from(e.children).some((c) => c.getBoundingClientRect().right > window.innerWidth + 1))
    .slice(0, 3).map((e) => {
        const path = [];
        for (let n = e; n && n !== document.body; n = n.parentElement) {
            path.unshift(n.tagName.toLowerCase() + (n.id ? "#" + n.id : "") + (n.classList.length ? "." + Array.from(n.classList).join(".") : ""));
        }
        return path.slice(-4).join(" > ") + " @" + Math.round(e.getBoundingClientRect().right);
    })"""

SETTLED = "() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(done, 50))))"

#: How far apart the header's parts (the name, the menu's links, the user's name and buttons) are in height.
HEADER_SPREAD = """() => {
    const tops = Array.from(document.querySelectorAll("header .navbar-brand, header .nav-link, header .ms-lg-auto > *"))
        .map((e) => e.getBoundingClientRect().top);
    return Math.max(...tops) - Math.min(...tops);
}"""
#: Parts of one row differ in their tops by their padding only; a second row is a whole row (40 px) lower.
ONE_ROW = 24
LAPTOP_WIDTH = 1366

ROLES = {
    "therapist": "behandlare1",
    "manager": "enhetschef",
    "administrator": "admin",
    "national": "uppfoljning",
    "researcher": "forskare",
}


@pytest.fixture
def demo_site(live_server):
    with override_settings(DEBUG=True):  # seed_demo refuses without it
        call_command("seed_demo", stdout=io.StringIO())
    return live_server


def _pattern(path: str) -> str | None:
    try:
        return resolve(urlsplit(path).path).view_name
    except Resolver404:
        return None


def crawl(page, base: str):
    """The pages reached from the start page: (path, pattern) in the order visited."""
    seen: set[str] = set()
    per_pattern: Counter[str] = Counter()
    queue = deque(["/"])
    while queue:
        path = queue.popleft()
        pattern = _pattern(path)
        if path in seen or pattern is None or SKIPPED.search(path):
            continue
        if per_pattern[pattern] >= (PER_PATTERN_ADMIN if pattern.startswith("admin:") else PER_PATTERN):
            continue
        seen.add(path)
        per_pattern[pattern] += 1
        response = page.goto(base + path)
        if response is None or response.status != 200 or urlsplit(page.url).path != urlsplit(path).path:
            continue  # a redirect (to a page crawled on its own) or a refusal the role matrix tests
        yield path, pattern
        for href in page.eval_on_selector_all("a[href]", "links => links.map((a) => a.getAttribute('href'))"):
            target = urlsplit(href)
            if target.scheme or target.netloc or not target.path.startswith("/") or SKIPPED.search(href):
                continue
            link = target.path + (f"?{target.query}" if target.query else "")
            if link not in seen:
                queue.append(link)


def _blocking(axe, page) -> list[str]:
    results = axe.run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in BLOCKING_IMPACTS
    ]


def _raw_codes(page) -> list[str]:
    text = page.locator("body").inner_text()
    found = [*RAW_CODE.finditer(text), *RAW_WORDS.finditer(text)]
    return sorted({text[max(0, m.start() - 30) : m.end() + 10].replace("\n", " ") for m in found})


@pytest.mark.parametrize("role", list(ROLES))
def test_every_page_of_every_role(page, login, demo_site, axe, role):
    user = User.objects.get(username=ROLES[role])
    user.set_password(PASSWORD)
    user.save(update_fields=["password"])
    login(user)

    violations: dict[str, list[str]] = {}
    too_wide: list[str] = []
    raw: dict[str, list[str]] = {}
    visited = []
    for path, pattern in crawl(page, demo_site.url):
        visited.append(pattern)
        if found := _blocking(axe, page):
            violations[path] = found
        # The admin edits the codes themselves (an item's code, an instrument's time points) as data.
        if not path.startswith("/admin/") and (found := _raw_codes(page)):
            raw[path] = found
        for width in NARROW_WIDTHS:
            page.set_viewport_size({"width": width, "height": 800})
            page.evaluate(SETTLED)  # charts redraw at the new width on the next frames
            if page.evaluate("() => document.documentElement.scrollWidth") > width:
                too_wide.append(f"{path} at {width} px {page.evaluate(WIDEST)}")
        page.set_viewport_size({"width": 1280, "height": 900})

    # The header keeps to one line on a laptop's screen, with every menu item the role has.
    page.set_viewport_size({"width": LAPTOP_WIDTH, "height": 800})
    page.goto(demo_site.url + "/")
    header_spread = page.evaluate(HEADER_SPREAD)

    assert len(visited) > 3, visited  # the crawl reached the role's pages, not only the start page
    assert header_spread < ONE_ROW, f"the header wraps at {LAPTOP_WIDTH} px"
    found = {"axe": violations, "wider than the window": too_wide, "raw codes": raw}
    assert found == {"axe": {}, "wider than the window": [], "raw codes": {}}, "\n".join(
        [f"{len(visited)} pages", *(f"{kind}: {what}" for kind, what in found.items() if what)]
    )
