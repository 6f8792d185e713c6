"""When follow-up contacts fall: a plan's schedule as dates, moved onto working days, with the
call window and the SLA deadline. Pure (no Django), so the rules are tested without a database.

Why a module of its own: the scheduler computes this for every enrolment of an institution in
one run (100,000 clients), so it must be cheap and cacheable — `occurrences` depends only on the
schedule and the anchor day, and most clients share an anchor day with many others, so the
generator calls it once per (plan version, anchor) and reuses the answer.

* The schedule: the first contact `first_days` after the anchor, then `repeat_count` repeats
  every `repeat_interval` days/weeks/months/years, stored as an RFC 5545 RRULE. Daily and weekly
  rules are evaluated by `dateutil.rrule`; monthly and yearly ones by `dateutil.relativedelta`,
  which clamps to the month's end (31 January + 1 month = 28/29 February) — what staff mean by
  "monthly", where a strict RFC 5545 rule would skip the months without a 31st.
* Working days: public holidays and adjusted working days (调休) come from
  `careledger.booking.calendar` (the `chinesecalendar` package); a contact due on a holiday or a
  weekday the plan does not work moves to the next day that is open. For a year the package
  does not cover yet, the weekday rule alone decides (`calendar_not_covered` is recorded as the
  reason), rather than leaving a whole year without follow-up.
* Quiet hours: contacts are made between `call_start` and `call_end` local time (Asia/Shanghai);
  the task's window is that interval on its scheduled day, and the SLA counts from its opening.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from zoneinfo import ZoneInfo

from dateutil import rrule
from dateutil.relativedelta import relativedelta

from careledger.booking import calendar as holidays

SHANGHAI = ZoneInfo("Asia/Shanghai")
FREQUENCIES = {
    "daily": rrule.DAILY,
    "weekly": rrule.WEEKLY,
    "monthly": rrule.MONTHLY,
    "yearly": rrule.YEARLY,
}
MAX_OCCURRENCES = 120
MAX_SHIFT_DAYS = 31


class ScheduleError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Schedule:
    first_days: int
    frequency: str = "none"  # none / daily / weekly / monthly / yearly
    interval: int = 1
    count: int = 0  # repeats after the first contact

    def check(self) -> Schedule:
        if not 0 <= self.first_days <= 3650:
            raise ScheduleError("first_days", "first contact must be 0–3650 days after")
        if self.frequency != "none" and self.frequency not in FREQUENCIES:
            raise ScheduleError("repeat_frequency", f"unknown frequency {self.frequency!r}")
        if self.frequency == "none" and self.count:
            raise ScheduleError("repeat_count", "repeats need a frequency")
        if self.frequency != "none" and not 1 <= self.count <= MAX_OCCURRENCES - 1:
            raise ScheduleError("repeat_count", f"repeats must be 1–{MAX_OCCURRENCES - 1}")
        if not 1 <= self.interval <= 366:
            raise ScheduleError("repeat_interval", "interval must be 1–366")
        return self

    def rrule_text(self) -> str:
        """The repeats as an RFC 5545 RRULE (for display and a FHIR Timing), "" when none."""
        if self.frequency == "none":
            return ""
        return f"FREQ={self.frequency.upper()};INTERVAL={self.interval};COUNT={self.count}"


@lru_cache(maxsize=65536)
def occurrences(schedule: Schedule, anchor: dt.date) -> tuple[dt.date, ...]:
    """Every contact date of the schedule from this anchor, first contact included."""
    first = anchor + dt.timedelta(days=schedule.first_days)
    if schedule.frequency == "none":
        return (first,)
    if schedule.frequency in ("monthly", "yearly"):
        step = schedule.interval * (12 if schedule.frequency == "yearly" else 1)
        return tuple(first + relativedelta(months=n * step) for n in range(schedule.count + 1))
    rule = rrule.rrule(
        FREQUENCIES[schedule.frequency],
        dtstart=dt.datetime.combine(first, dt.time()),
        interval=schedule.interval,
        count=schedule.count + 1,
    )
    return tuple(d.date() for d in rule)


@dataclass(frozen=True)
class Slot:
    due: dt.date  # what the schedule said
    day: dt.date  # the working day it was moved to
    reason: str  # "" when not moved; public_holiday / weekly_closed / calendar_not_covered
    not_before: dt.datetime  # the window opens (aware, Asia/Shanghai)
    window_end: dt.datetime
    due_by: dt.datetime  # the SLA deadline


@lru_cache(maxsize=8192)
def _open(day: dt.date, weekdays: frozenset[int]) -> tuple[bool, str]:
    status = holidays.day_status(day, open_weekdays=weekdays)
    if status.reason == "calendar_not_covered":
        return day.isoweekday() in weekdays, "calendar_not_covered"
    return status.is_open, "" if status.is_open else status.reason


def working_day(day: dt.date, weekdays: Iterable[int]) -> tuple[dt.date, str]:
    """The day itself when contacts are made on it, else the next such day, with the reason
    the first day was closed ("" when it was open)."""
    days = frozenset(weekdays)
    if not days:
        raise ScheduleError("weekdays", "at least one weekday is needed")
    is_open, reason = _open(day, days)
    if is_open:
        return day, "calendar_not_covered" if reason == "calendar_not_covered" else ""
    first_reason = reason
    candidate = day
    for _ in range(MAX_SHIFT_DAYS):
        candidate += dt.timedelta(days=1)
        if _open(candidate, days)[0]:
            return candidate, first_reason
    raise ScheduleError("weekdays", "no working day within a month")


@lru_cache(maxsize=65536)
def slot(
    due: dt.date,
    weekdays: frozenset[int],
    call_start: dt.time,
    call_end: dt.time,
    sla_hours: int,
) -> Slot:
    """Where a contact due on `due` lands: its working day, call window and SLA deadline."""
    if call_end <= call_start:
        raise ScheduleError("call_end", "the call window must end after it starts")
    day, reason = working_day(due, weekdays)
    opens = dt.datetime.combine(day, call_start, tzinfo=SHANGHAI)
    closes = dt.datetime.combine(day, call_end, tzinfo=SHANGHAI)
    return Slot(due, day, reason, opens, closes, opens + dt.timedelta(hours=sla_hours))


def in_window(now: dt.datetime, call_start: dt.time, call_end: dt.time) -> bool:
    """Whether `now` (aware) is inside the call window, local time (not in quiet hours)."""
    local = now.astimezone(SHANGHAI).time()
    return call_start <= local < call_end


def local_today(now: dt.datetime) -> dt.date:
    return now.astimezone(SHANGHAI).date()
