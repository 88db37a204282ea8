"""Writes of advice contacts. Each is one transaction, validates first and writes the access log."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from advice.models import CONTACT_METHOD_FOR_CHANNEL, DEFAULT_ADVICE_TOPICS, AdviceContact, AdviceTopic
from clients.models import Client, ReferralSource
from clients.services import client_register
from kast.actor import Actor
from kast.models import AccessLogEntry, Clinic, Role
from kast.services import access_log_record

Action = AccessLogEntry.Action


def clinic_install_advice_topics(clinic: Clinic) -> None:
    """A new clinic's list of advice topics (the administrator edits it)."""
    AdviceTopic.objects.bulk_create(
        [AdviceTopic(clinic=clinic, name=name, position=n) for n, name in enumerate(DEFAULT_ADVICE_TOPICS, start=1)],
        ignore_conflicts=True,
    )


def _require_therapist_of(actor: Actor, clinic: Clinic) -> None:
    by = actor.acting_user()
    if by.role != Role.THERAPIST or by.clinic_id != clinic.pk:
        raise PermissionDenied


@transaction.atomic
def advice_log(*, actor: Actor, clinic: Clinic, data: dict[str, Any]) -> AdviceContact:
    """Log one anonymous advice contact at `clinic` (the logging therapist's own)."""
    _require_therapist_of(actor, clinic)
    contact = AdviceContact(clinic=clinic, logged_by=actor.acting_user(), **data)
    if contact.topic_id is not None and contact.topic.clinic_id != clinic.pk:
        raise ValidationError({"topic": _("Choose a topic of your clinic.")})
    if contact.referred_to_id is not None and contact.referred_to.clinic_id != clinic.pk:  # type: ignore[union-attr]
        raise ValidationError({"referred_to": _("Choose a destination of your clinic.")})
    contact.full_clean()
    contact.save()
    access_log_record(actor=actor, action=Action.CREATE, obj=contact)
    return contact


@transaction.atomic
def advice_convert(*, actor: Actor, contact: AdviceContact) -> Client:
    """Register a client record from an advice contact: the contact is the record's first contact (its date and
    channel), registered through the clients' own registration; the contact is linked to the record."""
    _require_therapist_of(actor, contact.clinic)
    # Locked, so that two clicks at once register one record, not two.
    contact = AdviceContact.objects.select_for_update().get(pk=contact.pk)
    if contact.converted_to_id is not None:
        raise ValidationError(_("This advice contact is already registered as a client."))
    data: dict[str, Any] = {
        "first_contact_date": contact.date,
        "contact_method": CONTACT_METHOD_FOR_CHANNEL[contact.channel],  # type: ignore[index]
        "target_groups": [contact.target_group],
    }
    if contact.who == "self":
        data["referral_source"] = ReferralSource.SELF
    client = client_register(actor=actor, data=data)
    contact.converted_to = client
    contact.save(update_fields=["converted_to"])
    access_log_record(actor=actor, action=Action.UPDATE, obj=contact)
    return client
