"""Unit spellings as exam centres write them, normalised and converted into the canonical unit.

`normalise_unit` only rewrites what cannot change the meaning: Unicode compatibility forms
(full-width letters, "µ" U+00B5 vs "μ" U+03BC, superscript digits), spaces, the many spellings of
a power of ten ("×10^9/L", "10*9/L", "10E9/L", "10~9/L", "G/L", and "×109/L" with its
superscript flattened → "10*9/L") and the litre ("l" and "L" are
both litre in UCUM, so "mg/dl" → "mg/dL"). Everything else is matched against the indicator's own
list of known spellings; a case-insensitive match ("MG/DL") is accepted only when it is unique
among that indicator's spellings, so no case fix can ever pick between two different units.
"mmol/L" vs "µmol/L" differ by letters, not case, and never match each other.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from careledger.observations.catalogue.model import Conversion, Indicator

_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")
_SUPERSCRIPT_RUN = re.compile(r"[⁰¹²³⁴⁵⁶⁷⁸⁹⁻]+")
# "×10^9/L", "x10^9/L", "*10^9/L", "10^9/L", "10*9/L", "10**9/L", "10E9/L", "10e9/L"
_POWER = re.compile(r"[x×X*·]?10(?:\^|\*\*|\*|[eE~])(-?\d+)")
# "×109/L": a "×10⁹/L" whose superscript was flattened on export. "109/L" is never meant
# literally (109 cells per litre), so reading it as 10^9/L cannot pick between real units.
_FLATTENED_POWER = re.compile(r"^[x×X*·]?10(9|12)(?=/)")
_EXPONENT = re.compile(r"(?<=[A-Za-z])\^(?=-?\d)")  # "m^2" → "m2" (UCUM writes exponents so)
_LITRE_TOKENS = {"l": "L", "dl": "dL", "ml": "mL", "ul": "uL", "nl": "nL", "pl": "pL", "fl": "fL"}
_WHITESPACE = re.compile(r"\s+")
_CANONICAL_QUANTUM = Decimal("0.000001")


class UnitNotConvertible(ValueError):
    """The unit is not one of the indicator's known spellings (or is missing)."""


@lru_cache(maxsize=4096)  # an import converts every result; the spellings are few
def normalise_unit(unit: str) -> str:
    """A unit spelling with the meaning-preserving differences removed (see module docstring)."""
    if not unit:
        return ""
    text = _SUPERSCRIPT_RUN.sub(lambda m: "^" + m.group(0).translate(_SUPERSCRIPTS), unit)
    text = unicodedata.normalize("NFKC", text)
    text = text.replace("μ", "u").replace("µ", "u")  # both micro signs → ASCII u
    # Compose again: a compatibility form can decompose to a space plus a combining mark.
    text = unicodedata.normalize("NFKC", _WHITESPACE.sub("", text))
    text = _POWER.sub(lambda m: "10*" + m.group(1), text)
    text = _FLATTENED_POWER.sub(lambda m: "10*" + m.group(1), text)
    text = _EXPONENT.sub("", text)
    if text == "G/L":
        text = "10*9/L"
    elif text == "T/L":
        text = "10*12/L"
    parts = text.split("/")
    parts = [_LITRE_TOKENS.get(p, p) if p.lower() == p else p for p in parts]
    return "/".join(parts)


def conversion_for(ind: Indicator, unit: str) -> Conversion:
    """The conversion from `unit` into `ind`'s canonical unit; UnitNotConvertible if none."""
    normalised = normalise_unit(unit)
    if not normalised:
        if ind.unit in ("", "1"):
            return Conversion(unit="", numerator=Decimal(1))
        raise UnitNotConvertible(
            f"no unit given for {ind.code} ({ind.abbreviation}); expected {ind.unit_display}"
        )
    for conv in ind.conversions:
        if conv.unit == normalised:
            return conv
    folded = normalised.casefold()
    matches = {
        (c.numerator, c.denominator, c.offset): c
        for c in ind.conversions
        if c.unit.casefold() == folded
    }
    if len(matches) == 1:
        return next(iter(matches.values()))
    known = ", ".join(sorted({c.unit for c in ind.conversions}))
    if matches:
        raise UnitNotConvertible(
            f"unit {unit!r} is ambiguous for {ind.code} ({ind.abbreviation}) by case; "
            f"known: {known}"
        )
    raise UnitNotConvertible(
        f"unit {unit!r} does not convert to {ind.unit_display} for {ind.code} "
        f"({ind.abbreviation}); known: {known}"
    )


def _tidy(value: Decimal) -> Decimal:
    try:
        return value.quantize(_CANONICAL_QUANTUM)
    except InvalidOperation:  # beyond 28 significant digits: leave as computed
        return value


def to_canonical(ind: Indicator, value: Decimal, unit: str) -> Decimal:
    """`value` in `unit` expressed in `ind.unit`. An empty unit means the canonical unit only for
    unitless indicators (ind.unit "" or "1"); otherwise it raises, as a missing unit on a
    glucose of "100" must not be read as 100 mmol/L."""
    conv = conversion_for(ind, unit)
    if conv.is_identity:
        return value
    return _tidy(conv.apply(value))


def from_canonical(ind: Indicator, value: Decimal, unit: str) -> Decimal:
    """The inverse of to_canonical (for display in a source's unit and for tests)."""
    conv = conversion_for(ind, unit)
    if conv.is_identity:
        return value
    return _tidy(conv.invert(value))
