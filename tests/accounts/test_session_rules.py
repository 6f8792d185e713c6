"""When a session ends (pure rules, no database)."""

from __future__ import annotations

import pytest

from careledger.accounts import session_rules as rules

LIMITS = rules.Limits(idle_seconds=900, absolute_seconds=12 * 3600)
T0 = 1_800_000_000.0


def stamped(epoch: int = 3) -> dict[str, object]:
    session: dict[str, object] = {}
    rules.stamp(session, epoch=epoch, now=T0)
    return session


def test_a_fresh_session_goes_on() -> None:
    assert rules.verdict(stamped(), user_epoch=3, now=T0 + 1, limits=LIMITS) is None


def test_a_moved_epoch_ends_it() -> None:
    assert rules.verdict(stamped(3), user_epoch=4, now=T0 + 1, limits=LIMITS) == "epoch"


@pytest.mark.parametrize(("idle", "ended"), [(899, False), (900, False), (901, True)])
def test_idle_limit(idle: int, ended: bool) -> None:
    verdict = rules.verdict(stamped(), user_epoch=3, now=T0 + idle, limits=LIMITS)
    assert verdict == ("idle" if ended else None)


def test_use_keeps_it_alive_until_the_absolute_limit() -> None:
    session = stamped()
    now = T0
    while now < T0 + 12 * 3600:
        now += 600
        rules.touch(session, now=now)
    # Busy all along (never idle), still ended once 12 hours have passed.
    assert rules.verdict(session, user_epoch=3, now=now + 1, limits=LIMITS) == "absolute"


def test_the_epoch_is_checked_before_the_clock() -> None:
    assert rules.verdict(stamped(1), user_epoch=2, now=T0 + 10**6, limits=LIMITS) == "epoch"


@pytest.mark.parametrize(
    "session",
    [{}, {rules.EPOCH: 1}, {rules.EPOCH: "x", rules.AUTH_AT: T0, rules.SEEN_AT: T0}],
)
def test_an_unstamped_or_damaged_session_is_refused(session: dict[str, object]) -> None:
    assert rules.verdict(session, user_epoch=1, now=T0, limits=LIMITS) == "unstamped"


def test_mfa_age() -> None:
    assert rules.mfa_age({}, now=T0) is None
    assert rules.mfa_age({rules.MFA_AT: T0 - 30}, now=T0) == 30
