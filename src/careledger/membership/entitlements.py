"""Card entitlements (会员卡权益) as arithmetic: periods, balances, whether a use is allowed.

Why pure: "one annual check-up, 4 consultations, 12 follow-ups a card year" is a rule people
argue about (when does the year start? what about 29 February? does a reversal give the use
back?), so it lives here, readable and tested without a database. The services lock the card,
count the uses of the current period and ask `check_use`.

A card year runs from the card's issue date to the day before its anniversary; a card that
expires ends its last period early; a card issued on 29 February has its anniversary on
28 February in common years.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


class NotEntitled(ValueError):
    """A use that is not allowed; `code` is shown (translated) and ledgered."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Period:
    start: dt.date
    end: dt.date  # inclusive

    def __contains__(self, day: dt.date) -> bool:
        return self.start <= day <= self.end


def _anniversary(issued: dt.date, year: int) -> dt.date:
    try:
        return issued.replace(year=year)
    except ValueError:  # 29 February in a common year
        return dt.date(year, 2, 28)


def card_period(issued: dt.date, today: dt.date, expires: dt.date | None = None) -> Period:
    """The card year containing `today`. Raises `NotEntitled("card_expired")` after expiry and
    `NotEntitled("card_not_yet_valid")` before issue."""
    if today < issued:
        raise NotEntitled("card_not_yet_valid")
    if expires is not None and today > expires:
        raise NotEntitled("card_expired")
    year = today.year
    start = _anniversary(issued, year)
    if start > today:
        start = _anniversary(issued, year - 1)
    following = _anniversary(issued, start.year + 1)
    end = following - dt.timedelta(days=1)
    if expires is not None and expires < end:
        end = expires
    return Period(start, end)


@dataclass(frozen=True)
class Balance:
    kind: str
    granted: int
    used: int

    @property
    def left(self) -> int:
        return max(0, self.granted - self.used)


def balance(kind: str, granted: int, uses: int, reversals: int) -> Balance:
    if granted < 0 or uses < 0 or reversals < 0 or reversals > uses:
        raise ValueError("inconsistent usage counts")
    return Balance(kind, granted, uses - reversals)


def check_use(current: Balance | None) -> None:
    """May one more be used? `None`: the level grants nothing of this kind."""
    if current is None or current.granted == 0:
        raise NotEntitled("not_entitled")
    if current.left <= 0:
        raise NotEntitled("exhausted")
