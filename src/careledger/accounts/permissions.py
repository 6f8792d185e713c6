"""Who may see and manage whose account. Pure rules, no Django (tested without a database).

Seeing the staff-account pages (sign-in state: locked, disabled, authenticator set up) follows
the policy's `user.view` permission: institution admins and auditors, for their own
institution. Acting is for institution admins only: unlock, reset links, MFA reset,
disable/enable. They may not act on themselves (a second admin must: one person alone cannot
both lose and restore a factor), on other institutions' users, or on portal client accounts
(the portal runs those). Everyone else may manage nobody.
"""

from __future__ import annotations

from careledger.access.roles import Action, permits

MANAGER_ROLES = frozenset({"institution_admin"})


def manage_refusal(
    *,
    actor_id: object,
    actor_role: str,
    actor_institution: object,
    actor_active: bool,
    target_id: object,
    target_role: str,
    target_institution: object,
) -> str | None:
    """Why the actor may not manage the target's account, or None if they may."""
    if not actor_active:
        return "inactive"
    if actor_role not in MANAGER_ROLES:
        return "role"
    if actor_institution is None or actor_institution != target_institution:
        return "other_institution"
    if actor_id == target_id:
        return "self"
    if target_role == "client":
        return "portal_account"
    return None


def may_view_staff_accounts(*, actor_role: str, actor_institution: object) -> bool:
    return permits(actor_role, Action.USER_VIEW) and actor_institution is not None


def may_open_admin_pages(*, actor_role: str, actor_institution: object) -> bool:
    """The action pages (and their POSTs): institution admins only."""
    return actor_role in MANAGER_ROLES and actor_institution is not None
