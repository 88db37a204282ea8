"""No chart stacks a total on its parts: November's bar must be November's sessions, not twice them."""

from __future__ import annotations

import datetime

import pytest

from clients.models import CaseStatus
from figures.statistics import chart_data, dashboard, dashboard_tables
from sessions.models import SessionKind
from tests.factories import TherapySessionFactory
from tests.figures.test_dashboard import END, START, caseload  # noqa: F401 (the fixture)

pytestmark = pytest.mark.django_db


def busy_quarter(caseload) -> None:  # noqa: F811
    """Seven individual and six phone or video sessions in each month: every part of the stack is drawn."""
    c = caseload.clients.filter(status=CaseStatus.IN_TREATMENT).first()
    for month in (1, 2, 3):
        for i in range(13):
            kind = SessionKind.INDIVIDUAL if i < 7 else SessionKind.REMOTE
            TherapySessionFactory(client=c, kind=kind, date=datetime.date(2025, month, 3 + i))


def _is_total_of(dataset, others, rows: int) -> bool:
    """True when, in every row whose figures are all drawn, the data set is the sum of the others."""
    drawn = [i for i in range(rows) if dataset["data"][i] is not None and all(o["data"][i] is not None for o in others)]
    return bool(drawn) and all(dataset["data"][i] == sum(o["data"][i] for o in others) for i in drawn)


def test_no_stacked_data_set_is_the_sum_of_the_others(caseload):  # noqa: F811
    busy_quarter(caseload)
    charts = chart_data(dashboard_tables(dashboard(caseload, START, END)))

    stacked_charts = {key: chart for key, chart in charts.items() if chart["type"] == "stacked"}
    assert set(stacked_charts) == {"contacts_by_source", "sessions_by_kind"}
    for key, chart in stacked_charts.items():
        parts = [dataset for dataset in chart["datasets"] if not dataset["total"]]
        for dataset in parts:
            others = [other for other in parts if other is not dataset]
            assert not _is_total_of(dataset, others, len(chart["labels"])), (
                f"{key}: {dataset['label']} is the total of the parts stacked with it"
            )


def test_the_sessions_total_is_drawn_beside_its_parts_and_equals_them(caseload):  # noqa: F811
    busy_quarter(caseload)
    chart = chart_data(dashboard_tables(dashboard(caseload, START, END)))["sessions_by_kind"]

    [total] = [dataset for dataset in chart["datasets"] if dataset["total"]]
    parts = [dataset for dataset in chart["datasets"] if not dataset["total"]]
    assert total["data"] == [14, 15, 13]  # the caseload's 1, 2 and 0 held, and 13 more in each month
    assert _is_total_of(total, parts, 3)
