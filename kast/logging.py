"""Keeps client data out of logs and error reports (names can sit in a query string or a form)."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any, TypeVar

from django.http import HttpRequest
from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

_QUERY = re.compile(r"\?[^\s\"]*")

_V = TypeVar("_V")


def _strip_query(value: _V) -> _V | str:
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


# PostgreSQL quotes the offending values in an error's DETAIL line: "Key (clinic_id, personnummer)=(3, 19800101-1234)
# already exists." or "Failing row contains (…)". In a traceback the line stands alone; in an exception's repr
# it follows a literal "\n". Either way everything after "DETAIL:" up to the end of that line goes.
_DETAIL = re.compile(r"(DETAIL:)(?:(?!\\n)[^\n])*")
# The same values without the DETAIL prefix (a message that quotes only part of the error).
_KEY_VALUES = re.compile(r"(Key \([^)\n]*\)=)\((?:(?!\\n)[^\n])*")
_FAILING_ROW = re.compile(r"(Failing row contains )(?:(?!\\n)[^\n])*")


def mask_database_detail(text: str) -> str:
    """The text with every value PostgreSQL quoted in a DETAIL line replaced by "…"."""
    text = _DETAIL.sub(r"\1  …", text)
    text = _KEY_VALUES.sub(r"\1(…)", text)
    return _FAILING_ROW.sub(r"\1(…)", text)


def _mask_argument(value: object) -> object:
    # An exception passed as an argument ("failed: %s", error) is formatted with its DETAIL line.
    if isinstance(value, BaseException):
        return mask_database_detail(str(value))
    return mask_database_detail(value) if isinstance(value, str) else value


class MaskDatabaseDetailFilter(logging.Filter):
    """Masks the values PostgreSQL quotes in DETAIL lines, in the message, its arguments and the traceback.

    An IntegrityError that escapes (a 500) is logged by django.request with its traceback, whose last
    line is the error's text: the personnummer of a duplicate identity would reach the server log."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = mask_database_detail(record.msg)
        if isinstance(record.args, Mapping):
            record.args = {key: _mask_argument(value) for key, value in record.args.items()}
        elif record.args:
            record.args = tuple(_mask_argument(a) for a in record.args)
        if record.exc_info and not record.exc_text:
            # Formatters reuse exc_text when it is set, so the traceback is written masked by every handler.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_database_detail(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_database_detail(record.stack_info)
        return True


class ConfidentialExceptionReporterFilter(SafeExceptionReporterFilter):
    """Masks every POST value and every query string in error reports, not just passwords."""

    def get_post_parameters(self, request: HttpRequest | None) -> dict[str, Any]:
        if request is None:
            return {}
        return {key: self.cleansed_substitute for key in request.POST}

    # Django's report iterates the pairs: a list of them serves as well as the items view the stubs name.
    def get_traceback_frame_variables(  # type: ignore[override]
        self, request: Any, tb_frame: Any
    ) -> list[tuple[str, str]]:
        return [
            (name, self.cleansed_substitute) for name, _ in super().get_traceback_frame_variables(request, tb_frame)
        ]

    def get_safe_request_meta(self, request: HttpRequest) -> dict[str, Any]:
        # QUERY_STRING, and the query part of HTTP_REFERER, RAW_URI, REQUEST_URI and the like.
        return {
            key: self.cleansed_substitute if key == "QUERY_STRING" and value else _strip_query(value)
            for key, value in super().get_safe_request_meta(request).items()
        }


class ConfidentialExceptionReporter(ExceptionReporter):
    """Django's report, without the query string it reads from the request itself (past the filter)."""

    def get_traceback_data(self) -> dict[str, Any]:
        data = super().get_traceback_data()
        if self.request is not None:
            data["request_GET_items"] = [(key, self.filter.cleansed_substitute) for key in self.request.GET]
            data["request_insecure_uri"] = _strip_query(data["request_insecure_uri"])
        return data
