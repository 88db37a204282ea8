"""The clinic's admin page: its fees, note themes and referral destinations are the other apps' inlines
(sessions.admin, clients.admin, through kast.admin.clinic_part_add), and a clinic added there starts with the
conversation guide's themes and the usual destinations."""

from __future__ import annotations

import pytest
from django.urls import reverse

from advice.models import AdviceTopic
from clients.models import ReferralDestination
from kast.models import Clinic
from outreach.models import Partner
from sessions.models import Method, MethodCode, SessionFee, Theme

pytestmark = pytest.mark.django_db


def test_the_clinic_page_shows_fees_themes_and_destinations_in_that_order(client, admin, gbg):
    client.force_login(admin)

    response = client.get(reverse("admin:kast_clinic_change", args=[gbg.pk]))

    assert response.status_code == 200
    models = [formset.opts.model for formset in response.context["inline_admin_formsets"]]
    assert models == [SessionFee, Theme, Method, ReferralDestination, AdviceTopic, Partner]


def test_a_clinic_added_in_the_admin_site_starts_with_themes_and_destinations(client, admin):
    client.force_login(admin)
    form = {
        "name": "Testköping",
        "code": "TST",
        "follow_up_months": 6,
        "long_term_follow_up_months": 12,
        "draft_reminder_days": 3,
        "opens_at": "08:00",
        "closes_at": "17:00",
    }
    for prefix in ("fees", "themes", "methods", "referral_destinations", "outreach_partners", "advice_topics"):
        form |= {f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0}

    response = client.post(reverse("admin:kast_clinic_add"), form)

    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    clinic = Clinic.objects.get(code="TST")
    assert Theme.objects.filter(clinic=clinic).exists()
    assert list(Method.objects.filter(clinic=clinic).values_list("code", flat=True)) == MethodCode.values
    assert ReferralDestination.objects.filter(clinic=clinic).exists()
    assert AdviceTopic.objects.filter(clinic=clinic).exists()
