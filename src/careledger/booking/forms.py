"""Parsing what the booking pages post: ids, days and money, each with a specific error.

Money is typed in yuan (599 or 599.50) and kept in integer fen; parsed with `Decimal` from the
text, never through a float, and refused when it has more than two decimals.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal, InvalidOperation

from careledger.booking.errors import BookingRefused


def parse_day(text: str | None) -> dt.date:
    try:
        return dt.date.fromisoformat((text or "").strip())
    except ValueError:
        raise BookingRefused("past_date") from None


def parse_uuid(text: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID((text or "").strip())
    except ValueError:
        return None


def parse_uuids(values: list[str]) -> list[uuid.UUID]:
    found = [parse_uuid(v) for v in values]
    if None in found:
        raise BookingRefused("addon_not_in_package")
    return [f for f in found if f is not None]


def yuan_to_fen(text: str | None) -> int:
    raw = (text or "").strip().replace(",", "").lstrip("¥")
    try:
        amount = Decimal(raw)
    except InvalidOperation:
        raise BookingRefused("bad_price") from None
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01")):
        raise BookingRefused("bad_price")
    return int(amount * 100)


def parse_int(text: str | None, *, default: int | None = None) -> int | None:
    raw = (text or "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BookingRefused("bad_range") from None
    if value < 0:
        raise BookingRefused("bad_range")
    return value
