"""What django.contrib.auth and django-axes announce about logins, handed to kast.services to write down.

Signals, because they are the only place these events surface (authenticate() inside a form, the lockout
inside axes); each receiver only calls a service.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from kast.actor import actor_of, client_ip
from kast.middleware import mark_logged_in
from kast.models import LoginEvent, User
from kast.services import login_event_record, staff_session_record


def logged_in(sender: type[User], request: HttpRequest, user: User, **kwargs: object) -> None:
    # The idle and absolute clocks start at login, so the first request after it need not write the session.
    mark_logged_in(request.session)
    staff_session_record(
        user=user,
        session_key=request.session.session_key,
        ip=client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
    )


def login_failed(
    sender: str, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: object
) -> None:
    # Axes' receiver has run first (kast.apps): it has counted the failure and flagged a lockout, so one row
    # tells the outcome. Django has already masked the password in `credentials`; only the username is kept.
    locked = getattr(request, "axes_locked_out", False)
    event = LoginEvent.Event.LOCKED_OUT if locked else LoginEvent.Event.FAILED
    login_event_record(
        actor=actor_of(request) if request is not None else None,
        event=event,
        username=credentials.get("username") or "",
    )
