"""Session lifecycle glue: stamp at sign-in, end on a rule (see `session_rules`).

Stamping hangs on Django's `user_logged_in` signal on purpose (the one signal in this app):
every way of signing in — the staff login, the portal's phone code, `Client.force_login` in
tests — goes through `django.contrib.auth.login`, so no sign-in path can forget the stamp,
and a session without one is refused by the middleware.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest

from careledger.accounts import session_rules


def limits() -> session_rules.Limits:
    return session_rules.Limits(
        idle_seconds=int(settings.CARELEDGER_SESSION_IDLE_SECONDS),
        absolute_seconds=int(settings.CARELEDGER_SESSION_ABSOLUTE_SECONDS),
    )


def stamp_on_login(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """`user_logged_in` receiver: the session belongs to this epoch, from now."""
    if request is None or not hasattr(request, "session"):
        return
    session_rules.stamp(request.session, epoch=user.session_epoch, now=time.time())


def adopt_epoch(request: HttpRequest, epoch: int) -> None:
    """Keep *this* session alive after its own user moved the epoch (password change)."""
    request.session[session_rules.EPOCH] = epoch


def end(request: HttpRequest) -> None:
    """Log out and drop the session data (a new, empty session key is issued)."""
    logout(request)
