"""Advice contacts in the figures: exact counts on a known set, small counts protected, never one by one."""

from __future__ import annotations

import datetime

import pytest

from advice.models import AdviceContact, AdviceTopic
from advice.services import clinic_install_advice_topics
from clients.models import ReferralDestination
from figures.advice import advice_counts
from figures.statistics import Scope, dashboard, dashboard_tables
from figures.suppression import SMALL, WITHHELD

pytestmark = pytest.mark.django_db

START, END = datetime.date(2025, 1, 1), datetime.date(2025, 3, 31)
QUARTER = {"period": "quarter", "start": "2025-02-15"}  # the period above, as the dashboard asks for it


@pytest.fixture
def known(gbg, mlm, therapist, other_clinic_therapist):
    """Göteborg, in the period: 8 by phone and 3 by e-mail; 11 from the person themself (9) or a relative (2);
    all about buying sex; 10 given advice and 1 referred. Outside: one the day after, one in Malmö."""
    for clinic in (gbg, mlm):
        clinic_install_advice_topics(clinic)
    topic = AdviceTopic.objects.filter(clinic=gbg).first()
    destination = ReferralDestination.objects.filter(clinic=gbg).first()

    def contact(n, clinic=gbg, by=therapist, date=datetime.date(2025, 2, 1), **fields):
        for _ in range(n):
            AdviceContact.objects.create(
                clinic=clinic,
                logged_by=by,
                date=date,
                target_group="buying_sex",
                topic=AdviceTopic.objects.filter(clinic=clinic).first(),
                **{"channel": "phone", "who": "self", "outcome": "advice", **fields},
            )

    contact(7)
    contact(2, who="relative")
    contact(1, channel="email", remark="SENTINEL-ADVICE")
    contact(1, channel="email", outcome="referred", referred_to=destination)
    contact(1, date=END + datetime.timedelta(days=1))
    contact(1, clinic=mlm, by=other_clinic_therapist)
    assert topic is not None
    return gbg


def test_counts_are_exact(known):
    counts = advice_counts(Scope(start=START, end=END, clinic=known))

    assert counts["total"] == 11
    assert (counts["channel_phone"], counts["channel_email"], counts["channel_chat"]) == (9, 2, 0)
    assert (counts["who_self"], counts["who_relative"]) == (9, 2)
    assert (counts["target_group_buying_sex"], counts["target_group_compulsive"]) == (11, 0)
    assert (counts["outcome_advice"], counts["outcome_referred"]) == (10, 1)
    assert advice_counts(Scope(start=START, end=END))["total"] == 12  # all clinics


def test_small_counts_are_protected_on_the_dashboard(known):
    table = next(t for t in dashboard_tables(dashboard(known, START, END)) if t.key == "advice")
    marks = {row.key: (row.cells[0].value, row.cells[0].mark) for row in table.rows}

    assert marks["total"] == (11, None)
    assert marks["channel_email"] == (2, SMALL)
    assert marks["who_relative"] == (2, SMALL)
    assert marks["outcome_referred"] == (1, SMALL)
    # Each small count's sum is protected: its partner is withheld, so 11 - 9 cannot give the 2.
    assert marks["channel_phone"][1] == WITHHELD
    assert marks["who_self"][1] == WITHHELD
    assert marks["outcome_advice"][1] == WITHHELD
    assert marks["target_group_buying_sex"] == (11, None)


def test_the_remark_is_never_in_the_figures(client, manager, known):
    client.force_login(manager)

    page = client.get("/dashboard/", QUARTER)
    csv = client.get("/dashboard/advice.csv", QUARTER)

    assert page.status_code == csv.status_code == 200
    assert "11" in csv.content.decode()  # the table is there, with its total
    assert "SENTINEL-ADVICE" not in page.content.decode() + csv.content.decode()
