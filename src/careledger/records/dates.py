"""Partial dates (pure): "2015", "2015-06" or "2015-06-03".

People remember that their hypertension started "in 2015" or their operation was "in June 2018";
forcing a day would make one up. FHIR's `dateTime` allows exactly these three precisions, so the
record stores the canonical text and compares by the period it covers: a date is in the future
when its *earliest* day is after today, and an end is before a start only when its *latest* day
is before the start's earliest.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

MIN_YEAR = 1900

_SHAPE = re.compile(r"^(\d{4})(?:[-/.年](\d{1,2})(?:[-/.月](\d{1,2})日?)?月?)?年?$")


class BadDate(ValueError):
    """Not a date of one of the accepted shapes (the message says which shapes)."""


@dataclass(frozen=True)
class PartialDate:
    text: str  # canonical: YYYY, YYYY-MM or YYYY-MM-DD
    earliest: dt.date
    latest: dt.date

    def is_after(self, day: dt.date) -> bool:
        return self.earliest > day

    def ends_before(self, other: PartialDate) -> bool:
        return self.latest < other.earliest


def parse(text: str) -> PartialDate:
    """Accepts 2015, 2015-6, 2015-06-03, 2015/06/03, 2015.06, 2015年6月3日."""
    compact = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))
    match = _SHAPE.match(compact)
    if match is None:
        raise BadDate(text)
    year, month, day = (int(g) if g else None for g in match.groups())
    if year is None or year < MIN_YEAR:
        raise BadDate(text)
    try:
        if month is None:
            return PartialDate(f"{year:04d}", dt.date(year, 1, 1), dt.date(year, 12, 31))
        if day is None:
            last = calendar.monthrange(year, month)[1]
            return PartialDate(
                f"{year:04d}-{month:02d}", dt.date(year, month, 1), dt.date(year, month, last)
            )
        date = dt.date(year, month, day)
    except ValueError as exc:  # month 13, 30 February
        raise BadDate(text) from exc
    return PartialDate(date.isoformat(), date, date)
