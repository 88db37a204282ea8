"""Request middleware: who acts (request.actor), idle and absolute sign-out, deny-by-default access with two factors (kast.access.URL_RULES)
and the clinic's profile (kast.profile), the UI language, no caching."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.middleware import LoginRequiredMiddleware
from django.contrib.auth.views import redirect_to_login
from django.contrib.sessions.backends.base import SessionBase
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponseBase, HttpResponseRedirect
from django.middleware.locale import LocaleMiddleware
from django.shortcuts import redirect
from django.utils import translation
from django.utils.cache import patch_cache_control
from django.utils.functional import SimpleLazyObject
from django_otp.middleware import is_verified
from two_factor.utils import default_device

from kast.access import rule_for
from kast.actor import Actor, actor_of
from kast.models import AccessLogEntry, LoginEvent
from kast.profile import url_offered
from kast.services import access_log_record, login_event_record

logger = logging.getLogger(__name__)


#: Session key of the last request's time (seconds since the epoch).
LAST_SEEN = "kast_last_seen"
#: The stamp is renewed at most this often, so an ordinary request does not write the session.
LAST_SEEN_RESOLUTION = 60
#: Session key of the login's time (seconds since the epoch), for the absolute limit.
LOGGED_IN_AT = "kast_logged_in_at"

#: The next middleware, or the view: what a middleware's __call__ passes the request on to.
GetResponse = Callable[[HttpRequest], HttpResponseBase]


def mark_seen(session: SessionBase) -> None:
    session[LAST_SEEN] = int(time.time())


def mark_logged_in(session: SessionBase) -> None:
    session[LOGGED_IN_AT] = session[LAST_SEEN] = int(time.time())


class ActorMiddleware:
    """`request.actor`: the acting user, her role and clinic, the address and the path, for every service and
    the access log. Built at its first use, so it sees the user as an idle sign-out (below) has left her; a view
    that changes who acts (a tablet code, a calendar feed's key) derives its own from it."""

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        # HttpRequest has no `actor`: this is where it gets one (kast.access.AuthenticatedHttpRequest declares it).
        request.actor = SimpleLazyObject(lambda: Actor.from_request(request))  # type: ignore[attr-defined]
        return self.get_response(request)


class IdleTimeoutMiddleware:
    """Sign out after SESSION_IDLE_MINUTES without a request (a screen left open in a clinic room), and
    SESSION_ABSOLUTE_HOURS after the login however busy (a session taken over is not kept alive for ever)."""

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.user.is_authenticated:
            now = int(time.time())
            last_seen = request.session.get(LAST_SEEN, now)
            if now - last_seen > settings.SESSION_IDLE_SECONDS:
                self.sign_out(request, reason="idle")
            elif now - request.session.get(LOGGED_IN_AT, now) > settings.SESSION_ABSOLUTE_SECONDS:
                self.sign_out(request, reason="absolute")
            elif now - last_seen >= LAST_SEEN_RESOLUTION or LOGGED_IN_AT not in request.session:
                # A session from before the absolute limit existed starts its clock now.
                request.session.setdefault(LOGGED_IN_AT, now)
                mark_seen(request.session)
        return self.get_response(request)

    @staticmethod
    def sign_out(request: HttpRequest, *, reason: str) -> None:
        # A fresh actor: request.actor is left unbuilt until after the logout.
        actor = Actor.from_request(request)  # signed in (only such a session times out): its user is hers
        login_event_record(actor=actor, event=LoginEvent.Event.TIMEOUT, user=actor.user, reason=reason)
        logout(request)


class AccessPolicyMiddleware(LoginRequiredMiddleware):
    """Django's LoginRequiredMiddleware, with the public allow-list and role rules taken from one table."""

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., HttpResponseBase],
        view_args: tuple[Any, ...],
        view_kwargs: dict[Any, Any],
    ) -> HttpResponseBase | None:
        match = request.resolver_match
        if match is None:  # never: process_view runs once the URL has been resolved
            raise PermissionDenied
        rule = rule_for(match)
        if rule is None:
            logger.error("URL %r has no access rule in kast.access.URL_RULES; refused.", match.view_name)
            raise PermissionDenied
        if rule.public:
            return None
        if not request.user.is_authenticated:
            return self.handle_no_permission(request, view_func)
        if not is_verified(request.user) and not rule.before_second_factor:
            return self.second_factor_required(request)
        if not rule.allows(request.user):
            access_log_record(
                actor=actor_of(request),
                action=AccessLogEntry.Action.DENIED,
                # The record tried, so the review names it (a relative's record is a record_id).
                client_id=view_kwargs.get("client_id") or view_kwargs.get("record_id"),
                object_type=match.view_name,
            )
            raise PermissionDenied
        if not url_offered(request.user, match):
            # A part of the work the user's clinic does not offer (kast.profile): for her the page does not exist.
            raise Http404
        return None

    def get_login_url(self, view_func: Callable[..., HttpResponseBase]) -> str:
        # One login page for everything, also for the admin site (whose views name their own).
        return settings.LOGIN_URL

    @staticmethod
    def second_factor_required(request: HttpRequest) -> HttpResponseRedirect:
        """A session that has passed the password only: to the setup of an authenticator if the user has
        none yet, otherwise back to the login, which asks for the code (and then returns to this page)."""
        if default_device(request.user) is None:
            return redirect("two_factor:setup")
        return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)


class SwedishFirstLocaleMiddleware(LocaleMiddleware):
    """Swedish unless the user has chosen English in the footer (a cookie); the browser's
    Accept-Language does not decide, since clinic PCs are often set up in English."""

    def process_request(self, request: HttpRequest) -> None:
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()


class NoStoreMiddleware:
    """`Cache-Control: no-store` on every response the app itself makes (WhiteNoise answers for static files
    before this runs). Nearly every page shows client data or sits behind the login, and a shared clinic PC,
    its browser history or a proxy must keep no copy; one rule without exceptions is the one that holds."""

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        patch_cache_control(response, no_store=True)
        return response
