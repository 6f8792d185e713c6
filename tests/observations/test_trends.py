"""The trend statistics (pure, no database): reference bands by sex and age at each date, flags,
changes from the previous result and the baseline with their RCV significance, the slope per
year, and "what changed since the last check-up"."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import pytest

from careledger.observations import catalogue, trends
from careledger.observations.trends import Result, Significance

GLU = catalogue.get("2345-7")  # CVi 4.7 %, range 3.9–6.1, critical < 2.8 / > 22.2
NO_CVI = catalogue.get("30522-7")  # hs-CRP: no CVi in the catalogue
HGB = catalogue.get("718-7")  # M 130–175, F 115–150 g/L
CREA = catalogue.get("2160-0")  # M 20–59 y: 57–97, 60–79 y: 57–111 µmol/L
PRO = catalogue.get("2888-6")  # urine protein, ordinal 阴性 ± 1+ 2+ …
BMI = catalogue.get("39156-5")

BIRTH = dt.date(1970, 6, 15)


def r(day: str, value: str | None, **kw) -> Result:  # type: ignore[no-untyped-def]
    return Result(dt.date.fromisoformat(day), None if value is None else Decimal(value), **kw)


def series(ind, *results, sex="M", birth=BIRTH):  # type: ignore[no-untyped-def]
    return trends.build_series(ind, list(results), sex=sex, birth_date=birth)


def glucose_rcv_by_hand() -> tuple[float, float]:
    """CLINICAL_SOURCES.md: σ = √(ln(1+CVa²) + ln(1+CVi²)), CVa = 0.5·CVi, z = 1.96."""
    cvi, cva = 0.047, 0.0235
    sigma = math.sqrt(math.log(1 + cva**2) + math.log(1 + cvi**2))
    spread = 1.96 * math.sqrt(2) * sigma
    return (math.exp(-spread) - 1) * 100, (math.exp(spread) - 1) * 100


# --- RCV significance ---------------------------------------------------------------------


def test_the_series_uses_the_catalogues_asymmetric_rcv():
    down, up = glucose_rcv_by_hand()
    s = series(GLU, r("2020-01-01", "5.0"), r("2021-01-01", "5.2"))
    assert s.rcv == pytest.approx((down, up))
    assert down < 0 < up and up > -down  # log-normal: a rise needs more than a fall


@pytest.mark.parametrize(
    ("factor", "expected"),
    [
        (1.001, "just above up"),
        (0.999, "just below up"),
        (-1.001, "just beyond down"),
        (-0.999, "just inside down"),
    ],
)
def test_a_change_is_significant_only_beyond_the_rcv_in_its_direction(factor, expected):
    down, up = glucose_rcv_by_hand()
    limit = up if factor > 0 else down
    before = Decimal("5.000000")
    after = (before * Decimal(1 + limit * abs(factor) / 100)).quantize(Decimal("0.000001"))
    change = trends.compare(
        GLU, r("2020-01-01", str(before)), r("2021-01-01", str(after)), (down, up)
    )
    assert change.percent == pytest.approx(limit * abs(factor), abs=1e-3)
    wanted = {
        "just above up": Significance.RISE,
        "just below up": Significance.WITHIN,
        "just beyond down": Significance.FALL,
        "just inside down": Significance.WITHIN,
    }[expected]
    assert change.significance == wanted
    assert change.absolute == after - before


def test_a_fall_of_the_rise_limit_is_significant_but_a_rise_of_the_fall_limit_is_not():
    down, up = glucose_rcv_by_hand()  # about −13.5 % and +15.7 %
    rcv = (down, up)
    # −14.5 %: beyond the fall limit although smaller than the rise limit
    fall = trends.compare(GLU, r("2020-01-01", "10.0"), r("2021-01-01", "8.55"), rcv)
    assert fall.significance == Significance.FALL
    # +14.5 %: larger than |down| but inside the rise limit
    rise = trends.compare(GLU, r("2020-01-01", "10.0"), r("2021-01-01", "11.45"), rcv)
    assert rise.significance == Significance.WITHIN


def test_without_a_within_subject_cv_a_change_is_not_assessable_but_still_measured():
    s = series(NO_CVI, r("2020-01-01", "1.00"), r("2021-01-01", "3.00"))
    assert s.rcv is None
    change = s.latest.previous
    assert change.significance == Significance.NOT_ASSESSABLE
    assert change.absolute == Decimal("2.00")
    assert change.percent == pytest.approx(200.0)


def test_censored_values_are_not_assessable():
    s = series(GLU, r("2020-01-01", "5.0"), r("2021-01-01", "0.1", comparator="<"))
    change = s.latest.previous
    assert change == trends.Change(None, None, Significance.NOT_ASSESSABLE)
    assert s.latest.display == "<0.10"
    assert s.latest.censored


def test_ordinal_changes_are_not_assessable_by_rcv():
    s = series(
        PRO,
        r("2020-01-01", "0", text="阴性"),
        r("2021-01-01", "2", text="1+"),
        r("2022-01-01", "3", text="2+"),
    )
    assert [p.flag for p in s.points] == ["N", "A", "A"]
    assert [p.display for p in s.points] == ["阴性", "1+", "2+"]
    assert all(p.previous.significance == Significance.NOT_ASSESSABLE for p in s.points[1:])
    assert s.slope_per_year is None and s.direction == ""


def test_an_ordinal_result_without_its_text_is_read_from_its_rank():
    s = series(PRO, r("2020-01-01", "0"), r("2021-01-01", "2"))
    assert [p.flag for p in s.points] == ["N", "A"]


def test_a_change_from_zero_has_no_percentage():
    change = trends.compare(GLU, r("2020-01-01", "0"), r("2021-01-01", "1"), (-10.0, 10.0))
    assert change.absolute == Decimal("1")
    assert change.percent is None
    assert change.significance == Significance.NOT_ASSESSABLE


# --- previous and baseline ------------------------------------------------------------------


def test_changes_from_the_previous_result_and_from_the_baseline():
    s = series(
        GLU,
        r("2022-03-01", "6.0"),
        r("2019-03-01", "5.0"),  # out of order on purpose: the series sorts by date
        r("2020-03-01", "5.5"),
    )
    assert [p.at.year for p in s.points] == [2019, 2020, 2022]
    assert s.baseline.previous is None and s.baseline.baseline is None
    second, third = s.points[1], s.points[2]
    assert second.previous.absolute == Decimal("0.5")
    assert second.previous.percent == pytest.approx(10.0)
    assert second.previous.significance == Significance.WITHIN
    assert third.previous.absolute == Decimal("0.5")
    assert third.previous.percent == pytest.approx(100 / 11)
    assert third.baseline.absolute == Decimal("1.0")
    assert third.baseline.percent == pytest.approx(20.0)
    assert third.baseline.significance == Significance.RISE


# --- bands and flags ------------------------------------------------------------------------


def test_the_band_and_flag_follow_the_clients_sex():
    man = series(HGB, r("2021-05-01", "120"), sex="M")
    woman = series(HGB, r("2021-05-01", "120"), sex="F")
    assert (man.latest.band.low, man.latest.band.high) == (Decimal("130"), Decimal("175"))
    assert (woman.latest.band.low, woman.latest.band.high) == (Decimal("115"), Decimal("150"))
    assert man.latest.flag == "L"
    assert woman.latest.flag == "N"


def test_the_band_follows_the_clients_age_on_each_date():
    birth = dt.date(1961, 7, 1)  # 59 until 2021-07-01, then 60
    s = series(CREA, r("2021-06-01", "105"), r("2021-08-01", "105"), birth=birth)
    before, after = s.points
    assert before.band.text == "57–97" and before.flag == "H"
    assert after.band.text == "57–111" and after.flag == "N"


def test_critical_values_are_flagged_beyond_the_range():
    s = series(GLU, r("2020-01-01", "2.5"), r("2021-01-01", "7.0"), r("2022-01-01", "25.0"))
    assert [p.flag for p in s.points] == ["LL", "H", "HH"]


def test_the_labs_own_range_is_shown_only_where_it_differs():
    s = series(
        GLU,
        r("2020-01-01", "5.0", source_range="3.90-6.10", source_flag=""),
        r("2021-01-01", "5.0", source_range="3.89~6.11"),
        r("2022-01-01", "90", source_range="70-110", source_flag="N"),  # the lab's mg/dL range
        r("2023-01-01", "5.0"),
    )
    assert [p.source_range_differs for p in s.points] == [False, True, True, False]
    assert s.points[2].source_flag == "N"
    # BMI keeps [18.5, 24.0) and shows "18.5–23.9": a lab writing 18.5-23.9 agrees with it.
    bmi = series(BMI, r("2020-01-01", "22.0", source_range="18.5-23.9"))
    assert not bmi.latest.source_range_differs


def test_values_are_shown_with_the_indicators_decimals():
    assert trends.format_value(GLU, Decimal("5.6")) == "5.60"
    assert trends.format_value(GLU, Decimal("0.1"), "<=") == "≤0.10"
    assert trends.format_value(PRO, Decimal("2"), "", "1+") == "1+"


# --- slope --------------------------------------------------------------------------------


def test_the_slope_is_least_squares_on_the_date_in_years():
    days = [0, 731, 1461, 1826]
    values = [5.0, 5.6, 6.3, 6.4]
    start = dt.date(2018, 1, 1)
    results = [
        r((start + dt.timedelta(days=d)).isoformat(), f"{v}")
        for d, v in zip(days, values, strict=True)
    ]
    xs = [d / 365.25 for d in days]
    mx, my = sum(xs) / 4, sum(values) / 4
    expected = sum((x - mx) * (y - my) for x, y in zip(xs, values, strict=True)) / sum(
        (x - mx) ** 2 for x in xs
    )
    s = series(GLU, *results)
    assert s.slope_per_year == pytest.approx(expected)
    assert s.direction == "up"  # the fitted +1.5 mmol/L over 5 years is far beyond the RCV


def test_a_straight_line_gives_its_own_slope():
    # 1461 days are exactly four years of 365.25 days
    s = series(GLU, r("2012-01-01", "5.0"), r("2016-01-01", "7.0"), r("2020-01-01", "9.0"))
    assert s.slope_per_year == pytest.approx(0.5)
    falling = series(GLU, r("2012-01-01", "9.0"), r("2016-01-01", "7.0"), r("2020-01-01", "5.0"))
    assert falling.slope_per_year == pytest.approx(-0.5)
    assert falling.direction == "down"


def test_no_slope_with_fewer_than_three_results():
    s = series(GLU, r("2015-01-01", "5.0"), r("2020-01-01", "7.0"))
    assert s.slope_per_year is None
    assert s.direction == ""


def test_no_slope_when_the_results_span_less_than_a_year():
    s = series(GLU, r("2020-01-01", "5.0"), r("2020-06-01", "5.5"), r("2020-12-30", "6.0"))
    assert s.slope_per_year is None
    s = series(GLU, r("2020-01-01", "5.0"), r("2020-06-01", "5.5"), r("2021-01-01", "6.0"))
    assert s.slope_per_year == pytest.approx(0.99, abs=0.01)  # 366 days: 2020 is a leap year


def test_censored_values_are_left_out_of_the_slope():
    with_censored = series(
        GLU,
        r("2018-01-01", "5.0"),
        r("2019-01-01", "0.1", comparator="<"),
        r("2020-01-01", "5.0"),
        r("2021-01-01", "5.0"),
    )
    assert with_censored.slope_per_year == pytest.approx(0.0)
    assert with_censored.direction == "flat"
    too_few = series(
        GLU, r("2018-01-01", "5.0"), r("2019-01-01", "30", comparator=">"), r("2020-01-01", "5.0")
    )
    assert too_few.slope_per_year is None


def test_a_small_drift_inside_the_rcv_is_flat_and_without_rcv_ten_percent_decides():
    drift = series(GLU, r("2018-01-01", "5.00"), r("2019-01-01", "5.10"), r("2020-01-01", "5.20"))
    assert drift.slope_per_year > 0
    assert drift.direction == "flat"  # +4 % over two years, inside the +15.7 % RCV
    tg = series(NO_CVI, r("2018-01-01", "1.00"), r("2019-01-01", "0.95"), r("2020-01-01", "0.80"))
    assert tg.direction == "down"  # −20 % fitted, beyond the −10 % used without a CVi


def test_an_empty_series_is_refused():
    with pytest.raises(ValueError, match="2345-7"):
        series(GLU)


# --- since the last check-up ----------------------------------------------------------------


def test_the_summary_lists_new_resolved_and_significant_changes():
    glu = series(GLU, r("2022-05-01", "5.0"), r("2023-05-01", "6.5"))  # N → H, +30 %: both
    hgb = series(HGB, r("2022-05-01", "128"), r("2023-05-01", "131"), sex="M")  # L → N, +2 %
    pro = series(PRO, r("2023-05-01", "2", text="1+"))  # not measured before → new abnormal
    alt = series(
        catalogue.get("1742-6"), r("2022-05-01", "20"), r("2023-05-01", "35")
    )  # +75 %, normal both times: significant only
    crea = series(CREA, r("2022-05-01", "80"), r("2023-05-01", "82"))  # nothing to say
    tc = series(catalogue.get("2093-3"), r("2021-05-01", "6.5"))  # only at an older check-up
    summary = trends.latest_changes([crea, pro, hgb, glu, alt, tc])
    assert summary.latest_date == dt.date(2023, 5, 1)
    assert summary.previous_date == dt.date(2022, 5, 1)
    # catalogue order: blood routine, urine routine, liver, kidney, …, glucose
    assert [i.indicator.abbreviation for i in summary.new_abnormal] == ["PRO", "GLU"]
    assert [i.indicator.abbreviation for i in summary.resolved] == ["HGB"]
    assert [i.indicator.abbreviation for i in summary.significant] == ["ALT", "GLU"]
    new_pro = summary.new_abnormal[0]
    assert new_pro.before is None and new_pro.after.display == "1+" and new_pro.change is None
    glu_item = summary.significant[-1]
    assert glu_item.before.display == "5.00" and glu_item.after.display == "6.50"
    assert glu_item.unit == "mmol/L"
    assert glu_item.change.significance == Significance.RISE
    assert not summary.empty


def test_an_abnormal_result_that_stays_abnormal_is_neither_new_nor_resolved():
    glu = series(GLU, r("2022-05-01", "6.5"), r("2023-05-01", "6.6"))
    summary = trends.latest_changes([glu])
    assert summary.empty


def test_with_one_check_up_every_abnormal_result_is_new_and_nothing_is_compared():
    glu = series(GLU, r("2023-05-01", "7.5"))
    hgb = series(HGB, r("2023-05-01", "140"), sex="M")
    summary = trends.latest_changes([glu, hgb])
    assert summary.previous_date is None
    assert [i.indicator.abbreviation for i in summary.new_abnormal] == ["GLU"]
    assert summary.resolved == () and summary.significant == ()


def test_no_results_no_summary():
    assert trends.latest_changes([]) is None


def test_two_results_on_one_day_the_later_one_stands_for_the_check_up():
    glu = series(GLU, r("2022-05-01", "5.0"), r("2023-05-01", "7.0"), r("2023-05-01", "5.1"))
    days = trends.checkups([glu])
    assert [d.at.year for d in days] == [2022, 2023]
    assert days[-1].results["2345-7"][1].display == "5.10"
