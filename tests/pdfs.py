"""Helpers for the tests of printed documents: the HTML a print sends to the layout, and its two parses compared."""

from __future__ import annotations

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


def box_geometry(html: str, *, fast: bool) -> list[tuple]:
    """Every box of the laid out document, page by page: its kind, place, size and text.

    `fast`: from the tree expat parsed (kast.pdf._document), else from WeasyPrint's own HTML5 parser.
    """
    from weasyprint import HTML

    pdf._warm()
    document = (
        pdf._document(html, "http://testserver/")
        if fast
        else HTML(string=html, base_url="http://testserver/", url_fetcher=pdf._fetcher())
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
            )
        )
        for child in getattr(box, "children", None) or []:
            walk(child)

    for page in rendered.pages:
        walk(page._page_box)
    return boxes


def assert_parsed_fast_and_laid_out_alike(html: str) -> None:
    """The print's HTML is XML (so expat parses it, kast.pdf.xhtml_root) and lays out box for box as WeasyPrint's
    own parse of it does."""
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
    assert box_geometry(html, fast=True) == box_geometry(html, fast=False)
