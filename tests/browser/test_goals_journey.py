"""A therapist writes the client's goals as rows, follows them up at a session and asks at the end whether they were
reached: keyboard-free clicks, every page checked with axe."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from clients.models import CaseStatus, GoalReview, TreatmentGoal
from tests.factories import TherapySessionFactory
from tests.sessions.conftest import case as case  # the fixture: a client in treatment

pytestmark = pytest.mark.django_db(transaction=True)


def test_goals_from_the_assessment_page_to_the_end_of_treatment(page, login, live_server, case, check_page):
    login(case.responsible_therapist)
    page.goto(f"{live_server.url}/clients/{case.pk}/assessment/")

    page.fill("#id_goal_wording", "Sluta köpa sex")
    page.locator("form[action$='/goals/new/'] button[type=submit]").click()
    page.wait_for_url(re.compile(r"/assessment/"))
    expect(page.locator("#goals").get_by_text("Sluta köpa sex")).to_be_visible()
    check_page(page, "assessment-goals")
    goal = TreatmentGoal.objects.get(client=case)

    session = TherapySessionFactory(client=case)
    page.goto(f"{live_server.url}/sessions/{session.pk}/")
    card = page.locator("#goals")
    card.locator(f"input[name$='outcome_{goal.pk}'][value='changed']").check()
    card.locator(f"textarea[name$='new_wording_{goal.pk}']").fill("Sluta köpa sex och söka hjälp när suget kommer")
    check_page(page, "session-card")
    card.locator("button[type=submit]").click()
    expect(page.locator("#goals").get_by_text("Sluta köpa sex och söka hjälp när suget kommer")).to_be_visible()
    check_page(page, "session-card-done")

    page.goto(f"{live_server.url}/clients/{case.pk}/end/")
    page.select_option("#id_reason", "goal_reached")
    page.locator(f"input[name='goals-outcome_{goal.pk}'][value='partly']").check()
    check_page(page, "end")
    page.locator("form button[type=submit].btn-primary").click()
    page.wait_for_url(re.compile(r"/questionnaires/|/assessments/|point="))

    case.refresh_from_db()
    assert case.status == CaseStatus.ENDED
    assert list(GoalReview.objects.order_by("id").values_list("moment", "outcome")) == [
        ("session", "changed"),
        ("end", "partly"),
    ]
