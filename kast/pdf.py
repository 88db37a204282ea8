"""PDF printing with WeasyPrint: HTML from a Django template plus one print stylesheet, made within a bounded time.

WeasyPrint costs ~0.6 s to import and ~0.5 s to parse a large stylesheet, so both happen once
per process, on first use; Bootstrap is never fed to it (static/css/print.css is standalone). So does
the font set-up: one FontConfiguration per process, and one small document laid out in the worker before
its first fork, so that fontconfig, Pango and the embedded font are loaded once, not in every child.
The HTML is compacted before layout (`for_print`): the whitespace between tags and the SVG titles and
descriptions (screen-reader text for the page; a PDF draws neither) are nodes WeasyPrint parses, styles and
lays out for nothing. And every element is matched against a user-agent stylesheet cut down to the elements a
print has (static/css/print-ua.css), not WeasyPrint's for all of HTML. docs/performance.md ("PDFs") has the
profile behind each of these.

The layout runs in a process forked from the worker (so it starts warm, with WeasyPrint and the stylesheet
already loaded) and kept for the next documents (`_LayoutProcess`); a layout that takes longer than
`PDF_RENDER_TIMEOUT` seconds is stopped with its process, and the user gets a page that says so, never a
worker killed by the server's own timeout. The process never touches the database: the HTML is made from the
template here, in the worker, and only the HTML goes to it and only bytes come back.

WeasyPrint fetches nothing: the stylesheet is handed to it, and its URL fetcher (`_fetcher`) answers only data
URLs (an image carried in the document itself); any other address in a document (http, file) is refused unread,
so a PDF can neither reach the network or the server's files nor wait on them.

A print is logged only when its PDF is made (`print_response`): the entry is written in the same
transaction as the rendering and rolled back if the PDF is not made.
"""

from __future__ import annotations

import functools
import gc
import logging
import multiprocessing
import os
import re
import signal
import stat
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as defused_fromstring
from django.conf import settings
from django.contrib.staticfiles import finders
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string

if TYPE_CHECKING:
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration
    from weasyprint.urls import URLFetcher

logger = logging.getLogger(__name__)


class PdfUnavailable(Exception):
    """The PDF could not be made: it took longer than PDF_RENDER_TIMEOUT, or WeasyPrint failed. Nothing was printed."""

    def __init__(self, cause: str, *, timed_out: bool = False) -> None:
        super().__init__(cause)
        self.timed_out = timed_out


@functools.cache
def _font_config() -> FontConfiguration:
    """The process's one font configuration (WeasyPrint makes a new one per document unless given one)."""
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


@functools.cache
def _print_stylesheet() -> CSS:
    from weasyprint import CSS

    return CSS(filename=finders.find("css/print.css"), font_config=_font_config())


@functools.cache
def _user_agent_stylesheet() -> CSS:
    """WeasyPrint's user-agent stylesheet cut down to what can apply to a print (static/css/print-ua.css says why)."""
    from weasyprint import CSS

    return CSS(filename=finders.find("css/print-ua.css"), font_config=_font_config())


@functools.cache
def _print_document_class() -> type[HTML]:
    """WeasyPrint's HTML document with the prints' user-agent stylesheet in place of its own.

    `_ua_stylesheets` is the hook WeasyPrint's HTML class gives for it (its own forms stylesheet is added the same
    way). tests/kast/test_print_ua.py fails if a WeasyPrint upgrade stops calling it; each print's tests, if the
    print would look different with WeasyPrint's own stylesheet (tests.pdfs.assert_laid_out_as_by_weasyprint_alone).
    """
    from weasyprint import HTML

    class PrintHTML(HTML):  # type: ignore[misc]  # WeasyPrint has no type hints: HTML is Any to mypy
        def _ua_stylesheets(self, forms: bool = False) -> list[CSS]:
            return [_user_agent_stylesheet()]

    return PrintHTML


#: A page with the print stylesheet's fonts in each weight and style, and an SVG text: laid out once per worker.
WARM_UP_HTML = "<p>Å <b>ä</b> <i>ö</i></p><table class='figures'><tr><td>1</td></tr></table><svg><text>1</text></svg>"


@functools.cache
def _warm() -> None:
    """Lay out one small document in the worker, so every child forked from it starts with the fonts loaded (and
    both stylesheets parsed)."""
    _print_document_class()(string=WARM_UP_HTML).write_pdf(
        stylesheets=[_print_stylesheet()], font_config=_font_config()
    )


_SVG = re.compile(r"<svg\b.*?</svg>", re.DOTALL)
_SVG_TEXT_ALTERNATIVE = re.compile(r"<(title|desc)\b[^>]*>.*?</\1>", re.DOTALL)
_BETWEEN_TAGS = re.compile(r">\s+<")


def for_print(html: str) -> str:
    """The HTML as WeasyPrint needs it: SVG titles and descriptions left out, whitespace between tags one space.

    Neither changes what the PDF shows: a PDF draws no SVG title, and a run of whitespace between two tags
    is one space, or none between blocks, wherever it comes from. Text is escaped (no "<" or ">" in it), so
    only markup is touched; a document's own <title> (outside any SVG) stays, as the PDF's title.
    """
    html = _SVG.sub(lambda svg: _SVG_TEXT_ALTERNATIVE.sub("", svg.group()), html)
    return _BETWEEN_TAGS.sub("> <", html)


def _fetcher() -> URLFetcher:
    """WeasyPrint's URL fetcher for every document: data URLs only (see the module's docstring)."""
    from weasyprint.urls import URLFetcher

    return URLFetcher(allowed_protocols={"data"}, allow_redirects=False)


def xhtml_root(html: str) -> ElementTree.Element | None:
    """The document's tree if it is well-formed XML (the print templates are written so), else None.

    WeasyPrint parses HTML with a pure-Python HTML5 parser: a tenth of an intake summary's layout time. The
    print templates close every element (`<br/>`, `<meta .../>`) and Django escapes every text, so their HTML
    is also XML, which expat (C) parses in a fiftieth of that. Anything else (a control character pasted into a
    note, which XML forbids; a template that forgot a `/`) is parsed by WeasyPrint's own parser, as before:
    the fast way never changes what is printed, only how soon. defusedxml refuses any entity declaration or
    external reference (a record's text is escaped and could not declare one; this holds even if it were not).
    """
    try:
        root: ElementTree.Element = defused_fromstring(html)
    except (ElementTree.ParseError, DefusedXmlException):
        return None
    return root


def _document(html: str, base_url: str) -> HTML:
    """WeasyPrint's HTML document, from the tree parsed by expat when the HTML is also XML (see `xhtml_root`).

    What WeasyPrint's own HTML() does after its parser, done on our tree (a test checks the two documents
    have the same attributes, and print the same). Either way with the prints' user-agent stylesheet
    (`_print_document_class`).
    """
    import cssselect2

    document_class = _print_document_class()
    root = xhtml_root(html)
    if root is None:
        return document_class(string=html, base_url=base_url, url_fetcher=_fetcher())
    document = object.__new__(document_class)
    document.base_url = base_url  # the print templates have no <base>
    document.url_fetcher = _fetcher()
    document.media_type = "print"
    document.wrapper_element = cssselect2.ElementWrapper.from_html_root(root, content_language=None)
    document.etree_element = document.wrapper_element.etree_element
    return document


def _portable(record: logging.LogRecord) -> logging.LogRecord:
    """The record with its message formatted, so it pickles whatever its arguments were."""
    record.msg, record.args = record.getMessage(), None
    record.exc_info = record.exc_text = record.stack_info = None
    return record


def _lay_out(html: str, base_url: str) -> tuple[tuple[str, Any], list[logging.LogRecord]]:
    """In the layout process: lay the HTML out; ((kind, PDF bytes or error name), WeasyPrint's log records).

    WeasyPrint's warnings are collected and sent back with the PDF, so they reach the worker's own log
    handlers (and the tests that assert there are none) as if the layout had run there.
    """
    records: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(_portable(record))

    weasyprint_logger = logging.getLogger("weasyprint")
    weasyprint_logger.handlers = [Collect()]
    weasyprint_logger.propagate = False
    try:
        document = _document(html, base_url)
        result = ("pdf", document.write_pdf(stylesheets=[_print_stylesheet()], font_config=_font_config()))
    except Exception as error:  # reported to the worker by its name only: a message may quote the record
        result = ("error", type(error).__name__)
    return result, records


def _serve(connection: Connection, pipes: frozenset[tuple[int, int]]) -> None:
    """The layout process: lay out each document the worker sends, until the worker closes its end.

    First it lets go of what it inherited from the worker but is not its own (`_let_go`), and freezes the rest
    (gc.freeze): the cyclic collector, which runs many times during a layout, would otherwise walk the worker's
    whole heap (Django, the cached figures) each time, writing to every page of it and so copying each shared
    page; only the layouts' own objects are collected. And those only between documents: during a layout the
    collector would walk the boxes made so far again and again (they live until the PDF is written) for
    nothing (a layout's few cycles are freed when it ends); so it is off while a document is laid out, and the
    cycles are collected after the PDF is sent, while the worker answers the request (about 7 % of an intake
    summary's layout; docs/performance.md).
    """
    _let_go(keep=connection.fileno(), pipes=pipes)
    gc.freeze()
    while True:
        try:
            html, base_url = connection.recv()
        except EOFError:  # the worker closed its end (or ended): nothing more to print
            return
        gc.disable()
        try:
            answer = _lay_out(html, base_url)
        finally:
            gc.enable()
        connection.send(answer)
        gc.collect()


#: The signals a server's worker may handle itself (gunicorn: a graceful stop, a reload, a log reopen).
_WORKER_SIGNALS = ("SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGWINCH", "SIGABRT")


def _open_descriptors() -> list[tuple[int, os.stat_result]]:
    """Each descriptor this process has open, with its status; none without /proc (not Linux)."""
    try:
        descriptors = [int(fd) for fd in os.listdir("/proc/self/fd")]
    except OSError:
        return []
    open_ones = []
    for fd in descriptors:
        try:
            open_ones.append((fd, os.fstat(fd)))
        except OSError:  # gone meanwhile (the directory's own descriptor)
            continue
    return open_ones


def _open_pipes() -> frozenset[tuple[int, int]]:
    """The pipes this process has open, as (descriptor, inode), but its standard streams."""
    return frozenset(
        (fd, status.st_ino) for fd, status in _open_descriptors() if fd > 2 and stat.S_ISFIFO(status.st_mode)
    )


def _let_go(*, keep: int, pipes: frozenset[tuple[int, int]]) -> None:
    """What the layout process must not hold on to from the worker it was forked from.

    - The worker's signal handlers: gunicorn's would swallow a SIGTERM (a stop from the master, systemd or
      multiprocessing at the worker's exit), and the worker's exit would then wait on its layout process.
      Back to the defaults: a SIGTERM ends it. A Ctrl-C in a terminal is the worker's to handle: ignored here
      (the process ends with its worker, when the pipe closes). The worker's wake-up descriptor for signals
      (gunicorn's pipe) goes too: a signal here must not write into the worker's pipe, nor into whatever
      file later gets that descriptor's number here.
    - The worker's sockets (its listening socket, the connection of the request that started the process,
      its database connection): a connection closed by the worker stays open while another process holds
      it, so the other end (a proxy, the browser, PostgreSQL) would wait for an end that never came. Only
      the pipe to the worker (`keep`) stays.
    - The worker's pipes (`pipes`: those it had open just before the fork, the same pipe by its inode), for the
      same reason: a program the worker talks to through a pipe ends when the worker closes its end, and
      would wait for ever while this process holds a copy (the browser tests' Playwright driver did, and so
      did the test run at its end). The pipes multiprocessing makes for the fork itself are newer and stay.
      The standard streams stay (where an error of the process is written).

    The worker's objects that still name those descriptors are never used here, and the process ends by
    os._exit (multiprocessing), so none of them closes a descriptor number the layout has since reused for a
    file of its own.
    """
    for name in _WORKER_SIGNALS:
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.set_wakeup_fd(-1)
    for fd, status in _open_descriptors():  # without /proc (not Linux) the sockets and pipes stay until the end
        if fd != keep and (
            stat.S_ISSOCK(status.st_mode) or (stat.S_ISFIFO(status.st_mode) and (fd, status.st_ino) in pipes)
        ):
            os.close(fd)


class _LayoutProcess:
    """A process forked from the worker that lays out one document after another, stopped if one takes too long.

    Forking per document cost a fifth of an intake summary's time: the new process copies every page of the
    worker's memory that WeasyPrint touches, and starts with cold caches; a process kept between documents
    pays that once (docs/performance.md, "The layout process"). It is started on the worker's first print,
    replaced after `MAX_DOCUMENTS` (so whatever WeasyPrint keeps between documents stays bounded), and
    killed when a layout overruns the timeout or fails hard; the next print starts a new one. It is a daemon:
    it ends with the worker (and reads the end of its pipe if the worker is killed).
    """

    MAX_DOCUMENTS = 200

    def __init__(self) -> None:
        self.process: multiprocessing.process.BaseProcess | None = None
        self.connection: Connection | None = None
        self.documents = 0
        # One document at a time per process; a second thread of the same worker (a threaded dev or test
        # server) gets a process of its own for its document (`lay_out(..., own_process=True)`).
        self.lock = threading.Lock()

    def start(self) -> None:
        fork = multiprocessing.get_context("fork")
        ours, theirs = fork.Pipe(duplex=True)
        pipes = _open_pipes()  # before the fork's own pipes are made
        self.process = fork.Process(target=_serve, args=(theirs, pipes), name="kast-pdf", daemon=True)
        self.process.start()
        theirs.close()  # the process keeps its copy
        self.connection, self.documents = ours, 0

    def stop(self) -> None:
        """End the process (killed: it may be mid-layout) and forget it."""
        if self.connection is not None:
            self.connection.close()
        if self.process is not None:
            if self.process.is_alive():
                self.process.kill()
            self.process.join()
        self.process = self.connection = None

    def lay_out(self, html: str, base_url: str, timeout: float) -> tuple[tuple[str, Any], list[logging.LogRecord]]:
        """The document laid out, or PdfUnavailable (the process is then stopped, a new one made next time)."""
        if self.process is None or not self.process.is_alive() or self.documents >= self.MAX_DOCUMENTS:
            self.stop()
            self.start()
        assert self.connection is not None and self.process is not None  # just started
        try:
            self.connection.send((html, base_url))
            if not self.connection.poll(timeout):
                self.stop()
                logger.warning("A PDF was not laid out within %s seconds: stopped, nothing printed.", timeout)
                raise PdfUnavailable("timeout", timed_out=True)
            answer: tuple[tuple[str, Any], list[logging.LogRecord]] = self.connection.recv()
        except (EOFError, OSError):  # the process ended without a PDF
            self.process.join(timeout=5)
            logger.error("The PDF process ended without a PDF (exit code %s): nothing printed.", self.process.exitcode)
            self.stop()
            raise PdfUnavailable("no result") from None
        self.documents += 1
        return answer


#: This worker's layout process (see _LayoutProcess); `stop_layout_process` ends it.
_layout_process = _LayoutProcess()


def stop_layout_process() -> None:
    """End this worker's layout process, if it runs (the next print starts a new one)."""
    with _layout_process.lock:
        _layout_process.stop()


def write_pdf(html: str, *, base_url: str) -> bytes:
    """The PDF of `html`, laid out in the worker's layout process, which is stopped after PDF_RENDER_TIMEOUT seconds.

    Raises PdfUnavailable when it takes longer, or when the layout fails.
    """
    _warm()  # WeasyPrint imported, the stylesheet parsed and the fonts loaded here once: every child starts warm
    timeout = settings.PDF_RENDER_TIMEOUT
    html = for_print(html)
    if _layout_process.lock.acquire(blocking=False):
        try:
            (kind, value), records = _layout_process.lay_out(html, base_url, timeout)
        finally:
            _layout_process.lock.release()
    else:  # another thread of this worker is printing: a process of its own, for this document only
        own = _LayoutProcess()
        try:
            (kind, value), records = own.lay_out(html, base_url, timeout)
        finally:
            own.stop()
    for record in records:
        logging.getLogger(record.name).handle(record)
    if kind != "pdf":
        logger.error("WeasyPrint failed with %s: nothing printed.", value)
        raise PdfUnavailable(value)
    assert isinstance(value, bytes)  # a "pdf" result is the PDF's bytes
    return value


def render_pdf(template: str, context: dict[str, Any], *, request: HttpRequest) -> bytes:
    """The template as PDF with the print stylesheet; raises PdfUnavailable when it cannot be made in time."""
    html = render_to_string(template, context, request=request)
    return write_pdf(html, base_url=request.build_absolute_uri("/"))


def pdf_response(pdf: bytes, *, filename: str) -> HttpResponse:
    response = HttpResponse(pdf, content_type="application/pdf")
    # The file name carries the client code only, never a name.
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


def pdf_unavailable(request: HttpRequest, error: PdfUnavailable) -> HttpResponse:
    """The page instead of a PDF that could not be made: says so plainly; nothing was printed or logged."""
    response = render(request, "kast/pdf_unavailable.html", {"timed_out": error.timed_out}, status=503)
    response["Cache-Control"] = "no-store"
    return response


def print_response(
    request: HttpRequest,
    *,
    template: str,
    context: Callable[[], dict[str, Any]],
    filename: str,
    log_print: Callable[[], object],
) -> HttpResponse:
    """The PDF of `template`, logged as a print only if it is made; else the page that says it could not be.

    Views call this on a deliberate request only (a POST with its CSRF token), so a link from another site
    can neither make a PDF nor write a print under the user's name. `log_print` writes the print entry first,
    in one transaction with the rendering, so a document that lists its own printing (the right-of-access
    extract) shows it; `context` is built after it. A PDF not made in time rolls the entry back.
    """
    try:
        with transaction.atomic():
            log_print()
            pdf = render_pdf(template, context(), request=request)
    except PdfUnavailable as error:
        return pdf_unavailable(request, error)
    return pdf_response(pdf, filename=filename)
