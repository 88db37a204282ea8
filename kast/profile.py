"""The clinic's profile: which parts of the clinic's work it offers, and which pages belong to each part.

The one owner of the rule "a clinic that does not offer X shows nothing of X": the middleware answers 404 for
its pages (kast.middleware.AccessPolicyMiddleware), the menu leaves them out (kast.context_processors), the
templates ask `offers.<part>`, and the figures leave out its tables (figures.profile).

Clinic staff (therapists, managers) follow their own clinic. Users of no single clinic (administrators, national
follow-up, a researcher attached to none) are offered every part: their pages span clinics, the role table
already keeps them from the clinics' pages, and asking every clinic whether anyone offers a part would cost a
query on every request for nothing (national follow-up's figures of all clinics keep every table, a part no
clinic offers showing zeros).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.contrib.auth.models import AnonymousUser

if TYPE_CHECKING:
    from django.urls import ResolverMatch

    from kast.models import Clinic, User

#: A part of the clinic's work -> the Clinic field that says the clinic offers it.
PARTS: dict[str, str] = {
    "advice": "offers_advice",
    "outreach": "offers_outreach",
    "relatives": "offers_relatives",
    "groups": "offers_groups",
    "fees": "offers_fees",
}

#: A URL namespace (the app's `app_name`) -> the part all its pages belong to.
NAMESPACES: dict[str, str] = {
    "advice": "advice",
    "outreach": "outreach",
    "relatives": "relatives",
    "groups": "groups",
}

#: Single pages of another app that belong to a part: the payment of a session is a fee's.
URL_NAMES: dict[str, str] = {
    "sessions:payment": "fees",
}

#: Pages under a part's namespace that every record uses: the child perspective is asked on a client's record too,
#: so a clinic without relatives' support keeps it.
SHARED: frozenset[str] = frozenset({"relatives:children", "relatives:children_autosave"})


def clinic_offers(clinic: Clinic, part: str) -> bool:
    return bool(getattr(clinic, PARTS[part]))


def offers(user: User | AnonymousUser, part: str) -> bool:
    """Does `user`'s clinic offer `part`? No query: the user is loaded with her clinic (kast.auth.StaffBackend)."""
    clinic = None if isinstance(user, AnonymousUser) else user.clinic
    return True if clinic is None else clinic_offers(clinic, part)


def part_of(match: ResolverMatch) -> str | None:
    """The part of the clinic's work a resolved URL belongs to (None: every clinic's)."""
    name = match.view_name
    if name in SHARED:
        return None
    if name in URL_NAMES:
        return URL_NAMES[name]
    return NAMESPACES.get(match.namespaces[0]) if match.namespaces else None


def url_offered(user: User | AnonymousUser, match: ResolverMatch) -> bool:
    part = part_of(match)
    return part is None or offers(user, part)


def name_offered(user: User | AnonymousUser, url_name: str) -> bool:
    """As url_offered, for a URL name (the menu's)."""
    if url_name in SHARED:
        return True
    namespace, colon, _name = url_name.partition(":")
    part = URL_NAMES.get(url_name) or (NAMESPACES.get(namespace) if colon else None)
    return part is None or offers(user, part)


@dataclass(frozen=True)
class Offers:
    """What the templates ask (`offers.advice`, `offers.fees`): the user's clinic's profile."""

    advice: bool = True
    outreach: bool = True
    relatives: bool = True
    groups: bool = True
    fees: bool = True

    @classmethod
    def for_user(cls, user: User | AnonymousUser) -> Offers:
        return cls(**{part: offers(user, part) for part in PARTS})
