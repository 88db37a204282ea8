"""Who acts, and from where: what every write and the access log need to know of a request, and nothing more."""

from __future__ import annotations

import dataclasses
import ipaddress
import logging
from typing import TYPE_CHECKING

from django.conf import settings
from django.http import HttpRequest

if TYPE_CHECKING:
    from kast.models import User

logger = logging.getLogger(__name__)


def client_ip(request: HttpRequest) -> str | None:
    """The address a request came from, for the access log, the login log and the lockout.

    Behind TRUSTED_PROXY_COUNT reverse proxies, each of which appends the address it was connected from to
    X-Forwarded-For, the client is the N-th entry from the right; entries further left were written by the
    client and would let anyone put any address in the log (or lock out someone else's). With 0 proxies the
    header is ignored.
    """
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies:
        chain = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        try:
            return str(ipaddress.ip_address(chain[-proxies]))
        except (IndexError, ValueError):
            # Not through all the proxies (or a malformed header): the socket's address is all we know.
            logger.warning("X-Forwarded-For does not match TRUSTED_PROXY_COUNT=%d; using REMOTE_ADDR.", proxies)
    return request.META.get("REMOTE_ADDR") or None


@dataclasses.dataclass(frozen=True)
class Actor:
    """The acting user, her role and clinic as they were when the request began, the address and the path.

    Built once per request (kast.middleware.ActorMiddleware sets `request.actor`) and passed to every service
    as `actor=`, so a service can be called from a view, a management command or a test alike (Zulip's
    `acting_user`). `user` is None on an anonymous request: no service accepts such an actor
    (`acting_user()` refuses it).
    """

    user: User | None
    role: str = ""
    clinic_id: int | None = None
    address: str | None = None
    path: str = ""

    @classmethod
    def from_request(cls, request: HttpRequest) -> Actor:
        user = getattr(request, "user", None)  # a request made up outside the middleware may have none
        if user is not None and not user.is_authenticated:
            user = None
        return cls(
            user=user,
            role=user.role if user is not None else "",
            clinic_id=user.clinic_id if user is not None else None,
            address=client_ip(request),
            path=request.path,
        )

    @classmethod
    def for_user(cls, user: User, *, address: str | None = None, path: str = "") -> Actor:
        """An actor outside a request: a management command, the demo generators, a test."""
        return cls(user=user, role=user.role, clinic_id=user.clinic_id, address=address, path=path)

    def acting_user(self) -> User:
        """The user who acts: every write is someone's, so a service refuses an anonymous actor."""
        if self.user is None:
            raise ValueError("a write needs an acting user")
        return self.user

    def acting_as(self, user: User) -> Actor:
        """The same request on `user`'s behalf: a tablet, anonymous itself, acts for the therapist whose
        code opened it, from the tablet's address."""
        return dataclasses.replace(self, user=user, role=user.role, clinic_id=user.clinic_id)


def actor_of(request: HttpRequest) -> Actor:
    """The request's actor: the one the middleware set, or (a request that never passed it) built now."""
    actor = getattr(request, "actor", None)
    return actor if actor is not None else Actor.from_request(request)
