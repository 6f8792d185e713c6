"""From a result as the source wrote it to an observation as the system keeps it (pure).

For each `ParsedResult`: find the catalogue entry (the institution's mapping of this source's
local code first, then the code itself when it is a catalogue (LOINC) code, then an exact match
of the source's name or code on a catalogue name, abbreviation or alias that belongs to one
entry only — never a fuzzy guess), read the value (numbers, "<0.1", "阴性", "1+"), convert it to
the canonical unit, refuse values no living person can have, and flag it against the catalogue's
range for the client's sex and age on the day of the exam. The source's own value, unit, range
and flag travel along unchanged. Anything that fails becomes a `Rejected` with the reason code,
the field and a message that names what was found (never who it was about).

Speed (an import normalises every result of a file, tens of thousands per batch): the same
value of the same indicator comes back again and again, so how it reads is remembered in a
bounded memo keyed by the catalogue code (the catalogue is code, immutable while the process
runs; decision 0004), and unit spellings are memoised by the catalogue itself.
`Normalised` is a named tuple: built once per result, it is the cheapest record Python has.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import NamedTuple

from careledger.exams.parsers.types import ParsedResult, Reason
from careledger.observations import catalogue
from careledger.observations.catalogue import values

_QUANTUM = Decimal("0.000001")
_MEMO_MAX = 65_536


class Normalised(NamedTuple):
    code: str
    value: Decimal | None
    comparator: str
    value_text: str
    unit: str
    flag: str
    effective_at: dt.datetime
    status: str
    source_code: str
    source_value: str
    source_unit: str
    source_range: str
    source_flag: str

    def same_value(self, value: Decimal | None, comparator: str, value_text: str) -> bool:
        """Whether an already stored observation says the same thing."""
        return (
            self.value == value and self.comparator == comparator and self.value_text == value_text
        )


@dataclass(frozen=True)
class Rejected:
    reason: Reason
    field: str
    message: str


def _fold(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


@cache
def _names() -> dict[str, str | None]:
    """Every name, abbreviation and alias of the catalogue → its code (None when it names more
    than one entry, so it is never used to map)."""
    index: dict[str, str | None] = {}
    for ind in catalogue.all_indicators():
        for name in {ind.name_zh, ind.name_en, ind.abbreviation, *ind.aliases}:
            if not name:
                continue
            key = _fold(name)
            index[key] = ind.code if index.get(key, ind.code) == ind.code else None
    return index


def resolve(result: ParsedResult, local_map: dict[str, str]) -> catalogue.Indicator | None:
    code = local_map.get(result.local_code)
    if code:
        return catalogue.find(code)
    direct = catalogue.find(result.local_code.strip())
    if direct is not None:
        return direct
    for text in (result.local_name, result.local_code):
        code = _names().get(_fold(text)) if text else None
        if code:
            return catalogue.find(code)
    return None


def _age_on(birth_date: dt.date | None, day: dt.date) -> int | None:
    if birth_date is None:
        return None
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def _remember(memo: dict, key: object, value: object) -> None:  # type: ignore[type-arg]
    if len(memo) >= _MEMO_MAX:
        memo.clear()
    memo[key] = value


# (value as written, catalogue code) → what it reads as, or the BadValue message.
_VALUES: dict[tuple[str, str], values.ParsedValue | str] = {}


def _parse_value(raw: str, ind: catalogue.Indicator) -> values.ParsedValue | str:
    key = (raw, ind.code)
    known = _VALUES.get(key)
    if known is None:
        try:
            known = values.parse_value(raw, ind)
        except values.BadValue as exc:
            known = str(exc)
        _remember(_VALUES, key, known)
    return known


def normalise(
    result: ParsedResult,
    *,
    report_effective_at: dt.datetime,
    sex: str,
    birth_date: dt.date | None,
    local_map: dict[str, str],
) -> Normalised | Rejected:
    ind = resolve(result, local_map)
    if ind is None:
        shown = result.local_code or result.local_name
        return Rejected(
            Reason.UNKNOWN_CODE,
            "code",
            f"code {shown!r} ({result.local_name!r}) is neither mapped for this source nor a "
            "catalogue code",
        )
    if not result.value.strip():
        return Rejected(Reason.NO_VALUE, "value", f"no value for {ind.code} ({ind.name_en})")
    parsed = _parse_value(result.value, ind)
    if isinstance(parsed, str):
        return Rejected(Reason.BAD_VALUE, "value", f"{ind.code} ({ind.name_en}): {parsed}")
    effective_at = result.effective_at or report_effective_at
    age = _age_on(birth_date, effective_at.date())
    value = parsed.number
    unit = ind.unit
    if ind.kind == "ordinal" or value is None:
        flag = catalogue.ordinal_flag(ind, parsed.text) if parsed.text else ""
    else:
        try:
            value = catalogue.to_canonical(ind, value, result.unit)
        except catalogue.UnitNotConvertible as exc:
            return Rejected(
                Reason.UNIT_NOT_CONVERTIBLE,
                "unit",
                f"{ind.code} ({ind.name_en}): unit {result.unit!r} does not convert to "
                f"{ind.unit_display}: {exc}",
            )
        value = value.quantize(_QUANTUM)
        low, high = ind.plausible_low, ind.plausible_high
        if (low is not None and value < low) or (high is not None and value > high):
            return Rejected(
                Reason.IMPLAUSIBLE_VALUE,
                "value",
                f"{ind.code} ({ind.name_en}): {value.normalize()} {ind.unit_display} is outside "
                f"what a living person can have ({low}–{high})",
            )
        flag = catalogue.flag(ind, value, sex=sex, age=age, comparator=parsed.comparator)
    return Normalised(
        ind.code,
        value,
        parsed.comparator,
        parsed.text,
        unit,
        flag,
        effective_at,
        result.status,
        result.local_code[:64],
        result.value[:64],
        result.unit[:32],
        result.reference_range[:64],
        result.flag[:8],
    )
