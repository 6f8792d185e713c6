"""The sign-in rules as plain functions: codes, rate limits, expiry, burn-out. No database."""

from __future__ import annotations

import datetime as dt

import pytest

from careledger.portal import rules

NOW = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)


def ago(seconds: float) -> dt.datetime:
    return NOW - dt.timedelta(seconds=seconds)


def test_codes_are_six_random_digits() -> None:
    codes = {rules.new_code() for _ in range(2000)}
    assert all(len(c) == 6 and c.isdigit() for c in codes)
    assert len(codes) > 1990  # a million possibilities: collisions are rare
    assert any(c.startswith("0") for c in codes) or len(codes) < 2000  # leading zeros kept


def test_a_small_code_keeps_its_leading_zeros(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(rules.secrets, "randbelow", lambda _n: 42)
    assert rules.new_code() == "000042"


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("042917", "042917"),
        (" 042 917 ", "042917"),
        ("０４２９１７", "042917"),
        ("42917", None),
        ("0429170", None),
        ("04291a", None),
        ("", None),
        ("٠٤٢٩١٧", None),
    ],
)
def test_codes_are_read_as_typed_on_a_phone(typed: str, code: str | None) -> None:
    assert rules.normalise_code(typed) == code


def test_one_code_a_minute_per_phone() -> None:
    decision = rules.rate_limit([ago(20)], [], NOW)
    assert (decision.allowed, decision.reason, decision.retry_after) == (
        False,
        "phone_interval",
        40,
    )
    assert rules.rate_limit([ago(61)], [], NOW).allowed


def test_five_codes_an_hour_per_phone() -> None:
    times = [ago(3000), ago(2000), ago(1500), ago(1000), ago(100)]
    decision = rules.rate_limit(times, [], NOW)
    assert (decision.allowed, decision.reason) == (False, "phone_hourly")
    assert decision.retry_after == 600  # when the oldest of the five is an hour old
    assert rules.rate_limit([ago(4000), *times[1:]], [], NOW).allowed  # older than an hour


def test_twenty_codes_an_hour_per_network_address() -> None:
    ip_times = [ago(100 + i * 60) for i in range(20)]
    decision = rules.rate_limit([], ip_times, NOW)
    assert (decision.allowed, decision.reason) == (False, "ip_hourly")
    assert rules.rate_limit([], ip_times[:19], NOW).allowed


def test_challenge_states() -> None:
    expires = NOW + rules.CODE_TTL
    state = rules.challenge_state
    assert state(expires_at=expires, used_at=None, burnt_at=None, now=NOW) == rules.OPEN
    later = NOW + rules.CODE_TTL
    assert state(expires_at=expires, used_at=None, burnt_at=None, now=later) == rules.EXPIRED
    assert state(expires_at=expires, used_at=NOW, burnt_at=None, now=NOW) == rules.USED
    assert state(expires_at=expires, used_at=None, burnt_at=NOW, now=NOW) == rules.BURNT
    assert dt.timedelta(minutes=5) == rules.CODE_TTL


def test_the_fifth_wrong_try_burns_the_code() -> None:
    attempts, burnt = 0, False
    history = []
    while not burnt:
        attempts, burnt = rules.after_wrong_try(attempts)
        history.append(burnt)
    assert history == [False, False, False, False, True]
