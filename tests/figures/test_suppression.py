"""Small numbers never identify a person, for every role: the rule (figures.suppression) and every page that asks it.

No count from 1 to 4 and no share resting on one is shown in a page, chart, CSV or PDF, to a therapist, a
manager or national follow-up; a hidden count cannot be worked out by subtraction (a row's total less its
other cells, all clinics less the other clinics); a questionnaire report of fewer than 5 people is refused.
"""

from __future__ import annotations

import csv
import datetime
import html
import io
import itertools
import json
import random
import re

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.translation import gettext as _
from pypdf import PdfReader

from clients.models import Client
from figures.suppression import (
    SMALL,
    WITHHELD,
    Figures,
    Relation,
    is_small,
    protect,
    protect_across,
    shown_count,
    shown_share,
)
from figures.views import REFUSED
from kast.models import AccessLogEntry, Role
from sessions.models import Attendance
from tests.assessments.test_filling import administration_of, as_read, fill_url, valid_answers
from tests.factories import ClientFactory, TherapySessionFactory, UserFactory, open_first_period, put_in_treatment
from tests.figures.test_reports import administer, period

SMALL_NUMBERS = {"1", "2", "3", "4"}
JANUARY = {"period": "month", "start": "2025-01-15"}


# --- The rule --------------------------------------------------------------------------------------------------


def test_a_count_is_shown_as_less_than_five_from_one_to_four_and_zero_stays_zero():
    with translation.override("sv"):
        assert [shown_count(n) for n in (0, 1, 2, 3, 4, 5, 12345)] == ["0", "<5", "<5", "<5", "<5", "5", "12\xa0345"]
        assert shown_count(None) == "–"
        assert (shown_count(9, WITHHELD), shown_count(3, SMALL)) == ("..", "<5")
        assert shown_count(3, plain=True) == "<5"  # a CSV cell too
    assert [is_small(n) for n in (None, 0, 1, 4, 5)] == [False, False, True, True, False]


def test_a_share_is_left_out_when_its_count_or_its_whole_is_small():
    with translation.override("sv"):
        assert shown_share(1, 1) == ""  # "1 of 1, 100 %"
        assert shown_share(1, 20) == ""  # 1 person
        assert shown_share(4, 4) == ""
        assert shown_share(5, 10) == "50\xa0%"
        assert shown_share(0, 7) == "0\xa0%"  # nobody: identifies nobody
        assert shown_share(0, 0) == "–"
        assert shown_share(6, 12, hidden=True) == ""  # resting on a withheld count
        assert shown_share(6, 12, plain=True) == "50"


def test_the_issues_example_all_clinics_less_one_clinic():
    """All clinics 13, Göteborg 9: Malmö's hidden 4 was 13 - 9. Now Göteborg's 9 is withheld too."""
    hidden = protect({"all": 13, "gbg": 9, "mlm": 4}, [Relation("all", ("gbg", "mlm"))], shown={"all", "gbg", "mlm"})

    assert hidden == {"mlm": SMALL, "gbg": WITHHELD}


def test_the_next_smallest_part_is_withheld():
    values = {"total": 60, "a": 3, "b": 30, "c": 20, "d": 7}
    hidden = protect(values, [Relation("total", ("a", "b", "c", "d"))], shown=set(values))

    assert hidden == {"a": SMALL, "d": WITHHELD}


def test_two_hidden_parts_that_add_up_to_their_extremes_are_still_pinned():
    """8 = 4 + 4 (both "<5", so each at most 4): both are 4. 2 = 1 + 1 is the same at the other end."""
    for a, b in [(4, 4), (1, 1)]:
        values = {"total": a + b + 10, "a": a, "b": b, "c": 10}
        hidden = protect(values, [Relation("total", ("a", "b", "c"))], shown=set(values))
        assert hidden == {"a": SMALL, "b": SMALL, "c": WITHHELD}, (a, b)
    # 3 = 1 + 2: each could be 1 or 2. Nothing more to withhold.
    values = {"total": 13, "a": 1, "b": 2, "c": 10}
    assert protect(values, [Relation("total", ("a", "b", "c"))], shown=set(values)) == {"a": SMALL, "b": SMALL}


def test_a_total_known_only_through_shares_is_withheld_first():
    """The attendance table: its total (the sessions due) shows only through the shares: those go first."""
    values = {"due": 13, "held": 12, "cancelled": 0, "no_show": 1}
    relation = Relation("due", ("held", "cancelled", "no_show"), total_first=True)

    assert protect(values, [relation], shown=set(values)) == {"no_show": SMALL, "due": WITHHELD}


def test_answers_of_fewer_than_five_hide_their_zeros_and_a_small_rest_is_protected():
    private = {"rest": True, "private": True, "total_first": True}
    # 3 answered, none agreed: "0 of <5" would say what each of them answered.
    assert protect(
        {"answered": 3, "yes": 0}, [Relation("answered", ("yes",), **private)], shown={"answered", "yes"}
    ) == {
        "answered": SMALL,
        "yes": SMALL,
    }
    # 7 answered, 6 agreed: the 1 who did not is protected; the answered are withheld, the 6 stay.
    assert protect(
        {"answered": 7, "yes": 6}, [Relation("answered", ("yes",), **private)], shown={"answered", "yes"}
    ) == {"answered": WITHHELD}


def test_a_clinics_own_marks_stay_for_national_follow_up():
    whole, gbg, mlm, sth = Figures(), Figures(), Figures(), Figures()
    for figures, n in ((whole, 33), (gbg, 9), (mlm, 4), (sth, 20)):
        figures.add("n", n)
    whole_marks, by_clinic = protect_across(
        whole, {"gbg": gbg, "mlm": mlm, "sth": sth}, links={"n": [("gbg", "n"), ("mlm", "n"), ("sth", "n")]}
    )

    assert whole_marks == {}
    assert by_clinic == {"gbg": {"n": WITHHELD}, "mlm": {"n": SMALL}, "sth": {}}


def _solutions(grid, marks, totals):
    """Every filling of the inner cells of a grid that agrees with what a reader sees (brute force).

    A "<5" figure is 1 to 4, a ".." figure 5 or more (a cell at most the grand total, or 10 more when that is
    hidden too), a shown figure its number; every total, shown or hidden, must agree with its cells.
    """
    rows, columns = len(grid), len(grid[0])
    grand = sum(map(sum, grid))
    largest = grand if ("all",) not in marks else grand + 10

    def agrees(key, value):
        mark = marks.get(key)
        if mark == SMALL:
            return 1 <= value <= 4
        if mark == WITHHELD:
            return value >= 5
        return value == totals[key]

    def domain(key, value):
        mark = marks.get(key)
        if mark == SMALL:
            return range(1, 5)
        if mark == WITHHELD:
            return range(5, largest + 1)
        return (value,)

    domains = [domain(("cell", r, c), grid[r][c]) for r in range(rows) for c in range(columns)]
    for flat in itertools.product(*domains):
        filling = [list(flat[r * columns : (r + 1) * columns]) for r in range(rows)]
        if (
            all(agrees(("row", r), sum(filling[r])) for r in range(rows))
            and all(agrees(("column", c), sum(row[c] for row in filling)) for c in range(columns))
            and agrees(("all",), sum(map(sum, filling)))
        ):
            yield filling


def test_no_hidden_count_of_a_table_can_be_worked_out_brute_force():
    """Random 2 x 3 tables with row, column and grand totals: after protect, every "<5" cell can still be at
    least two numbers, as an exhaustive search over every filling consistent with the page finds."""
    generator = random.Random(15)
    tried = 0
    while tried < 60:
        grid = [[generator.choice([0, 1, 2, 3, 4, 5, 6, 8]) for _c in range(3)] for _r in range(2)]
        values = {("cell", r, c): grid[r][c] for r in range(2) for c in range(3)}
        values |= {("row", r): sum(grid[r]) for r in range(2)}
        values |= {("column", c): grid[0][c] + grid[1][c] for c in range(3)}
        values[("all",)] = sum(map(sum, grid))
        relations = [Relation(("row", r), tuple(("cell", r, c) for c in range(3))) for r in range(2)]
        relations += [Relation(("column", c), (("cell", 0, c), ("cell", 1, c))) for c in range(3)]
        relations += [
            Relation(("all",), (("row", 0), ("row", 1))),
            Relation(("all",), tuple(("column", c) for c in range(3))),
        ]
        marks = protect(values, relations, shown=set(values))
        totals = {key: value for key, value in values.items() if key[0] != "cell"}
        inner_marks = [mark for key, mark in marks.items() if key[0] == "cell"]
        if inner_marks.count(WITHHELD) > 1 or inner_marks.count(SMALL) > 4:
            continue  # keep the search small; the rule is the same
        tried += 1
        seen = {key: set() for key, mark in marks.items() if mark == SMALL and key[0] == "cell"}
        for filling in _solutions(grid, marks, totals):
            for key in seen:
                seen[key].add(filling[key[1]][key[2]])
        for key, possible in seen.items():
            assert len(possible) >= 2, (grid, marks, key, possible)


# --- Every page, for every role ---------------------------------------------------------------------------------


def _cells(body: str) -> dict[str, str]:
    return {key: html.unescape(value.strip()) for key, value in re.findall(r'data-figure="([\w.-]+)">([^<]*)<', body)}


def _few(therapist, colleague, other_clinic_therapist):
    """Göteborg in January 2025: three new clients (Anna two, Bertil one), four held sessions, one missed.
    Malmö: two new clients. Every count of either clinic is under 5."""
    clients = []
    for n, owner in enumerate((therapist, therapist, colleague)):
        record = put_in_treatment(
            open_first_period(ClientFactory(responsible_therapist=owner, first_contact_date=datetime.date(2025, 1, 5)))
        )
        TherapySessionFactory(client=record, date=datetime.date(2025, 1, 10 + n))
        clients.append(record)
    TherapySessionFactory(client=clients[0], date=datetime.date(2025, 1, 20))
    TherapySessionFactory(client=clients[1], date=datetime.date(2025, 1, 21), attendance=Attendance.NO_SHOW)
    for _n in range(2):
        ClientFactory(responsible_therapist=other_clinic_therapist, first_contact_date=datetime.date(2025, 1, 8))
    return clients


@pytest.fixture
def few(db, therapist, colleague, other_clinic_therapist):
    return _few(therapist, colleague, other_clinic_therapist)


@pytest.fixture
def national(db):
    return UserFactory(username="fredrik", role=Role.NATIONAL, clinic=None)


def _assert_no_small_figure(tables):
    """No count shows 1 to 4, and every figure made from a count under 5 is left out."""
    for table in tables:
        for row in table.rows:
            for cell in row.cells:
                if cell.kind == "count":
                    assert cell.text not in SMALL_NUMBERS, (table.key, row.key)
                    if is_small(cell.value):
                        assert cell.text == SMALL, (table.key, row.key)
                if cell.rests_on and any(is_small(v) for v in _values_of(tables, cell.rests_on)):
                    assert cell.text == "", (table.key, row.key)


def _values_of(tables, keys):
    values = {cell.key: cell.value for table in tables for row in table.rows for cell in row.cells if cell.key}
    return [values[key] for key in keys if key in values]


@pytest.mark.parametrize("persona", ["therapist", "manager", "national"])
def test_no_page_chart_or_csv_of_the_dashboard_shows_a_small_count(client, few, personas, national, persona, gbg):
    user = national if persona == "national" else personas[persona]
    client.force_login(user)
    params = {**JANUARY, **({"clinic": gbg.pk} if persona == "national" else {})}

    response = client.get(reverse("figures:dashboard"), params)

    assert response.status_code == 200
    tables = response.context["tables"]()
    assert response.context["figures"].held == (3 if persona == "therapist" else 4)  # Anna's own, or the clinic's
    _assert_no_small_figure(tables)
    body = response.content.decode()
    # The therapists counted are staff, not persons in care: shown as they are (figures.statistics._volume_table).
    staff = "volume.therapists.0"
    assert not {value for key, value in _cells(body).items() if key != staff} & SMALL_NUMBERS
    charted = json.loads(re.search(r'<script id="dashboard-data" type="application/json">(.*?)</script>', body)[1])
    drawn = {value for chart in charted.values() for dataset in chart["datasets"] for value in dataset["data"]}
    assert not drawn & {1.0, 2.0, 3.0, 4.0}
    for table in tables:
        written = client.get(reverse("figures:dashboard_csv", args=[table.key]), params)
        rows = list(csv.reader(io.StringIO(written.content.decode())))
        assert len(rows) == len(table.rows) + 1, table.key
        written_counts = {
            line[i + 1]
            for row, line in zip(table.rows, rows[1:], strict=True)
            for i, cell in enumerate(row.cells)
            if cell.kind == "count"
        }
        assert not written_counts & SMALL_NUMBERS, table.key


def test_the_managers_start_page_shows_no_small_count(client, few, manager):
    TherapySessionFactory(client=few[0], date=timezone.localdate())
    client.force_login(manager)

    body = client.get(reverse("home")).content.decode()

    shown = dict(re.findall(r'data-count="(\w+)">\s*([^\s<]+)', body))
    assert shown["held"] == "&lt;5" and not set(shown.values()) & SMALL_NUMBERS


#: Labels and dates of the yearly report with a figure 1 to 4 of their own, not counts.
def _report_words() -> list[str]:
    return [
        _("Under 3 months"),
        _("3–6 months"),
        _("6–12 months"),
        _("12 months or more"),
        _("90th percentile (days)"),
    ]


@pytest.mark.parametrize("persona", ["manager", "national"])
def test_no_small_count_in_the_yearly_report_pdf(client, few, manager, national, persona):
    client.force_login(manager if persona == "manager" else national)

    response = client.post(reverse("figures:dashboard_year_pdf", args=[2025]))

    assert response.status_code == 200
    pages = [page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages]
    header = "Sekretess enligt OSL 26 kap.".upper()
    text = re.sub(r"\s+", " ", " ".join(page.split(header)[0] for page in pages))
    for words in _report_words():
        text = text.replace(words, "")
    # The therapists counted are staff, not persons in care: shown as they are (figures.statistics._volume_table).
    text = re.sub(re.escape(_("Therapists counted")) + r" \d+", "", text)
    text = re.sub(r"\d{4}-\d{2}-\d{2}", "", text)  # the period's dates
    # Every count of the year is 0 or 1 to 4 (Göteborg 4 held, 3 new; both clinics 5 new contacts), so a
    # figure 1 to 4 standing alone would be one shown.
    assert re.findall(r"(?<![\w,.:–/-])[1-4](?![\w,.:–/%-])", text) == []
    assert "&lt;" not in text and "<5" in text


@pytest.fixture
def issue_example(gbg, mlm, therapist, other_clinic_therapist):
    """The issue's example: new contacts in January 2025, Göteborg 9 and Malmö 4 (all clinics 13)."""
    for _n in range(9):
        ClientFactory(responsible_therapist=therapist, first_contact_date=datetime.date(2025, 1, 7))
    for _n in range(4):
        ClientFactory(responsible_therapist=other_clinic_therapist, first_contact_date=datetime.date(2025, 1, 9))


def _subtraction_leaks(whole: dict[str, str], parts: list[dict[str, str]]) -> list[str]:
    """Figures of all clinics from which the one hidden clinic figure follows by subtraction."""
    leaks = []
    for key, total in whole.items():
        if key.startswith("active.") or not total.replace("\xa0", "").isdigit():
            continue
        shown = [part.get(key, "0") for part in parts]
        hidden = [value for value in shown if value in (SMALL, WITHHELD)]
        if len(hidden) == 1 and all(value.replace("\xa0", "").isdigit() for value in shown if value not in hidden):
            leaks.append(key)
    return leaks


def test_all_clinics_less_the_other_clinics_never_gives_a_hidden_count(
    client, issue_example, national, manager, gbg, mlm
):
    client.force_login(national)

    whole = _cells(client.get(reverse("figures:dashboard"), JANUARY).content.decode())
    goteborg = _cells(client.get(reverse("figures:dashboard"), {**JANUARY, "clinic": gbg.pk}).content.decode())
    malmo = _cells(client.get(reverse("figures:dashboard"), {**JANUARY, "clinic": mlm.pk}).content.decode())

    new = "contacts_by_group.2025-01.0"
    assert (whole[new], malmo[new]) == ("13", SMALL)
    assert goteborg[new] == WITHHELD  # 13 - 9 was Malmö's 4
    assert _subtraction_leaks(whole, [goteborg, malmo]) == []
    # Göteborg's own manager sees Göteborg alone, so nothing of Malmö's can come through: the 9 is shown.
    client.force_login(manager)
    assert _cells(client.get(reverse("figures:dashboard"), JANUARY).content.decode())[new] == "9"


def test_all_clinics_less_one_clinic_in_the_yearly_report(client, issue_example, national, gbg):
    client.force_login(national)

    def summary(**params) -> str:
        query = f"?clinic={params['clinic']}" if params else ""
        response = client.post(reverse("figures:dashboard_year_pdf", args=[2025]) + query)
        return re.sub(
            r"\s+", " ", " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
        )

    sentence = _("%(new)s new contacts were registered and %(ended)s treatment periods ended.")
    assert sentence % {"new": "13", "ended": "0"} in summary()
    assert sentence % {"new": "..", "ended": "0"} in summary(clinic=gbg.pk)


def test_a_row_total_less_its_other_cells_never_gives_a_hidden_cell(client, few, manager):
    """January: held 4 = Anna's 3 + Bertil's 1 individual sessions... all of them under 5; add 20 individual
    and 1 couple session: 25 held of which 24 individual and 1 couple, so the 24 is withheld."""
    record = few[0]
    for day in range(20):
        TherapySessionFactory(client=record, date=datetime.date(2025, 1, 1) + datetime.timedelta(days=day))
    TherapySessionFactory(client=record, date=datetime.date(2025, 1, 25), kind="couple")
    client.force_login(manager)

    response = client.get(reverse("figures:dashboard"), JANUARY)

    shown = _cells(response.content.decode())
    row = [shown[f"sessions_by_kind.2025-01.{column}"] for column in range(7)]
    assert row == ["25", "..", SMALL, "0", "0", "0", "0"]
    # The period's held (a month: the same 25) is shown, and the month's row cannot give the couple session.
    assert shown["attendance.held.0"] == shown["volume.held.0"] == "25"
    # Every row with its total: a month's sessions held and its types, a month's new contacts and their sources.
    tables = {table.key: table for table in response.context["tables"]()}
    rows = [[cell.text for cell in row.cells] for row in tables["sessions_by_kind"].rows]
    for by_group, by_source in zip(tables["contacts_by_group"].rows, tables["contacts_by_source"].rows, strict=True):
        rows.append([by_group.cells[0].text, *(cell.text for cell in by_source.cells)])
    for texts in rows:
        assert sum(text in (SMALL, WITHHELD) for text in texts) != 1, texts


# --- Questionnaire reports ---------------------------------------------------------------------------------------


@pytest.fixture
def one_day(therapist, other_clinic_therapist):
    """One Göteborg client's start questionnaire on 3 March 2025; six other Göteborg clients' in February; two
    Malmö clients'. A report of 3 March would be "1 of 1, 100 %"."""
    ove = ClientFactory(responsible_therapist=therapist)
    administer(
        period(ove, "2025-03-01"), "start", {"bought_sex_ever": True, "has_partner": True}, submitted="2025-03-03"
    )
    for _n in range(6):
        other = ClientFactory(responsible_therapist=therapist)
        administer(period(other, "2025-02-01"), "start", {"bought_sex_ever": False}, submitted="2025-02-10")
    for _n in range(2):
        malmo = ClientFactory(responsible_therapist=other_clinic_therapist)
        administer(period(malmo, "2025-02-01"), "start", {"bought_sex_ever": True}, submitted="2025-02-12")
    return ove


@pytest.mark.parametrize("persona", ["therapist", "manager", "national"])
def test_a_one_day_report_is_refused_for_every_role(client, one_day, personas, national, persona, gbg):
    user = national if persona == "national" else personas[persona]
    client.force_login(user)
    day = {"start": "2025-03-03", "end": "2025-03-03"}

    for params in [day, {**day, "clinic": gbg.pk}] if persona == "national" else [day]:
        response = client.get(reverse("figures:reports"), params)
        assert response.status_code == 400
        assert response.context["form"].non_field_errors() == [str(REFUSED)]
        assert "report" not in response.context
        body = response.content.decode()
        assert "100\xa0%" not in body and "<table" not in body
    # February to March: seven Göteborg people (nine with Malmö's): shown, every count under 5 hidden.
    response = client.get(reverse("figures:reports"), {"start": "2025-02-01", "end": "2025-03-31"})
    assert response.status_code == 200
    report = response.context["report"]
    cells = [cell for table in report.tables for row in table.rows for cell in row.cells]
    assert not set(cells) & SMALL_NUMBERS
    # Ever bought sex: Ove alone in Göteborg (1 of 7), with Malmö's two 3 of 9.
    assert report.table_1.rows[0].cells[:2] == (["<5", "9"] if persona == "national" else ["<5", "7"])


def test_a_clinic_of_fewer_than_five_is_refused_to_national_follow_up_too(client, one_day, national, gbg, mlm):
    client.force_login(national)

    response = client.get(reverse("figures:reports"), {"clinic": mlm.pk})

    assert response.status_code == 400  # two Malmö people
    whole = client.get(reverse("figures:reports")).context["report"]
    assert whole.table_1.n_shown == "9"  # Göteborg's 7 and Malmö's 2: Göteborg's is withheld on its page
    goteborg = client.get(reverse("figures:reports"), {"clinic": gbg.pk})
    assert goteborg.context["report"].table_1.n_shown == WITHHELD


# --- The access log ----------------------------------------------------------------------------------------------


@pytest.fixture
def started(client_record):
    """A start questionnaire, not yet answered, of a client in treatment who seeks help for buying sex."""
    buyer = put_in_treatment(open_first_period(client_record))
    Client.objects.filter(pk=buyer.pk).update(target_groups=["buying_sex"])
    buyer.refresh_from_db()
    return administration_of(buyer)


def test_the_manager_sees_the_day_of_a_submitted_questionnaire_not_its_minute(client, therapist, manager, started):
    client.force_login(therapist)
    client.get(reverse("clients:detail", args=[started.client_id]))
    client.post(fill_url(started), as_read(started, {**valid_answers(), "submit": ""}))
    entry = AccessLogEntry.objects.get(action=AccessLogEntry.Action.UPDATE, object_type="assessments.administration")
    assert entry.reason == "submitted" and entry.day_only
    client.force_login(manager)

    body = client.get(reverse("access_log"), {"code": started.client.code}).content.decode()

    rows = [row for row in body.split("<tr>") if escape(entry.object_type_label) in row]
    assert rows, "the submission is in the manager's log"
    local = timezone.localtime(entry.at)
    for row in rows:
        assert f"{local:%Y-%m-%d}" in row
        assert not re.search(r"\b\d{1,2}:\d{2}\b", row), row
    # Other entries keep their time of day: the record's opening just before.
    assert re.search(rf"{local:%Y-%m-%d} \d{{2}}:\d{{2}}", body)
