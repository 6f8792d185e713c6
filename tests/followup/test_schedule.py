"""The pure schedule and plan rules (no database): occurrences, working days, windows, SLA,
and the plan checks with the field each error names."""

from __future__ import annotations

import datetime as dt

import pytest

from careledger.followup.plans import PlanInvalid, clean_plan
from careledger.followup.schedule import (
    SHANGHAI,
    Schedule,
    ScheduleError,
    in_window,
    occurrences,
    slot,
    working_day,
)

WEEKDAYS = frozenset({1, 2, 3, 4, 5})


def test_day_7_then_monthly_six_times_clamps_to_the_month_end():
    dates = occurrences(Schedule(7, "monthly", 1, 6), dt.date(2026, 1, 24))
    assert dates == (
        dt.date(2026, 1, 31),
        dt.date(2026, 2, 28),
        dt.date(2026, 3, 31),
        dt.date(2026, 4, 30),
        dt.date(2026, 5, 31),
        dt.date(2026, 6, 30),
        dt.date(2026, 7, 31),
    )


def test_quarterly_and_weekly_and_single_contacts():
    assert occurrences(Schedule(0, "monthly", 3, 2), dt.date(2026, 1, 10)) == (
        dt.date(2026, 1, 10),
        dt.date(2026, 4, 10),
        dt.date(2026, 7, 10),
    )
    assert occurrences(Schedule(3, "weekly", 2, 2), dt.date(2026, 3, 2)) == (
        dt.date(2026, 3, 5),
        dt.date(2026, 3, 19),
        dt.date(2026, 4, 2),
    )
    assert occurrences(Schedule(3), dt.date(2026, 3, 2)) == (dt.date(2026, 3, 5),)
    assert Schedule(7, "monthly", 1, 6).rrule_text() == "FREQ=MONTHLY;INTERVAL=1;COUNT=6"


def test_national_day_moves_to_the_first_working_day_after_it():
    day, reason = working_day(dt.date(2026, 10, 1), WEEKDAYS)
    assert reason == "public_holiday"
    assert day > dt.date(2026, 10, 1)
    assert working_day(day, WEEKDAYS) == (day, "")


def test_a_saturday_moves_to_monday_and_an_adjusted_workday_stays():
    assert working_day(dt.date(2026, 3, 7), WEEKDAYS) == (dt.date(2026, 3, 9), "weekly_closed")
    # 2026-01-04 (Sunday) is a working day by the State Council's notice (调休).
    assert working_day(dt.date(2026, 1, 4), WEEKDAYS)[1] == ""


def test_a_year_the_holiday_calendar_does_not_cover_falls_back_to_the_weekdays():
    day, reason = working_day(dt.date(2031, 6, 7), WEEKDAYS)  # a Saturday
    assert day == dt.date(2031, 6, 9)
    assert reason == "calendar_not_covered"


def test_slot_gives_the_call_window_and_the_sla_from_its_opening():
    s = slot(dt.date(2026, 3, 7), WEEKDAYS, dt.time(9), dt.time(20), 48)
    assert s.day == dt.date(2026, 3, 9)
    assert s.not_before == dt.datetime(2026, 3, 9, 9, tzinfo=SHANGHAI)
    assert s.window_end == dt.datetime(2026, 3, 9, 20, tzinfo=SHANGHAI)
    assert s.due_by == dt.datetime(2026, 3, 11, 9, tzinfo=SHANGHAI)


def test_quiet_hours_are_outside_the_window_in_shanghai_time():
    night = dt.datetime(2026, 3, 9, 14, 30, tzinfo=dt.UTC)  # 22:30 in Shanghai
    day = dt.datetime(2026, 3, 9, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai
    assert not in_window(night, dt.time(9), dt.time(20))
    assert in_window(day, dt.time(9), dt.time(20))


@pytest.mark.parametrize(
    ("schedule", "field"),
    [
        (Schedule(7, "none", 1, 3), "repeat_count"),
        (Schedule(7, "hourly", 1, 3), "repeat_frequency"),
        (Schedule(7, "monthly", 1, 0), "repeat_count"),
        (Schedule(-1), "first_days"),
    ],
)
def test_bad_schedules_name_their_field(schedule, field):
    with pytest.raises(ScheduleError) as caught:
        schedule.check()
    assert caught.value.field == field


GOOD = {
    "trigger_kind": "risk_level",
    "trigger_params": {"model": "china_par", "levels": "high, medium"},
    "first_days": 7,
    "repeat_frequency": "monthly",
    "repeat_interval": 1,
    "repeat_count": 6,
    "channel": "phone",
    "assignee_role": "nurse",
    "call_start": "09:00",
    "call_end": "20:00",
}


def test_a_good_plan_is_cleaned():
    spec = clean_plan(GOOD)
    assert spec.trigger_params == {"model": "china_par", "levels": ["high", "medium"]}
    assert spec.weekdays == (1, 2, 3, 4, 5)
    assert spec.max_attempts == 3


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"trigger_kind": "moon_phase"}, "trigger_kind"),
        ({"trigger_params": {"model": "china_par"}}, "trigger_params"),
        ({"channel": "fax"}, "channel"),
        ({"assignee_role": "auditor"}, "assignee_role"),
        ({"call_start": "20:00", "call_end": "09:00"}, "call_end"),
        ({"call_start": "nine"}, "call_start"),
        ({"weekdays": [0, 8]}, "weekdays"),
        ({"channel": "sms", "script": ""}, "script"),
        ({"max_attempts": 0}, "max_attempts"),
        ({"repeat_count": "many"}, "repeat_count"),
    ],
)
def test_bad_plans_name_each_field(change, field):
    with pytest.raises(PlanInvalid) as caught:
        clean_plan({**GOOD, **change})
    assert field in caught.value.errors
