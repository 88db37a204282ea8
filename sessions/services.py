"""Writes of sessions and notes. Each is one transaction, validates first and writes the access log."""

from __future__ import annotations

import datetime
import secrets
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from dateutil.relativedelta import relativedelta
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from clients.goals import ReviewInput, goal_reviews_at_end
from clients.models import FINISHED, CaseStatus, Client, EndReason
from clients.services import client_transition
from kast.actor import Actor
from kast.locking import EditConflict, save_versioned
from kast.models import AccessLogEntry, Clinic, Role, User
from kast.profile import clinic_offers
from kast.services import access_log_record
from relatives.models import RelativeLink
from sessions.models import (
    HELD,
    JOINT_KINDS,
    OCCUPIES_TIME,
    Addendum,
    AddendumDraft,
    Attendance,
    CalendarFeed,
    FollowUp,
    FollowUpKind,
    GuideTopic,
    Method,
    MethodCode,
    Note,
    SessionFee,
    SessionKind,
    SessionParticipant,
    Theme,
    TherapySession,
)
from sessions.selectors import check_may_change_session, note_of, outside_opening_hours, overlapping_sessions

Action = AccessLogEntry.Action

#: Session facts that may still change once the note is signed (payment comes later).
CHANGEABLE_AFTER_SIGNING = frozenset({"fee_paid"})


class SessionNeedsConfirming(Exception):
    """The time overlaps the therapist's other sessions, or lies outside the clinic's opening hours: more often a
    typing error than the truth. The caller may confirm and save anyway."""

    def __init__(self, session: TherapySession, overlapping: list[TherapySession], *, outside_hours: bool):
        super().__init__("session time to confirm")
        self.overlapping = overlapping
        self.outside_hours = outside_hours
        self.clinic = session.clinic


def clinic_install_themes(clinic: Clinic) -> None:
    """A new clinic's note themes: the conversation guide's topics, in the guide's order."""
    Theme.objects.bulk_create(
        [Theme(clinic=clinic, topic=topic, position=n) for n, topic in enumerate(GuideTopic.values, start=1)],
        ignore_conflicts=True,
    )


def clinic_install_methods(clinic: Clinic) -> None:
    """A new clinic's methods: the common list, with its stable codes (the clinic adds its own in the admin site)."""
    Method.objects.bulk_create(
        [Method(clinic=clinic, code=code, position=n) for n, code in enumerate(MethodCode.values, start=1)],
        ignore_conflicts=True,
    )


def clinic_install_lists(clinic: Clinic) -> None:
    """What a new clinic's note page starts with: the note themes and the methods."""
    clinic_install_themes(clinic)
    clinic_install_methods(clinic)


def default_fee(clinic: Clinic, kind: str) -> Decimal:
    """The clinic's fee for a kind of session; nothing at a clinic that does not charge (kast.profile), whatever
    its list of fees still says."""
    if not clinic_offers(clinic, "fees"):
        return Decimal(0)
    fee = SessionFee.objects.filter(clinic=clinic, kind=kind).values_list("amount", flat=True).first()
    return fee if fee is not None else Decimal(0)


def _check_therapists(client: Client, therapists: list[User]) -> None:
    if not therapists:
        raise ValidationError({"therapists": _("Choose at least one therapist.")})
    if any(t.clinic_id != client.clinic_id or t.role != Role.THERAPIST for t in therapists):
        raise ValidationError({"therapists": _("Only therapists of the client's clinic can hold the session.")})


def _check_participants(session: TherapySession, participants: list[Client]) -> None:
    """Who else is in the room, by their records: the linked partner at a couple session, people of the
    clinic at a group session (couples together, clients alone or relatives alone).

    The wall: a client and a relative share a session, and so its note, only when they are linked and
    both have consented to joint work; otherwise the note would carry one into the other's record.
    """
    if session.kind not in JOINT_KINDS:
        if participants:
            raise ValidationError({"participants": _("Only couple and group sessions have other participants.")})
        return
    if any(p.pk == session.client_id for p in participants):
        raise ValidationError({"participants": _("The record's own person is already at the session.")})
    if any(p.clinic_id != session.clinic_id for p in participants):
        raise ValidationError({"participants": _("Every participant must be registered at the session's clinic.")})
    if session.kind == SessionKind.COUPLE and len(participants) > 1:
        raise ValidationError({"participants": _("A couple session has at most one other participant.")})
    people = [session.client, *participants]
    if session.kind == SessionKind.COUPLE:
        # A partner without a record of their own may come too; one with a record is named, and must be linked.
        pairs = [(session.client, other) for other in participants]
    else:
        pairs = [(a, b) for a in people if not a.is_relative for b in people if b.is_relative]
    if not pairs:
        return
    ids = [person.pk for person in people]
    links = {
        frozenset((link.client_id, link.relative_id)): link
        for link in RelativeLink.objects.active().filter(client_id__in=ids, relative_id__in=ids)
    }
    for a, b in pairs:
        link = links.get(frozenset((a.pk, b.pk)))
        names = {"a": a.code, "b": b.code}
        if link is None:
            raise ValidationError(
                {
                    "participants": _(
                        "%(a)s and %(b)s are not linked as client and relative: link them first, with their consent."
                    )
                    % names
                }
            )
        if not link.joint_work_agreed:
            raise ValidationError(
                {"participants": _("%(a)s and %(b)s have not both consented to joint work yet.") % names}
            )


def _set_participants(session: TherapySession, participants: list[Client]) -> None:
    wanted = {p.pk: p for p in participants}
    session.participants.exclude(client_id__in=wanted).delete()
    present = set(session.participants.values_list("client_id", flat=True))
    SessionParticipant.objects.bulk_create(
        SessionParticipant(session=session, client=p, episode=p.current_episode())
        for pk, p in wanted.items()
        if pk not in present
    )


def _check_time(session: TherapySession, therapists: list[User], *, allow_overlap: bool, hours: bool = True) -> None:
    """Raises SessionNeedsConfirming for an overlap, or (when `hours`) a time outside the opening hours."""
    if allow_overlap:
        return
    overlapping = (
        overlapping_sessions(
            therapists=therapists,
            date=session.date,
            start_time=session.start_time,
            minutes=session.duration_minutes,
            exclude=session,
        )
        if session.attendance in OCCUPIES_TIME
        else []
    )
    outside_hours = hours and outside_opening_hours(session)
    if overlapping or outside_hours:
        raise SessionNeedsConfirming(session, overlapping, outside_hours=outside_hours)


@transaction.atomic
def session_create(
    *, actor: Actor, client: Client, data: dict[str, Any], allow_overlap: bool = False
) -> TherapySession:
    """Book a session, or log one that was held. Raises SessionNeedsConfirming unless `allow_overlap`."""
    data = dict(data)
    therapists = list(data.pop("therapists", None) or [actor.user])
    participants = list(data.pop("participants", None) or [])
    if data.get("fee_charged") is None:
        data["fee_charged"] = default_fee(client.clinic, data.get("kind", SessionKind.INDIVIDUAL))
    session = TherapySession(
        clinic_id=client.clinic_id, client=client, episode=client.current_episode(), created_by=actor.user, **data
    )
    session.full_clean()
    _check_therapists(client, therapists)
    _check_participants(session, participants)
    _check_time(session, therapists, allow_overlap=allow_overlap)
    session.save()
    session.therapists.set(therapists)
    _set_participants(session, participants)
    _follow_up_done_by(actor, session)
    _next_contact_follows_bookings(session.client)
    access_log_record(actor=actor, action=Action.CREATE, obj=session)
    return session


@transaction.atomic
def session_update(
    *, actor: Actor, session: TherapySession, version: int, data: dict[str, Any], allow_overlap: bool = False
) -> TherapySession:
    """Change the session's facts. Once its note is signed only the payment can change."""
    check_may_change_session(actor.acting_user(), session)
    data = dict(data)
    therapists = data.pop("therapists", None)
    participants = data.pop("participants", None)
    if "fee_charged" in data and data["fee_charged"] is None:
        data["fee_charged"] = default_fee(session.clinic, data.get("kind", session.kind))
    note = Note.objects.filter(session=session).only("signed_at").first()
    if note is not None and note.is_signed:
        # Compared with what is stored: a bound form has already copied its input onto `session`.
        stored = TherapySession.objects.get(pk=session.pk)
        changed = {name for name, value in data.items() if getattr(stored, name) != value}
        if therapists is not None and set(therapists) != set(stored.therapists.all()):
            changed.add("therapists")
        if participants is not None and {p.pk for p in participants} != set(
            stored.participants.values_list("client_id", flat=True)
        ):
            changed.add("participants")
        if changed - CHANGEABLE_AFTER_SIGNING:
            raise ValidationError(
                _("The note is signed: the session's date, time and attendance can no longer change.")
            )
        therapists = participants = None
    # The opening hours are asked about when the time moves, not again each time the note of an evening session
    # is saved. Compared with what is stored: a bound form has already copied its input onto `session`.
    moved = ("date" in data or "start_time" in data) and not TherapySession.objects.filter(
        pk=session.pk, date=data.get("date", session.date), start_time=data.get("start_time", session.start_time)
    ).exists()
    for name, value in data.items():
        setattr(session, name, value)
    session.full_clean()
    if therapists is not None:
        _check_therapists(session.client, therapists)
    if participants is not None:
        _check_participants(session, participants)
    _check_time(session, therapists or list(session.therapists.all()), allow_overlap=allow_overlap, hours=moved)
    save_versioned(session, expected_version=version, fields=list(data))
    if therapists is not None:
        session.therapists.set(therapists)
    if participants is not None:
        _set_participants(session, participants)
    _follow_up_done_by(actor, session)
    _next_contact_follows_bookings(session.client)
    access_log_record(actor=actor, action=Action.UPDATE, obj=session)
    return session


def _writable_note(actor: Actor, session: TherapySession) -> Note | None:
    note = note_of(session)
    if note is not None and not note.written_by(actor.user):
        raise PermissionDenied("only the author writes the note")
    if note is not None and note.is_signed:
        raise ValidationError(_("The note is signed and can no longer change. Write an addendum instead."))
    return note


@transaction.atomic
def note_save(
    *,
    actor: Actor,
    session: TherapySession,
    version: int,
    text: str,
    themes: Iterable[Theme] | None = None,
    methods: Iterable[Method] | None = None,
) -> Note:
    """Save the draft. Version 0 starts the note; a stale version raises EditConflict (two tabs, two people)."""
    if session.is_voided:
        raise ValidationError(_("This session is marked as wrongly recorded."))
    # Lock the session row: two first saves of the same note must not both start one.
    TherapySession.objects.select_for_update().filter(pk=session.pk).first()
    note = _writable_note(actor, session)
    now = timezone.now()
    if note is None:
        if version != 0:
            raise EditConflict(Note(session=session, text="", version=0))
        note = Note.objects.create(session=session, author=actor.acting_user(), text=text, updated_at=now)
    else:
        note.text, note.updated_at = text, now
        save_versioned(note, expected_version=version, fields=["text", "updated_at"])
    if themes is not None:
        note.themes.set([t for t in themes if t.clinic_id == session.clinic_id])
    if methods is not None:
        methods = list(methods)
        if any(m.clinic_id != session.clinic_id for m in methods):
            raise ValidationError({"methods": _("Choose methods from the clinic's list.")})
        note.methods.set(methods)
    access_log_record(actor=actor, action=Action.UPDATE, obj=note, client_id=session.client_id)
    return note


@transaction.atomic
def note_sign(*, actor: Actor, note: Note) -> Note:
    """Sign the note: from now on PostgreSQL refuses any change to it."""
    note = Note.objects.select_for_update().select_related("session").get(pk=note.pk)
    if not note.written_by(actor.user):
        raise PermissionDenied("only the author signs the note")
    if note.is_signed:
        raise ValidationError(_("The note is already signed."))
    if not note.text.strip():
        raise ValidationError({"text": _("Write the note before signing it.")})
    if note.session.attendance == Attendance.BOOKED:
        raise ValidationError({"attendance": _("Say whether the session was held before signing the note.")})
    note.signed_at = timezone.now()
    note.save(update_fields=["signed_at"])
    access_log_record(actor=actor, action=Action.UPDATE, obj=note, client_id=note.session.client_id, reason="signed")
    return note


@transaction.atomic
def session_document(
    *,
    actor: Actor,
    session: TherapySession,
    session_version: int,
    session_data: dict[str, Any],
    note_version: int,
    text: str,
    themes: Iterable[Theme],
    methods: Iterable[Method] | None = None,
    sign: bool,
    allow_overlap: bool = False,
) -> Note:
    """The note page's one submit: the session's facts, the note, and its signature — all or nothing.

    An overlap with another session stops only the signature: a draft is saved whatever the times say
    (the page then shows the overlap as a warning to fix), so nothing typed waits on a wrong time.
    """
    session_update(
        actor=actor,
        session=session,
        version=session_version,
        data=session_data,
        allow_overlap=allow_overlap or not sign,
    )
    note = note_save(actor=actor, session=session, version=note_version, text=text, themes=themes, methods=methods)
    if sign:
        note = note_sign(actor=actor, note=note)
    return note


@transaction.atomic
def addendum_add(*, actor: Actor, note: Note, text: str) -> Addendum:
    """A dated correction below a signed note. Only its author writes one; the original stays as it was."""
    if not note.written_by(actor.user):
        raise PermissionDenied("only the author adds to the note")
    if not note.is_signed:
        raise ValidationError(_("A draft is changed directly; an addendum follows a signed note."))
    if note.session.is_voided:
        raise ValidationError(_("This session is marked as wrongly recorded: its note takes no addendum."))
    addendum = Addendum(note=note, author=actor.user, text=text.strip())
    addendum.full_clean()
    addendum.save()
    _addendum_draft_emptied(note)  # the author's: only the note's author adds to it (checked above)
    access_log_record(actor=actor, action=Action.UPDATE, obj=addendum, client_id=note.session.client_id)
    return addendum


def _addendum_draft_emptied(note: Note) -> None:
    """The note's author's addendum draft once the addendum is added: emptied, its version moved on, never deleted.

    A deleted draft would start again at version 0, and a save still on its way from the page the addendum was
    added on (its first autosave, sent just before the button) or from another tab read before the adding also
    carries version 0 (or an older one): it would bring the added text back as a new draft. Against an emptied
    draft whose version has moved on, every such save is stale and refused as a conflict (kast.locking). When
    there is no draft yet, an empty one is made with version 1, for the same reason; a first save at the same
    instant either meets it (a conflict) or is made first and then emptied here (get_or_create's second try).
    """
    draft, made = AddendumDraft.objects.get_or_create(note=note, author_id=note.author_id, defaults={"text": ""})
    if not made:
        AddendumDraft.objects.filter(pk=draft.pk).update(text="", version=F("version") + 1, updated_at=timezone.now())


@transaction.atomic
def addendum_draft_save(*, actor: Actor, note: Note, version: int, text: str) -> AddendumDraft:
    """Save the author's addendum draft (the autosave); version 0 starts it, a stale version raises EditConflict."""
    if not note.written_by(actor.user):
        raise PermissionDenied("only the author adds to the note")
    if not note.is_signed:
        raise ValidationError(_("A draft is changed directly; an addendum follows a signed note."))
    if note.session.is_voided:
        raise ValidationError(_("This session is marked as wrongly recorded: its note takes no addendum."))
    draft = AddendumDraft.objects.filter(note=note, author=actor.user).first()
    now = timezone.now()
    if draft is None:
        if version != 0:  # a crafted version (an added addendum leaves its draft emptied, not gone)
            raise EditConflict(AddendumDraft(note=note, author=actor.user, text="", version=0))
        draft = AddendumDraft(note=note, author=actor.user, text=text, updated_at=now)
        draft.full_clean(validate_constraints=False)
        try:
            with transaction.atomic():  # savepoint: another tab's first save at the same moment
                draft.save()
        except IntegrityError:
            raise EditConflict(AddendumDraft.objects.get(note=note, author=actor.user)) from None
    else:
        draft.text, draft.updated_at = text, now
        draft.full_clean(validate_constraints=False)
        save_versioned(draft, expected_version=version, fields=["text", "updated_at"])
    access_log_record(actor=actor, action=Action.UPDATE, obj=draft, client_id=note.session.client_id)
    return draft


@transaction.atomic
def session_void(*, actor: Actor, session: TherapySession, reason: str) -> TherapySession:
    """Mark an entry as wrongly recorded ("felmarkerad"): kept and logged, but out of the normal view."""
    check_may_change_session(actor.acting_user(), session)
    session = TherapySession.objects.select_for_update().get(pk=session.pk)
    if session.is_voided:
        raise ValidationError(_("This session is already marked as wrongly recorded."))
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the entry is wrongly recorded.")})
    session.voided_at, session.voided_by, session.void_reason = timezone.now(), actor.user, reason.strip()
    session.save(update_fields=["voided_at", "voided_by", "void_reason"])
    FollowUp.objects.filter(session=session).update(session=None, done_on=None)
    _next_contact_follows_bookings(session.client)
    access_log_record(actor=actor, action=Action.UPDATE, obj=session, reason="voided")
    return session


def _next_contact_follows_bookings(client: Client) -> None:
    """The record's "next planned contact" is its next booking when there is one, so the caseload sorts by
    what is really in the diary; with no booking ahead, what the therapist typed stays."""
    if client.status in FINISHED:
        return
    next_booking = (
        TherapySession.objects.in_record()
        .filter(client=client, attendance=Attendance.BOOKED, date__gte=timezone.localdate())
        .order_by("date")
        .values_list("date", flat=True)
        .first()
    )
    if next_booking is not None and next_booking != client.next_contact_date:
        # Not through the record's version: a derived date must not make the therapist's open edit stale.
        Client.objects.filter(pk=client.pk).update(next_contact_date=next_booking)
        client.next_contact_date = next_booking


def _follow_up_done_by(actor: Actor, session: TherapySession) -> None:
    """A follow-up conversation that was held completes the earliest open follow-up of the client.

    The six-month one also moves an ended case to "followed up".
    """
    if session.kind != SessionKind.FOLLOW_UP or session.attendance not in HELD:
        return
    if FollowUp.objects.filter(session=session).exists():
        return
    follow_up = (
        FollowUp.objects.open().select_for_update().filter(client_id=session.client_id).order_by("due_on").first()
    )
    if follow_up is None:
        return
    follow_up.done_on, follow_up.session = session.date, session
    follow_up.save(update_fields=["done_on", "session"])
    client = session.client
    if follow_up.kind == FollowUpKind.FOLLOW_UP and CaseStatus.FOLLOWED_UP in client.allowed_transitions():
        client_transition(
            actor=actor, client=client, to_status=CaseStatus.FOLLOWED_UP, reason=_("Follow-up conversation held")
        )


@transaction.atomic
def session_book_next(
    *,
    actor: Actor,
    session: TherapySession,
    date: datetime.date,
    start_time: datetime.time,
    allow_overlap: bool = False,
) -> TherapySession:
    """Book the next session like this one: same client, type, length, therapists and other participants."""
    check_may_change_session(actor.acting_user(), session)
    if session.is_voided:
        raise ValidationError(_("This session is marked as wrongly recorded."))
    return session_create(
        actor=actor,
        client=session.client,
        data={
            "kind": session.kind,
            "date": date,
            "start_time": start_time,
            "duration_minutes": session.duration_minutes,
            "attendance": Attendance.BOOKED,
            "therapists": list(session.therapists.all()),
            "participants": [p.client for p in session.participants.select_related("client")],
        },
        allow_overlap=allow_overlap,
    )


@transaction.atomic
def treatment_end(
    *,
    actor: Actor,
    client: Client,
    ended_on: datetime.date,
    reason: str,
    comment: str = "",
    long_term_check: bool = True,
    keep_bookings: bool = False,
    goal_reviews: list[ReviewInput] | None = None,
) -> list[FollowUp]:
    """End the treatment: the period closes with its reason, the client's goals are followed up (reached, partly or
    not: each one, when a therapist of the record ends it), and the follow-ups are put in the diary."""
    if ended_on > timezone.localdate():
        raise ValidationError({"ended_on": _("A treatment cannot end in the future.")})
    if reason not in EndReason.values:
        raise ValidationError({"reason": _("Choose why the treatment ended.")})
    client = client_transition(
        actor=actor, client=client, to_status=CaseStatus.ENDED, reason=comment, keep_bookings=keep_bookings
    )
    episode = client.current_episode()
    if ended_on < episode.opened_on:
        raise ValidationError({"ended_on": _("The treatment cannot end before the period opened.")})
    episode.closed_on, episode.end_reason = ended_on, reason
    episode.full_clean()
    episode.save(update_fields=["closed_on", "end_reason"])
    if client.is_record_therapist(actor.acting_user()):
        goal_reviews_at_end(actor=actor, client=client, episode=episode, reviews=goal_reviews or [], on=ended_on)
    clinic = client.clinic
    due = [(FollowUpKind.FOLLOW_UP, clinic.follow_up_months)]
    if long_term_check:
        due.append((FollowUpKind.LONG_TERM, clinic.long_term_follow_up_months))
    follow_ups = [
        FollowUp.objects.create(
            client=client, episode=episode, kind=kind, due_on=ended_on + relativedelta(months=months)
        )
        for kind, months in due
    ]
    return follow_ups


@transaction.atomic
def calendar_feed_renew(*, user: User) -> str:
    """A new secret calendar address; any earlier one stops working. Returns the token, shown once."""
    token = secrets.token_urlsafe(32)
    CalendarFeed.objects.update_or_create(
        user=user, defaults={"token_hash": CalendarFeed.hash(token), "created_at": timezone.now()}
    )
    return token


def calendar_feed_revoke(*, user: User) -> None:
    CalendarFeed.objects.filter(user=user).delete()
