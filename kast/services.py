"""Writes of the cross-cutting part: the access log, the login log and the staff's login sessions."""

from __future__ import annotations

import datetime
import logging
import uuid
from importlib import import_module
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from kast.actor import Actor
from kast.models import AccessLogEntry, Clinic, LoginEvent, StaffSession, User

if TYPE_CHECKING:
    from django_otp.models import Device

logger = logging.getLogger(__name__)


def access_log_record(
    *,
    actor: Actor,
    action: str,
    obj: models.Model | None = None,
    client_id: uuid.UUID | str | None = None,
    object_type: str = "",
    reason: str = "",
    path: str | None = None,
) -> AccessLogEntry:
    """Write one access-log row for what `actor` did.

    `obj` is the record touched; a client-owned record passes its client through `client_id`
    (a Client passes itself, records with a `client_id` field pass theirs). Only ids and the
    path go into the log, never content. `path` replaces the actor's (a secret in the path stays out).
    """
    user = actor.acting_user()
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        if client_id is None:
            client_id = obj.pk if obj._meta.label_lower == "clients.client" else getattr(obj, "client_id", None)
    if client_id is not None:
        try:
            client_id = uuid.UUID(str(client_id))
        except ValueError:
            client_id = None
    return AccessLogEntry.objects.create(
        user=user,
        role=actor.role,
        clinic_id=actor.clinic_id,
        action=action,
        client_id=client_id,
        object_type=object_type,
        object_id=str(obj.pk) if obj is not None else "",
        # PostgreSQL text cannot hold NUL: a path with %00 in it must be logged, not turned into a 500.
        path=(actor.path if path is None else path).replace("\x00", "\ufffd")[:300],
        ip=actor.address,
        reason=reason,
    )


def login_event_record(
    *,
    actor: Actor | None = None,
    event: str,
    user: User | None = None,
    username: str = "",
    reason: str = "",
) -> LoginEvent:
    """Write one row of the login log: the user (or the username tried), the address, the outcome.

    `actor` gives the address only (a login starts anonymous; a failed login's signal may come without a request).
    """
    if user is not None and not username:
        username = user.get_username()
    elif user is None and username:
        user = User.objects.filter(username=username).first()  # a failed attempt on a real account
    return LoginEvent.objects.create(
        event=event,
        user=user,
        username=(username or "")[:150],
        ip=actor.address if actor is not None else None,
        reason=reason[:200],
    )


def staff_session_record(
    *,
    user: User,
    session_key: str | None = None,
    ip: str | None = None,
    user_agent: str = "",
    started_at: datetime.datetime | None = None,
) -> None:
    """Remember that the login session `session_key` belongs to `user`, so it can be ended from elsewhere
    (database sessions)."""
    if session_key is None:
        return
    StaffSession.objects.update_or_create(
        session_id=session_key,
        defaults={
            "user": user,
            "started_at": started_at or timezone.now(),
            "ip": ip,
            "user_agent": user_agent[:200],
        },
    )


@transaction.atomic
def staff_sessions_end(*, user: User, keep_session_key: str | None = None) -> int:
    """End every login session of `user` (but `keep_session_key`, the one asking, if given); returns how many.

    Through the session engine, so a cached session goes as well as its row; the StaffSession rows go with
    their sessions.
    """
    keys = list(
        StaffSession.objects.filter(user=user).exclude(session_id=keep_session_key).values_list("session_id", flat=True)
    )
    engine = import_module(settings.SESSION_ENGINE)
    for key in keys:
        engine.SessionStore(session_key=key).delete()
    return len(keys)


# Changes to staff accounts. An administrator manages accounts but never becomes their user: no password of
# another user is ever set by someone else (kast.admin), only a reset started that the user completes herself,
# with a new second factor of her own. Each change goes to the login log (on the account) and to the access log
# (on whoever made it), where the log review queues it; the user is told at her next login.


def account_change_record(
    *, event: str, user: User, by: User, ip: str | None, path: str = "", detail: str = ""
) -> LoginEvent:
    """One change to `user`'s account made by `by` (the user herself for a reset she completes)."""
    by_whom = "" if by.pk == user.pk else f"by {by.get_username()}"
    AccessLogEntry.objects.create(
        user=by,
        role=by.role,
        clinic_id=by.clinic_id,
        action=AccessLogEntry.Action.ACCOUNT,
        object_type=user._meta.label_lower,
        object_id=str(user.pk),
        path=path.replace("\x00", "\ufffd")[:300],
        ip=ip,
        reason=f"{event} {user.get_username()} {detail}".strip()[:300],
    )
    return LoginEvent.objects.create(
        event=event,
        user=user,
        username=user.get_username()[:150],
        ip=ip,
        reason=": ".join(part for part in (by_whom, detail) if part)[:200],
    )


def _second_factor_delete(user: User) -> int:
    """Remove every second-factor device of `user` (authenticator and backup codes); returns how many."""
    from django_otp import devices_for_user

    devices = list(devices_for_user(user, confirmed=None))
    for device in devices:
        device.delete()
    return len(devices)


@transaction.atomic
def account_reset_start(*, user: User, by: User, ip: str | None, path: str = "") -> str:
    """Start a password reset of `user`: the token of a one-time link (kast.auth.account_reset_tokens) for the
    administrator to hand over. Nothing changes on the account until the user opens the link and sets a password;
    starting another reset ends this link."""
    from kast.auth import account_reset_tokens

    account_change_record(event=LoginEvent.Event.RESET_STARTED, user=user, by=by, ip=ip, path=path)
    return account_reset_tokens.make_token(user)  # after the event: the token names the latest reset


@transaction.atomic
def account_reset_complete(*, user: User, password: str, ip: str | None, path: str = "") -> None:
    """The user sets her new password with the link: her second factor goes with the old password (she sets up a
    new authenticator at her next login, so whoever held the link alone cannot sign in as her), and every
    session of hers ends."""
    user.set_password(password)
    user.save(update_fields=["password"])
    removed = _second_factor_delete(user)
    staff_sessions_end(user=user)
    account_change_record(event=LoginEvent.Event.RESET_COMPLETED, user=user, by=user, ip=ip, path=path)
    if removed:
        account_change_record(
            event=LoginEvent.Event.SECOND_FACTOR_REMOVED, user=user, by=user, ip=ip, path=path, detail="reset"
        )


@transaction.atomic
def second_factor_remove(
    *, user: User, by: User, ip: str | None, path: str = "", devices: list[Device] | None = None
) -> int:
    """Remove a user's authenticator and backup codes (a lost phone), or only `devices` of hers: she sets up new
    ones at her next login, with her own password. Returns how many devices went."""
    if devices is None:
        removed, detail = _second_factor_delete(user), ""
    else:
        detail = ", ".join(f"{device._meta.model_name} {device.name}" for device in devices)
        for device in devices:
            device.delete()
        removed = len(devices)
    account_change_record(
        event=LoginEvent.Event.SECOND_FACTOR_REMOVED, user=user, by=by, ip=ip, path=path, detail=detail
    )
    return removed


def staff_changes_record(
    *, user: User, by: User, ip: str | None, path: str = "", role_before: str, clinic_before_id: int | None
) -> None:
    """Record what changed in `user`'s role and clinic (already saved) against the values before."""
    if user.role != role_before:
        account_change_record(
            event=LoginEvent.Event.ROLE_CHANGED,
            user=user,
            by=by,
            ip=ip,
            path=path,
            detail=f"{role_before} → {user.role}",
        )
    if user.clinic_id != clinic_before_id:
        codes: dict[int | None, str] = dict(
            Clinic.objects.filter(pk__in=[user.clinic_id, clinic_before_id]).values_list("pk", "code")
        )
        account_change_record(
            event=LoginEvent.Event.CLINIC_CHANGED,
            user=user,
            by=by,
            ip=ip,
            path=path,
            detail=f"{codes.get(clinic_before_id, '-')} → {codes.get(user.clinic_id, '-')}",
        )
