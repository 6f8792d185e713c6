"""The retention plan as a pure function: who is due, what happens to them, holds."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from careledger.retention import rules

NOW = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)


def c(days_ago: int, status: str = "active", hold: bool = False) -> rules.Candidate:
    return rules.Candidate(uuid.uuid4(), status, NOW - dt.timedelta(days=days_ago), hold)


def test_only_clients_past_the_period_are_due() -> None:
    fresh, stale = c(100), c(800)
    plan = rules.plan([fresh, stale], now=NOW, days=730, action="archive")
    assert plan.archive == (stale.client_id,) and plan.anonymise == ()


def test_a_legal_hold_stops_both_actions() -> None:
    held = c(800, hold=True)
    for action in rules.ACTIONS:
        plan = rules.plan([held], now=NOW, days=730, action=action)
        assert plan.archive == plan.anonymise == () and plan.held == (held.client_id,)


def test_archived_clients_stay_archived_or_are_anonymised_by_policy() -> None:
    archived = c(800, "archived")
    assert rules.plan([archived], now=NOW, days=730, action="archive").archive == ()
    assert rules.plan([archived], now=NOW, days=730, action="anonymise").anonymise == (
        archived.client_id,
    )


def test_gone_clients_are_never_touched_again() -> None:
    gone = [c(900, "anonymised"), c(900, "erased")]
    for action in rules.ACTIONS:
        plan = rules.plan(gone, now=NOW, days=730, action=action)
        assert plan == rules.Plan((), (), ())


def test_a_bad_policy_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown"):
        rules.plan([], now=NOW, days=730, action="delete")
    with pytest.raises(ValueError, match="30 days"):
        rules.plan([], now=NOW, days=7, action="archive")
