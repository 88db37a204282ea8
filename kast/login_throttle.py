"""How long an address must wait before its next password is heard: growing delays, never a lockout."""

from __future__ import annotations

import datetime
import math

from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Max, Sum
from django.utils import timezone


def login_wait_seconds(ip: str | None) -> int:
    """Seconds until a password from `ip` is checked again (0: now).

    A clinic behind one NAT shares an address, so the address is never locked (axes locks a username at an
    address): past LOGIN_ADDRESS_FREE_FAILURES failures from it, on any usernames, each further failure doubles
    the wait after it, from 1 second up to LOGIN_ADDRESS_MAX_DELAY_SECONDS. The failures are axes' own records,
    shared by every worker; those untouched for AXES_COOLOFF_TIME no longer count, so a quiet address starts
    afresh, and a successful login clears its own username's.
    """
    if not ip:
        return 0
    now = timezone.now()
    recent = AccessAttempt.objects.filter(ip_address=ip, attempt_time__gt=now - settings.AXES_COOLOFF_TIME)
    found = recent.aggregate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
    beyond = (found["failures"] or 0) - settings.LOGIN_ADDRESS_FREE_FAILURES
    if beyond <= 0:
        return 0
    # 2 ** beyond can be huge after a long attack: cap the exponent before the power, then the delay.
    delay: int = min(2 ** min(beyond - 1, 32), settings.LOGIN_ADDRESS_MAX_DELAY_SECONDS)
    last: datetime.datetime = found["last"]
    remaining = (last - now).total_seconds() + delay
    return max(0, math.ceil(remaining))
