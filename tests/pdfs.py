"""Helpers for the tests of printed documents: the HTML a print sends to the layout, and its two parses compared."""

from __future__ import annotations

from unittest import mock

from kast import pdf


def capture_print_html(monkeypatch) -> list[str]:
    """The HTML of every document printed from now on (in the worker, before the layout), as for_print makes it.

    The prints still get a PDF: the real layout runs after the capture.
    """
    captured: list[str] = []
    real = pdf.write_pdf

    def write_pdf(html: str, *, base_url: str) -> bytes:
        captured.append(pdf.for_print(html))
        return real(html, base_url=base_url)

    monkeypatch.setattr(pdf, "write_pdf", write_pdf)
    return captured


def laid_out(html: str, *, parser: str = "ours", user_agent: str = "ours", styles: bool = False) -> list[tuple]:
    """Every box of the laid out document, page by page: its kind, place, size and text (and with `styles`, every
    computed style).

    `parser`: "ours", the tree expat parsed (kast.pdf._document), or "weasyprint", its own HTML5 parser.
    `user_agent`: "ours", the prints' user-agent stylesheet (static/css/print-ua.css), or "weasyprint", its own.
    """
    from weasyprint import HTML
    from weasyprint.css.computed_values import COMPUTER_FUNCTIONS
    from weasyprint.css.properties import INITIAL_NOT_COMPUTED, INITIAL_VALUES

    # Every property, so each is worked out even where nothing has read it yet (a box's style is lazy); but the
    # logical border widths, which WeasyPrint keeps as their physical sides and cannot work out on their own.
    properties = [name for name in INITIAL_VALUES if name not in INITIAL_NOT_COMPUTED or name in COMPUTER_FUNCTIONS]
    pdf._warm()
    document_class = pdf._print_document_class() if user_agent == "ours" else HTML
    with mock.patch.object(pdf, "_print_document_class", lambda: document_class):
        document = (
            pdf._document(html, "http://testserver/")
            if parser == "ours"
            else document_class(string=html, base_url="http://testserver/", url_fetcher=pdf._fetcher())
        )
    rendered = document.render(stylesheets=[pdf._print_stylesheet()], font_config=pdf._font_config())
    boxes: list[tuple] = []

    def walk(box) -> None:
        boxes.append(
            (
                type(box).__name__,
                round(box.position_x, 2),
                round(box.position_y, 2),
                round(box.width or 0, 2),
                round(box.height or 0, 2),
                getattr(box, "text", None),
                tuple((name, repr(box.style[name])) for name in properties) if styles else (),
            )
        )
        for child in getattr(box, "children", None) or []:
            walk(child)

    for page in rendered.pages:
        walk(page._page_box)
    return boxes


def assert_laid_out_as_by_weasyprint_alone(html: str) -> None:
    """The print's HTML is XML (so expat parses it, kast.pdf.xhtml_root) and lays out box for box as with
    WeasyPrint's own parser and user-agent stylesheet; and with the prints' user-agent stylesheet (cut down to their
    elements, static/css/print-ua.css) every box has every computed style it has with WeasyPrint's full one."""
    from xml.etree import ElementTree

    try:
        ElementTree.fromstring(html)
    except ElementTree.ParseError as error:  # a void tag without its "/"?
        line, column = error.position
        raise AssertionError(f"Not XML ({error}): {html.splitlines()[line - 1][column - 60 : column + 20]!r}") from None
    assert pdf.xhtml_root(html) is not None
    # kast.pdf._document sets what WeasyPrint's HTML() sets after its parser: the same attributes, no more, no fewer.
    from weasyprint import HTML

    own = HTML(string=html, base_url="http://testserver/", url_fetcher=pdf._fetcher())
    assert sorted(vars(pdf._document(html, "http://testserver/"))) == sorted(vars(own))
    assert laid_out(html) == laid_out(html, parser="weasyprint", user_agent="weasyprint")
    # The styles compared on one parse: WeasyPrint's parser adds the <tbody> XML leaves to an anonymous box.
    ours, weasyprints = laid_out(html, styles=True), laid_out(html, user_agent="weasyprint", styles=True)
    assert len(ours) == len(weasyprints)
    for box, expected in zip(ours, weasyprints, strict=True):
        assert box == expected, next(
            (
                f"{box[0]} {box[5]!r}: {mine} != {theirs}"
                for mine, theirs in zip(box[6], expected[6], strict=True)
                if mine != theirs
            ),
            f"{box[:6]} != {expected[:6]}",
        )
