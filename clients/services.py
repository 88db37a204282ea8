"""Writes of the client record. Each is one transaction, validates first and writes the access log."""

from __future__ import annotations

import datetime
import re
import uuid
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.db.models.functions import Length
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from clients.models import (
    DEFAULT_REFERRAL_DESTINATIONS,
    FINISHED,
    OTHER_REFERRAL_DESTINATION,
    TRANSITIONS,
    AssessmentConversation,
    AssessmentDecision,
    CaseStatus,
    Client,
    DeepInterviewSection,
    EmergencyAccess,
    EndReason,
    Episode,
    FamilyMember,
    FamilyRelation,
    FamilyRelationship,
    Gender,
    PartAddendum,
    RecordKind,
    ReferralDestination,
    Sex,
    StatusChange,
    status_label,
)
from kast.actor import Actor
from kast.locking import EditConflict, save_versioned
from kast.models import AccessLogEntry, Clinic, User
from kast.services import access_log_record
from sessions.models import Attendance, FollowUp, TherapySession

Action = AccessLogEntry.Action
#: The access-log reason of a break-the-glass opening: the review queue looks for it.
EMERGENCY_REASON_PREFIX = "emergency:"

#: The decision of the assessment conversation moves the case on (from assessment).
DECISION_STATUS: dict[str, CaseStatus] = {
    AssessmentDecision.ACCEPTED: CaseStatus.IN_TREATMENT,
    AssessmentDecision.REFERRED: CaseStatus.REFERRED,
    AssessmentDecision.NOT_NOW: CaseStatus.CLOSED,
}
#: Leaving treatment (or never entering it) closes the treatment period.
CLOSES_EPISODE = (CaseStatus.ENDED, CaseStatus.REFERRED, CaseStatus.CLOSED)

_SEX_FOR_GENDER: dict[str, Sex] = {Gender.MAN: Sex.MALE, Gender.WOMAN: Sex.FEMALE}


def clinic_install_referral_destinations(clinic: Clinic) -> None:
    """A new clinic's list of referral destinations, with its "other" last (the administrator edits it)."""
    names = [*DEFAULT_REFERRAL_DESTINATIONS, OTHER_REFERRAL_DESTINATION]
    ReferralDestination.objects.bulk_create(
        [
            ReferralDestination(clinic=clinic, name=name, position=n, is_other=name == OTHER_REFERRAL_DESTINATION)
            for n, name in enumerate(names, start=1)
        ],
        ignore_conflicts=True,
    )


def constraint_violated(error: IntegrityError) -> str:
    """The name of the constraint a unique or check violation broke ("" if unknown).

    Checks before a save cannot see a concurrent transaction's uncommitted row: the constraint
    decides, and the service turns its violation into a form error instead of a 500."""
    diag = getattr(error.__cause__, "diag", None)
    return getattr(diag, "constraint_name", None) or ""


def _next_code(clinic: Clinic, year: int) -> str:
    """GBG-2026-0042: clinic, year of first contact, running number. Caller holds the clinic lock."""
    prefix = f"{clinic.code}-{year}-"
    # Longest first, then highest: "GBG-2026-10000" sorts below "GBG-2026-9999" as plain text.
    last = (
        Client.objects.filter(code__startswith=prefix)
        .order_by(Length("code").desc(), "-code")
        .values_list("code", flat=True)
        .first()
    )
    number = int(re.sub(r"^.*-", "", last)) + 1 if last else 1
    return f"{prefix}{number:04d}"


@transaction.atomic
def client_register(*, actor: Actor, data: dict[str, Any], kind: str = RecordKind.CLIENT) -> Client:
    """Register a new contact: the record, treatment period 1 at 'contact', and (for a client) the
    family map's centre. A relative's record is made the same way, by `relatives.services`."""
    by = actor.acting_user()
    if by.clinic_id is None:  # never: a therapist has a clinic (the constraint user_clinic_for_role)
        raise ValueError("a client is registered at the clinic of whoever registers it")
    co_therapists = data.pop("co_therapists", [])
    clinic = Clinic.objects.select_for_update().get(pk=by.clinic_id)
    client = Client(clinic=clinic, kind=kind, **data)
    client.responsible_therapist = data.get("responsible_therapist") or by
    client.code = _next_code(clinic, client.first_contact_date.year)
    client.full_clean()
    client.save()
    client.co_therapists.set(co_therapists)
    episode = Episode.objects.create(client=client, number=1, opened_on=client.first_contact_date)
    StatusChange.objects.create(client=client, episode=episode, from_status="", to_status=CaseStatus.CONTACT, by=by)
    if kind == RecordKind.CLIENT:
        FamilyMember.objects.create(
            client=client,
            relation=FamilyRelation.CLIENT,
            label=client.code,
            sex=_SEX_FOR_GENDER.get(client.gender, Sex.OTHER),
            birth_year=client.birth_year,
        )
    access_log_record(actor=actor, action=Action.CREATE, obj=client)
    return client


@transaction.atomic
def client_update(*, actor: Actor, client: Client, version: int, data: dict[str, Any]) -> Client:
    """Change the client's details; refused with EditConflict if someone saved since `version`."""
    co_therapists = data.pop("co_therapists", None)
    for name, value in data.items():
        setattr(client, name, value)
    client.full_clean()
    try:
        # A savepoint, so that the transaction survives a concurrent edit to the same personnummer.
        with transaction.atomic():
            save_versioned(client, expected_version=version, fields=list(data))
    except IntegrityError as error:
        if constraint_violated(error) != "client_personnummer_unique_per_clinic":
            raise
        raise ValidationError(
            {"personnummer": _("A client with this personnummer is already registered at the clinic.")}
        ) from error
    if co_therapists is not None:
        client.co_therapists.set(co_therapists)
    access_log_record(actor=actor, action=Action.UPDATE, obj=client)
    return client


@transaction.atomic
def client_transition(
    *,
    actor: Actor,
    client: Client,
    to_status: str,
    reason: str = "",
    referred_to: ReferralDestination | None = None,
    destination: str = "",
    keep_bookings: bool = False,
) -> Client:
    """Move the case one step along TRANSITIONS, recording who, when and why (and where to, for a referral:
    a destination of the clinic's list, with details for the record only).

    A case that ends, is referred or is closed has its sessions booked ahead cancelled by the clinic, in the same
    transaction, unless `keep_bookings` (e.g. a last session already agreed): otherwise they stayed "booked" and in
    the calendar feed for a case that had ended.
    """
    client = Client.objects.select_for_update().get(pk=client.pk)
    if to_status not in TRANSITIONS[client.status]:
        raise ValidationError(
            {
                "to_status": _("A case cannot go from “%(from)s” to “%(to)s”.")
                % {"from": client.get_status_display(), "to": status_label(to_status, client.kind)}
            }
        )
    if to_status == CaseStatus.REFERRED:
        if referred_to is None:
            raise ValidationError({"referred_to": _("Say where the client is referred to.")})
        # The form offers only the clinic's active list; a service is called from elsewhere too.
        if referred_to.clinic_id != client.clinic_id or not referred_to.active:
            raise ValidationError({"referred_to": _("Choose a destination of the clinic's list.")})
    else:
        referred_to, destination = None, ""
    episode = client.current_episode()
    StatusChange.objects.create(
        client=client,
        episode=episode,
        from_status=client.status,
        to_status=to_status,
        by=actor.acting_user(),
        reason=reason,
        referred_to=referred_to,
        destination=destination.strip(),
    )
    if to_status in CLOSES_EPISODE:
        episode.closed_on = timezone.localdate()
        if to_status == CaseStatus.REFERRED and client.status == CaseStatus.IN_TREATMENT:
            episode.end_reason = EndReason.REFERRED_ON  # a treatment that ends by a referral out
        episode.full_clean()
        episode.save(update_fields=["closed_on", "end_reason"])
        if not keep_bookings:
            _bookings_ahead_cancel(actor=actor, client=client)
    client.status = to_status
    if to_status in FINISHED:
        client.next_contact_date = None
    client.save(update_fields=["status", "next_contact_date"])
    access_log_record(actor=actor, action=Action.UPDATE, obj=client, reason=f"status:{to_status}")
    return client


def _bookings_ahead_cancel(*, actor: Actor, client: Client) -> None:
    """Cancelled by the clinic: the calendar feed then shows each as cancelled. The version moves on, so a form
    open on one of them meanwhile is told of the change instead of booking it again."""
    ahead = list(TherapySession.objects.filter(client=client).booked_ahead().select_for_update())
    TherapySession.objects.filter(pk__in=[s.pk for s in ahead]).update(
        attendance=Attendance.CANCELLED_BY_CLINIC, version=F("version") + 1
    )
    for session in ahead:
        access_log_record(actor=actor, action=Action.UPDATE, obj=session, reason="cancelled:case_closed")


@transaction.atomic
def client_reopen(*, actor: Actor, client: Client, reason: str = "", close_follow_ups: bool = False) -> Episode:
    """A returning former client: a new treatment period on the same record, starting at contact.

    The earlier period's follow-ups still open stay due, or with `close_follow_ups` are closed as not needed
    (kept, dated): the therapist chooses (clients.forms.ReopenForm)."""
    client = Client.objects.select_for_update().get(pk=client.pk)
    if client.status not in FINISHED:
        raise ValidationError(_("A new treatment period can only start when the current one has finished."))
    previous = client.current_episode()
    episode = Episode.objects.create(client=client, number=previous.number + 1)
    StatusChange.objects.create(
        client=client,
        episode=episode,
        from_status="",
        to_status=CaseStatus.CONTACT,
        by=actor.acting_user(),
        reason=reason,
    )
    client.status = CaseStatus.CONTACT
    client.save(update_fields=["status"])
    if close_follow_ups:
        FollowUp.objects.open().filter(client=client).update(dropped_on=timezone.localdate())
    access_log_record(actor=actor, action=Action.UPDATE, obj=client, reason="new_period")
    return episode


@transaction.atomic
def assessment_save(
    *,
    actor: Actor,
    client: Client,
    version: int | None,
    data: dict[str, Any],
    referred_to: ReferralDestination | None = None,
    destination: str = "",
) -> AssessmentConversation:
    """Save the assessment conversation of the current period; its decision moves the case on.

    Opening the assessment moves a new contact to 'assessment'; a decision then moves it to
    treatment, referral or closed, in the same transaction as the text.
    """
    by = actor.acting_user()
    client = Client.objects.select_for_update().get(pk=client.pk)
    episode = client.current_episode()
    # Locked with the record's row, so a signature cannot land between this check and the UPDATE.
    conversation = AssessmentConversation.objects.select_for_update().filter(episode=episode).first()
    if conversation is not None and conversation.is_signed:
        raise ValidationError(SIGNED_PART_IS_FINAL)
    if conversation is None:
        conversation = AssessmentConversation(episode=episode, updated_by=by, **data)
        conversation.full_clean()
        conversation.save()
    else:
        for name, value in data.items():
            setattr(conversation, name, value)
        conversation.updated_by = by
        conversation.updated_at = timezone.now()
        conversation.full_clean()
        save_versioned(conversation, expected_version=version or 0, fields=[*data, "updated_by", "updated_at"])
    if client.status == CaseStatus.CONTACT:
        client = client_transition(actor=actor, client=client, to_status=CaseStatus.ASSESSMENT)
    decided = DECISION_STATUS.get(conversation.decision)
    if decided and client.status == CaseStatus.ASSESSMENT:
        client_transition(
            actor=actor,
            client=client,
            to_status=decided,
            reason=_("Decision of the assessment conversation"),
            referred_to=referred_to,
            destination=destination,
        )
    access_log_record(actor=actor, action=Action.UPDATE, obj=conversation, client_id=client.pk)
    return conversation


@transaction.atomic
def interview_section_save(
    *, actor: Actor, client: Client, section: str, version: int, text: str, done: bool
) -> DeepInterviewSection:
    """Save one deep-interview section. Version 0 means 'first save'; a stale version raises EditConflict."""
    by = actor.acting_user()
    if version == 0:
        entry = DeepInterviewSection(client=client, section=section, text=text, done=done, updated_by=by)
        entry.full_clean(validate_constraints=False)
        try:
            # Savepoint: a colleague's concurrent first save hits the unique constraint.
            with transaction.atomic():
                entry.save()
        except IntegrityError:
            current = DeepInterviewSection.objects.get(client=client, section=section)
            if current.is_signed:
                raise ValidationError(SIGNED_PART_IS_FINAL) from None
            raise EditConflict(current) from None
    else:
        saved = DeepInterviewSection.objects.select_for_update().filter(client=client, section=section).first()
        if saved is None:  # a version of a section never saved: only a crafted or corrupted form sends that
            raise ValidationError(_("The page is out of date. Reload it and try again."))
        if saved.is_signed:
            raise ValidationError(SIGNED_PART_IS_FINAL)
        entry = saved
        entry.text, entry.done, entry.updated_by, entry.updated_at = text, done, by, timezone.now()
        entry.full_clean()
        save_versioned(entry, expected_version=version, fields=["text", "done", "updated_by", "updated_at"])
    access_log_record(actor=actor, action=Action.UPDATE, obj=entry)
    return entry


# -- signing the assessment conversation and the deep interview -------------------------------------------------

#: What a save of a signed part is told (the page shows a signed part read-only; an autosave or a crafted POST
#: still reaches the service).
SIGNED_PART_IS_FINAL = _lazy("This part is signed and can no longer change. Write an addendum instead.")

#: A signature names the version the page showed: text saved since (another tab, a colleague, an autosave) is
#: read before it is signed.
STALE_SIGNATURE = _lazy("The text was saved again after this page was opened. Read it as it is now, then sign.")


def _check_record_therapist(actor: Actor, client: Client) -> None:
    if not client.is_record_therapist(actor.acting_user()):
        raise PermissionDenied("only the therapists of the record sign it and add to it")


def _family_map_lock(client: Client) -> None:
    """Stamp the lock once (later signatures and prints keep the first date): an UPDATE of the one column, so a form
    open on the client's details is not disturbed (its version stays)."""
    if client.family_map_locked_at is not None:
        return
    now = timezone.now()
    if Client.objects.filter(pk=client.pk, family_map_locked_at__isnull=True).update(family_map_locked_at=now):
        client.family_map_locked_at = now
    else:  # stamped meanwhile by another request
        client.family_map_locked_at = Client.objects.values_list("family_map_locked_at", flat=True).get(pk=client.pk)


@transaction.atomic
def assessment_sign(
    *, actor: Actor, client: Client, conversation: AssessmentConversation, version: int
) -> AssessmentConversation:
    """Sign the assessment conversation as saved at `version` (what the signer saw): from now on PostgreSQL refuses
    any change to it, and the family map is locked. A therapist of the record signs (Client.is_record_therapist)."""
    _check_record_therapist(actor, client)
    conversation = AssessmentConversation.objects.select_for_update().get(pk=conversation.pk)
    if conversation.episode.client_id != client.pk:  # never from the pages: they pass the record's own
        raise PermissionDenied("not this record's conversation")
    if conversation.is_signed:
        raise ValidationError(_("The assessment conversation is already signed."))
    if conversation.version != version:
        raise ValidationError(STALE_SIGNATURE)
    if not conversation.has_text:
        raise ValidationError(_("Write the assessment conversation before signing it."))
    conversation.signed_at, conversation.signed_by = timezone.now(), actor.acting_user()
    # Only these columns: `updated_at` (auto_now) stays the time of the last save of the text.
    AssessmentConversation.objects.filter(pk=conversation.pk).update(
        signed_at=conversation.signed_at, signed_by=conversation.signed_by
    )
    _family_map_lock(client)
    access_log_record(actor=actor, action=Action.UPDATE, obj=conversation, client_id=client.pk, reason="signed")
    return conversation


@transaction.atomic
def interview_section_sign(*, actor: Actor, client: Client, section: str, version: int) -> DeepInterviewSection:
    """Sign one deep-interview section as saved at `version`; it is done and final from then on, and the family
    map is locked."""
    _check_record_therapist(actor, client)
    entry = DeepInterviewSection.objects.select_for_update().filter(client=client, section=section).first()
    if entry is None or not entry.text.strip():
        raise ValidationError(_("Write the section before signing it."))
    if entry.is_signed:
        raise ValidationError(_("The section is already signed."))
    if entry.version != version:
        raise ValidationError(STALE_SIGNATURE)
    entry.signed_at, entry.signed_by, entry.done = timezone.now(), actor.acting_user(), True
    entry.save(update_fields=["signed_at", "signed_by", "done"])
    _family_map_lock(client)
    access_log_record(actor=actor, action=Action.UPDATE, obj=entry, reason="signed")
    return entry


@transaction.atomic
def part_addendum_add(
    *,
    actor: Actor,
    client: Client,
    text: str,
    conversation: AssessmentConversation | None = None,
    section: DeepInterviewSection | None = None,
) -> PartAddendum:
    """A dated correction below a signed assessment conversation or interview section; the original stays as it
    was. A therapist of the record writes it."""
    _check_record_therapist(actor, client)
    part = conversation or section
    if part is None or (conversation is not None and section is not None):
        raise ValueError("an addendum follows exactly one part")
    owner = conversation.episode.client_id if conversation is not None else section.client_id  # type: ignore[union-attr]
    if owner != client.pk:
        raise PermissionDenied("not this record's part")
    # As stored, not as the caller last read it.
    if not type(part).objects.filter(pk=part.pk, signed_at__isnull=False).exists():
        raise ValidationError(_("An unsigned text is changed directly; an addendum follows a signed one."))
    addendum = PartAddendum(conversation=conversation, section=section, author=actor.acting_user(), text=text.strip())
    addendum.full_clean()
    addendum.save()
    access_log_record(actor=actor, action=Action.UPDATE, obj=addendum, client_id=client.pk)
    return addendum


@transaction.atomic(savepoint=False)  # always inside the print's own transaction (kast.pdf.print_response)
def intake_summary_printed(*, actor: Actor, client: Client) -> None:
    """The intake summary is printed: logged as a print, and the family map it shows is locked (the paper copy
    cannot change, so the map it was made from keeps every row). Called inside the print's own transaction, so a
    PDF not made leaves neither."""
    _family_map_lock(client)
    access_log_record(actor=actor, action=Action.PRINT, obj=client)


# -- the family map -----------------------------------------------------------------------------------------------

FAMILY_MAP_LOCKED = _lazy(
    "The family map is locked: it is part of a signed text or a printed summary. Mark the entry as entered in error "
    "instead, with the reason."
)


def _locked_client(client_id: uuid.UUID) -> Client:
    """The record's row, locked: a signature or print that stamps the lock waits for this change, or this one sees
    the stamp."""
    return Client.objects.select_for_update().only("pk", "family_map_locked_at").get(pk=client_id)


@transaction.atomic
def family_member_save(
    *, actor: Actor, client: Client, data: dict[str, Any], member: FamilyMember | None = None
) -> FamilyMember:
    """Add a person to the family map, or change one; the genogram is redrawn from the rows."""
    parents = data.pop("parents", [])
    if member is not None:
        stored = FamilyMember.objects.select_for_update().only("entered_in_error_at").get(pk=member.pk)
        if stored.is_entered_in_error:
            raise ValidationError(_("This person is marked as entered in error and can no longer change."))
    member = member or FamilyMember(client=client)
    for name, value in data.items():
        setattr(member, name, value)
    member.full_clean()
    member.save()
    member.parents.set(
        [p for p in parents if p.client_id == client.pk and p.pk != member.pk and not p.is_entered_in_error]
    )
    access_log_record(actor=actor, action=Action.UPDATE, obj=member)
    return member


@transaction.atomic
def family_member_delete(*, actor: Actor, member: FamilyMember) -> None:
    """Remove a person (and their relationships) while the map is not locked; after that, see family_member_mark."""
    if member.relation == FamilyRelation.CLIENT:
        raise ValidationError(_("The client is the centre of the family map and cannot be removed."))
    if _locked_client(member.client_id).family_map_locked:
        raise ValidationError(FAMILY_MAP_LOCKED)
    access_log_record(actor=actor, action=Action.UPDATE, obj=member)
    member.delete()


def _error_mark(row: FamilyMember | FamilyRelationship, *, by: User, at: datetime.datetime, reason: str) -> None:
    row.entered_in_error_at, row.entered_in_error_by, row.error_reason = at, by, reason
    row.save(update_fields=["entered_in_error_at", "entered_in_error_by", "error_reason"])


def _error_reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the entry is wrong.")})
    return reason


@transaction.atomic
def family_member_mark(*, actor: Actor, member: FamilyMember, reason: str) -> FamilyMember:
    """Mark a person as entered in error: out of the genogram and the map's tables, kept (struck through, with the
    reason) under "Entered in error". Their relationships go with them, with the same reason: a line to a person
    who is not in the map cannot be drawn."""
    reason = _error_reason(reason)
    if member.relation == FamilyRelation.CLIENT:
        raise ValidationError(_("The client is the centre of the family map and cannot be marked."))
    member = FamilyMember.objects.select_for_update().get(pk=member.pk)
    if member.is_entered_in_error:
        raise ValidationError(_("This entry is already marked as entered in error."))
    by, now = actor.acting_user(), timezone.now()
    _error_mark(member, by=by, at=now, reason=reason)
    lines = FamilyRelationship.objects.select_for_update().filter(
        Q(a=member) | Q(b=member), entered_in_error_at__isnull=True
    )
    for line in lines:
        _error_mark(line, by=by, at=now, reason=reason)
        access_log_record(actor=actor, action=Action.UPDATE, obj=line, reason="entered_in_error")
    access_log_record(actor=actor, action=Action.UPDATE, obj=member, reason="entered_in_error")
    return member


@transaction.atomic
def family_relationship_mark(*, actor: Actor, relationship: FamilyRelationship, reason: str) -> FamilyRelationship:
    """Mark a relationship as entered in error (kept, out of the genogram, listed with the reason)."""
    reason = _error_reason(reason)
    relationship = FamilyRelationship.objects.select_for_update().get(pk=relationship.pk)
    if relationship.is_entered_in_error:
        raise ValidationError(_("This entry is already marked as entered in error."))
    _error_mark(relationship, by=actor.acting_user(), at=timezone.now(), reason=reason)
    access_log_record(actor=actor, action=Action.UPDATE, obj=relationship, reason="entered_in_error")
    return relationship


@transaction.atomic
def family_relationship_add(*, actor: Actor, client: Client, data: dict[str, Any]) -> FamilyRelationship:
    relationship = FamilyRelationship(client=client, **data)
    if relationship.a.client_id != client.pk or relationship.b.client_id != client.pk:
        raise ValidationError(_("Both people must be in this client's family map."))
    if relationship.a.is_entered_in_error or relationship.b.is_entered_in_error:
        raise ValidationError(_("A person marked as entered in error takes no relationship."))
    relationship.full_clean()
    try:
        with transaction.atomic():  # a savepoint: a concurrent identical add must not end the transaction
            relationship.save()
    except IntegrityError as error:
        if constraint_violated(error) != "relationship_unique":
            raise
        raise ValidationError(_("This relationship is already in the family map.")) from error
    access_log_record(actor=actor, action=Action.UPDATE, obj=relationship)
    return relationship


@transaction.atomic
def family_relationship_delete(*, actor: Actor, relationship: FamilyRelationship) -> None:
    if _locked_client(relationship.client_id).family_map_locked:
        raise ValidationError(FAMILY_MAP_LOCKED)
    access_log_record(actor=actor, action=Action.UPDATE, obj=relationship)
    relationship.delete()


#: How long a break-the-glass access lasts: the rest of a working session, not for good.
EMERGENCY_ACCESS_HOURS = 4


@transaction.atomic
def emergency_access_open(*, actor: Actor, client: Client, reason: str) -> EmergencyAccess:
    """Open a record outside the user's caseload, with a stated reason: logged and queued for review."""
    if not reason.strip():
        raise ValidationError({"reason": _("Say why you must open the record.")})
    user = actor.acting_user()
    if client.clinic_id != user.clinic_id:
        raise ValidationError({"code": _("Only records of your own clinic can be opened.")})
    now = timezone.now()
    access = EmergencyAccess.objects.create(
        client=client,
        user=user,
        reason=reason.strip(),
        opened_at=now,
        expires_at=now + datetime.timedelta(hours=EMERGENCY_ACCESS_HOURS),
    )
    # The reason stays in its own row (it is free text); the log names the access, for the review queue.
    access_log_record(actor=actor, action=Action.VIEW, obj=client, reason=f"{EMERGENCY_REASON_PREFIX}{access.pk}")
    return access
