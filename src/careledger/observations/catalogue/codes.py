"""LOINC code shape and its mod-10 check digit (LOINC Users' Guide, "Calculating Mod 10 check
digits": the Luhn algorithm over the digits before the hyphen)."""

from __future__ import annotations

import re

_LOINC = re.compile(r"^(\d{1,7})-(\d)$")


def looks_like_loinc(code: str) -> bool:
    return bool(_LOINC.match(code))


def loinc_check_digit(body: str) -> int:
    """The check digit for the digits `body` (the part before the hyphen)."""
    total = 0
    for position, char in enumerate(reversed(body), start=1):
        digit = int(char)
        if position % 2 == 1:  # rightmost digit and every second one from it are doubled
            digit *= 2
            digit = digit // 10 + digit % 10
        total += digit
    return (10 - total % 10) % 10


def is_valid_loinc(code: str) -> bool:
    match = _LOINC.match(code)
    return bool(match) and loinc_check_digit(match.group(1)) == int(match.group(2))
