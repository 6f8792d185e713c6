"""The booking rules without a database: which days a branch works (public holidays, 调休
working days, the centre's overrides, years the holiday library does not cover), who a package
suits, how far ahead one may book and until when one may change a visit."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from careledger.booking import calendar, rules
from careledger.booking.errors import BookingRefused
from careledger.booking.forms import yuan_to_fen
from careledger.booking.templatetags.booking_tags import yuan

WEEKDAYS = [1, 2, 3, 4, 5]
SIX_DAYS = [1, 2, 3, 4, 5, 6]
SHANGHAI = ZoneInfo("Asia/Shanghai")


def status(day: dt.date, weekdays=WEEKDAYS, **kw):  # type: ignore[no-untyped-def]
    return calendar.day_status(day, open_weekdays=weekdays, **kw)


def test_national_day_and_spring_festival_2026_are_closed_with_their_names():
    national = status(dt.date(2026, 10, 1))
    assert (national.is_open, national.reason, national.holiday) == (
        False,
        "public_holiday",
        "National Day",
    )
    assert status(dt.date(2026, 2, 17)).holiday == "Spring Festival"


def test_an_adjusted_working_saturday_opens_a_weekday_branch():
    # 2026-10-10 is a Saturday worked in exchange for the National Day week (调休).
    day = dt.date(2026, 10, 10)
    assert day.isoweekday() == 6
    assert status(day).reason == "adjusted_workday" and status(day).is_open


def test_ordinary_weekends_follow_the_branch_week():
    saturday = dt.date(2026, 12, 5)
    assert status(saturday).reason == "weekly_closed"
    assert status(saturday, SIX_DAYS).is_open
    assert status(dt.date(2026, 12, 7)).reason == "weekly_open"


def test_overrides_win_branch_first_then_institution():
    day = dt.date(2026, 12, 7)
    assert status(day, institution_overrides={day: False}).reason == "override_closed"
    opened = status(day, branch_overrides={day: True}, institution_overrides={day: False})
    assert opened.reason == "override_open" and opened.is_open
    holiday = dt.date(2026, 10, 1)
    assert status(holiday, branch_overrides={holiday: True}).is_open


def test_a_year_the_library_does_not_cover_is_closed_unless_opened():
    covered = calendar.covered_years()
    later = dt.date(covered.stop, 3, 2)  # the first year after the last one covered
    assert not calendar.is_covered(later)
    assert status(later).reason == "calendar_not_covered"
    assert status(later, institution_overrides={later: True}).is_open
    assert 2026 in covered


def test_age_is_in_full_years_on_the_visit_day():
    assert rules.age_on(dt.date(1980, 6, 15), dt.date(2026, 6, 14)) == 45
    assert rules.age_on(dt.date(1980, 6, 15), dt.date(2026, 6, 15)) == 46
    assert rules.age_on(dt.date(2000, 2, 29), dt.date(2026, 2, 28)) == 25


@pytest.mark.parametrize(
    ("rule", "sex", "birth", "expected"),
    [
        (rules.Suitability("F", None, None), "M", dt.date(1980, 1, 1), "unsuitable_sex"),
        (rules.Suitability("", 40, None), "M", dt.date(1990, 1, 1), "too_young"),
        (rules.Suitability("", None, 60), "F", dt.date(1950, 1, 1), "too_old"),
        (rules.Suitability("M", 18, 70), "M", dt.date(1980, 1, 1), ""),
    ],
)
def test_suitability(rule, sex, birth, expected):  # type: ignore[no-untyped-def]
    assert (
        rules.suitability_problem(rule, sex=sex, birth_date=birth, day=dt.date(2026, 12, 10))
        == expected
    )


def test_timing_refuses_past_days_inside_the_lead_time_and_beyond_the_horizon():
    today = dt.date(2026, 12, 4)
    check = lambda d: rules.timing_problem(d, today=today, lead_days=2, horizon_days=30)  # noqa: E731
    assert check(dt.date(2026, 12, 3)) == "past_date"
    assert check(dt.date(2026, 12, 5)) == "inside_lead_time"
    assert check(dt.date(2026, 12, 6)) == ""
    assert check(dt.date(2027, 1, 3)) == ""
    assert check(dt.date(2027, 1, 4)) == "beyond_horizon"


def test_changes_close_the_given_hours_before_the_visit_day_starts():
    day = dt.date(2026, 12, 10)
    deadline = rules.change_deadline(day, cancel_hours=24, tz=SHANGHAI)
    assert deadline == dt.datetime(2026, 12, 9, 0, 0, tzinfo=SHANGHAI)
    assert rules.change_problem(day, now=deadline, cancel_hours=24) == ""
    later = deadline + dt.timedelta(seconds=1)
    assert rules.change_problem(day, now=later, cancel_hours=24) == "after_cancel_window"


def test_money_is_integer_fen_both_ways():
    assert yuan_to_fen("599") == 59900
    assert yuan_to_fen("1,288.50") == 128850
    assert yuan_to_fen("0.1") == 10
    for bad in ("12.345", "-1", "abc", "NaN", "1e3x", ""):
        with pytest.raises(BookingRefused):
            yuan_to_fen(bad)
    assert yuan(128850) == "¥1,288.50" and yuan(5) == "¥0.05" and yuan(0) == "¥0.00"
