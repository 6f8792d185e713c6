"""Money is integer fen: parsing, formatting and the refund rule, with no database and no
float anywhere (hypothesis drives the rule with arbitrary sequences of refunds)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from careledger.store import money


@pytest.mark.parametrize(
    ("text", "fen"),
    [("0", 0), ("0.1", 10), ("0.10", 10), ("128.5", 12850), ("599", 59900), (" 1.01 ", 101)],
)
def test_yuan_text_is_parsed_exactly_into_fen(text, fen):
    assert money.parse_yuan(text) == fen
    assert isinstance(money.parse_yuan(text), int)


@pytest.mark.parametrize(
    "text", ["-1", "+1", "1e3", "1,000", "0.001", "1.", ".5", "01.00", "abc", "", "1 000", "NaN"]
)
def test_anything_but_a_plain_two_place_amount_is_refused(text):
    with pytest.raises(money.BadAmount):
        money.parse_yuan(text)


@pytest.mark.parametrize("value", [1.0, 0.1, True, "100", None, -1])
def test_fen_must_be_a_non_negative_int_never_a_float(value):
    with pytest.raises(money.BadAmount):
        money.check_fen(value)


@given(st.integers(min_value=0, max_value=money.MAX_FEN))
def test_format_and_parse_round_trip(fen):
    assert money.parse_yuan(money.format_yuan(fen)) == fen


def test_a_line_is_unit_times_quantity_and_quantity_is_positive():
    assert money.line_amount(20000, 3) == 60000
    with pytest.raises(money.BadAmount):
        money.line_amount(20000, 0)


@given(
    paid=st.integers(min_value=0, max_value=10**8),
    attempts=st.lists(st.integers(min_value=-(10**6), max_value=10**8), max_size=30),
)
def test_refunds_never_exceed_what_was_paid(paid, attempts):
    refunded = 0
    for amount in attempts:
        try:
            refunded += money.check_refund(paid_fen=paid, refunded_fen=refunded, amount_fen=amount)
        except money.BadAmount as exc:
            assert exc.code in {"negative", "zero", "exceeds_refundable"}
        assert 0 <= refunded <= paid
    assert money.refundable(paid_fen=paid, refunded_fen=refunded) == paid - refunded


def test_three_refunds_of_a_third_add_up_to_the_fen():
    paid = money.parse_yuan("99.99")
    refunded = 0
    for _ in range(3):
        refunded += money.check_refund(paid_fen=paid, refunded_fen=refunded, amount_fen=3333)
    assert refunded == paid
    with pytest.raises(money.BadAmount, match="exceeds_refundable"):
        money.check_refund(paid_fen=paid, refunded_fen=refunded, amount_fen=1)
