"""Sign-in, MFA and a user's own account: every change and every outcome in the ledger.

`do_*` functions mutate and `record_*` functions only audit; each runs in one transaction
with its ledger event(s), keyword-only. Events never hold a username or a code: failures of a
not-yet-identified person carry `username_sha256` (mfa.username_hash), so attempts on one name
can be grouped without storing it. Institution-admin actions are in `admin_services`.

Event actions: auth.login (allowed/denied), auth.lockout, auth.logout, auth.mfa (allowed/
denied), auth.mfa_enrol (allowed/denied), auth.backup_codes_regenerated, auth.step_up,
auth.logout_everywhere, auth.password_change, auth.session_end.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import F
from django_otp.plugins.otp_totp.models import TOTPDevice

from careledger.access.enforce import actor_of
from careledger.accounts import mfa
from careledger.accounts.models import User
from careledger.ledger import services as ledger


@dataclass(frozen=True)
class MfaResult:
    ok: bool
    method: str
    throttled: bool = False
    backup_codes_left: int | None = None
    device: Any = None  # the django-otp device that accepted the code


# ---- sign-in events ------------------------------------------------------------------------


def record_password_login(*, user: User) -> None:
    with transaction.atomic():
        ledger.record(
            actor=actor_of(user),
            action="auth.login",
            detail={"stage": "password", "mfa": "required" if mfa.needs_mfa(user) else "none"},
        )


def record_login_failure(*, username: str, locked_now: bool) -> None:
    """A failed sign-in; `locked_now` when this failure reached the lockout limit."""
    digest = mfa.username_hash(username)
    with transaction.atomic():
        ledger.record(
            actor=mfa.ANONYMOUS,
            action="auth.login",
            outcome=ledger.Outcome.DENIED,
            detail={"username_sha256": digest},
        )
        if locked_now:
            ledger.record(
                actor=mfa.ANONYMOUS,
                action="auth.lockout",
                outcome=ledger.Outcome.DENIED,
                detail={"username_sha256": digest},
            )


def record_logout(*, user: User) -> None:
    with transaction.atomic():
        ledger.record(actor=actor_of(user), action="auth.logout")


def record_session_end(*, user: User, reason: str) -> None:
    with transaction.atomic():
        ledger.record(actor=actor_of(user), action="auth.session_end", detail={"reason": reason})


# ---- MFA -----------------------------------------------------------------------------------


def do_verify_mfa(*, user: User, code: str, step_up: bool = False) -> MfaResult:
    """Check a TOTP or backup code after the password (or, with step_up, TOTP only).

    The device row is locked while the code is checked (django-otp), so two requests racing
    with one code cannot both pass; the device update and the event commit together.
    """
    action = "auth.step_up" if step_up else "auth.mfa"
    with transaction.atomic():
        if mfa.throttled(user):
            result = MfaResult(ok=False, method="", throttled=True)
        elif step_up:
            result = MfaResult(ok=mfa.verify_totp(user, code), method="totp")
        else:
            device, method = mfa.verify_any(user, code)
            left = mfa.backup_codes_left(user) if method == "backup" and device else None
            result = MfaResult(
                ok=device is not None, method=method, backup_codes_left=left, device=device
            )
        detail: dict[str, object] = {"method": result.method}
        if result.throttled:
            detail["throttled"] = True
        if result.backup_codes_left is not None:
            detail["backup_codes_left"] = result.backup_codes_left
        ledger.record(
            actor=actor_of(user),
            action=action,
            outcome=ledger.Outcome.ALLOWED if result.ok else ledger.Outcome.DENIED,
            detail=detail,
        )
    return result


def do_confirm_enrolment(*, user: User, device: TOTPDevice, code: str) -> list[str] | None:
    """Confirm the pending TOTP device with a code; returns the new backup codes, or None."""
    with transaction.atomic():
        if not mfa.verify_totp(user, code, device=device):
            ledger.record(
                actor=actor_of(user), action="auth.mfa_enrol", outcome=ledger.Outcome.DENIED
            )
            return None
        device.refresh_from_db()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        # One authenticator per user: any other (older) TOTP device goes.
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        codes = mfa.new_backup_codes(user)
        ledger.record(
            actor=actor_of(user),
            action="auth.mfa_enrol",
            detail={"device": "totp", "backup_codes": len(codes)},
        )
    return codes


def do_regenerate_backup_codes(*, user: User) -> list[str]:
    with transaction.atomic():
        codes = mfa.new_backup_codes(user)
        ledger.record(
            actor=actor_of(user),
            action="auth.backup_codes_regenerated",
            detail={"backup_codes": len(codes)},
        )
    return codes


# ---- sessions and password -----------------------------------------------------------------


def bump_epoch(user: User) -> int:
    """Move the user's session epoch on (caller holds the transaction); returns the new one."""
    User.objects.filter(pk=user.pk).update(session_epoch=F("session_epoch") + 1)
    user.refresh_from_db(fields=["session_epoch"])
    return user.session_epoch


def do_logout_everywhere(*, user: User) -> int:
    with transaction.atomic():
        epoch = bump_epoch(user)
        ledger.record(actor=actor_of(user), action="auth.logout_everywhere")
    return epoch


def do_change_password(*, user: User, new_password: str) -> int:
    """Set a (validated) new password; every other session of the user ends."""
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        epoch = bump_epoch(user)
        ledger.record(actor=actor_of(user), action="auth.password_change")
    return epoch
