"""Step-up: ask for a fresh TOTP code before a sensitive action.

A signed-in staff session passed MFA once, possibly hours ago. Actions that would hurt most in
a hijacked or unattended session — break-glass access, approving a bulk export, resetting
someone's MFA, issuing a reset link, regenerating one's backup codes, rotating keys — need the
user to prove again, now, that they hold their authenticator.

Contract for other apps (keep these names):

    from careledger.accounts.stepup import mfa_is_fresh, mark_fresh, step_up_required

    @login_required
    @step_up_required                      # or @step_up_required(max_age_seconds=120)
    def approve_export(request, ...): ...

`step_up_required` sends a stale session to `accounts:step_up` (`/account/step-up/?next=…`)
with the current path as `next`; after a good code the user lands back there with a GET, so a
protected action should show a confirmation page on GET and act on POST. `mfa_is_fresh` and
`mark_fresh` are for views that decide themselves.

The time of the last successful MFA lives in the session (`session_rules.MFA_AT`), written by
every MFA success (sign-in, enrolment, step-up) through `mark_fresh`.

For the CLI (`careledger keys rotate --totp-user NAME [--code CODE]`), `check_cli_step_up`
verifies a code of a named institution admin or auditor and records the outcome in the ledger.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from careledger.accounts import session_rules

DEFAULT_MAX_AGE = 300
CLI_ROLES = frozenset({"institution_admin", "auditor"})


def mfa_is_fresh(request: HttpRequest, max_age_seconds: int = DEFAULT_MAX_AGE) -> bool:
    """True if this session passed MFA within the last `max_age_seconds`."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    is_verified = getattr(user, "is_verified", None)
    if is_verified is None or not is_verified():
        return False
    age = session_rules.mfa_age(request.session, now=time.time())
    return age is not None and 0 <= age <= max_age_seconds


def mark_fresh(request: HttpRequest) -> None:
    """Record that this session has just passed MFA."""
    request.session[session_rules.MFA_AT] = time.time()


def step_up_url(next_url: str) -> str:
    return reverse("accounts:step_up") + "?" + urlencode({"next": next_url})


def step_up_required(
    view: Callable[..., HttpResponse] | None = None,
    *,
    max_age_seconds: int | None = None,
) -> Any:
    """View decorator: redirect to the step-up page unless MFA is fresh enough."""

    def decorate(func: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(func)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            limit = max_age_seconds or getattr(
                settings, "CARELEDGER_STEP_UP_SECONDS", DEFAULT_MAX_AGE
            )
            if not mfa_is_fresh(request, limit):
                return HttpResponseRedirect(step_up_url(request.get_full_path()))
            return func(request, *args, **kwargs)

        return wrapped

    return decorate(view) if view is not None else decorate


class StepUpFailed(Exception):
    """The CLI operator could not prove a fresh second factor."""


def check_cli_step_up(*, username: str, code: str, purpose: str) -> Any:
    """Verify a TOTP code of `username` (an institution admin or auditor) for a CLI action.

    Every outcome is ledgered (`auth.step_up`, channel "cli"). Returns the user; raises
    StepUpFailed with a message fit for the terminal.
    """
    from django.db import transaction

    from careledger.access.enforce import actor_of
    from careledger.accounts import mfa
    from careledger.accounts.models import User
    from careledger.ledger import services as ledger

    user = User.objects.filter(username=username, is_active=True).first()
    device = mfa.confirmed_totp(user) if user is not None else None
    allowed = user is not None and user.role in CLI_ROLES and device is not None
    ok = allowed and mfa.verify_totp(user, code, device=device)
    with transaction.atomic():
        if ok:
            ledger.record(
                actor=actor_of(user),
                action="auth.step_up",
                purpose=purpose,
                detail={"method": "totp", "channel": "cli"},
            )
        else:
            ledger.record(
                actor=actor_of(user) if user is not None else mfa.ANONYMOUS,
                action="auth.step_up",
                outcome=ledger.Outcome.DENIED,
                purpose=purpose,
                detail={"channel": "cli", "username_sha256": mfa.username_hash(username)},
            )
    if not ok:
        raise StepUpFailed(
            "step-up refused: the user must be an active institution admin or auditor with "
            "an authenticator, and the code must be current and not used before"
        )
    return user
