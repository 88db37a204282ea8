"""Keeps client data out of logs and error reports (names can sit in a query string or a form)."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping

from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

_QUERY = re.compile(r"\?[^\s\"]*")


def _strip_query(value):
    return _QUERY.sub("?…", value) if isinstance(value, str) else value


class StripQueryStringFilter(logging.Filter):
    """Drops everything after '?' in request lines, e.g. `"GET /clients/?q=Name HTTP/1.1"`."""

    def filter(self, record: logging.LogRecord) -> bool:
        # `logger.info("%(path)s", {...})` leaves a mapping in record.args; it must stay one.
        if isinstance(record.args, Mapping):
            record.args = {key: _strip_query(value) for key, value in record.args.items()}
        elif record.args:
            record.args = tuple(_strip_query(a) for a in record.args)
        if isinstance(record.msg, str):
            record.msg = _strip_query(record.msg)
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

    def get_safe_request_meta(self, request):
        # QUERY_STRING, and the query part of HTTP_REFERER, RAW_URI, REQUEST_URI and the like.
        return {
            key: self.cleansed_substitute if key == "QUERY_STRING" and value else _strip_query(value)
            for key, value in super().get_safe_request_meta(request).items()
        }


class ConfidentialExceptionReporter(ExceptionReporter):
    """Django's report, without the query string it reads from the request itself (past the filter)."""

    def get_traceback_data(self):
        data = super().get_traceback_data()
        if self.request is not None:
            data["request_GET_items"] = [(key, self.filter.cleansed_substitute) for key in self.request.GET]
            data["request_insecure_uri"] = _strip_query(data["request_insecure_uri"])
        return data
