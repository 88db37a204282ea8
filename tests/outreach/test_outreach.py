"""The clinic's outreach and attitude work: recorded by its therapists and unit manager, listed to them only,
refused field by field when wrong, never half-saved; national follow-up has no list."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from kast.models import Role
from outreach.models import Activity, Partner
from tests.factories import UserFactory

YESTERDAY = timezone.localdate() - datetime.timedelta(days=1)


@pytest.fixture
def national(db):
    return UserFactory(username="nora", role=Role.NATIONAL, clinic=None)


@pytest.fixture
def partner(gbg):
    return Partner.objects.create(clinic=gbg, name="Polisen Hisingen")


def _post(therapist, partner=None, **changes):
    data = {
        "kind": "field_work",
        "date": YESTERDAY.isoformat(),
        "hours": "3.5",
        "staff": [therapist.pk],
        "audience_kind": "police",
        "audience_size": "12",
        "partner": partner.pk if partner else "",
        "description": "Samverkansträff om uppsökande arbete",
    }
    data.update(changes)
    return data


def test_a_therapist_records_an_activity(client, therapist, colleague, partner):
    client.force_login(therapist)

    response = client.post(reverse("outreach:new"), _post(therapist, partner, staff=[therapist.pk, colleague.pk]))

    assert response.status_code == 302
    activity = Activity.objects.get()
    assert (activity.clinic, activity.kind, activity.date, str(activity.hours)) == (
        therapist.clinic,
        "field_work",
        YESTERDAY,
        "3.5",
    )
    assert (activity.audience_kind, activity.audience_size, activity.partner) == ("police", 12, partner)
    assert set(activity.staff.all()) == {therapist, colleague}
    assert activity.created_by == therapist


def test_the_manager_records_and_corrects_an_activity(client, manager, therapist):
    client.force_login(manager)
    client.post(reverse("outreach:new"), _post(manager))
    activity = Activity.objects.get()

    response = client.post(reverse("outreach:edit", args=[activity.pk]), _post(manager, hours="2", audience_size="40"))

    assert response.status_code == 302
    activity.refresh_from_db()
    assert (str(activity.hours), activity.audience_size, activity.created_by) == ("2.0", 40, manager)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("hours", "0"),
        ("hours", "-1"),
        ("hours", "24.5"),
        ("date", (timezone.localdate() + datetime.timedelta(days=1)).isoformat()),
        ("audience_size", "-3"),
        ("audience_size", "100001"),
        ("kind", "gossip"),
        ("description", "x" * 1001),
    ],
)
def test_bad_input_is_refused_on_its_field_and_nothing_is_saved(client, therapist, field, value):
    client.force_login(therapist)

    response = client.post(reverse("outreach:new"), _post(therapist, **{field: value}))

    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert not Activity.objects.exists()


def test_a_partner_of_another_clinic_is_refused(client, therapist, mlm):
    theirs = Partner.objects.create(clinic=mlm, name="Polisen Malmö")
    client.force_login(therapist)

    response = client.post(reverse("outreach:new"), _post(therapist, theirs))

    assert response.status_code == 400
    assert "partner" in response.context["form"].errors
    assert not Activity.objects.exists()


def test_staff_of_another_clinic_are_no_choice(client, therapist, other_clinic_therapist):
    client.force_login(therapist)

    response = client.post(reverse("outreach:new"), _post(therapist, staff=[other_clinic_therapist.pk]))

    assert response.status_code == 400
    assert "staff" in response.context["form"].errors
    assert not Activity.objects.exists()


def _activity(clinic, by, day, **fields):
    values = {"kind": "information", "hours": 2, "audience_kind": "public", "audience_size": 25}
    values.update(fields)
    return Activity.objects.create(clinic=clinic, date=day, created_by=by, **values)


@pytest.mark.parametrize("persona", ["therapist", "manager"])
def test_the_clinic_sees_its_list_newest_first(client, personas, therapist, other_clinic_therapist, persona):
    older = _activity(therapist.clinic, therapist, datetime.date(2026, 1, 10), description="Föreläsning för BVC")
    newer = _activity(therapist.clinic, therapist, datetime.date(2026, 2, 10), description="Möte med polisen")
    _activity(other_clinic_therapist.clinic, other_clinic_therapist, datetime.date(2026, 2, 1), description="MALMÖ")
    client.force_login(personas[persona])

    response = client.get(reverse("outreach:list"))

    assert response.status_code == 200
    assert list(response.context["page"].object_list) == [newer, older]
    assert "Möte med polisen" in response.text
    assert "MALMÖ" not in response.text


def test_the_list_reads_in_a_fixed_number_of_queries(client, django_assert_num_queries, therapist, colleague):
    client.force_login(therapist)
    for day in range(1, 4):
        _activity(therapist.clinic, therapist, datetime.date(2026, 1, day)).staff.set([therapist, colleague])
    client.get(reverse("outreach:list"))  # warm the session and the menu's lookups
    # Session, user, OTP device, the count for the pages, the page's rows (partner and creator joined), their staff.
    with django_assert_num_queries(6):
        client.get(reverse("outreach:list"))
    for day in range(4, 20):
        _activity(therapist.clinic, therapist, datetime.date(2026, 1, day)).staff.set([therapist])
    with django_assert_num_queries(6):
        client.get(reverse("outreach:list"))


def test_another_clinics_activity_cannot_be_opened(client, therapist, other_clinic_therapist):
    theirs = _activity(other_clinic_therapist.clinic, other_clinic_therapist, datetime.date(2026, 1, 5))
    client.force_login(therapist)

    response = client.post(reverse("outreach:edit", args=[theirs.pk]), _post(therapist, hours="9"))

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.hours == 2


def test_national_follow_up_is_refused_the_list(client, national, therapist):
    _activity(therapist.clinic, therapist, datetime.date(2026, 1, 5))
    client.force_login(national)

    assert client.get(reverse("outreach:list")).status_code == 403
    assert client.get(reverse("outreach:new")).status_code == 403


def test_the_database_refuses_what_the_form_would(therapist):
    from django.db import IntegrityError, transaction

    for bad in [{"hours": 0}, {"hours": 25}, {"audience_size": 100_001}, {"kind": "gossip"}]:
        with pytest.raises(IntegrityError), transaction.atomic():
            _activity(therapist.clinic, therapist, datetime.date(2026, 1, 5), **bad)


def test_a_description_that_could_identify_is_refused(client, therapist):
    from django.db import IntegrityError, transaction

    client.force_login(therapist)
    response = client.post(
        reverse("outreach:new"), _post(therapist, description="Konsultation om klienten 19800101-1234")
    )
    assert response.status_code == 400
    assert "description" in response.context["form"].errors
    assert not Activity.objects.exists()

    activity = _activity(therapist.clinic, therapist, datetime.date(2026, 1, 5))
    with pytest.raises(IntegrityError), transaction.atomic():
        Activity.objects.filter(pk=activity.pk).update(description="Ring 070-123 45 67")
