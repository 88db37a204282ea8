"""PDF printing with WeasyPrint: HTML from a Django template plus one print stylesheet.

WeasyPrint costs ~0.6 s to import and ~0.5 s to parse a large stylesheet, so both happen once
per process, on first use; Bootstrap is never fed to it (static/css/print.css is standalone).
"""

from __future__ import annotations

import functools

from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string


@functools.cache
def _print_stylesheet():
    from weasyprint import CSS

    return CSS(filename=finders.find("css/print.css"))


def render_pdf(template: str, context: dict, *, request: HttpRequest) -> bytes:
    from weasyprint import HTML

    html = render_to_string(template, context, request=request)
    return HTML(string=html, base_url=request.build_absolute_uri("/")).write_pdf(stylesheets=[_print_stylesheet()])


def pdf_response(pdf: bytes, *, filename: str) -> HttpResponse:
    response = HttpResponse(pdf, content_type="application/pdf")
    # The file name carries the client code only, never a name.
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
