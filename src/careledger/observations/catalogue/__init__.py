"""The indicator catalogue: check-up indicators with LOINC codes, units, ranges and variation.

Pure Python, no Django: `from careledger.observations import catalogue`. The entries live in
`data.py` (see docs/decisions/0004-indicator-catalogue.md for why a Python data module, where each
figure comes from and what is uncertain). Everything else in the system (parsers, the observation
store, trends, demo data) uses these functions, so a result from any exam centre lands on one
entry in one canonical unit and is flagged the same way.
"""

from __future__ import annotations

import math
import re
import unicodedata
from decimal import Decimal
from functools import cache

from careledger.observations.catalogue import data
from careledger.observations.catalogue.codes import is_valid_loinc, looks_like_loinc
from careledger.observations.catalogue.model import (
    ORDINAL,
    QUANTITY,
    Conversion,
    Indicator,
    ReferenceRange,
)
from careledger.observations.catalogue.units import (
    UnitNotConvertible,
    conversion_for,
    from_canonical,
    normalise_unit,
    to_canonical,
)
from careledger.observations.catalogue.values import BadValue, ParsedValue, parse_value

__all__ = [
    "ORDINAL",
    "QUANTITY",
    "BadValue",
    "Conversion",
    "Indicator",
    "ParsedValue",
    "ReferenceRange",
    "UnitNotConvertible",
    "all_indicators",
    "conversion_for",
    "find",
    "flag",
    "from_canonical",
    "get",
    "is_plausible",
    "is_valid_loinc",
    "looks_like_loinc",
    "normalise_unit",
    "ordinal_flag",
    "panels",
    "parse_value",
    "rcv",
    "reference_range",
    "suggest",
    "to_canonical",
]

Z_TWO_SIDED_95 = 1.96


def _dec(value: str | int | None) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _fraction(spec: str | tuple[str, str]) -> Conversion:
    """A conversion from its data form: "88.42", "1/18.016" or ("0.09148", "2.152") (affine)."""
    offset = Decimal(0)
    if isinstance(spec, tuple):
        spec, offset_text = spec
        offset = Decimal(offset_text)
    if "/" in spec:
        num, den = spec.split("/")
        return Conversion(unit="", numerator=Decimal(num), denominator=Decimal(den), offset=offset)
    return Conversion(unit="", numerator=Decimal(spec), offset=offset)


def _range_text(low: Decimal | None, high: Decimal | None, exclusive: bool) -> str:
    if low is not None and high is not None:
        return f"{low}–{high}"
    if high is not None:
        return f"<{high}" if exclusive else f"≤{high}"
    if low is not None:
        return f"≥{low}"
    return ""


def _build(entry: dict, panel_names: dict[str, str]) -> Indicator:
    kind = entry.get("kind", QUANTITY)
    unit = entry.get("unit", "")
    unit_display = entry.get("unit_display", unit)
    conversions: dict[str, Conversion] = {}

    def add(spelling: str, conv: Conversion) -> None:
        key = normalise_unit(spelling)
        if key and key not in conversions:
            conversions[key] = Conversion(
                unit=key,
                numerator=conv.numerator,
                denominator=conv.denominator,
                offset=conv.offset,
            )

    identity = Conversion(unit="", numerator=Decimal(1))
    if unit:
        add(unit, identity)
        add(unit_display, identity)
    for spelling, spec in entry.get("conversions", {}).items():
        add(spelling, _fraction(spec))

    ranges = []
    for r in entry.get("ranges", ()):
        low, high = _dec(r.get("low")), _dec(r.get("high"))
        exclusive = r.get("high_exclusive", False)
        age = r.get("age", (None, None))
        ranges.append(
            ReferenceRange(
                sex=r.get("sex", ""),
                age_min=age[0],
                age_max=age[1],
                low=low,
                high=high,
                text=r.get("text") or _range_text(low, high, exclusive),
                high_exclusive=exclusive,
            )
        )
    scale = tuple(entry.get("scale", ()))
    if kind == ORDINAL and not ranges:
        ranges.append(ReferenceRange("", None, None, None, None, scale[0]))
    cv_within = entry.get("cv_within")
    cv_analytical = entry.get("cv_analytical")
    if cv_analytical is None and cv_within is not None:
        cv_analytical = round(cv_within / 2, 3)  # desirable CVa = 0.5 × CVi
    plausible = entry.get("plausible", (None, None))
    critical = entry.get("critical", (None, None))
    return Indicator(
        code=entry["code"],
        name_zh=entry["name_zh"],
        name_en=entry["name_en"],
        abbreviation=entry["abbreviation"],
        panel=entry["panel"],
        kind=kind,
        unit=unit,
        unit_display=unit_display,
        decimals=entry.get("decimals", 0),
        ranges=tuple(ranges),
        critical_low=_dec(critical[0]),
        critical_high=_dec(critical[1]),
        cv_analytical=cv_analytical,
        cv_within=cv_within,
        plausible_low=_dec(plausible[0]),
        plausible_high=_dec(plausible[1]),
        ordinal_scale=scale,
        aliases=tuple(entry.get("aliases", ())),
        source=entry.get("source", ""),
        conversions=tuple(conversions.values()),
        critical_inclusive=entry.get("critical_inclusive", False),
        scale_equivalents=tuple(entry.get("scale_equivalents", ())),
        panel_zh=panel_names[entry["panel"]],
        notes=entry.get("notes", ""),
    )


def _key(text: str) -> str:
    """Loose form of a name for matching: compatibility forms, case, spaces and brackets."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return re.sub(r"[\s\-_()\[\]（）【】:：,，.、/]+", "", text)


@cache
def _catalogue() -> tuple[tuple[Indicator, ...], dict[str, Indicator], dict[str, list[Indicator]]]:
    panel_names = dict(data.PANELS)
    order = {key: i for i, (key, _) in enumerate(data.PANELS)}
    built = [_build(entry, panel_names) for entry in data.INDICATORS]
    built.sort(key=lambda ind: order[ind.panel])  # stable: listed order within a panel
    by_code: dict[str, Indicator] = {}
    for ind in built:
        by_code[ind.code] = ind
    for ind in built:
        for alias in ind.loinc_aliases:
            by_code.setdefault(alias, ind)
    names: dict[str, list[Indicator]] = {}
    for ind in built:
        for name in (ind.code, ind.abbreviation, ind.name_zh, ind.name_en, *ind.aliases):
            bucket = names.setdefault(_key(name), [])
            if ind not in bucket:
                bucket.append(ind)
    return tuple(built), by_code, names


def all_indicators() -> list[Indicator]:
    """Every entry, in panel display order and, within a panel, the listed order."""
    return list(_catalogue()[0])


def panels() -> list[tuple[str, str]]:
    """(key, Chinese name) of every panel, in display order."""
    return list(data.PANELS)


def find(code: str) -> Indicator | None:
    """The entry for a catalogue code or one of its alias LOINC codes; None if unknown."""
    return _catalogue()[1].get(code.strip())


def get(code: str) -> Indicator:
    """Like find, but KeyError for an unknown code."""
    ind = find(code)
    if ind is None:
        raise KeyError(code)
    return ind


def suggest(text: str) -> list[Indicator]:
    """Entries an exam centre's local code or name probably means, best first.

    Exact matches of the code, abbreviation, names or an alias come first; then entries whose
    name or alias is contained in the text (longest match first: "血清总胆固醇测定" → TC), then
    entries whose name contains the text. Used to pre-fill the local-code mapping screen; an
    admin confirms every mapping.
    """
    key = _key(text)
    if not key:
        return []
    _, by_code, names = _catalogue()
    scored: dict[str, tuple[int, int, Indicator]] = {}
    position = {ind.code: i for i, ind in enumerate(_catalogue()[0])}

    def offer(ind: Indicator, score: int) -> None:
        current = scored.get(ind.code)
        if current is None or current[0] < score:
            scored[ind.code] = (score, position[ind.code], ind)

    if text.strip() in by_code:
        offer(by_code[text.strip()], 1000)
    for ind in names.get(key, ()):
        offer(ind, 900)
    for name, inds in names.items():
        if len(name) < 2 or name == key:
            continue
        if name in key:
            for ind in inds:
                offer(ind, 100 + len(name))
        elif len(key) >= 2 and key in name:
            for ind in inds:
                offer(ind, 50 + len(key))
    return [ind for _, _, ind in sorted(scored.values(), key=lambda s: (-s[0], s[1]))]


def reference_range(ind: Indicator, *, sex: str, age: int | None) -> ReferenceRange | None:
    """The catalogue's range for a person: the most specific one that applies.

    A range for the person's own sex beats one for any sex; among those, a bounded age band beats
    an open one. With sex unknown ("") only a range for any sex applies; with age unknown only a
    range without an age band does — guessing a band could flag a child against adult limits.
    """
    best: tuple[int, ReferenceRange] | None = None
    for r in ind.ranges:
        if r.sex and r.sex != sex:
            continue
        if r.age_min is not None or r.age_max is not None:
            if age is None:
                continue
            if r.age_min is not None and age < r.age_min:
                continue
            if r.age_max is not None and age > r.age_max:
                continue
        score = (2 if r.sex else 0) + (1 if (r.age_min is not None or r.age_max is not None) else 0)
        if best is None or score > best[0]:
            best = (score, r)
    return best[1] if best else None


class _Span:
    """The values a result could be: "5.6" is [5.6, 5.6]; "<0.1" is [floor, 0.1) with the floor
    the plausible minimum (or 0); ">1000" is (1000, ceiling]."""

    def __init__(self, ind: Indicator, value: Decimal, comparator: str) -> None:
        self.lo = self.hi = value
        self.lo_open = self.hi_open = False
        if comparator in ("<", "<="):
            floor = ind.plausible_low if ind.plausible_low is not None else Decimal(0)
            self.lo, self.hi_open = min(floor, value), comparator == "<"
        elif comparator in (">", ">="):
            ceiling = ind.plausible_high if ind.plausible_high is not None else Decimal("Infinity")
            self.hi, self.lo_open = max(ceiling, value), comparator == ">"
        elif comparator not in ("", "="):
            raise ValueError(f"unknown comparator {comparator!r}")

    def below(self, limit: Decimal, *, or_equal: bool = False) -> bool:
        """Every possible value < limit (or ≤ limit)."""
        if self.hi_open or or_equal:
            return self.hi <= limit
        return self.hi < limit

    def above(self, limit: Decimal, *, or_equal: bool = False) -> bool:
        """Every possible value > limit (or ≥ limit)."""
        if self.lo_open or or_equal:
            return self.lo >= limit
        return self.lo > limit


def flag(ind: Indicator, value: Decimal, *, sex: str, age: int | None, comparator: str = "") -> str:
    """The catalogue's flag for a canonical-unit value.

    "LL"/"HH" beyond a critical limit, "L"/"H" outside the reference range, "N" inside, ""
    without a range — and also when a censored value such as "<5" straddles a limit, so which
    side it is on is unknown. A critical limit applies even where no reference range does.
    """
    span = _Span(ind, value, comparator)
    inclusive = ind.critical_inclusive
    if ind.critical_low is not None and span.below(ind.critical_low, or_equal=inclusive):
        return "LL"
    if ind.critical_high is not None and span.above(ind.critical_high, or_equal=inclusive):
        return "HH"
    rng = reference_range(ind, sex=sex, age=age)
    if rng is None or (rng.low is None and rng.high is None):
        return ""
    if rng.low is not None and span.below(rng.low):
        return "L"
    if rng.high is not None and span.above(rng.high, or_equal=rng.high_exclusive):
        return "H"
    low_ok = rng.low is None or span.above(rng.low, or_equal=True)
    high_ok = rng.high is None or span.below(rng.high, or_equal=not rng.high_exclusive)
    return "N" if low_ok and high_ok else ""


def ordinal_flag(ind: Indicator, text: str) -> str:
    """ "N" when a qualitative result is the scale's normal rank, "A" otherwise.

    The text is parsed first ("阴性(-)", "neg", "-" are all normal); text that is not a value on
    the indicator's scale raises BadValue rather than being flagged, so junk is never shown as a
    result.
    """
    parsed = parse_value(text, ind)
    if not ind.ordinal_scale:
        raise BadValue(f"{ind.code} ({ind.abbreviation}) has no qualitative scale")
    return "N" if parsed.text == ind.ordinal_scale[0] else "A"


def rcv(ind: Indicator) -> tuple[float, float] | None:
    """The log-normal asymmetric reference change value (down %, up %), z = 1.96.

    σ = √(ln(1+CVa²) + ln(1+CVi²)); up = e^(z√2σ) − 1; down = e^(−z√2σ) − 1 (a negative
    percentage). Without a CVa, the desirable CVa = 0.5·CVi. None without a CVi.
    """
    if ind.cv_within is None:
        return None
    cvi = ind.cv_within / 100
    cva = (ind.cv_analytical if ind.cv_analytical is not None else ind.cv_within / 2) / 100
    sigma = math.sqrt(math.log(1 + cva**2) + math.log(1 + cvi**2))
    spread = Z_TWO_SIDED_95 * math.sqrt(2) * sigma
    return (math.exp(-spread) - 1) * 100, (math.exp(spread) - 1) * 100


def is_plausible(ind: Indicator, value: Decimal) -> bool:
    """Whether a canonical-unit value is one a living person can have (rejects typos and
    unit slips such as a glucose of 100 read as mmol/L)."""
    if ind.plausible_low is not None and value < ind.plausible_low:
        return False
    return not (ind.plausible_high is not None and value > ind.plausible_high)
