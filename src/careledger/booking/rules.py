"""The booking rules that need no database: who a package suits, how far ahead one may book, and
until when one may cancel or move a visit. Pure, so each refusal is tested on its own.

Each check returns the reason code of the first rule broken, or "" when the request is fine;
the services turn codes into the messages the client reads (`careledger.booking.errors`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class Suitability:
    sex: str  # "" any, "M", "F"
    min_age: int | None
    max_age: int | None


def age_on(birth_date: dt.date, day: dt.date) -> int:
    """Full years on `day` (a birthday on 29 February counts on 1 March in common years)."""
    years = day.year - birth_date.year
    if (day.month, day.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


def suitability_problem(rule: Suitability, *, sex: str, birth_date: dt.date, day: dt.date) -> str:
    if rule.sex and rule.sex != sex:
        return "unsuitable_sex"
    age = age_on(birth_date, day)
    if rule.min_age is not None and age < rule.min_age:
        return "too_young"
    if rule.max_age is not None and age > rule.max_age:
        return "too_old"
    return ""


def timing_problem(day: dt.date, *, today: dt.date, lead_days: int, horizon_days: int) -> str:
    """Whether `day` may be booked `today`: not in the past, at least `lead_days` ahead (the
    centre prepares and the client fasts), at most `horizon_days` ahead."""
    if day < today:
        return "past_date"
    if (day - today).days < lead_days:
        return "inside_lead_time"
    if (day - today).days > horizon_days:
        return "beyond_horizon"
    return ""


def change_deadline(day: dt.date, *, cancel_hours: int, tz: dt.tzinfo) -> dt.datetime:
    """The last moment the visit may still be cancelled or moved: `cancel_hours` before the
    visit day starts (local midnight)."""
    start = dt.datetime.combine(day, dt.time.min, tzinfo=tz)
    return start - dt.timedelta(hours=cancel_hours)


def change_problem(day: dt.date, *, now: dt.datetime, cancel_hours: int) -> str:
    tz = now.tzinfo or dt.UTC
    if now > change_deadline(day, cancel_hours=cancel_hours, tz=tz):
        return "after_cancel_window"
    return ""
