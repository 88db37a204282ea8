"""`make bench` signs the staff in by sessions made server-side, and reports each page against the issue's aims."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from django_otp import devices_for_user

from demo.management.commands import bench


def test_a_bench_session_opens_the_pages_as_a_login_would(client, therapist, manager):
    for user, url in ((therapist, reverse("clients:list")), (manager, reverse("figures:dashboard"))):
        client.cookies[settings.SESSION_COOKIE_NAME] = bench._signed_in(user)

        response = client.get(url)

        assert response.status_code == 200, (user.username, response.status_code)
        assert response.wsgi_request.user == user
        assert response.wsgi_request.user.is_verified()  # both factors, as after a real login


def test_a_second_bench_session_reuses_the_second_factor_device(therapist):
    bench._signed_in(therapist)
    devices = list(devices_for_user(therapist, confirmed=True))

    bench._signed_in(therapist)

    assert list(devices_for_user(therapist, confirmed=True)) == devices
    assert len(devices) == 1


def page(key: str, p95: float) -> dict:
    return {
        "key": key,
        "label": key,
        "single_ms": p95 / 3,
        "p50_ms": p95 / 2,
        "p95_ms": p95,
        "rps": 10.0,
        "errors": 0,
        "queries": 3,
        "queries_cached": 3,
    }


def test_table_gives_ratios_to_the_floor_and_to_a_tenth_of_the_data_and_marks_missed_aims():
    results = {
        "full": {
            "pages": [
                page("floor", 4),
                page("layout", 10),
                page("caseload", 20),
                page("pdf", 100),
                page("year_pdf", 60),
            ]
        },
        "tenth": {
            "pages": [page("floor", 4), page("layout", 10), page("caseload", 10), page("pdf", 90), page("year_pdf", 60)]
        },
    }

    rows = {row["key"]: row for row in bench._table(results)}

    assert (rows["caseload"]["floor_ratio"], rows["caseload"]["misses_floor"]) == (5.0, False)  # 5x is the aim
    assert (rows["caseload"]["growth"], rows["caseload"]["misses_growth"]) == (2.0, True)
    assert (rows["pdf"]["floor_ratio"], rows["pdf"]["misses_floor"]) == (25.0, True)  # the PDF may take 20x
    assert (rows["pdf"]["growth"], rows["pdf"]["misses_growth"]) == (1.11, False)
    assert (rows["floor"]["floor_ratio"], rows["floor"]["growth"]) == (1.0, 1.0)
    assert (rows["year_pdf"]["floor_ratio"], rows["year_pdf"]["misses_floor"]) == (15.0, False)  # a PDF: 20x
    # The issue's own aims for the PDFs' p50: the intake under 300 ms, the yearly report under 1 s.
    assert [rows[key]["misses_p50"] for key in ("caseload", "pdf", "year_pdf")] == [False, False, False]


def test_a_pdf_over_its_p50_aim_is_marked():
    results = {
        size: {"pages": [page("floor", 4), page("layout", 10), page("pdf", 602), page("year_pdf", 2000)]}
        for size in ("full", "tenth")
    }

    rows = {row["key"]: row for row in bench._table(results)}

    assert (rows["pdf"]["misses_p50"], rows["year_pdf"]["misses_p50"]) == (True, False)  # 301 ms; 1000 ms


def test_a_pdf_measured_one_request_at_a_time_is_judged_on_that_p50():
    """Under load two cores share four PDFs; the issue's aim is for one request at a time (AIM_P50_MS)."""
    results = {
        size: {"pages": [page("floor", 4), page("layout", 10), page("pdf", 900), page("year_pdf", 2400)]}
        for size in ("full", "tenth")
    }
    results["full"]["pages"][2]["p50_alone_ms"] = 280.0  # under load 450 ms: over 300, but alone under
    results["full"]["pages"][3]["p50_alone_ms"] = 1010.0  # under load 1200 ms; alone still over 1 s

    rows = {row["key"]: row for row in bench._table(results)}

    assert (rows["pdf"]["p50_alone_ms"], rows["pdf"]["misses_p50"]) == (280.0, False)
    assert (rows["year_pdf"]["p50_alone_ms"], rows["year_pdf"]["misses_p50"]) == (1010.0, True)
    assert rows["floor"]["p50_alone_ms"] is None


def test_every_page_is_also_measured_against_the_signed_in_empty_page():
    """The second floor: what a page costs beyond session, second factor, middleware and base template."""
    results = {
        "full": {"pages": [page("floor", 4), page("layout", 10), page("caseload", 25)]},
        "tenth": {"pages": [page("floor", 4), page("layout", 10), page("caseload", 25)]},
    }

    rows = {row["key"]: row for row in bench._table(results)}

    assert (rows["caseload"]["layout_ratio"], rows["caseload"]["over_layout_ms"]) == (2.5, 7.5)  # p50 12.5 - 5
    assert (rows["layout"]["layout_ratio"], rows["layout"]["over_layout_ms"]) == (1.0, 0.0)
    assert (rows["floor"]["layout_ratio"], rows["floor"]["over_layout_ms"]) == (0.4, -3.0)


def test_the_signed_in_floor_is_a_page_with_the_layout_and_no_data(client, therapist):
    client.cookies[settings.SESSION_COOKIE_NAME] = bench._signed_in(therapist)
    response = client.get(reverse(bench.LAYOUT_FLOOR))

    assert response.status_code == 200
    assert response.wsgi_request.user.is_verified()
    assert b"<nav" in response.content  # the base template's header and navigation
    assert response.templates[0].name == "registration/password_change_done.html"


def test_the_bench_prints_the_intake_pdf_by_post_with_a_csrf_token_as_a_form_would(therapist, client_record):
    """A PDF is made only by a POST (kast.pdf.print_response): the bench sends one with the CSRF cookie and token."""
    session = f"{settings.SESSION_COOKIE_NAME}={bench._signed_in(therapist)}"
    url = reverse("clients:intake_pdf", args=[client_record.pk])

    printed = Client(enforce_csrf_checks=True, headers=bench._headers(session, post=True)).post(url)
    refused = Client(enforce_csrf_checks=True, headers=bench._headers(session, post=False)).post(url)

    assert (printed.status_code, printed["Content-Type"]) == (200, "application/pdf")
    assert refused.status_code == 403


def test_the_bench_prints_the_yearly_report_by_post_as_the_dashboards_button_does(manager):
    session = f"{settings.SESSION_COOKIE_NAME}={bench._signed_in(manager)}"
    url = reverse("figures:dashboard_year_pdf", args=[2025])

    printed = Client(enforce_csrf_checks=True, headers=bench._headers(session, post=True)).post(url)
    refused = Client(enforce_csrf_checks=True, headers=bench._headers(session, post=False)).post(url)

    assert (printed.status_code, printed["Content-Type"]) == (200, "application/pdf")
    assert refused.status_code == 403


def test_the_pages_asked_for_are_measured_with_the_two_floors_and_an_unknown_one_is_refused():
    keys = ["floor", "layout", "login", "start", "pdf", "year_pdf"]

    assert bench._chosen(keys, "") == keys
    assert bench._chosen(keys, "year_pdf, pdf") == ["floor", "layout", "pdf", "year_pdf"]
    with pytest.raises(CommandError, match="No page pfd"):
        bench._chosen(keys, "pdf,pfd")
