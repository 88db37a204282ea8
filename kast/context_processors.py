"""Navigation derived from the role table and the clinic's profile (kast.profile), so the menu never offers a page
that would refuse or answer 404; `offers` tells the templates what the user's clinic offers."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext_lazy as _

from kast.access import rule_for_name
from kast.models import User
from kast.profile import Offers, name_offered

NAVIGATION = [
    ("home", _("Start")),
    ("clients:list", _("My clients")),
    ("advice:list", _("Advice contacts")),
    ("outreach:list", _("Outreach")),
    ("groups:list", _("Groups")),
    ("figures:dashboard", _("Figures")),
    ("figures:reports", _("Questionnaire reports")),
    ("figures:research_export", _("Research file")),
    ("access_log", _("Access log")),
    ("admin:index", _("Administration")),
]


def _offered(name: str, user: User | AnonymousUser) -> bool:
    rule = rule_for_name(name)
    assert rule is not None, name  # every page has a rule (tests/kast/test_url_coverage.py)
    return rule.allows(user) and name_offered(user, name)


def navigation(request: HttpRequest) -> dict[str, object]:
    user: User | AnonymousUser | None = getattr(request, "user", None)
    items = []
    # Before the second factor every page but its setup would send the user back: offer none.
    if user is not None and user.is_authenticated and getattr(user, "is_verified", lambda: False)():
        items = [(name, label) for name, label in NAVIGATION if _offered(name, user)]
    return {
        "nav_items": items,
        # Lazy: a page that never asks costs nothing (no query either way: the user comes with her clinic).
        "offers": SimpleLazyObject(lambda: Offers.for_user(user if user is not None else AnonymousUser())),
        "product_name": settings.SITE_NAME,
        # The idle sign-out, for the pages that warn before it (templates/includes/autosave.html, js/autosave.js).
        "idle_seconds": settings.SESSION_IDLE_SECONDS,
    }
