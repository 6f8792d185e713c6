"""Trend statistics for one client's results of an indicator (历年指标趋势分析). Pure: no Django.

Input is what the observation store holds for one client and one catalogue code (date, value in
the canonical unit, comparator, text, flag, the source laboratory's range and flag); output is
frozen dataclasses the selector, the page and the API render as they are.

Per point:
* the catalogue's reference band for the client's sex and age *on that date* (a series that
  crosses an age band shows the band change), and our flag computed from that same band, so a
  point and the band drawn behind it never disagree (the flag stored at import is used only when
  there is no value to compare);
* the change from the previous result and from the baseline (the first result): absolute, in
  per cent, and whether it is significant by the reference change value (RCV). The catalogue
  gives the log-normal asymmetric RCV as (down %, up %), down negative: a rise is significant
  when the change is above `up`, a fall when it is below `down`. A change is "not assessable"
  when the indicator has no within-subject CV, is ordinal (阴性/1+/… ranks are not a ratio
  scale), either value is censored ("<0.1", ">1000") or missing, or the earlier value is 0.

Per series, the slope per year: ordinary least squares of the exact values on the date in
years (days / 365.25). Censored and text values are left out. It is None with fewer than three
such points or when they span less than one year: two points give a line through them whatever
the noise, and a slope "per year" extrapolated from weeks would mostly measure that noise.
The arrow (`Series.direction`) says "up"/"down" only when the fitted change over the whole span
is larger than the RCV in that direction (or than ±10 % of the mean for indicators without a
CVi), and "flat" otherwise.

`summarise_changes(latest, previous)` answers "what changed since the last check-up": new
abnormalities (abnormal now, normal or not measured before), resolved ones (abnormal before,
normal now) and significant changes (by RCV), each with the indicator, before, after and unit.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from careledger.observations import catalogue
from careledger.observations.catalogue import Indicator

ABNORMAL = frozenset({"H", "L", "HH", "LL", "A"})
CRITICAL = frozenset({"HH", "LL"})
DAYS_PER_YEAR = 365.25
MIN_SLOPE_POINTS = 3
MIN_SLOPE_SPAN_YEARS = 1.0
FLAT_FRACTION_WITHOUT_RCV = 10.0  # per cent of the mean, for indicators without a CVi


class Significance(StrEnum):
    RISE = "rise"  # above the RCV's upper limit
    FALL = "fall"  # below the RCV's lower limit
    WITHIN = "within"  # inside the RCV: could be analytical and biological noise
    NOT_ASSESSABLE = "not_assessable"

    @property
    def significant(self) -> bool:
        return self in (Significance.RISE, Significance.FALL)


@dataclass(frozen=True, slots=True)
class Result:
    """One stored result of the indicator (the observation store's row, canonical unit)."""

    at: dt.date
    value: Decimal | None
    comparator: str = ""  # "<", "<=", ">", ">=" for censored values
    text: str = ""  # canonical text of a qualitative value ("阴性", "1+")
    flag: str = ""  # our flag as stored at import
    source_range: str = ""  # the source laboratory's range and flag, as it sent them
    source_flag: str = ""


@dataclass(frozen=True, slots=True)
class Band:
    """The catalogue's reference interval in force for the client at a point."""

    low: Decimal | None
    high: Decimal | None
    text: str


@dataclass(frozen=True, slots=True)
class Change:
    absolute: Decimal | None  # after − before, canonical unit (None when not a number change)
    percent: float | None  # (after − before) / before × 100
    significance: Significance


@dataclass(frozen=True, slots=True)
class Point:
    at: dt.date
    value: Decimal | None
    comparator: str
    text: str
    display: str  # the value as shown: "5.6", "<0.10", "1+"
    flag: str  # N/H/L/HH/LL (A for an abnormal ordinal rank), "" without a range
    band: Band | None
    source_range: str
    source_flag: str
    source_range_differs: bool  # the lab's range is not the catalogue band (show it)
    previous: Change | None  # None for the first point
    baseline: Change | None

    @property
    def censored(self) -> bool:
        return bool(self.comparator)

    @property
    def abnormal(self) -> bool:
        return self.flag in ABNORMAL


@dataclass(frozen=True)
class Series:
    indicator: Indicator
    points: tuple[Point, ...]
    slope_per_year: float | None  # canonical unit per year; see the module docstring
    direction: str  # "up", "down", "flat" or "" (no slope)
    rcv: tuple[float, float] | None  # (down %, up %)

    @property
    def latest(self) -> Point:
        return self.points[-1]

    @property
    def baseline(self) -> Point:
        return self.points[0]


@dataclass(frozen=True, slots=True)
class CheckUp:
    """One check-up date's results: code → (indicator, its point on that date)."""

    at: dt.date
    results: Mapping[str, tuple[Indicator, Point]]


@dataclass(frozen=True, slots=True)
class ChangeItem:
    indicator: Indicator
    before: Point | None  # None: not measured at the previous check-up
    after: Point
    change: Change | None

    @property
    def unit(self) -> str:
        return self.indicator.unit_display


@dataclass(frozen=True)
class ChangeSummary:
    latest_date: dt.date
    previous_date: dt.date | None
    new_abnormal: tuple[ChangeItem, ...]
    resolved: tuple[ChangeItem, ...]
    significant: tuple[ChangeItem, ...]

    @property
    def empty(self) -> bool:
        return not (self.new_abnormal or self.resolved or self.significant)


# --- points -----------------------------------------------------------------------------------


def age_on(birth_date: dt.date | None, day: dt.date) -> int | None:
    if birth_date is None:
        return None
    before_birthday = (day.month, day.day) < (birth_date.month, birth_date.day)
    return day.year - birth_date.year - before_birthday


def format_value(
    ind: Indicator, value: Decimal | None, comparator: str = "", text: str = ""
) -> str:
    """A value as the page shows it: the indicator's decimals, the comparator, or the text."""
    if ind.is_ordinal or value is None:
        return text or ("" if value is None else str(value))
    shown = f"{value:.{ind.decimals}f}"
    return f"{_COMPARATOR_SIGN.get(comparator, comparator)}{shown}"


_COMPARATOR_SIGN = {"<=": "≤", ">=": "≥"}
_RANGE = re.compile(
    r"^\s*(?P<low>[-+]?\d+(?:\.\d+)?)\s*(?:-|–|—|~|～|－|至)\s*(?P<high>[-+]?\d+(?:\.\d+)?)\s*$"
)
_UPPER = re.compile(r"^\s*(?:<|≤|<=|＜)\s*(?P<high>\d+(?:\.\d+)?)\s*$")
_LOWER = re.compile(r"^\s*(?:>|≥|>=|＞)\s*(?P<low>\d+(?:\.\d+)?)\s*$")


def _same_number(text: str | None, number: Decimal | None) -> bool:
    if text is None or number is None:
        return text is None and number is None
    try:
        return Decimal(text) == number
    except InvalidOperation:
        return False


def _bounds(text: str) -> tuple[str | None, str | None] | None:
    for pattern in (_RANGE, _UPPER, _LOWER):
        match = pattern.match(text)
        if match:
            groups = match.groupdict()
            return groups.get("low"), groups.get("high")
    return None


def source_range_differs(source_range: str, band: Band | None) -> bool:
    """Whether the lab's own range says something other than the catalogue band. Numeric
    ranges compare by value ("3.90-6.10" is "3.9–6.1", and "18.5-23.9" is the band shown as
    "18.5–23.9" even where the catalogue keeps it as [18.5, 24.0)); a range in another unit
    differs, which is what the tooltip should then show, in the lab's own words."""
    text = source_range.strip()
    if not text:
        return False
    if band is None:
        return True
    theirs = _bounds(text)
    if theirs is None:
        return text != band.text.strip()
    if _same_number(theirs[0], band.low) and _same_number(theirs[1], band.high):
        return False
    ours = _bounds(band.text)
    return ours is None or not all(
        _same_number(a, None if b is None else Decimal(b))
        for a, b in zip(theirs, ours, strict=True)
    )


def compare(
    ind: Indicator, before: Point | Result, after: Point | Result, rcv: tuple[float, float] | None
) -> Change:
    """The change from `before` to `after`, and whether the RCV calls it significant."""
    if (
        ind.is_ordinal
        or before.value is None
        or after.value is None
        or before.comparator
        or after.comparator
    ):
        return Change(None, None, Significance.NOT_ASSESSABLE)
    absolute = after.value - before.value
    if before.value == 0:
        return Change(absolute, None, Significance.NOT_ASSESSABLE)
    percent = float(absolute) / float(before.value) * 100.0
    if rcv is None:
        return Change(absolute, percent, Significance.NOT_ASSESSABLE)
    down, up = rcv
    down = -abs(down)  # the catalogue's fall limit is negative; be robust to a positive one
    if percent > up:
        return Change(absolute, percent, Significance.RISE)
    if percent < down:
        return Change(absolute, percent, Significance.FALL)
    return Change(absolute, percent, Significance.WITHIN)


def _flag(ind: Indicator, r: Result, sex: str, age: int | None) -> str:
    """Our flag against the band in force on the result's date; the stored flag when the value
    cannot be judged again (no number, or a text the catalogue's scale no longer reads)."""
    try:
        if ind.is_ordinal:
            text = r.text
            if not text and r.value is not None and 0 <= int(r.value) < len(ind.ordinal_scale):
                text = ind.ordinal_scale[int(r.value)]
            return catalogue.ordinal_flag(ind, text) if text else r.flag
        if r.value is None:
            return r.flag
        return catalogue.flag(ind, r.value, sex=sex, age=age, comparator=r.comparator)
    except ValueError:  # BadValue, or a comparator the catalogue does not know
        return r.flag


def _band(ind: Indicator, sex: str, age: int | None) -> Band | None:
    found = catalogue.reference_range(ind, sex=sex, age=age)
    if found is None:
        return None
    return Band(found.low, found.high, found.text)


# --- series -----------------------------------------------------------------------------------


def build_series(
    ind: Indicator, results: Iterable[Result], *, sex: str, birth_date: dt.date | None
) -> Series:
    """The series of one indicator, sorted by date (stable: same-day results keep their order).

    `sex` is "M"/"F" (or "" when unknown), `birth_date` gives the age at each result's date."""
    ordered = sorted(results, key=lambda r: r.at)
    if not ordered:
        raise ValueError(f"no results for indicator {ind.code}")
    rcv = catalogue.rcv(ind)
    bands: dict[int | None, Band | None] = {}
    points: list[Point] = []
    first: Result | None = None
    previous: Result | None = None
    for r in ordered:
        age = age_on(birth_date, r.at)
        if age not in bands:
            bands[age] = _band(ind, sex, age)
        band = bands[age]
        points.append(
            Point(
                at=r.at,
                value=r.value,
                comparator=r.comparator,
                text=r.text,
                display=format_value(ind, r.value, r.comparator, r.text),
                flag=_flag(ind, r, sex, age),
                band=band,
                source_range=r.source_range,
                source_flag=r.source_flag,
                source_range_differs=source_range_differs(r.source_range, band),
                previous=None if previous is None else compare(ind, previous, r, rcv),
                baseline=None if first is None else compare(ind, first, r, rcv),
            )
        )
        first = first or r
        previous = r
    slope = None if ind.is_ordinal else slope_per_year(points)
    return Series(
        indicator=ind,
        points=tuple(points),
        slope_per_year=slope,
        direction=_direction(slope, points, rcv),
        rcv=rcv,
    )


def slope_per_year(points: Sequence[Point | Result]) -> float | None:
    """OLS slope of the exact values against the date in years; None with fewer than 3 exact
    values or a span under a year (see the module docstring)."""
    exact = [(p.at, float(p.value)) for p in points if p.value is not None and not p.comparator]
    if len(exact) < MIN_SLOPE_POINTS:
        return None
    origin = exact[0][0]
    xs = [(day - origin).days / DAYS_PER_YEAR for day, _v in exact]
    if max(xs) - min(xs) < MIN_SLOPE_SPAN_YEARS:
        return None
    ys = [v for _d, v in exact]
    n = len(xs)
    mean_x = sum(xs) / n
    mean_y = sum(ys) / n
    sxx = sum((x - mean_x) ** 2 for x in xs)
    sxy = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
    return sxy / sxx


def _direction(
    slope: float | None, points: Sequence[Point], rcv: tuple[float, float] | None
) -> str:
    if slope is None:
        return ""
    exact = [p for p in points if p.value is not None and not p.comparator]
    mean = sum(float(p.value) for p in exact) / len(exact)  # type: ignore[arg-type]
    if mean == 0 or not math.isfinite(slope):
        return "flat"
    span_years = (exact[-1].at - exact[0].at).days / DAYS_PER_YEAR
    fitted_percent = slope * span_years / abs(mean) * 100.0
    if rcv is None:
        down, up = -FLAT_FRACTION_WITHOUT_RCV, FLAT_FRACTION_WITHOUT_RCV
    else:
        down, up = -abs(rcv[0]), rcv[1]
    if fitted_percent > up:
        return "up"
    if fitted_percent < down:
        return "down"
    return "flat"


# --- "what changed since the last check-up" ---------------------------------------------------


def checkups(series: Iterable[Series]) -> list[CheckUp]:
    """The client's check-ups: every date with a result, oldest first. With two results of one
    indicator on the same day, the later one (last in the series) stands for the day."""
    by_date: dict[dt.date, dict[str, tuple[Indicator, Point]]] = {}
    for s in series:
        for p in s.points:
            by_date.setdefault(p.at, {})[s.indicator.code] = (s.indicator, p)
    return [CheckUp(day, by_date[day]) for day in sorted(by_date)]


def summarise_changes(latest: CheckUp, previous: CheckUp | None) -> ChangeSummary:
    """New abnormalities, resolved ones and significant changes from `previous` to `latest`,
    each list in catalogue order."""
    new_abnormal: list[ChangeItem] = []
    resolved: list[ChangeItem] = []
    significant: list[ChangeItem] = []
    before_results = previous.results if previous is not None else {}
    for code, (ind, after) in latest.results.items():
        found = before_results.get(code)
        before = found[1] if found else None
        change = None if before is None else compare(ind, before, after, catalogue.rcv(ind))
        item = ChangeItem(ind, before, after, change)
        if after.abnormal and (before is None or before.flag == "N"):
            new_abnormal.append(item)
        elif before is not None and before.abnormal and after.flag == "N":
            resolved.append(item)
        if change is not None and change.significance.significant:
            significant.append(item)
    order = _catalogue_order()
    key = lambda item: order.get(item.indicator.code, len(order))  # noqa: E731
    return ChangeSummary(
        latest_date=latest.at,
        previous_date=previous.at if previous is not None else None,
        new_abnormal=tuple(sorted(new_abnormal, key=key)),
        resolved=tuple(sorted(resolved, key=key)),
        significant=tuple(sorted(significant, key=key)),
    )


def latest_changes(series: Iterable[Series]) -> ChangeSummary | None:
    """`summarise_changes` between the two most recent check-up dates (None without results)."""
    days = checkups(series)
    if not days:
        return None
    return summarise_changes(days[-1], days[-2] if len(days) > 1 else None)


_ORDER: dict[str, int] = {}


def _catalogue_order() -> dict[str, int]:
    if not _ORDER:
        _ORDER.update({ind.code: i for i, ind in enumerate(catalogue.all_indicators())})
    return _ORDER
