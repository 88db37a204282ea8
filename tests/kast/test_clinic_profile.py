"""The clinic's profile (kast.profile): a part of the work the clinic does not offer has no menu item, its pages
answer 404, its forms ask nothing of it and its figures leave it out; offered, all of it is there. The
administrator switches the parts on and off on the clinic's admin page."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from figures import year_report
from figures.statistics import dashboard, dashboard_tables
from kast.auth import StaffBackend
from kast.models import Clinic, Role
from kast.profile import PARTS, Offers
from sessions.forms import QuickLogForm, SessionForm
from sessions.models import SessionFee, TherapySession
from tests.factories import (
    ClientFactory,
    TherapySessionFactory,
    UserFactory,
    link,
    open_first_period,
    put_in_treatment,
    relative_record,
    working_day,
)

pytestmark = pytest.mark.django_db

START, END = datetime.date(2025, 1, 1), datetime.date(2025, 12, 31)
QUARTER = {"period": "quarter", "start": "2025-02-15"}


def switch(clinic: Clinic, **flags: bool) -> Clinic:
    Clinic.objects.filter(pk=clinic.pk).update(**{f"offers_{part}": on for part, on in flags.items()})
    clinic.refresh_from_db()
    return clinic


def menu(http, user) -> list[str]:
    http.force_login(user)
    response = http.get(reverse("home"))
    assert response.status_code == 200
    return [name for name, _label in response.context["nav_items"]]


@pytest.fixture
def case(client_record):
    return put_in_treatment(open_first_period(client_record))


@pytest.fixture
def relative(therapist):
    return relative_record(therapist)


# -- Defaults: a clinic offers everything until its administrator says not --------------------------------------


def test_a_new_clinic_offers_every_part(gbg):
    assert all(getattr(gbg, field) for field in PARTS.values())
    assert Offers.for_user(UserFactory(role=Role.THERAPIST, clinic=gbg)) == Offers()


def test_users_of_no_single_clinic_are_offered_every_part(admin, gbg):
    switch(gbg, advice=False, outreach=False, relatives=False, groups=False, fees=False)
    national = UserFactory(role=Role.NATIONAL, clinic=None)

    assert Offers.for_user(national) == Offers.for_user(admin) == Offers()


def test_asking_the_profile_costs_no_query(therapist, django_assert_num_queries):
    """A request's user comes with her clinic (kast.auth.StaffBackend), so the middleware and the menu ask it free."""
    switch(therapist.clinic, outreach=False)
    user = StaffBackend().get_user(therapist.pk)

    with django_assert_num_queries(0):
        assert Offers.for_user(user) == Offers(outreach=False)


# -- Menus and links ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("on", [True, False], ids=["offered", "not-offered"])
def test_the_menu_offers_outreach_only_where_the_clinic_does_it(client, manager, on):
    switch(manager.clinic, outreach=on)

    assert ("outreach:list" in menu(client, manager)) is on


@pytest.mark.parametrize("on", [True, False], ids=["offered", "not-offered"])
def test_the_start_page_links_to_advice_only_where_the_clinic_gives_it(client, therapist, on):
    switch(therapist.clinic, advice=on)
    client.force_login(therapist)

    page = client.get(reverse("home")).content.decode()

    assert (f'href="{reverse("advice:list")}"' in page) is on


@pytest.mark.parametrize("on", [True, False], ids=["offered", "not-offered"])
def test_the_client_pages_offer_relatives_only_where_the_clinic_supports_them(client, therapist, case, on):
    switch(therapist.clinic, relatives=on)
    client.force_login(therapist)

    listing = client.get(reverse("clients:list")).content.decode()
    record = client.get(reverse("clients:detail", args=[case.pk]))

    assert record.status_code == 200  # the client's record stays whole
    assert (f'href="{reverse("relatives:register")}"' in listing) is on
    assert (reverse("relatives:register_for", args=[case.pk]) in record.content.decode()) is on


def test_a_link_made_before_is_still_shown_without_the_relatives_page(client, therapist, case, relative):
    link(relative, case)
    switch(therapist.clinic, relatives=False)
    client.force_login(therapist)

    page = client.get(reverse("clients:detail", args=[case.pk])).content.decode()

    assert relative.code in page
    assert reverse("relatives:detail", args=[relative.pk]) not in page


@pytest.mark.parametrize("on", [True, False], ids=["offered", "not-offered"])
def test_the_caseload_links_a_relatives_record_only_with_relatives_support(client, therapist, case, relative, on):
    switch(therapist.clinic, relatives=on)
    client.force_login(therapist)

    page = client.get(reverse("clients:list")).content.decode()

    assert relative.code in page
    assert reverse("clients:detail", args=[case.pk]) in page
    assert (reverse("clients:detail", args=[relative.pk]) in page) is on


# -- URLs: 404 for a part not offered ----------------------------------------------------------------------------


def _pages(case, relative):
    return {
        "advice": [reverse("advice:list"), reverse("advice:new")],
        "outreach": [reverse("outreach:list"), reverse("outreach:new")],
        "relatives": [
            reverse("relatives:register"),
            reverse("relatives:register_for", args=[case.pk]),
            reverse("relatives:detail", args=[relative.pk]),
            reverse("relatives:edit", args=[relative.pk]),
        ],
    }


@pytest.mark.parametrize("part", ["advice", "outreach", "relatives"])
def test_a_part_not_offered_answers_404_on_every_page(client, therapist, case, relative, part):
    client.force_login(therapist)
    pages = _pages(case, relative)[part]
    assert [client.get(url).status_code for url in pages] == [200] * len(pages)

    switch(therapist.clinic, **{part: False})

    assert [client.get(url).status_code for url in pages] == [404] * len(pages)


def test_a_part_not_offered_at_one_clinic_is_there_at_another(client, therapist, other_clinic_therapist):
    switch(therapist.clinic, advice=False)
    client.force_login(other_clinic_therapist)

    assert client.get(reverse("advice:list")).status_code == 200


def test_a_role_the_table_refuses_is_still_refused_not_hidden(client, admin, gbg):
    """The role table answers first (403, logged); the profile only hides what the role may use."""
    switch(gbg, advice=False)
    client.force_login(admin)

    assert client.get(reverse("advice:list")).status_code == 403


def test_without_relatives_support_the_child_perspective_of_a_client_stays(client, therapist, case):
    switch(therapist.clinic, relatives=False)
    client.force_login(therapist)

    assert client.get(reverse("relatives:children", args=[case.pk])).status_code == 200
    assert client.get(reverse("sessions:timeline", args=[case.pk])).status_code == 200


def test_group_programmes_not_offered_answer_404(client, therapist):
    client.force_login(therapist)
    url = reverse("groups:list")
    assert client.get(url).status_code == 200
    switch(therapist.clinic, groups=False)
    assert client.get(url).status_code == 404
    assert "groups:list" not in menu(client, therapist)


# -- Fees --------------------------------------------------------------------------------------------------------


def booking(therapist) -> dict:
    return {
        "date": working_day().isoformat(),
        "start_time": "10:00",
        "duration_minutes": "60",
        "kind": "individual",
        "attendance": "booked",
        "therapists": [str(therapist.pk)],
        "version": "0",
    }


def test_a_clinic_that_charges_asks_for_the_fee_and_takes_its_own(client, therapist, case):
    SessionFee.objects.create(clinic=case.clinic, kind="individual", amount=Decimal("100"))
    client.force_login(therapist)

    form = client.get(reverse("sessions:new", args=[case.pk])).context["form"]
    response = client.post(reverse("sessions:new", args=[case.pk]), booking(therapist) | {"fee_charged": ""})

    assert {"fee_charged", "fee_paid"} <= set(form.fields)
    assert response.status_code == 302
    assert TherapySession.objects.get().fee_charged == Decimal("100")


def test_a_clinic_that_does_not_charge_asks_for_no_fee_and_charges_nothing(client, therapist, case):
    SessionFee.objects.create(clinic=case.clinic, kind="individual", amount=Decimal("100"))
    switch(therapist.clinic, fees=False)
    client.force_login(therapist)

    page = client.get(reverse("sessions:new", args=[case.pk]))
    # A fee typed anyway (a forged form) is not a field: it is ignored.
    response = client.post(reverse("sessions:new", args=[case.pk]), booking(therapist) | {"fee_charged": "250"})

    assert not {"fee_charged", "fee_paid"} & set(page.context["form"].fields)
    assert 'name="fee_charged"' not in page.content.decode()
    assert response.status_code == 302
    session = TherapySession.objects.get()
    assert session.fee_charged == Decimal("0")

    detail = client.get(reverse("sessions:detail", args=[session.pk]))
    assert detail.status_code == 200
    assert not {"fee_charged", "fee_paid"} & set(detail.context["session_form"].fields)
    assert client.post(reverse("sessions:payment", args=[session.pk]), {"fee_paid": "on"}).status_code == 404


# -- Figures -----------------------------------------------------------------------------------------------------


def keys(clinic) -> list[str]:
    return [table.key for table in dashboard_tables(dashboard(clinic, START, END))]


def row_keys(clinic, table: str) -> list[str]:
    return [row.key for t in dashboard_tables(dashboard(clinic, START, END)) if t.key == table for row in t.rows]


def test_the_dashboard_shows_every_part_a_clinic_offers(gbg):
    assert {"advice", "outreach", "relatives", "volume"} <= set(keys(gbg))
    assert {"fee_charged", "fee_paid"} <= set(row_keys(gbg, "volume"))
    assert {"relatives_new", "relatives_in_support", "relative"} <= set(row_keys(gbg, "relatives"))


@pytest.mark.parametrize("part", ["advice", "outreach"])
def test_the_dashboard_leaves_out_the_table_of_a_part_not_offered(gbg, part):
    every = keys(gbg)

    switch(gbg, **{part: False})

    assert keys(gbg) == [key for key in every if key != part]
    assert keys(None) == every  # all clinics' figures keep every table


def test_without_fees_the_dashboard_shows_no_fees(gbg):
    every = row_keys(gbg, "volume")

    switch(gbg, fees=False)

    assert row_keys(gbg, "volume") == [key for key in every if key not in ("fee_charged", "fee_paid")]
    assert row_keys(None, "volume") == every


def test_without_relatives_support_the_dashboard_keeps_only_the_children(gbg):
    switch(gbg, relatives=False)

    assert row_keys(gbg, "relatives") == ["couple", "group", "households", "children_considered", "children", "reports"]


def test_the_dashboard_page_and_its_csv_follow_the_clinic(client, manager):
    switch(manager.clinic, advice=False)
    client.force_login(manager)

    page = client.get(reverse("figures:dashboard"), QUARTER)

    assert page.status_code == 200
    shown = [table.key for table in page.context["tables"]()]
    assert "advice" not in shown and "outreach" in shown
    assert client.get(reverse("figures:dashboard_csv", args=["advice"]), QUARTER).status_code == 404
    assert client.get(reverse("figures:dashboard_csv", args=["outreach"]), QUARTER).status_code == 200


def test_national_follow_up_sees_every_table_of_all_clinics_and_each_clinics_own(client, gbg):
    switch(gbg, advice=False)
    national = UserFactory(role=Role.NATIONAL, clinic=None)
    client.force_login(national)

    every = client.get(reverse("figures:dashboard"), QUARTER).context["tables"]()
    one = client.get(reverse("figures:dashboard"), QUARTER | {"clinic": gbg.pk}).context["tables"]()

    assert "advice" in [table.key for table in every]
    assert "advice" not in [table.key for table in one]


def test_the_yearly_report_follows_the_clinic(gbg, therapist):
    case = put_in_treatment(open_first_period(ClientFactory(responsible_therapist=therapist)))
    TherapySessionFactory(client=case, date=datetime.date(2025, 3, 3))
    with translation.override("en"):
        offered = year_report.year_report(gbg, 2025)
        switch(gbg, advice=False, outreach=False, relatives=False)
        report = year_report.year_report(gbg, 2025)

    shown = [table.key for table, _chart in report["sections"]]
    offered_keys = [table.key for table, _chart in offered["sections"]]
    assert {"outreach", "advice"} <= set(offered_keys)
    assert [key for key in offered_keys if key not in ("outreach", "advice")] == shown
    assert "advice" not in shown and "outreach" not in shown
    assert "relatives came for support" in offered["summary"][4]
    assert report["summary"][4] == "The children's need of support was considered on 0 records."
    assert [table.key for table, _chart in year_report.year_report(None, 2025)["sections"]] == [
        table.key for table, _chart in offered["sections"]
    ]


# -- The administrator sets the profile --------------------------------------------------------------------------


def test_the_clinic_page_has_the_profile_in_its_own_fieldset(client, admin, gbg):
    client.force_login(admin)

    response = client.get(reverse("admin:kast_clinic_change", args=[gbg.pk]))

    fieldsets = {fieldset.name: list(fieldset.fields) for fieldset in response.context["adminform"]}
    assert fieldsets["Vad mottagningen erbjuder"] == list(PARTS.values())  # the Swedish interface


def test_the_administrator_switches_parts_off_in_the_admin_site(client, admin, gbg):
    client.force_login(admin)
    form = {
        "name": gbg.name,
        "code": gbg.code,
        "follow_up_months": gbg.follow_up_months,
        "long_term_follow_up_months": gbg.long_term_follow_up_months,
        "draft_reminder_days": gbg.draft_reminder_days,
        "opens_at": "08:00",
        "closes_at": "17:00",
        # Ticked boxes are sent, unticked ones are not: advice and fees stay on.
        "offers_advice": "on",
        "offers_fees": "on",
    }
    for prefix in ("fees", "themes", "methods", "referral_destinations", "outreach_partners", "advice_topics"):
        form |= {f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0}

    response = client.post(reverse("admin:kast_clinic_change", args=[gbg.pk]), form)

    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    gbg.refresh_from_db()
    assert {part: getattr(gbg, field) for part, field in PARTS.items()} == {
        "advice": True,
        "outreach": False,
        "relatives": False,
        "groups": False,
        "fees": True,
    }


def test_without_relatives_support_a_session_with_a_relative_alone_is_no_choice(client, therapist, case):
    client.force_login(therapist)
    offered = [
        value
        for value, _label in client.get(reverse("sessions:new", args=[case.pk])).context["form"].fields["kind"].choices
    ]
    assert "relative" in offered

    switch(therapist.clinic, relatives=False)
    page = client.get(reverse("sessions:new", args=[case.pk]))
    refused = client.post(reverse("sessions:new", args=[case.pk]), booking(therapist) | {"kind": "relative"})

    assert "relative" not in [value for value, _label in page.context["form"].fields["kind"].choices]
    assert "individual" in [value for value, _label in page.context["form"].fields["kind"].choices]
    assert "kind" in refused.context["form"].errors
    assert not TherapySession.objects.exists()


def test_a_saved_session_with_a_relative_alone_keeps_its_kind_after_the_switch(client, therapist, case):
    session = TherapySessionFactory(client=case, kind="relative")
    switch(therapist.clinic, relatives=False)

    form = SessionForm(instance=session, clinic=therapist.clinic)

    assert "relative" in [value for value, _label in form.fields["kind"].choices]


def test_the_start_pages_quick_log_offers_no_session_with_a_relative_alone_either(therapist):
    assert "relative" in dict(QuickLogForm(user=therapist).fields["kind"].choices)

    switch(therapist.clinic, relatives=False)

    assert "relative" not in dict(QuickLogForm(user=therapist).fields["kind"].choices)
