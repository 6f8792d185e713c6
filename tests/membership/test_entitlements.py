"""Card-year arithmetic and the use rule, without a database."""

from __future__ import annotations

import datetime as dt

import pytest

from careledger.membership.entitlements import (
    NotEntitled,
    Period,
    balance,
    card_period,
    check_use,
)

D = dt.date


def test_the_card_year_runs_from_the_issue_date_to_the_day_before_its_anniversary():
    assert card_period(D(2025, 3, 10), D(2026, 3, 9)) == Period(D(2025, 3, 10), D(2026, 3, 9))
    assert card_period(D(2025, 3, 10), D(2026, 3, 10)) == Period(D(2026, 3, 10), D(2027, 3, 9))


def test_a_leap_day_card_has_its_anniversary_on_28_february():
    assert card_period(D(2024, 2, 29), D(2025, 3, 1)) == Period(D(2025, 2, 28), D(2026, 2, 27))
    assert card_period(D(2024, 2, 29), D(2024, 12, 31)).start == D(2024, 2, 29)


def test_expiry_ends_the_last_period_and_refuses_after_it():
    assert card_period(D(2025, 1, 1), D(2025, 5, 1), D(2025, 6, 30)).end == D(2025, 6, 30)
    with pytest.raises(NotEntitled, match="card_expired"):
        card_period(D(2025, 1, 1), D(2025, 7, 1), D(2025, 6, 30))
    with pytest.raises(NotEntitled, match="card_not_yet_valid"):
        card_period(D(2025, 1, 1), D(2024, 12, 31))


def test_a_reversal_gives_a_use_back_and_the_last_one_can_be_taken_once():
    current = balance("consultation", 4, uses=4, reversals=1)
    assert current.left == 1
    check_use(current)
    with pytest.raises(NotEntitled, match="exhausted"):
        check_use(balance("consultation", 4, uses=4, reversals=0))


def test_a_level_without_the_kind_is_not_entitled():
    with pytest.raises(NotEntitled, match="not_entitled"):
        check_use(None)
    with pytest.raises(NotEntitled, match="not_entitled"):
        check_use(balance("nutrition", 0, 0, 0))


def test_inconsistent_counts_are_a_bug_not_a_balance():
    with pytest.raises(ValueError):
        balance("follow_up", 12, uses=1, reversals=2)
