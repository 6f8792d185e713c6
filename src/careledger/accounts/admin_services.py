"""What an institution admin does to their staff's accounts, and the reset link's use.

Every action is authorised by `permissions.manage_refusal` (a refusal is ledgered in its own
transaction and raised as `AccountDenied`) and audited with the target's user id, never their
name. Unlock also runs from the CLI (`careledger unlock USERNAME`) as the system actor.

Event actions: auth.unlock, auth.password_reset_issue, auth.password_reset_use (allowed/
denied), auth.mfa_reset, account.disable, account.enable; refusals as `account.<action>`
with outcome "denied".
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from careledger.access.enforce import actor_of
from careledger.accounts import lockout, mfa
from careledger.accounts.models import PasswordResetLink, User
from careledger.accounts.permissions import manage_refusal
from careledger.accounts.services import bump_epoch
from careledger.ledger import services as ledger


class AccountDenied(PermissionDenied):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def check_may_manage(*, actor: User, target: User, action: str) -> None:
    reason = manage_refusal(
        actor_id=actor.pk,
        actor_role=actor.role,
        actor_institution=actor.institution_id,
        actor_active=actor.is_active,
        target_id=target.pk,
        target_role=target.role,
        target_institution=target.institution_id,
    )
    if reason is None:
        return
    with transaction.atomic():
        ledger.record(
            actor=actor_of(actor),
            action=f"account.{action}",
            outcome=ledger.Outcome.DENIED,
            resource_type="user",
            resource_id=str(target.pk),
            detail={"reason": reason},
        )
    raise AccountDenied(reason)


def managed_users(actor: User) -> list[User]:
    """The accounts an admin sees on their pages: their institution's staff."""
    return list(
        User.objects.filter(institution_id=actor.institution_id)
        .exclude(role="client")
        .order_by("username")
    )


def _audit(actor: User | None, action: str, target: User, **detail: object) -> None:
    ledger.record(
        actor=actor_of(actor) if actor is not None else ledger.SYSTEM,
        action=action,
        resource_type="user",
        resource_id=str(target.pk),
        detail=dict(detail),
    )


def do_unlock(*, actor: User | None, target: User) -> int:
    """Clear the target's sign-in failures (actor None: the CLI). Returns rows cleared."""
    if actor is not None:
        check_may_manage(actor=actor, target=target, action="unlock")
    with transaction.atomic():
        cleared = lockout.unlock(username=target.username)
        _audit(actor, "auth.unlock", target, attempts_cleared=cleared)
    return cleared


def do_issue_reset_link(*, actor: User, target: User) -> str:
    """A one-time reset token for the target (older unused ones are revoked); shown once."""
    check_may_manage(actor=actor, target=target, action="password_reset_issue")
    token = PasswordResetLink.generate()
    now = timezone.now()
    with transaction.atomic():
        PasswordResetLink.objects.filter(
            user=target, used_at__isnull=True, revoked_at__isnull=True
        ).update(revoked_at=now)
        link = PasswordResetLink.objects.create(
            user=target,
            issued_by=actor,
            digest=PasswordResetLink.hash(token),
            expires_at=now + dt.timedelta(seconds=settings.CARELEDGER_RESET_LINK_SECONDS),
        )
        _audit(actor, "auth.password_reset_issue", target, link=str(link.pk))
    return token


def usable_reset_link(*, digest: str) -> PasswordResetLink | None:
    """The link with this token digest if it can still be used (unused, unrevoked, unexpired,
    account active). Callers hash the token (`PasswordResetLink.hash`) as soon as they get it."""
    if not digest:
        return None
    link = PasswordResetLink.objects.select_related("user").filter(digest=digest).first()
    if (
        link is None
        or link.used_at is not None
        or link.revoked_at is not None
        or link.expires_at <= timezone.now()
        or not link.user.is_active
    ):
        return None
    return link


def record_bad_reset_link() -> None:
    with transaction.atomic():
        ledger.record(
            actor=mfa.ANONYMOUS, action="auth.password_reset_use", outcome=ledger.Outcome.DENIED
        )


def do_use_reset_link(*, digest: str, new_password: str) -> User | None:
    """Set the new (already validated) password through the link; None if it is not usable.

    The password is all it changes: MFA devices stay, so the next sign-in still asks for the
    authenticator. All the user's sessions end, and their sign-in failures are cleared.
    """
    with transaction.atomic():
        link = usable_reset_link(digest=digest)
        if link is None:
            locked = None
        else:
            locked = PasswordResetLink.objects.select_for_update().get(pk=link.pk)
        if locked is None or locked.used_at is not None:
            ledger.record(
                actor=mfa.ANONYMOUS,
                action="auth.password_reset_use",
                outcome=ledger.Outcome.DENIED,
            )
            return None
        user = locked.user
        user.set_password(new_password)
        user.save(update_fields=["password"])
        locked.used_at = timezone.now()
        locked.save(update_fields=["used_at"])
        bump_epoch(user)
        lockout.unlock(username=user.username)
        ledger.record(
            actor=actor_of(user),
            action="auth.password_reset_use",
            resource_type="user",
            resource_id=str(user.pk),
            detail={"link": str(locked.pk)},
        )
    return user


def do_reset_mfa(*, actor: User, target: User) -> None:
    """Remove the target's authenticator and backup codes; they enrol again at next sign-in."""
    check_may_manage(actor=actor, target=target, action="mfa_reset")
    with transaction.atomic():
        removed = mfa.remove_all_devices(target)
        bump_epoch(target)
        _audit(actor, "auth.mfa_reset", target, devices_removed=removed)


def do_set_active(*, actor: User, target: User, active: bool) -> None:
    """Disable (or re-enable) an account. Disabling ends its sessions at their next request."""
    action = "account.enable" if active else "account.disable"
    check_may_manage(actor=actor, target=target, action=action.split(".")[1])
    with transaction.atomic():
        User.objects.filter(pk=target.pk).update(is_active=active)
        target.is_active = active
        bump_epoch(target)
        _audit(actor, action, target)
