"""Change history by PostgreSQL triggers (django-pghistory): every write is kept, whoever or whatever made it."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import Value
from django.db.models.functions import Concat
from django.urls import reverse
from pghistory.models import Context

from kast.models import Clinic, Role, User

pytestmark = pytest.mark.django_db

UserEvent = User.pgh_event_model
ClinicEvent = Clinic.pgh_event_model


def test_changing_a_role_records_an_event_with_the_new_role(therapist):
    therapist.role = Role.MANAGER
    therapist.save(update_fields=["role"])

    events = UserEvent.objects.filter(pgh_obj=therapist).order_by("pgh_id")
    assert list(events.values_list("pgh_label", "role")) == [("insert", "therapist"), ("update", "manager")]


def test_a_bulk_update_records_one_event_per_clinic(gbg, mlm):
    """A queryset update never calls save(); only a trigger sees it."""
    Clinic.objects.filter(pk__in=[gbg.pk, mlm.pk]).update(name=Concat("name", Value(" (stängd)")))

    updates = ClinicEvent.objects.filter(pgh_label="update").order_by("pgh_obj_id")
    assert list(updates.values_list("pgh_obj_id", "name")) == [
        (gbg.pk, "Göteborg (stängd)"),
        (mlm.pk, "Malmö (stängd)"),
    ]


def test_user_events_have_no_password_or_last_login_column():
    with connection.cursor() as cursor:
        columns = {c.name for c in connection.introspection.get_table_description(cursor, UserEvent._meta.db_table)}

    assert {"username", "role", "clinic_id", "is_active"} <= columns
    assert "password" not in columns
    assert "last_login" not in columns


def test_a_password_change_alone_records_no_event(therapist):
    """The update trigger ignores the excluded fields: a new password (or a login's last_login) writes no row."""
    before = UserEvent.objects.filter(pgh_obj=therapist).count()

    therapist.set_password("another-long-passphrase")
    therapist.save()

    assert UserEvent.objects.filter(pgh_obj=therapist).count() == before == 1


def test_a_change_through_the_admin_records_who_made_it_and_where(client, admin, therapist):
    url = reverse("admin:kast_user_change", args=[therapist.pk])
    client.force_login(admin)

    response = client.post(
        url,
        {
            "username": therapist.username,
            "first_name": "Annika",
            "last_name": therapist.last_name,
            "email": "",
            "role": Role.THERAPIST,
            "clinic": therapist.clinic_id,
            "fte": "1.00",
            "is_active": "on",
        },
    )

    assert response.status_code == 302
    event = UserEvent.objects.get(pgh_obj=therapist, pgh_label="update")
    assert event.first_name == "Annika"
    context = Context.objects.get(pk=event.pgh_context_id)
    assert context.metadata == {"user": admin.pk, "url": url}
