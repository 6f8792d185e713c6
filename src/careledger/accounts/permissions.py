"""Who may manage whose account. Pure rules, no Django (tested without a database).

Institution admins run their own institution's staff accounts: unlock, reset links, MFA
reset, disable/enable. They may not act on themselves (a second admin must: one person alone
cannot both lose and restore a factor), on other institutions' users, or on portal client
accounts (the portal runs those). Everyone else may manage nobody.
"""

from __future__ import annotations

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


def may_open_admin_pages(*, actor_role: str, actor_institution: object) -> bool:
    return actor_role in MANAGER_ROLES and actor_institution is not None
