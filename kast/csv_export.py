"""The one CSV writer of the app: every file it hands out neutralises cells a spreadsheet would run as a formula."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence

from django.http import HttpResponse

#: What Excel, LibreOffice and Google Sheets start a formula (or a DDE call) with. A text cell such as
#: `=HYPERLINK("https://…?"&A1)` typed into a free-text field would otherwise run on a manager's
#: machine when the file is opened, and could send the sheet's other cells away (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralised(value: object) -> object:
    """The cell as written: a text that a spreadsheet would read as a formula gets a leading apostrophe,
    which the spreadsheet shows as text. Numbers stay numbers: a negative figure is not a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_response(filename: str, header: Sequence[object], rows: Iterable[Sequence[object]]) -> HttpResponse:
    """An attachment of `header` and `rows`, every text cell neutralised, never cached by a browser or proxy."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    writer = csv.writer(response)
    writer.writerow([neutralised(cell) for cell in header])
    writer.writerows([neutralised(cell) for cell in row] for row in rows)
    return response
