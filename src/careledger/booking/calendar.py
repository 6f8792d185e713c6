"""Which days a branch works: the public holiday calendar under the centre's own overrides.

Pure (no Django), so the rules are tested without a database. Public holidays and the
adjusted working days (调休) come from `chinese_calendar` (the `chinesecalendar` package on PyPI,
maintained from each year's State Council notice). The package only knows the years whose notice
has been published — 1.11 covers 2004–2026; the 2027 notice is usually published in November or
December of the year before. For a year it does not cover we do not guess: the day is closed with
the reason `calendar_not_covered` unless the institution opened it explicitly (a `DayOverride`),
and the admin page shows that the year needs a package upgrade or opened days. So a booking is
never taken on what later turns out to be a public holiday.

Order of the rules for one day:
1. an override for the branch, then one for the whole institution, decides (open or closed);
2. a year the holiday calendar does not cover is closed (`calendar_not_covered`);
3. a statutory public holiday is closed (`public_holiday`, with the holiday's name);
4. an adjusted working day (a weekend the State Council made a workday) is open when the
   branch works on weekdays at all;
5. otherwise the branch's own working weekdays decide (`weekly_closed`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache

import chinese_calendar

WEEKDAYS = frozenset(range(1, 8))


@dataclass(frozen=True)
class DayStatus:
    day: dt.date
    is_open: bool
    reason: str  # override_open, override_closed, calendar_not_covered, public_holiday, …
    holiday: str = ""  # the holiday's English name from chinese_calendar, when there is one


@cache
def covered_years() -> range:
    """The years the installed holiday calendar knows."""
    years = [d.year for d in chinese_calendar.holidays]
    return range(min(years), max(years) + 1)


def is_covered(day: dt.date) -> bool:
    return day.year in covered_years()


def day_status(
    day: dt.date,
    *,
    open_weekdays: Iterable[int],
    branch_overrides: Mapping[dt.date, bool] | None = None,
    institution_overrides: Mapping[dt.date, bool] | None = None,
) -> DayStatus:
    weekdays = frozenset(open_weekdays)
    for overrides in (branch_overrides or {}, institution_overrides or {}):
        if day in overrides:
            opened = overrides[day]
            return DayStatus(day, opened, "override_open" if opened else "override_closed")
    if not is_covered(day):
        return DayStatus(day, False, "calendar_not_covered")
    on_holiday, name = chinese_calendar.get_holiday_detail(day)
    if on_holiday and name is not None:
        return DayStatus(day, False, "public_holiday", str(name))
    if not on_holiday and day.isoweekday() >= 6 and weekdays & frozenset(range(1, 6)):
        # 调休: a Saturday or Sunday the notice made a working day.
        return DayStatus(day, True, "adjusted_workday", str(name or ""))
    if day.isoweekday() in weekdays:
        return DayStatus(day, True, "weekly_open")
    return DayStatus(day, False, "weekly_closed")


def days_between(start: dt.date, end: dt.date) -> list[dt.date]:
    """Every day from start to end inclusive."""
    return [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]
