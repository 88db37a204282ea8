"""The prints' user-agent stylesheet (static/css/print-ua.css): WeasyPrint's cut down to the elements a print has.

That every print looks exactly as with WeasyPrint's full stylesheet is shown print by print, box by box and style
by style, by tests.pdfs.assert_laid_out_as_by_weasyprint_alone (in the tests of each print). Here: that the cut-down
stylesheet is the one used, and that the print templates keep to the elements and attributes it was cut for.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders

from kast import pdf

PRINT_BASE = "print/base.html"
TAG = re.compile(r"<([a-zA-Z][a-zA-Z0-9]*)\b([^>]*)>")
INCLUDE = re.compile(r"""{%\s*(?:include|extends)\s+["']([^"']+)["']""")
#: Attributes some of WeasyPrint's user-agent rules look for, which print-ua.css leaves out.
LEFT_OUT_ATTRIBUTES = ("hidden", "dir", "type", "seamless", "rules", "frame", "value", "multiple")


def _template_path(name: str) -> Path:
    from django.template import Engine

    return Path(Engine.get_default().get_template(name).origin.name)


def _print_templates() -> dict[str, str]:
    """Every template a print renders: the print base, the templates extending it, and what they include."""
    roots = [
        path
        for path in Path(settings.BASE_DIR).glob("*/templates/**/*.html")
        if ".venv" not in path.parts and f'extends "{PRINT_BASE}"' in path.read_text()
    ]
    assert len(roots) == 4  # the intake summary, the relative's summary, the right-of-access extract, the yearly report
    found: dict[str, str] = {}
    queue = [str(path) for path in roots] + [str(_template_path(PRINT_BASE))]
    while queue:
        path = queue.pop()
        if path in found:
            continue
        found[path] = Path(path).read_text()
        queue.extend(str(_template_path(name)) for name in INCLUDE.findall(found[path]) if name != PRINT_BASE)
    return found


def _selector_words(css: str) -> set[str]:
    """The element names (and other words) in a stylesheet's selectors, at-rules and declarations left out."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.DOTALL)
    css = re.sub(r"@[a-z-]+[^{]*{(?:[^{}]*{[^}]*})*[^}]*}", "", css)  # @page with its margin boxes, @counter-style
    selectors = re.findall(r"([^{}]+){[^}]*}", css)
    return {
        word.lower()
        for selector in selectors
        for word in re.findall(r"(?<![-\[=.#:])\b[a-zA-Z][a-zA-Z0-9]*\b", selector)
    }


def test_the_prints_are_styled_with_their_own_user_agent_stylesheet():
    """A rule of WeasyPrint's that the prints' stylesheet leaves out (links in blue) does not apply: the hook is used.

    If a WeasyPrint upgrade stopped calling HTML._ua_stylesheets, this fails.
    """
    from weasyprint import HTML

    html = '<html><body><p><a href="https://example.org/">x</a></p></body></html>'

    def link_colour(document) -> tuple:
        rendered = document.render(stylesheets=[pdf._print_stylesheet()], font_config=pdf._font_config())
        boxes = [rendered.pages[0]._page_box]
        while boxes:
            box = boxes.pop()
            if getattr(box, "element_tag", None) == "a":
                return tuple(box.style["color"])
            boxes.extend(getattr(box, "children", None) or [])
        raise AssertionError("no link laid out")

    pdf._warm()
    weasyprints = link_colour(HTML(string=html, url_fetcher=pdf._fetcher()))
    ours = link_colour(pdf._document(html, "http://testserver/"))
    assert weasyprints == (0.0, 0.0, 1.0, 1.0)  # blue, by WeasyPrint's ":link { color: blue }"
    assert ours == pytest.approx((0x11 / 255, 0x11 / 255, 0x11 / 255, 1.0))  # print.css's text colour, #111


def test_the_fallback_parser_uses_it_too():
    """A document that is not XML (a control character pasted into a note) is parsed by WeasyPrint's own parser,
    and still gets the prints' user-agent stylesheet."""
    document = pdf._document("<p>a\x01b<br></p>", "http://testserver/")
    assert pdf.xhtml_root("<p>a\x01b<br></p>") is None
    assert document._ua_stylesheets() == [pdf._user_agent_stylesheet()]


def test_the_print_templates_use_only_elements_the_stylesheet_was_cut_for():
    """Every element a print template writes either has its rules in print-ua.css or has no rule in WeasyPrint's
    user-agent stylesheet at all; and no print uses an attribute whose rules were left out (a hidden row, a dir)."""
    from weasyprint.html import UA

    ours = _selector_words(Path(finders.find("css/print-ua.css")).read_text())
    weasyprints = _selector_words(UA)
    assert {"table", "td", "h2", "li", "br"} <= ours and {"input", "textarea", "dd", "blockquote"} <= weasyprints - ours

    templates = _print_templates()
    assert any(path.endswith("_over_time_table.html") for path in templates)  # includes are followed
    for path, text in templates.items():
        for tag, attributes in TAG.findall(text):
            assert tag.lower() in ours or tag.lower() not in weasyprints, f"<{tag}> in {path}: copy its rules first"
            for attribute in LEFT_OUT_ATTRIBUTES:
                assert not re.search(rf"(?<![-\w]){attribute}=", attributes), f"{attribute}= on <{tag}> in {path}"
