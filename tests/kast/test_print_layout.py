"""What keeps the PDFs quick (kast.pdf, static/css/print.css), asserted as causes, never as times.

Speed itself is measured by `make bench` (docs/performance.md, "PDFs"); these tests keep the causes away:
a large stylesheet, more than one font family, table layout that measures every cell, and SVG nodes a PDF
never draws.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from django.conf import settings

from kast.pdf import _print_stylesheet, for_print

PRINT_CSS = Path(settings.BASE_DIR) / "static" / "css" / "print.css"


def test_the_print_stylesheet_is_lean_and_has_no_bootstrap():
    css = re.sub(r"/\*.*?\*/", "", PRINT_CSS.read_text(), flags=re.DOTALL)  # the rules, not the comments

    assert "bootstrap" not in css.lower()
    assert not re.search(r"\.(btn|navbar|container|row|col-\w+)\b", css)  # none of Bootstrap's classes either
    assert "@import" not in css
    assert len(css.encode()) < 12_000


def test_the_print_stylesheet_uses_one_font_family_from_the_system():
    css = PRINT_CSS.read_text()

    assert "@font-face" not in css and "url(" not in css  # no font file to fetch and parse per document
    families = {match.strip() for match in re.findall(r"font(?:-family)?:[^;]*?\"([^\"]+)\"", css)}
    assert families == {"DejaVu Sans"}


def test_the_print_tables_take_their_widths_from_the_first_row():
    """Automatic table layout measures every cell's text before laying it out: the reports' tables are fixed."""
    css = PRINT_CSS.read_text()

    rule = re.search(r"([.\w\s,-]+)\{\s*table-layout: fixed;\s*\}", css)
    assert rule is not None
    assert {name.strip() for name in rule.group(1).split(",")} == {
        ".facts",
        ".answers",
        ".year-report .figures",
        ".over-time",
    }


def test_the_stylesheet_and_its_font_configuration_are_made_once_per_process():
    assert _print_stylesheet() is _print_stylesheet()


def test_for_print_leaves_out_svg_titles_and_descriptions_and_the_whitespace_between_tags():
    html = (
        "<html><head><title>Intake summary TST-1</title></head>\n  <body>\n"
        '    <p>A <b>bold</b> <i>word</i>\n</p>\n    <svg role="img" aria-labelledby="t d">\n'
        '      <title id="t">Family map</title>\n      <desc id="d">Six persons</desc>\n'
        '      <g><title>Anna 1960</title><circle r="2"/></g>\n      <text>Anna</text>\n    </svg>\n'
        "  </body></html>"
    )

    assert for_print(html) == (
        "<html><head><title>Intake summary TST-1</title></head> <body> "
        '<p>A <b>bold</b> <i>word</i> </p> <svg role="img" aria-labelledby="t d"> '
        '<g><circle r="2"/></g> <text>Anna</text> </svg> '
        "</body></html>"
    )


def test_for_print_leaves_text_as_it_is():
    """Text is escaped, so only markup is touched: the line breaks inside a note stay (white-space: pre-wrap)."""
    html = '<p class="text">First line\n\n   second &lt;title&gt; line\n</p>'

    assert for_print(html) == html


def test_the_genogram_reaches_the_layout_with_its_drawing_only(client_record, therapist):
    """The family map's SVG for print: every person's title and the map's description are left out, the shapes
    and the labels (every <text>) stay."""
    from clients.models import FamilyMember
    from clients.selectors import family_members, family_relationships, genogram_svg

    for name, sex in (("Anna", "female"), ("Bo", "male")):
        FamilyMember.objects.create(client=client_record, label=name, relation="parent", sex=sex, birth_year=1960)
    members = family_members(client_record)
    svg = genogram_svg(client_record, members, family_relationships(client_record))

    printed = ET.fromstring(for_print(str(svg)))
    tags = [element.tag.rsplit("}", 1)[-1] for element in printed.iter()]

    assert "title" not in tags and "desc" not in tags
    assert len(tags) < len(list(ET.fromstring(str(svg)).iter()))
    assert tags.count("text") == sum(1 for element in ET.fromstring(str(svg)).iter() if element.tag.endswith("text"))


def test_a_document_fetches_nothing_but_data_urls(caplog):
    """No address in a document reaches the network or the server's files (nor makes a PDF wait on them)."""
    import contextlib
    import socket
    import threading

    from pypdf import PdfReader

    from kast.pdf import write_pdf

    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(3)
    port = listener.getsockname()[1]
    knocked = []

    def watch():
        with contextlib.suppress(TimeoutError):
            knocked.append(listener.accept())

    watcher = threading.Thread(target=watch)
    watcher.start()
    dot = (
        "data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciIHdpZHRoPSI0IiBoZWlnaHQ9IjQiLz4="
    )
    html = (
        f'<p>Kvar</p><img src="http://127.0.0.1:{port}/x.png" alt=""><img src="file:///etc/hostname" alt="">'
        f'<link rel="stylesheet" href="http://127.0.0.1:{port}/x.css"><img src="{dot}" alt="">'
    )
    pdf = write_pdf(html, base_url=f"http://127.0.0.1:{port}/")
    watcher.join()
    listener.close()

    assert knocked == []
    assert "Kvar" in PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    refused = [r.getMessage() for r in caplog.records if r.name.startswith("weasyprint")]
    assert len(refused) == 3 and all("disallowed protocol" in message for message in refused), refused
    assert not any("data:" in message for message in refused)  # the data URL was read


def test_the_layout_process_leaves_the_inherited_heap_to_the_worker(monkeypatch, new_layout_process):
    """The child freezes what it inherited before the layout, so the collector walks (and copies) none of it."""
    import multiprocessing

    from kast import pdf

    froze = multiprocessing.get_context("fork").Value("i", 0)

    def freeze():
        froze.value += 1

    monkeypatch.setattr(pdf.gc, "freeze", freeze)

    pdf.write_pdf("<p>Hej</p>", base_url="http://testserver/")
    pdf.write_pdf("<p>Hej igen</p>", base_url="http://testserver/")

    assert froze.value == 1  # in the layout process, once; the worker itself froze nothing
    assert pdf.gc.get_freeze_count() == 0


def test_the_layout_process_collects_cycles_between_documents_not_during_one(monkeypatch, new_layout_process):
    """The cyclic collector is off while a document is laid out (it would walk the growing tree of boxes again and
    again) and runs once the PDF is sent, so the process does not grow from document to document."""
    import gc
    import multiprocessing

    from kast import pdf

    # In the layout process: whether the collector was on during each layout, and how often it collected.
    enabled_during_layout = multiprocessing.get_context("fork").Array("i", [-1, -1])
    collected = multiprocessing.get_context("fork").Value("i", 0)
    documents = multiprocessing.get_context("fork").Value("i", 0)
    real_lay_out, real_collect = pdf._lay_out, gc.collect

    def lay_out(html, base_url):
        enabled_during_layout[documents.value] = int(gc.isenabled())
        documents.value += 1
        return real_lay_out(html, base_url)

    def collect(*args):
        collected.value += 1
        return real_collect(*args)

    monkeypatch.setattr(pdf, "_lay_out", lay_out)
    monkeypatch.setattr(pdf.gc, "collect", collect)

    assert "Ett" in _pdf_text(pdf.write_pdf("<p>Ett</p>", base_url="http://testserver/"))
    assert "Två" in _pdf_text(pdf.write_pdf("<p>Två</p>", base_url="http://testserver/"))

    assert list(enabled_during_layout) == [0, 0]
    assert collected.value >= 1  # after the first document (the second's may still be running)
    assert gc.isenabled()  # the worker's own collector is untouched


def _pdf_text(pdf: bytes) -> str:
    from pypdf import PdfReader

    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_one_layout_process_lays_out_document_after_document_and_is_replaced_in_time(monkeypatch, new_layout_process):
    """The worker forks its layout process once, not per document (the fork cost a fifth of an intake summary),
    and replaces it after MAX_DOCUMENTS so nothing WeasyPrint keeps between documents grows without bound."""
    from kast import pdf

    monkeypatch.setattr(pdf._LayoutProcess, "MAX_DOCUMENTS", 2)

    assert "Ett" in _pdf_text(pdf.write_pdf("<p>Ett</p>", base_url="http://testserver/"))
    first = pdf._layout_process.process.pid
    assert "Två" in _pdf_text(pdf.write_pdf("<p>Två</p>", base_url="http://testserver/"))
    assert pdf._layout_process.process.pid == first
    assert "Tre" in _pdf_text(pdf.write_pdf("<p>Tre</p>", base_url="http://testserver/"))
    assert pdf._layout_process.process.pid != first
    assert not _running(first)


def _running(pid: int) -> bool:
    """Whether a process of ours with this pid still runs (a stopped one is reaped by multiprocessing)."""
    import multiprocessing

    return pid in [child.pid for child in multiprocessing.active_children()]


def test_two_threads_printing_at_once_each_get_their_own_document(monkeypatch, new_layout_process):
    """A threaded server's second print, while the worker's layout process is busy, gets a process of its own
    (stopped after it), never the first's document or a wait in its queue."""
    import multiprocessing
    import threading
    import time

    from kast import pdf

    real = pdf._lay_out

    def slow_then_real(html, base_url):  # run in the forked process: a closure is fine, nothing is pickled
        time.sleep(0.5)
        return real(html, base_url)

    monkeypatch.setattr(pdf, "_lay_out", slow_then_real)
    texts = {}

    def print_one(word):
        texts[word] = _pdf_text(pdf.write_pdf(f"<p>{word}</p>", base_url="http://testserver/"))

    threads = [threading.Thread(target=print_one, args=(word,)) for word in ("Ett", "Två")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert "Ett" in texts["Ett"] and "Två" not in texts["Ett"]
    assert "Två" in texts["Två"] and "Ett" not in texts["Två"]
    assert [child.name for child in multiprocessing.active_children()] == ["kast-pdf"]  # the worker's own, kept


def test_a_document_that_is_not_xml_is_printed_all_the_same(new_layout_process):
    """A control character pasted into a record (XML forbids it) or an unclosed tag: WeasyPrint's own parser
    reads the document instead of expat, and the PDF says what it says."""
    from kast import pdf

    for html in ("<p>Före\x0bEfter</p>", "<p>Före<br>Efter</p>"):
        assert pdf.xhtml_root(html) is None
        # (pypdf reads the text of a page that draws a control character with a NUL between letters)
        text = _pdf_text(pdf.write_pdf(html, base_url="http://testserver/")).replace("\x00", "")
        assert "Före" in text and "Efter" in text


def test_the_layout_process_holds_none_of_the_workers_sockets_or_signal_handlers(new_layout_process):
    """Forked from a worker, it lets go of the worker's sockets (a connection the worker closed would otherwise
    stay open: the proxy or PostgreSQL at the other end would wait for its end) and of the worker's signal
    handlers (gunicorn's would swallow a SIGTERM, and the worker's exit would wait on the process)."""
    import os
    import signal
    import socket

    from kast import pdf

    swallowed = []
    previous = signal.signal(signal.SIGTERM, lambda *_: swallowed.append(True))  # as a gunicorn worker does
    listener = socket.create_server(("127.0.0.1", 0))
    try:
        pdf.write_pdf("<p>Hej</p>", base_url="http://testserver/")
        process = pdf._layout_process.process
        held = {os.readlink(f"/proc/{process.pid}/fd/{fd}") for fd in os.listdir(f"/proc/{process.pid}/fd")}
        ours = os.readlink(f"/proc/self/fd/{listener.fileno()}")

        assert ours.startswith("socket:") and ours not in held
        assert len([link for link in held if link.startswith("socket:")]) == 1  # its end of the pipe to the worker

        os.kill(process.pid, signal.SIGTERM)
        process.join(timeout=5)
        assert process.exitcode == -signal.SIGTERM
        assert swallowed == []
    finally:
        listener.close()
        signal.signal(signal.SIGTERM, previous)


def test_the_layout_process_holds_none_of_the_workers_pipes(new_layout_process):
    """A program the worker talks to through a pipe ends when the worker closes its end; with the layout process
    holding a copy of that end it waited for ever (the browser tests' Playwright driver, and the test run with
    it, after a print). The layout process lets go of the pipes the worker had when it was forked."""
    import os
    import select

    from kast import pdf

    read_end, write_end = os.pipe()
    try:
        pdf.write_pdf("<p>Hej</p>", base_url="http://testserver/")
        process = pdf._layout_process.process
        held = {os.readlink(f"/proc/{process.pid}/fd/{fd}") for fd in os.listdir(f"/proc/{process.pid}/fd")}
        assert os.readlink(f"/proc/self/fd/{write_end}") not in held

        os.close(write_end)
        write_end = -1
        readable, _, _ = select.select([read_end], [], [], 5)
        assert readable == [read_end]  # the end of the pipe, at once: no other copy of its writing end is open
        assert os.read(read_end, 1) == b""
        assert process.is_alive()  # and the process goes on laying documents out
        assert "Hej" in _pdf_text(pdf.write_pdf("<p>Hej</p>", base_url="http://testserver/"))
        assert pdf._layout_process.process is process
    finally:
        os.close(read_end)
        if write_end != -1:
            os.close(write_end)
