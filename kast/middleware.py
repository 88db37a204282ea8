"""Request middleware: idle sign-out, deny-by-default access (kast.access.URL_RULES), the UI language."""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.middleware import LoginRequiredMiddleware
from django.core.exceptions import PermissionDenied
from django.middleware.locale import LocaleMiddleware
from django.utils import translation

from kast.access import rule_for
from kast.models import AccessLogEntry
from kast.services import access_log_record

logger = logging.getLogger(__name__)


#: Session key of the last request's time (seconds since the epoch).
LAST_SEEN = "kast_last_seen"
#: The stamp is renewed at most this often, so an ordinary request does not write the session.
LAST_SEEN_RESOLUTION = 60


def mark_seen(session) -> None:
    session[LAST_SEEN] = int(time.time())


class IdleTimeoutMiddleware:
    """Sign out after SESSION_IDLE_MINUTES without a request (a screen left open in a clinic room)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = int(time.time())
            last_seen = request.session.get(LAST_SEEN, now)
            if now - last_seen > settings.SESSION_IDLE_SECONDS:
                logout(request)
            elif now - last_seen >= LAST_SEEN_RESOLUTION or LAST_SEEN not in request.session:
                mark_seen(request.session)
        return self.get_response(request)


class AccessPolicyMiddleware(LoginRequiredMiddleware):
    """Django's LoginRequiredMiddleware, with the public allow-list and role rules taken from one table."""

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        rule = rule_for(match)
        if rule is None:
            logger.error("URL %r has no access rule in kast.access.URL_RULES; refused.", match.view_name)
            raise PermissionDenied
        if rule.public:
            return None
        if not request.user.is_authenticated:
            return self.handle_no_permission(request, view_func)
        if not rule.allows(request.user):
            access_log_record(
                request=request,
                action=AccessLogEntry.Action.DENIED,
                client_id=view_kwargs.get("client_id"),
                object_type=match.view_name,
            )
            raise PermissionDenied
        return None

    def get_login_url(self, view_func):
        # One login page for everything, also for the admin site (whose views name their own).
        return settings.LOGIN_URL


class SwedishFirstLocaleMiddleware(LocaleMiddleware):
    """Swedish unless the user has chosen English in the footer (a cookie); the browser's
    Accept-Language does not decide, since clinic PCs are often set up in English."""

    def process_request(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
