"""Who may manage whose account (pure rules, no database)."""

from __future__ import annotations

import pytest

from careledger.accounts.permissions import manage_refusal, may_open_admin_pages

ADMIN = {"actor_id": 1, "actor_role": "institution_admin", "actor_institution": "A"}


def refusal(**overrides: object) -> str | None:
    args = {
        **ADMIN,
        "actor_active": True,
        "target_id": 2,
        "target_role": "doctor",
        "target_institution": "A",
        **overrides,
    }
    return manage_refusal(**args)  # type: ignore[arg-type]


def test_an_admin_manages_staff_of_their_institution() -> None:
    assert refusal() is None
    assert refusal(target_role="institution_admin") is None


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"actor_role": "auditor"}, "role"),
        ({"actor_role": "health_manager"}, "role"),
        ({"actor_role": "client"}, "role"),
        ({"target_institution": "B"}, "other_institution"),
        ({"actor_institution": None, "target_institution": None}, "other_institution"),
        ({"target_id": 1}, "self"),
        ({"target_role": "client"}, "portal_account"),
        ({"actor_active": False}, "inactive"),
    ],
)
def test_everything_else_is_refused_with_a_reason(overrides: dict, reason: str) -> None:
    assert refusal(**overrides) == reason


def test_only_admins_with_an_institution_open_the_pages() -> None:
    assert may_open_admin_pages(actor_role="institution_admin", actor_institution="A")
    assert not may_open_admin_pages(actor_role="institution_admin", actor_institution=None)
    assert not may_open_admin_pages(actor_role="auditor", actor_institution="A")
