"""The policy's break-glass rules, as pure decisions (no database)."""

from __future__ import annotations

import uuid

import pytest

from careledger.access.policy import ClientScope, Subject, decide
from careledger.access.roles import Action

INST = uuid.uuid4()
OTHER_INST = uuid.uuid4()
TEAM = uuid.uuid4()
CLIENT = uuid.uuid4()


def subject(role: str = "doctor", *, teams=(), grants=(), institution=INST) -> Subject:  # type: ignore[no-untyped-def]
    return Subject(uuid.uuid4(), role, institution, True, frozenset(teams), frozenset(grants))


SCOPE = ClientScope(CLIENT, INST, frozenset({TEAM}))


@pytest.mark.parametrize("role", ["doctor", "health_manager", "nurse"])
def test_clinical_roles_may_ask_for_emergency_access_outside_their_teams(role: str) -> None:
    decision = decide(subject(role), Action.BREAK_GLASS, SCOPE)
    assert decision.allowed and decision.reason == "emergency"


@pytest.mark.parametrize("role", ["institution_admin", "auditor", "analyst", "client"])
def test_other_roles_may_not_break_glass(role: str) -> None:
    assert decide(subject(role), Action.BREAK_GLASS, SCOPE).reason == "role_lacks_permission"


def test_no_break_glass_into_another_institution() -> None:
    decision = decide(subject(institution=OTHER_INST), Action.BREAK_GLASS, SCOPE)
    assert decision.reason == "other_institution"


def test_no_break_glass_for_a_client_already_in_ones_team() -> None:
    decision = decide(subject(teams={TEAM}), Action.BREAK_GLASS, SCOPE)
    assert decision.reason == "already_in_care_team"


def test_a_grant_opens_reading_and_history_and_says_emergency() -> None:
    holder = subject(grants={CLIENT})
    for action in (Action.CLIENT_VIEW, Action.CLIENT_HISTORY):
        decision = decide(holder, action, SCOPE)
        assert decision.allowed and decision.emergency
        assert decision.purpose("care") == "emergency"


def test_a_grant_never_opens_editing() -> None:
    decision = decide(subject("health_manager", grants={CLIENT}), Action.CLIENT_UPDATE, SCOPE)
    assert decision.reason == "not_in_care_team"


def test_a_grant_is_for_one_client_only() -> None:
    other = ClientScope(uuid.uuid4(), INST, frozenset({TEAM}))
    assert not decide(subject(grants={CLIENT}), Action.CLIENT_VIEW, other).allowed


def test_a_grant_keeps_masking_for_masked_roles() -> None:
    decision = decide(subject("nurse", grants={CLIENT}), Action.CLIENT_VIEW, SCOPE)
    assert decision.allowed and decision.mask_identifiers


def test_care_team_reads_are_not_emergencies() -> None:
    decision = decide(subject(teams={TEAM}, grants={CLIENT}), Action.CLIENT_VIEW, SCOPE)
    assert decision.allowed and not decision.emergency and decision.purpose("care") == "care"
