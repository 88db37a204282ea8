"""The yearly report PDF: exact figures with "<5" for small counts, bars beside them, a Swedish summary, no content."""

from __future__ import annotations

import datetime
import html
import io
import logging
import re
from decimal import Decimal
from types import SimpleNamespace
from urllib.parse import urlencode

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from pypdf import PdfReader

from assessments.models import Administration, Answer, ItemKind, TimePoint
from assessments.services import version_for
from clients.models import DeepInterviewSection, EndReason, Episode
from figures import year_report
from kast.models import AccessLogEntry, Role
from sessions.models import Attendance
from tests.factories import ClientFactory, NoteFactory, TherapySessionFactory, UserFactory, open_first_period
from tests.factories import put_in_treatment as in_treatment

pytestmark = pytest.mark.django_db

SENTINEL = "SENTINEL-year-report-7"
YEAR = 2025
#: The running header, in capitals by the print stylesheet, as in tests/clients/test_intake_pdf.py.
HEADER = "Sekretess enligt OSL 26 kap.".upper()


def d(text: str) -> datetime.date:
    return datetime.date.fromisoformat(text)


@pytest.fixture
def year_caseload(gbg, therapist, colleague, other_clinic_therapist):
    """Göteborg in 2025: six new clients in January, each seen on 20 January and 17 February (waiting 10 days),
    one missed session in March, one treatment period ended in March. Noise in Malmö and in 2024.

    Anna and Bertil work full time: 2.0 full-time therapists, 12 sessions held, 6.0 per full-time therapist.
    """
    assert therapist.fte == colleague.fte == Decimal("1.00")
    clients = []
    for i in range(6):
        c = ClientFactory(
            responsible_therapist=therapist if i % 2 else colleague,
            first_contact_date=d("2025-01-10"),
            target_groups=["buying_sex"],
            referral_source="self",
            alias=f"{SENTINEL}-alias-{i}",
        )
        in_treatment(open_first_period(c))
        held = TherapySessionFactory(client=c, date=d("2025-01-20"))
        TherapySessionFactory(client=c, date=d("2025-02-17"))
        clients.append(c)
    NoteFactory(session=held, text=f"{SENTINEL}-note")
    TherapySessionFactory(client=clients[0], date=d("2025-03-03"), attendance=Attendance.NO_SHOW)
    Episode.objects.filter(client=clients[1]).update(closed_on=d("2025-03-31"), end_reason=EndReason.GOAL_REACHED)
    DeepInterviewSection.objects.create(
        client=clients[0], section="childhood", text=f"{SENTINEL}-interview", updated_by=colleague
    )
    administration = Administration.objects.create(
        client=clients[0],
        episode=clients[0].episodes.get(),
        time_point=TimePoint.START,
        version=version_for(TimePoint.START),
        created_by=colleague,
        submitted_at=timezone.make_aware(datetime.datetime(2025, 1, 20, 11)),
    )
    text_item = administration.version.items.filter(kind=ItemKind.TEXT).first()
    assert text_item is not None, "the start questionnaire has a free-text item"
    Answer.objects.create(administration=administration, item=text_item, value_text=f"{SENTINEL}-answer")
    # Noise: another year, another clinic.
    earlier = in_treatment(
        open_first_period(ClientFactory(responsible_therapist=therapist, first_contact_date=d("2024-11-01")))
    )
    TherapySessionFactory(client=earlier, date=d("2024-12-30"))
    m1 = in_treatment(
        open_first_period(
            ClientFactory(responsible_therapist=other_clinic_therapist, first_contact_date=d("2025-02-01"))
        )
    )
    for day in range(1, 10):
        TherapySessionFactory(client=m1, date=d(f"2025-05-{day:02d}"))
    return gbg


def year_pdf(http, year: int = YEAR, **params):
    """The dashboard's button: a POST, with national follow-up's clinic in the query string."""
    query = f"?{urlencode(params)}" if params else ""
    return http.post(reverse("figures:dashboard_year_pdf", args=[year]) + query)


def pdf_pages(response) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages]


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def body_text(pages: list[str]) -> str:
    """The pages' text without the running header and footer (they come last in each page's text)."""
    return flat(" ".join(page.split(HEADER)[0] for page in pages))


def test_the_yearly_report_prints_every_figure(client, manager, year_caseload, caplog):
    caplog.set_level(logging.WARNING, logger="weasyprint")
    client.force_login(manager)

    response = year_pdf(client)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'inline; filename="kast-year-report-2025-GBG.pdf"'
    assert "no-store" in response["Cache-Control"]
    assert [r.getMessage() for r in caplog.records if r.name.startswith("weasyprint")] == []
    pages = pdf_pages(response)
    assert len(pages) >= 2
    for number, page in enumerate(pages, start=1):
        assert HEADER in page
        assert _("Confidential under OSL chapter 26").upper() in page
        assert f"{number} / {len(pages)}" in page
        assert "Doris" in page  # printed by
    text = body_text(pages)
    assert "Göteborg" in text and "Malmö" not in text

    # The summary, word for word: 12 sessions held, 6.0 per full-time therapist (staff are not persons in care:
    # their number is no small count); 6 clients treated, all for the first time; 6 new contacts; 1 ended
    # period (under 5: "<5"); median waiting 10 days (six clients, so it may be given); zeros stay zeros.
    summary = " ".join(
        [
            _("In %(year)s the clinic held %(held)s sessions, %(per_fte)s per full-time therapist.")
            % {"year": 2025, "held": "12", "per_fte": "6,0"},
            _(
                "%(persons)s clients received treatment, %(new)s of them for the first time and %(returning)s "
                "returning after an earlier treatment period."
            )
            % {"persons": "6", "new": "6", "returning": "0"},
            _("%(new)s new contacts were registered and %(ended)s treatment periods ended.")
            % {"new": "6", "ended": "<5"},
            _("The median waiting time from first contact to first session was %(days)s days.") % {"days": "10,0"},
            _(
                "%(relatives)s relatives came for support of their own, and the children's need of support was "
                "considered on %(considered)s records."
            )
            % {"relatives": "0", "considered": "0"},
        ]
    )
    assert flat(summary) in text

    # The tables, figure by figure: 5 or more as the number, 1 to 4 as "<5", 0 as 0. The attendance shares are
    # left out: the sessions due (13) less the 12 held would give the one missed session.
    for label, shown in [
        (_("Sessions held"), "12"),
        (_("Therapists counted"), "2"),  # staff, not persons in care: shown as they are
        (_("Full-time equivalents"), "2,0"),
        (_("Sessions held per full-time therapist"), "6,0"),
        (_("Clients whose first session was held in the period"), "6"),
        (_("Median (days)"), "10,0"),
        (_("90th percentile (days)"), "10,0"),
        (_("Held"), "12"),
        (_("Cancelled by the client"), "0"),
        (_("Did not come, without notice"), "<5"),
        (_("Under 3 months"), "<5"),
        (_("3–6 months"), "0"),
        (_("Couple sessions held"), "0"),
        (_("Reached treatment"), "6 100\xa0%"),
        (_("With a questionnaire at treatment start"), "<5"),  # and no share: 1 of 6
    ]:
        assert flat(f"{label} {shown}".strip() + " ") in text + " ", label
    # Left out means nothing at all in the cell: the next row's label follows the figure's own.
    for left_out in [
        [_("Held"), "12", _("Cancelled by the client"), "0"],
        [_("With a questionnaire at treatment start"), "<5", _("With a questionnaire at treatment end"), "0 0\xa0%"],
    ]:
        assert flat(" ".join(left_out)) in text, left_out
    # The months: 6 held in January and in February, none in March; 6 new contacts in January, all on their own.
    january, february, march, april = (
        formats.date_format(d(day), "YEAR_MONTH_FORMAT")
        for day in ("2025-01-01", "2025-02-01", "2025-03-01", "2025-04-01")
    )
    assert f"{january} 6 6 0 0 0 {february} 0 0 0 0 0 {march}" in text  # new contacts by target group
    assert f"{january} 6 0 0 0 0 0 0 0 {february}" in text  # new contacts by who referred them
    # Held by type (a page may break between two months: the table's head is then repeated).
    assert f"{january} 6 6 0 0 0 0 0 " in text and f"{february} 6 6 0 0 0 0 0 {march} 0 0 0 0 0 0 0 {april}" in text
    assert " .. " not in text  # nothing had to be withheld: no hidden count could be worked out

    # The charted tables draw their bars beside the figures: each label and figure is written once.
    assert text.count(_("Sessions held per month, by type")) == 1


def test_each_charted_table_draws_a_bar_beside_its_first_figure(manager, year_caseload):
    """The charts are bars in their tables (figures/year_report.py): no label or figure is written twice."""
    report = year_report.year_report(manager.clinic, YEAR)
    charted = {table.key: bars for table, bars in report["sections"] if bars is not None}
    assert set(charted) == set(year_report.CHARTS) & {table.key for table, _bars in report["sections"]}

    held = {bar.row.label: bar.length for bar in charted["attendance"]}
    assert held[_("Held")] == 100.0  # 12 held: the longest
    assert held[_("Did not come, without notice")] == 0.0  # 1 missed: "<5", no bar may show its size
    page = render_to_string("figures/year_report_pdf.html", {**report, "printed_by": manager})
    assert page.count('<span style="width: 100.0%"></span>') >= 1
    assert "<svg" not in page


def test_no_content_ever_reaches_the_pdf(client, manager, year_caseload):
    client.force_login(manager)

    text = "\n".join(pdf_pages(year_pdf(client)))

    assert "SENTINEL" not in text
    assert SENTINEL not in flat(text).replace(" ", "")
    assert "TST-" not in text  # no client code either


def test_an_empty_year_says_so(client, manager, year_caseload, caplog):
    caplog.set_level(logging.WARNING, logger="weasyprint")
    client.force_login(manager)

    response = year_pdf(client, 2019)

    assert response.status_code == 200
    assert [r.getMessage() for r in caplog.records if r.name.startswith("weasyprint")] == []
    pages = pdf_pages(response)
    text = body_text(pages)
    assert _("No data for this year") in text
    assert f"1 / {len(pages)}" in pages[0]


#: The report's one note on suppression (the ".." sentence only when a count was withheld).
NOTE = (
    "Counts only: no note, questionnaire answer or client detail is included. Counts under 5 are shown as “<5”, so "
    "that no one can be recognised."
)
WITHHELD_NOTE = "A count that would let a hidden one be worked out by subtraction is shown as “..”."


def test_a_year_with_no_data_prints_a_report_that_says_so_word_for_word(client, manager, year_caseload):
    """Bad input: a year with nothing recorded is a PDF that says so, not an error and not a page of empty tables."""
    client.force_login(manager)

    response = year_pdf(client, 2019)

    assert (response.status_code, response["Content-Type"]) == (200, "application/pdf")
    pages = pdf_pages(response)
    assert len(pages) == 1
    start, end = (formats.date_format(d(day), "SHORT_DATE_FORMAT") for day in ("2019-01-01", "2019-12-31"))
    assert body_text(pages).strip() == flat(
        " ".join(
            [
                _("Yearly report %(year)s") % {"year": 2019},
                f"{year_caseload.name} ·",
                _("From %(start)s to %(end)s") % {"start": start, "end": end},
                _(NOTE),
                _("No data for this year"),
                _("Nothing was recorded in this year: no contacts, sessions, treatment periods or follow-ups."),
            ]
        )
    )


def test_the_report_says_once_what_is_hidden_and_hides_no_zero(client, manager, year_caseload):
    client.force_login(manager)

    text = body_text(pdf_pages(year_pdf(client)))

    assert text.count(_(NOTE)) == 1
    assert not re.search(r"[“”\"']<5[“”\"']", text.replace(_(NOTE), ""))  # no table repeats the note
    assert _(WITHHELD_NOTE) not in text  # nothing was withheld this year ("..": see the test above)
    # Zeros are counts like any other: 0 in the summary and the tables, never "<5".
    assert _("Cancelled by the client") + " 0" in text


def test_the_note_explains_withheld_counts_only_when_there_are_some(manager):
    """The ".." sentence comes with a report that withholds a count (figures.suppression.WITHHELD), else not."""
    scope = SimpleNamespace(start=d("2025-01-01"), end=d("2025-12-31"))
    context = {"year": 2025, "figures": SimpleNamespace(is_empty=True, scope=scope), "printed_by": manager}

    pages = [
        html.unescape(render_to_string("figures/year_report_pdf.html", {**context, "withheld": withheld}))
        for withheld in (True, False)
    ]

    assert [page.count(_(WITHHELD_NOTE)) for page in pages] == [1, 0]
    assert [page.count(_(NOTE)) for page in pages] == [1, 1]


def test_the_note_speaks_of_withheld_counts_when_a_cell_or_the_summary_shows_one():
    from figures.statistics import Cell, Row, Table
    from figures.suppression import SMALL, WITHHELD
    from figures.year_report import shows_withheld

    def table(*marks):
        cells = [Cell(9, key=f"k{i}", mark=mark) for i, mark in enumerate(marks)]
        return Table("t", "T", "Month", ["Held"], [Row("r", "January", cells)])

    assert shows_withheld([table(None, SMALL)], ["In 2025 the clinic held 12 sessions."]) is False
    assert shows_withheld([table(None, WITHHELD)], []) is True
    assert shows_withheld([table(None)], [".. new contacts were registered and <5 treatment periods ended."]) is True


def test_a_clinic_with_no_data_prints_an_empty_report(client, mlm):
    manager = UserFactory(role=Role.MANAGER, clinic=mlm)
    client.force_login(manager)

    response = year_pdf(client)

    assert response.status_code == 200
    assert _("No data for this year") in body_text(pdf_pages(response))


def test_each_print_is_logged(client, manager, year_caseload):
    client.force_login(manager)

    year_pdf(client)
    year_pdf(client, 2024)

    entries = AccessLogEntry.objects.filter(user=manager, action=AccessLogEntry.Action.PRINT).order_by("at")
    assert [(e.object_type, e.reason) for e in entries] == [
        ("kast.year_report", "year=2025 clinic=GBG"),
        ("kast.year_report", "year=2024 clinic=GBG"),
    ]


def test_another_clinic_is_refused_and_logged(client, manager, year_caseload, mlm):
    client.force_login(manager)
    url = reverse("figures:dashboard_year_pdf", args=[YEAR])

    response = year_pdf(client, clinic=mlm.pk)

    assert response.status_code == 403
    entry = AccessLogEntry.objects.get(user=manager, action=AccessLogEntry.Action.DENIED)
    assert (entry.path, entry.object_type) == (url, "kast.year_report")
    assert not AccessLogEntry.objects.filter(action=AccessLogEntry.Action.PRINT).exists()
    # Their own clinic asked for by id is fine.
    assert year_pdf(client, clinic=year_caseload.pk).status_code == 200


def test_a_therapist_cannot_print_it(client, therapist, year_caseload):
    client.force_login(therapist)
    assert year_pdf(client).status_code == 403


def test_national_follow_up_prints_one_clinic_or_all(client, year_caseload, mlm):
    national = UserFactory(role=Role.NATIONAL, clinic=None)
    client.force_login(national)

    one = body_text(pdf_pages(year_pdf(client, clinic=year_caseload.pk)))
    everything = body_text(pdf_pages(year_pdf(client)))

    assert "Göteborg" in one
    # Göteborg's 12 and Malmö's 9, by three full-time therapists.
    held = _("In %(year)s the clinics held %(held)s sessions, %(per_fte)s per full-time therapist.") % {
        "year": 2025,
        "held": "21",
        "per_fte": "7,0",
    }
    assert flat(held) in everything
    assert _("All clinics") in everything
    # Malmö's one client was a new contact in February, had a first session in May and reached treatment:
    # national follow-up sees all clinics and Göteborg, so one of the two is withheld wherever their
    # difference would be Malmö's 1 (figures.suppression). The new contacts of the year: all clinics' withheld.
    new = _("%(new)s new contacts were registered and %(ended)s treatment periods ended.")
    assert flat(new % {"new": "..", "ended": "<5"}) in everything
    assert flat(new % {"new": "6", "ended": "<5"}) in one
    # The first sessions (7 and 6) and the periods reaching treatment (7 and 6): Göteborg's withheld.
    first = _("Clients whose first session was held in the period")
    assert f"{first} 7 " in everything and f"{first} .. " in one
    assert (
        flat(_("The waiting time is not given this year, so that no one can be recognised from the other figures."))
        in one
    )
    reached = _("Reached treatment")
    assert f"{reached} 7 100 %" in everything and f"{reached} .. " in one  # (flat: a space for the no-break one)
    reasons = list(
        AccessLogEntry.objects.filter(user=national, action=AccessLogEntry.Action.PRINT)
        .order_by("at")
        .values_list("reason", flat=True)
    )
    assert reasons == ["year=2025 clinic=GBG", "year=2025 clinic=all"]
    assert year_pdf(client, clinic=999999).status_code == 404
    assert year_pdf(client, clinic="x").status_code == 404


def test_a_year_out_of_range_is_404(client, manager, year_caseload):
    client.force_login(manager)
    assert year_pdf(client, 1066).status_code == 404


def test_the_dashboard_links_to_the_report_for_managers_only(client, manager, therapist, year_caseload):
    client.force_login(manager)
    body = client.get(reverse("figures:dashboard"), {"period": "year", "start": "2025-06-01"}).content.decode()
    assert reverse("figures:dashboard_year_pdf", args=[2025]) in body

    client.force_login(therapist)
    body = client.get(reverse("figures:dashboard")).content.decode()
    assert "data-year-report" not in body


def test_the_dashboard_link_keeps_national_follow_ups_clinic(client, year_caseload):
    client.force_login(UserFactory(role=Role.NATIONAL, clinic=None))
    body = client.get(
        reverse("figures:dashboard"), {"period": "year", "start": "2025-06-01", "clinic": year_caseload.pk}
    )
    assert f"{reverse('figures:dashboard_year_pdf', args=[2025])}?clinic={year_caseload.pk}" in body.content.decode()


# --- the bars ----------------------------------------------------------------------------------------------------


def test_a_tables_bars_are_in_proportion_and_a_hidden_figure_has_none():
    from figures.statistics import Cell, Row, Table
    from figures.suppression import SMALL

    rows = [
        Row("a", "January", [Cell(10, key="a"), Cell(1, key="a2")]),
        Row("b", "February", [Cell(5, key="b"), Cell(40, key="b2")]),  # the second column draws no bar
        Row("c", "March", [Cell(0, key="c"), Cell(0, key="c2")]),
        Row("d", "April", [Cell(3, key="d", mark=SMALL), Cell(2, key="d2")]),  # "<5": its size may not show
    ]
    table = Table("t", "T", "Month", ["Held", "Other"], rows)

    assert [(bar.row.label, bar.length) for bar in year_report.bars(table)] == [
        ("January", 100.0),
        ("February", 50.0),
        ("March", 0.0),
        ("April", 0.0),
    ]
    assert [bar.length for bar in year_report.bars(Table("t", "T", "Month", ["Held"], rows[2:]))] == [0.0, 0.0]
    assert year_report.bars(Table("t", "T", "Month", ["Held"], [])) == []


def test_the_yearly_report_is_parsed_the_fast_way_and_laid_out_as_before(client, manager, year_caseload, monkeypatch):
    """Its HTML, bars and notes included, is also XML: expat parses it (kast.pdf.xhtml_root), the layout is the same."""
    from tests.pdfs import assert_laid_out_as_by_weasyprint_alone, capture_print_html

    printed = capture_print_html(monkeypatch)
    client.force_login(manager)
    assert year_pdf(client).status_code == 200

    (html,) = printed
    assert 'class="bar"' in html
    assert_laid_out_as_by_weasyprint_alone(html)
