"""Lockout after repeated sign-in failures (django-axes), seen from CareLedger.

django-axes counts failures per username and per IP address (`AXES_LOCKOUT_PARAMETERS`) in
its `AccessAttempt` table and refuses further attempts for `AXES_COOLOFF_TIME` once either
count reaches `AXES_FAILURE_LIMIT` (env: CARELEDGER_LOCKOUT_FAILURES / _SECONDS).

Axes would answer a locked-out attempt with its own 429 page. That page would tell an
attacker "this name exists and is locked" (or at least "this attempt differed"), so
`lockout_response` hands back the ordinary login page our view rendered: the same message and
status as a wrong password. The page states the lockout rule for everyone, which is the
"clear message" without a tell.

This module also answers "which accounts are locked now?" for the institution admin's page and
resets counters for the unlock action and `careledger unlock`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from axes.models import AccessAttempt
from axes.utils import reset
from django.conf import settings
from django.db.models import Max, Sum
from django.http import HttpRequest, HttpResponse
from django.utils import timezone


def failure_limit() -> int:
    return int(settings.AXES_FAILURE_LIMIT)


def cool_off() -> dt.timedelta:
    return settings.AXES_COOLOFF_TIME


def cool_off_minutes() -> int:
    """The cool-off as whole minutes, as the login and locked-accounts pages state it."""
    return int(cool_off().total_seconds() // 60)


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None
) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: answer exactly as any other failed sign-in did."""
    if original_response is None:  # not reached through AxesMiddleware; be safe, say nothing
        return HttpResponse(status=200)
    return original_response


def locked_usernames(usernames: Iterable[str], *, now: dt.datetime | None = None) -> dict:
    """{username: locked_until} for the names among `usernames` locked right now."""
    now = now or timezone.now()
    rows = (
        AccessAttempt.objects.filter(
            username__in=list(usernames), attempt_time__gte=now - cool_off()
        )
        .values("username")
        .annotate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
    )
    return {
        row["username"]: row["last"] + cool_off()
        for row in rows
        if row["failures"] >= failure_limit()
    }


def is_locked(username: str) -> bool:
    return username in locked_usernames([username])


def unlock(*, username: str | None = None, ip_address: str | None = None) -> int:
    """Forget the failures of a username (and/or an IP address); returns how many rows went."""
    if not username and not ip_address:
        return 0
    return int(reset(username=username or None, ip=ip_address or None))
