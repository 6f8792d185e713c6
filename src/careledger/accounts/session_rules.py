"""When does a signed-in session end? Pure rules, no Django (tested without a database).

A session is stamped at sign-in with the time it was opened, the time it was last used and the
user's session epoch (see `careledger.accounts.sessions`). On every request the middleware asks
`verdict()`; anything but None ends the session:

* `epoch`    — the user's epoch moved on: they chose "log out everywhere", changed their
               password, or an admin disabled or reset the account;
* `absolute` — the session is older than the absolute limit (12 h by default), however busy;
* `idle`     — nothing happened for longer than the idle limit (15 min by default);
* `unstamped`— the session was opened by a path that did not stamp it: refused rather than
               trusted, so no sign-in route can quietly skip the limits.

Django's own cookie expiry (SESSION_COOKIE_AGE) enforces the idle limit too; checking it here
as well makes the rule explicit, testable and independent of the session backend.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

EPOCH = "_careledger_epoch"
AUTH_AT = "_careledger_auth_at"
SEEN_AT = "_careledger_seen_at"
MFA_AT = "_careledger_mfa_at"


@dataclass(frozen=True)
class Limits:
    idle_seconds: int
    absolute_seconds: int


def stamp(session: Any, *, epoch: int, now: float) -> None:
    """Mark a freshly signed-in session (any mapping with item assignment)."""
    session[EPOCH] = epoch
    session[AUTH_AT] = now
    session[SEEN_AT] = now


def verdict(session: Any, *, user_epoch: int, now: float, limits: Limits) -> str | None:
    """Why this session must end now, or None if it may go on."""
    try:
        epoch = int(session[EPOCH])
        auth_at = float(session[AUTH_AT])
        seen_at = float(session[SEEN_AT])
    except (KeyError, TypeError, ValueError):
        return "unstamped"
    if epoch != user_epoch:
        return "epoch"
    if now - auth_at > limits.absolute_seconds:
        return "absolute"
    if now - seen_at > limits.idle_seconds:
        return "idle"
    return None


def touch(session: Any, *, now: float) -> None:
    session[SEEN_AT] = now


def mfa_age(session: Any, *, now: float) -> float | None:
    """Seconds since the last successful MFA in this session, or None if never."""
    try:
        return now - float(session[MFA_AT])
    except (KeyError, TypeError, ValueError):
        return None
