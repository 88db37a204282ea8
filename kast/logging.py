"""Keeps client data out of logs and error reports (names can sit in a query string or a form)."""

from __future__ import annotations

import logging
import re

from django.views.debug import SafeExceptionReporterFilter

_QUERY = re.compile(r"\?[^\s\"]*")


class StripQueryStringFilter(logging.Filter):
    """Drops everything after '?' in request lines, e.g. `"GET /clients/?q=Name HTTP/1.1"`."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.args = tuple(_QUERY.sub("?…", a) if isinstance(a, str) else a for a in record.args)
        if isinstance(record.msg, str):
            record.msg = _QUERY.sub("?…", record.msg)
        return True


class ConfidentialExceptionReporterFilter(SafeExceptionReporterFilter):
    """Masks every POST value and every query string in error reports, not just passwords."""

    def get_post_parameters(self, request):
        if request is None:
            return {}
        return {key: self.cleansed_substitute for key in request.POST}

    def get_traceback_frame_variables(self, request, tb_frame):
        return [
            (name, self.cleansed_substitute) for name, _ in super().get_traceback_frame_variables(request, tb_frame)
        ]
