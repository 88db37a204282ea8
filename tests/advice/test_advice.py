"""Advice contacts without a record: logged in one form, listed to the clinic's therapists, registered as a client."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from advice.models import AdviceContact, AdviceTopic
from advice.services import advice_convert, advice_log, clinic_install_advice_topics
from clients.models import Client, ReferralDestination
from kast.actor import Actor
from kast.models import AccessLogEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def topic(gbg):
    clinic_install_advice_topics(gbg)
    return AdviceTopic.objects.filter(clinic=gbg).first()


def form_data(topic, **changes):
    data = {
        "date": "2026-03-02",
        "minutes": "15",
        "channel": "email",
        "who": "self",
        "target_group": "compulsive",
        "topic": str(topic.pk),
        "outcome": "advice",
        "referred_to": "",
        "remark": "",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def contact_of(therapist, topic, **changes):
    data = {
        "date": datetime.date(2026, 3, 2),
        "minutes": 15,
        "channel": "email",
        "who": "self",
        "target_group": "compulsive",
        "topic": topic,
        "outcome": "advice",
        **changes,
    }
    return advice_log(actor=Actor.for_user(therapist), clinic=therapist.clinic, data=data)


def test_a_therapist_logs_an_advice_contact(client, therapist, topic):
    client.force_login(therapist)

    response = client.post(reverse("advice:new"), form_data(topic, returning="on", remark="Ringer igen"))

    assert response.status_code == 302
    contact = AdviceContact.objects.get()
    assert (contact.clinic, contact.logged_by, contact.channel, contact.returning) == (
        therapist.clinic,
        therapist,
        "email",
        True,
    )
    assert AccessLogEntry.objects.filter(
        user=therapist, action="create", object_type="advice.advicecontact", object_id=str(contact.pk)
    ).exists()
    listing = client.get(reverse("advice:list"))
    assert "Ringer igen" in listing.content.decode()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"channel": None}, "channel"),
        ({"outcome": "referred"}, "referred_to"),
        ({"date": "2999-01-01"}, "date"),
        ({"minutes": "0"}, "minutes"),
    ],
    ids=["no-channel", "referred-without-destination", "future-date", "no-minutes"],
)
def test_bad_input_is_a_field_error_and_nothing_is_saved(client, therapist, topic, changes, field):
    client.force_login(therapist)

    response = client.post(reverse("advice:new"), form_data(topic, **changes))

    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not AdviceContact.objects.exists()


def test_a_referral_names_a_destination_of_the_clinic(client, therapist, topic):
    destination = ReferralDestination.objects.filter(clinic=therapist.clinic).first()
    client.force_login(therapist)

    client.post(reverse("advice:new"), form_data(topic, outcome="referred", referred_to=str(destination.pk)))

    assert AdviceContact.objects.get().referred_to == destination


def test_the_database_refuses_a_referral_without_destination(therapist, topic):
    contact = contact_of(therapist, topic)
    with pytest.raises(IntegrityError), transaction.atomic():
        AdviceContact.objects.filter(pk=contact.pk).update(outcome="referred")
    with pytest.raises(IntegrityError), transaction.atomic():
        AdviceContact.objects.filter(pk=contact.pk).update(channel="fax")


def test_the_service_refuses_a_future_date(therapist, topic):
    with pytest.raises(ValidationError) as error:
        contact_of(therapist, topic, date=timezone.localdate() + datetime.timedelta(days=1))
    assert "date" in error.value.message_dict


def test_conversion_registers_a_client_from_the_contact(client, therapist, topic):
    contact = contact_of(therapist, topic, channel="walk_in", date=datetime.date(2026, 2, 20))
    client.force_login(therapist)

    response = client.post(reverse("advice:convert", kwargs={"contact_id": contact.pk}))

    record = Client.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("clients:detail", kwargs={"client_id": record.pk})
    assert (record.first_contact_date, record.contact_method, record.responsible_therapist) == (
        datetime.date(2026, 2, 20),
        "walk_in",
        therapist,
    )
    assert record.code == "GBG-2026-0001"
    assert record.target_groups == ["compulsive"]
    contact.refresh_from_db()
    assert contact.converted_to == record
    assert AccessLogEntry.objects.filter(action="create", client_id=record.pk).exists()


def test_converting_twice_is_refused(therapist, topic):
    contact = contact_of(therapist, topic)
    advice_convert(actor=Actor.for_user(therapist), contact=contact)

    with pytest.raises(ValidationError):
        advice_convert(actor=Actor.for_user(therapist), contact=contact)
    assert Client.objects.count() == 1


def test_another_clinic_cannot_see_or_convert_the_contact(client, therapist, other_clinic_therapist, topic):
    contact = contact_of(therapist, topic, remark="Hemligt")
    client.force_login(other_clinic_therapist)

    listing = client.get(reverse("advice:list"))
    response = client.post(reverse("advice:convert", kwargs={"contact_id": contact.pk}))

    assert "Hemligt" not in listing.content.decode()
    assert response.status_code == 404
    assert not Client.objects.exists()
    with pytest.raises(PermissionDenied):
        advice_convert(actor=Actor.for_user(other_clinic_therapist), contact=contact)
    with pytest.raises(PermissionDenied):
        advice_log(actor=Actor.for_user(other_clinic_therapist), clinic=therapist.clinic, data={})


def test_a_manager_never_sees_the_list(client, therapist, manager, topic):
    contact_of(therapist, topic, remark="Hemligt")
    client.force_login(manager)

    assert client.get(reverse("advice:list")).status_code == 403
    assert client.post(reverse("advice:new"), form_data(topic)).status_code == 403
    assert not AdviceContact.objects.visible_to(manager).exists()
    with pytest.raises(PermissionDenied):
        advice_log(actor=Actor.for_user(manager), clinic=therapist.clinic, data={})


def test_the_list_is_newest_first_and_paged(client, therapist, topic):
    client.force_login(therapist)
    contact_of(therapist, topic, date=datetime.date(2026, 1, 2))
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("advice:list"))
    for day in range(2, 56):
        contact_of(therapist, topic, date=datetime.date(2026, 1, 1) + datetime.timedelta(days=day))

    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("advice:list"))

    # The same queries for one contact and for a full page of fifty (topic, destination and record joined in).
    assert len(many) == len(one), [q["sql"] for q in many.captured_queries]

    rows = list(response.context["page"].object_list)
    assert len(rows) == 50
    assert rows[0].date == datetime.date(2026, 2, 25)
    assert rows == sorted(rows, key=lambda row: row.date, reverse=True)


@pytest.mark.parametrize(
    ("remark", "said"),
    [
        ("Uppgav pnr 19800101-1234 fast vi inte frågade", "It looks like a personnummer."),
        ("Uppgav 800101-1234", "It looks like a personnummer."),
        ("Vill ha svar på anna.svensson@example.org", "It looks like an e-mail address."),
        ("Ring tillbaka 070-123 45 67 efter fem", "It looks like a phone number."),
        ("Nås på +46 31 12 34 56", "It looks like a phone number."),
    ],
    ids=["personnummer", "short-personnummer", "e-mail", "mobile", "international"],
)
def test_a_remark_that_could_identify_is_refused_on_its_field(client, therapist, topic, remark, said, settings):
    settings.LANGUAGE_CODE = "en"
    client.force_login(therapist)

    response = client.post(reverse("advice:new"), form_data(topic, remark=remark), HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    [message] = response.context["form"].errors["remark"]
    assert message == f"{said} Write nothing here that could identify a person."
    assert remark not in message  # the message never repeats what it refuses
    assert not AdviceContact.objects.exists()


def test_an_ordinary_remark_with_numbers_is_kept(client, therapist, topic):
    client.force_login(therapist)

    client.post(reverse("advice:new"), form_data(topic, remark="Ringer igen om 2 veckor, 3 frågor kvar (2026-03-16)"))

    assert AdviceContact.objects.get().remark == "Ringer igen om 2 veckor, 3 frågor kvar (2026-03-16)"


def test_the_database_refuses_an_identifying_remark_from_any_writer(therapist, topic):
    contact = contact_of(therapist, topic)

    for remark in ["19800101-1234", "a.b@example.se", "0701234567"]:
        with pytest.raises(IntegrityError), transaction.atomic():
            AdviceContact.objects.filter(pk=contact.pk).update(remark=remark)


def test_the_main_menu_offers_advice_contacts_to_therapists_only(client, therapist, manager):
    """A call is logged within the minute it ends: the list is one click from every page, for those who log."""
    menus = {}
    for user in (therapist, manager):
        client.force_login(user)
        menus[user.role] = [name for name, _label in client.get(reverse("home")).context["nav_items"]]

    assert menus["therapist"].index("advice:list") == menus["therapist"].index("clients:list") + 1
    assert "advice:list" not in menus["manager"]
