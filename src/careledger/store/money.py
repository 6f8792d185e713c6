"""Money in integer fen (分), never floats.

Why: a price of ¥0.10 is not representable in binary floating point, and three refunds of
¥33.33 against ¥99.99 must add up to the fen. Every amount in the store is an `int` number of
fen; strings typed by people or sent by providers ("128.50" yuan) are parsed exactly, digit by
digit, and anything that is not a plain non-negative decimal with at most two places is refused
with a reason. No Django here: tested without a database.
"""

from __future__ import annotations

import re

MAX_FEN = 10**11  # ¥1,000,000,000.00: far above any check-up order, well inside a 64-bit column

_YUAN = re.compile(r"^(0|[1-9][0-9]{0,9})(?:\.([0-9]{1,2}))?$")


class BadAmount(ValueError):
    """An amount that is not a whole, non-negative number of fen; `code` says why."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def check_fen(value: object, *, allow_zero: bool = True) -> int:
    """An amount already in fen: an `int` (not a bool, not a float), in range."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadAmount("not_integer_fen")
    if value < 0:
        raise BadAmount("negative")
    if value == 0 and not allow_zero:
        raise BadAmount("zero")
    if value > MAX_FEN:
        raise BadAmount("too_large")
    return value


def parse_yuan(text: object) -> int:
    """ "128.5" → 12850. Exact: no float is ever made. Refuses signs, exponents, spaces inside,
    thousands separators and a third decimal place (a provider sending ¥0.001 is wrong)."""
    if not isinstance(text, str):
        raise BadAmount("not_text")
    match = _YUAN.match(text.strip())
    if not match:
        raise BadAmount("not_a_yuan_amount")
    whole, frac = match.group(1), (match.group(2) or "")
    return check_fen(int(whole) * 100 + int(frac.ljust(2, "0") or "0"))


def format_yuan(fen: int) -> str:
    """12850 → "128.50" (what Alipay expects and people read)."""
    check_fen(fen)
    return f"{fen // 100}.{fen % 100:02d}"


def line_amount(unit_fen: int, quantity: int) -> int:
    check_fen(unit_fen)
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
        raise BadAmount("bad_quantity")
    return check_fen(unit_fen * quantity)


def refundable(*, paid_fen: int, refunded_fen: int) -> int:
    """What may still be refunded: what was received less what was already given back."""
    check_fen(paid_fen)
    check_fen(refunded_fen)
    if refunded_fen > paid_fen:
        raise BadAmount("refunded_more_than_paid")
    return paid_fen - refunded_fen


def check_refund(*, paid_fen: int, refunded_fen: int, amount_fen: object) -> int:
    """A refund of `amount_fen` is allowed only if it is positive whole fen and does not take the
    total refunded past what was paid. Returns the amount."""
    amount = check_fen(amount_fen, allow_zero=False)
    if amount > refundable(paid_fen=paid_fen, refunded_fen=refunded_fen):
        raise BadAmount("exceeds_refundable")
    return amount
