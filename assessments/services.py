"""Writes of questionnaires: starting one, saving answers (partially or finally), tablet codes."""

from __future__ import annotations

import datetime
import hashlib
import secrets
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from assessments.models import (
    REPORTED_CODES,
    Administration,
    Answer,
    FilledBy,
    InstrumentVersion,
    Item,
    ItemKind,
    TabletCode,
    TimePoint,
    WrongTabletCode,
)
from clients.models import Client
from kast.actor import Actor
from kast.locking import EditConflict
from kast.models import AccessLogEntry
from kast.services import access_log_record

Action = AccessLogEntry.Action

#: The answer "don't want to answer": distinct from leaving the item empty (not answered).
DECLINED = "declined"
TABLET_CODE_LIFETIME = datetime.timedelta(hours=2)
#: Letters and digits that cannot be mistaken for each other when read aloud or typed.
TABLET_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
TABLET_CODE_LENGTH = 8
#: Session key of the tablet code a device has opened.
TABLET_SESSION_KEY = "kast_tablet_code"


def version_for(time_point: str) -> InstrumentVersion:
    """The newest published version given at this time point."""
    version = (
        InstrumentVersion.objects.filter(published_at__isnull=False, time_points__contains=[time_point])
        .select_related("instrument")
        .order_by("-published_at", "-number")
        .first()
    )
    if version is None:
        raise ValidationError(_("No published questionnaire is set up for this time point."))
    return version


@transaction.atomic
def administration_start(
    *, actor: Actor, client: Client, time_point: str, filled_by: str = FilledBy.THERAPIST
) -> Administration:
    """Give the client the questionnaire of this time point, in the current treatment period."""
    if time_point not in TimePoint.values:
        raise ValidationError({"time_point": _("Choose a time point.")})
    episode = client.current_episode()
    # As the database's unique constraint: one entered in error leaves the time point free for the right one.
    if Administration.objects.counted().filter(episode=episode, time_point=time_point).exists():
        raise ValidationError(
            {"time_point": _("This treatment period already has a questionnaire for that time point.")}
        )
    administration = Administration(
        client=client,
        episode=episode,
        time_point=time_point,
        version=version_for(time_point),
        filled_by=filled_by,
        created_by=actor.user,
    )
    administration.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():  # a colleague starting the same one at the same moment
            administration.save()
    except IntegrityError:
        raise ValidationError(
            {"time_point": _("This treatment period already has a questionnaire for that time point.")}
        ) from None
    access_log_record(actor=actor, action=Action.CREATE, obj=administration)
    return administration


def _refusal(item: Item) -> ValidationError:
    return ValidationError({item.code: _("This answer does not fit the question.")})


def _number_fields(item: Item, value: Any) -> dict[str, Any]:
    """The Answer column of a number item's value: a whole number within the item's range."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise _refusal(item)
    if (item.min_value is not None and value < item.min_value) or (
        item.max_value is not None and value > item.max_value
    ):
        raise ValidationError(
            {item.code: _("Give a number from %(min)s to %(max)s.") % {"min": item.min_value, "max": item.max_value}}
        )
    return {"value_int": value}


def _choice_fields(item: Item, value: Any) -> dict[str, Any]:
    """The Answer columns of a closed item's value: a scale step or a frequency, one choice or several, each
    among the item's options."""
    allowed = [v for v, _label in item.options()]
    if item.kind == ItemKind.MULTIPLE:
        if not isinstance(value, list | tuple) or not value or not set(value) <= set(allowed):
            raise _refusal(item)
        return {"value_choices": list(value)}
    if item.kind == ItemKind.SINGLE:
        if value not in allowed:
            raise _refusal(item)
        return {"value_choices": [value]}
    if isinstance(value, bool) or value not in allowed:  # a scale step or a frequency (True == 1 is no answer)
        raise _refusal(item)
    return {"value_int": value}


def _value_fields(item: Item, value: Any) -> dict[str, Any]:
    """The Answer columns for one value, or ValidationError when the value does not fit the item."""
    if value == DECLINED:
        return {"declined": True}
    kind = item.kind
    if kind == ItemKind.YES_NO:
        if not isinstance(value, bool):
            raise _refusal(item)
        return {"value_bool": value}
    if kind in (ItemKind.SCALE, ItemKind.FREQUENCY, ItemKind.SINGLE, ItemKind.MULTIPLE):
        return _choice_fields(item, value)
    if kind == ItemKind.NUMBER:
        return _number_fields(item, value)
    if kind == ItemKind.LAST_OCCURRENCE:
        if not isinstance(value, datetime.date):
            raise _refusal(item)
        if value > timezone.localdate():
            raise ValidationError({item.code: _("The date cannot be in the future.")})
        return {"value_date": value}
    if not isinstance(value, str) or not value.strip():
        raise _refusal(item)
    return {"value_text": value.strip()}


@transaction.atomic
def answers_save(
    *,
    actor: Actor,
    administration: Administration,
    answers: dict[str, Any],
    submit: bool = False,
    expected_digest: str | None = None,
) -> Administration:
    """Save what is answered so far; an item left empty is "not answered" (no row).

    `answers` maps item codes to typed values or DECLINED. `submit` closes the questionnaire:
    from then on the answers are final. With `expected_digest` (the autosave's) the answers are saved only if
    they are still those the page was read with (answers_digest), else EditConflict.
    """
    administration = Administration.objects.select_for_update().get(pk=administration.pk)
    if administration.is_entered_in_error:
        raise ValidationError(_("This questionnaire is marked as entered in error; its answers can no longer change."))
    if administration.is_submitted:
        raise ValidationError(_("This questionnaire is submitted; its answers can no longer change."))
    if expected_digest is not None and answers_digest(administration) != expected_digest:
        # Answered elsewhere (the clinic tablet, another tab) since this page was read: nothing is replaced.
        raise EditConflict(administration)
    items = {item.code: item for item in administration.version.items.all()}
    unknown = set(answers) - set(items)
    groups = administration.client.target_groups
    # A targeted question is only for clients of its target groups: the form leaves it out, and
    # so must any other route, or the figures per problem type would count the wrong people.
    not_asked = {
        code
        for code, value in answers.items()
        if value not in (None, "", []) and code in items and not items[code].applies_to(groups)
    }
    if unknown or not_asked:
        raise ValidationError(_("The answers do not belong to this questionnaire."))
    rows, errors = [], {}
    for code, value in answers.items():
        if value is None or value == "" or value == []:
            continue
        try:
            rows.append(Answer(administration=administration, item=items[code], **_value_fields(items[code], value)))
        except ValidationError as error:
            errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    administration.answers.all().delete()
    Answer.objects.bulk_create(rows)
    if submit:
        administration.submitted_at = timezone.now()
        administration.save(update_fields=["submitted_at"])
    access_log_record(actor=actor, action=Action.UPDATE, obj=administration, reason="submitted" if submit else "")
    return administration


def answers_digest(administration: Administration) -> str:
    """A fingerprint of the stored answers: the questionnaire's "version" for the autosave's conflict check.

    Answers are rewritten as a whole on each save, so a counter would need a column of its own on
    Administration; the fingerprint needs none, and it also notices answers given on the clinic tablet.
    Two saves of the very same answers share it, which is harmless: nothing would be lost between them.
    """
    rows = Answer.objects.filter(administration=administration).order_by("item_id")
    fields = ("item_id", "declined", "value_bool", "value_int", "value_date", "value_text", "value_choices")
    stored = repr(list(rows.values_list(*fields)))
    return hashlib.sha256(stored.encode()).hexdigest()[:20]


@transaction.atomic
def tablet_code_create(*, actor: Actor, administration: Administration) -> str:
    """A fresh one-time code for the clinic tablet; any earlier unused code for it stops working."""
    # Locked and read afresh: a code made while a colleague marks it as entered in error would outlive the mark.
    administration = Administration.objects.select_for_update().get(pk=administration.pk)
    if administration.is_submitted:
        raise ValidationError(_("This questionnaire is already submitted."))
    if administration.is_entered_in_error:
        raise ValidationError(_("This questionnaire is marked as entered in error."))
    now = timezone.now()
    TabletCode.objects.filter(administration=administration, used_at__isnull=True).update(used_at=now)
    code = "".join(secrets.choice(TABLET_CODE_ALPHABET) for _ in range(TABLET_CODE_LENGTH))
    TabletCode.objects.create(
        administration=administration,
        code_hash=TabletCode.hash(code),
        created_by=actor.acting_user(),
        expires_at=now + TABLET_CODE_LIFETIME,
    )
    access_log_record(actor=actor, action=Action.UPDATE, obj=administration, reason="tablet_code")
    return code


#: Wrong tablet codes one address may try in TABLET_GUESS_WINDOW before it must wait: a code has 8
#: characters of 31, so guessing needs millions of tries, and this keeps it at a handful an hour.
TABLET_GUESS_LIMIT = 10
#: Wrong codes from all addresses together in the window: a guesser with many addresses is held up
#: too, at the price of every clinic's tablets waiting a quarter of an hour (the codes stay valid).
TABLET_GUESS_LIMIT_ALL = 100
TABLET_GUESS_WINDOW = datetime.timedelta(minutes=15)


def tablet_guesses_exhausted(*, address: str | None) -> bool:
    """Whether this address, or all addresses together, typed too many wrong codes lately."""
    recent = WrongTabletCode.objects.filter(at__gte=timezone.now() - TABLET_GUESS_WINDOW)
    if recent.filter(address=address).count() >= TABLET_GUESS_LIMIT:
        return True
    return recent.count() >= TABLET_GUESS_LIMIT_ALL


def tablet_wrong_code(*, address: str | None) -> None:
    now = timezone.now()
    # Old tries are of no use to the limit and say where someone stood: they go as new ones come.
    WrongTabletCode.objects.filter(at__lt=now - TABLET_GUESS_WINDOW).delete()
    WrongTabletCode.objects.create(address=address, at=now)


def tablet_open(*, actor: Actor, code: str, device_tablet_id: int | None = None) -> TabletCode | None:
    """Open a code on this device (`actor`, anonymous or not: the tablet acts for the code's therapist).

    `device_tablet_id` is the code this device has opened before, if any (the view keeps it in the login
    session): opening it again on the same device is allowed. The view then signs out whoever was signed in on
    the device, so it shows nothing else, and remembers the code. Raises ValidationError when another device
    has opened the code already.
    """
    tablet = TabletCode.objects.filter(code_hash=TabletCode.hash(code)).select_related("administration").first()
    if tablet is None:
        tablet_wrong_code(address=actor.address)
        return None
    on_behalf = actor.acting_as(tablet.created_by)
    if not tablet.is_valid() or tablet.administration.is_submitted or tablet.administration.is_entered_in_error:
        access_log_record(
            actor=on_behalf,
            action=Action.DENIED,
            obj=tablet.administration,
            reason="tablet_code_used"
            if tablet.used_at or tablet.administration.is_submitted
            else "tablet_code_expired",
        )
        return None
    same_device = device_tablet_id == tablet.pk
    # One statement claims the code, so two devices typing it at the same instant cannot both get it.
    claimed = TabletCode.objects.filter(pk=tablet.pk, opened_at__isnull=True).update(opened_at=timezone.now())
    if not claimed and not same_device:
        access_log_record(
            actor=on_behalf,
            action=Action.DENIED,
            obj=tablet.administration,
            reason="tablet_code_in_use",
        )
        raise ValidationError(_("This code is already in use on another device. Ask your therapist for a new one."))
    access_log_record(actor=on_behalf, action=Action.VIEW, obj=tablet.administration, reason="tablet")
    return tablet


@transaction.atomic
def tablet_submit(
    *, actor: Actor, tablet: TabletCode, answers: dict[str, Any], submit: bool, expected_digest: str | None = None
) -> None:
    """The client's answers from the tablet, saved on behalf of the code's therapist. Submitting uses up the
    code (the view then ends the device's access). With `expected_digest`, as answers_save."""
    answers_save(
        actor=actor.acting_as(tablet.created_by),
        administration=tablet.administration,
        answers=answers,
        submit=submit,
        expected_digest=expected_digest,
    )
    # The client answered alone on the tablet: say so where the answers are read.
    Administration.objects.filter(pk=tablet.administration_id).update(filled_by=FilledBy.CLIENT)
    if submit:
        tablet.used_at = timezone.now()
        tablet.save(update_fields=["used_at"])


@transaction.atomic
def administration_mark_in_error(*, actor: Actor, administration: Administration, reason: str) -> Administration:
    """Mark a questionnaire as entered in error (the wrong client, the wrong time point): it stays in the record,
    struck through with the reason, and leaves every figure; the time point is free for the right questionnaire.
    Submitted or not. Final: nothing un-marks it (a trigger refuses).

    Only the therapists of the record, who may fill it in: the gate (Administration.objects.visible_to) decides,
    here again as well as in the view, so no other caller can mark another clinic's or a colleague's questionnaire.
    """
    user = actor.acting_user()
    if not Administration.objects.visible_to(user).filter(pk=administration.pk).exists():
        raise PermissionDenied("only the therapists of the record mark its questionnaires")
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the questionnaire was entered in error.")})
    administration = Administration.objects.select_for_update().get(pk=administration.pk)
    if administration.is_entered_in_error:
        raise ValidationError(_("This questionnaire is already marked as entered in error."))
    administration.entered_in_error_at, administration.entered_in_error_by = timezone.now(), user
    administration.error_reason = reason
    administration.full_clean(validate_constraints=False)
    administration.save(update_fields=["entered_in_error_at", "entered_in_error_by", "error_reason"])
    # An open tablet code for it stops working at once (the tablet also refuses a marked one).
    TabletCode.objects.filter(administration=administration, used_at__isnull=True).update(used_at=timezone.now())
    # The reason is free text: it stays in the row, never in the log.
    access_log_record(actor=actor, action=Action.UPDATE, obj=administration, reason="entered_in_error")
    return administration


@transaction.atomic
def version_copy(*, version: InstrumentVersion) -> InstrumentVersion:
    """A new draft version with the same items: reword freely, keep a code while the meaning stays."""
    # The instrument's latest version: `version` itself at least.
    latest = InstrumentVersion.objects.filter(instrument=version.instrument).order_by("-number").first() or version
    copy = InstrumentVersion.objects.create(
        instrument=version.instrument, number=latest.number + 1, time_points=version.time_points
    )
    Item.objects.bulk_create(
        Item(
            **{
                f.attname: getattr(item, f.attname)
                for f in Item._meta.concrete_fields
                if f.attname not in ("id", "version_id")
            },
            version=copy,
        )
        for item in version.items.all()
    )
    return copy


def version_dropped_codes(version: InstrumentVersion) -> list[str]:
    """The item codes Tables 1 and 2 count at one of the version's time points that the version does not ask."""
    asked = set(version.items.values_list("code", flat=True))
    counted_then = [code for point in version.time_points for code in REPORTED_CODES.get(point, ())]
    return [code for code in dict.fromkeys(counted_then) if code not in asked]


@transaction.atomic
def version_publish(*, version: InstrumentVersion, dropping_reported: bool = False) -> InstrumentVersion:
    """Publish: from now on new questionnaires at its time points use it, and it is frozen.

    A version that leaves out a question the evaluation's tables count (REPORTED_CODES) would leave that row of
    the reports without new answers for good: it is published only with `dropping_reported`, which the
    administrator gives by confirming a warning that names the questions.
    """
    if not version.items.exists():
        raise ValidationError(_("A version without questions cannot be published."))
    dropped = version_dropped_codes(version)
    if dropped and not dropping_reported:
        raise ValidationError(
            _(
                "This version leaves out questions that Tables 1 and 2 of the reports count: %(codes)s. "
                "Confirm that they are to be left out."
            )
            % {"codes": ", ".join(dropped)},
            code="drops_reported_codes",
        )
    version.published_at = timezone.now()
    version.save(update_fields=["published_at"])
    return version
