"""Parsing result values as exam centres write them (pure, no database)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from careledger.observations import catalogue
from careledger.observations.catalogue.values import BadValue, ParsedValue, parse_value

GLUCOSE = catalogue.get("2345-7")
URINE_PROTEIN = catalogue.get("2888-6")
NITRITE = catalogue.get("5802-4")
HBSAG = catalogue.get("5196-1")
UROBILINOGEN = catalogue.get("20405-7")


@pytest.mark.parametrize(
    ("raw", "number", "comparator"),
    [
        ("5.6", "5.6", ""),
        (" 5.6 ", "5.6", ""),
        (" 5,6 ", "5.6", ""),  # a single decimal comma
        ("0,125", "0.125", ""),
        ("1,000", "1000", ""),  # thousands grouping
        ("12,500.5", "12500.5", ""),
        ("<0.1", "0.1", "<"),
        ("≤0.1", "0.1", "<="),
        ("<=0.1", "0.1", "<="),
        ("≦0.1", "0.1", "<="),
        ("> 1000", "1000", ">"),
        ("≥7.0", "7.0", ">="),
        ("小于0.5", "0.5", "<"),
        ("0.1↓", "0.1", ""),
        ("7.8↑", "7.8", ""),
        ("7.8 ↑", "7.8", ""),
        ("5.6H", "5.6", ""),
        ("5.6 L", "5.6", ""),
        ("25.0HH", "25.0", ""),
        ("3.2e-1", "0.32", ""),
        ("1E3", "1000", ""),
        ("５.６", "5.6", ""),  # full-width digits
        ("＜０.１", "0.1", "<"),  # full-width sign
        ("＞１０００", "1000", ">"),
        ("-1.5", "-1.5", ""),
        (".5", "0.5", ""),
    ],
)
def test_numbers(raw, number, comparator):
    parsed = parse_value(raw)
    assert parsed.number == Decimal(number)
    assert parsed.comparator == comparator
    assert parsed.text == ""
    assert parse_value(raw, GLUCOSE) == parsed


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        ("阴性", "阴性"),
        ("阴性(-)", "阴性"),
        ("阴性（-）", "阴性"),
        ("(-)", "阴性"),
        ("-", "阴性"),
        ("－", "阴性"),  # full-width minus
        ("neg", "阴性"),
        ("NEG", "阴性"),
        ("Negative", "阴性"),
        ("±", "±"),
        ("+-", "±"),
        ("+/-", "±"),
        ("微量", "±"),
        ("trace", "±"),
        ("弱阳性", "±"),
        ("弱阳性(±)", "±"),
        ("+", "1+"),
        ("＋", "1+"),
        ("1+", "1+"),
        ("(+)", "1+"),
        ("阳性(+)", "1+"),
        ("++", "2+"),
        ("2+", "2+"),
        ("+++", "3+"),
        ("阳性(+++)", "3+"),
        ("++++", "4+"),
        ("阳性", "阳性"),
        ("pos", "阳性"),
        ("POS", "阳性"),
        ("Positive", "阳性"),
        ("正常", "正常"),
        ("Normal", "正常"),
    ],
)
def test_qualitative_without_indicator(raw, text):
    assert parse_value(raw) == ParsedValue(None, "", text)


@pytest.mark.parametrize(
    ("raw", "rank", "text"),
    [
        ("阴性", 0, "阴性"),
        ("-", 0, "阴性"),
        ("正常", 0, "阴性"),
        ("±", 1, "±"),
        ("弱阳性", 1, "±"),
        ("+", 2, "1+"),
        ("++", 3, "2+"),
        ("3+", 4, "3+"),
        ("++++", 5, "4+"),
    ],
)
def test_ordinal_rank_on_graded_scale(raw, rank, text):
    assert parse_value(raw, URINE_PROTEIN) == ParsedValue(Decimal(rank), "", text)


def test_positive_without_grade_on_graded_scale_keeps_text_without_rank():
    assert parse_value("阳性", URINE_PROTEIN) == ParsedValue(None, "", "阳性")
    assert catalogue.ordinal_flag(URINE_PROTEIN, "阳性") == "A"


@pytest.mark.parametrize(
    ("raw", "rank"), [("阴性", 0), ("阳性", 1), ("+", 1), ("±", 1), ("弱阳性", 1)]
)
def test_binary_scale_reads_any_reaction_as_positive(raw, rank):
    assert parse_value(raw, HBSAG).number == Decimal(rank)
    assert parse_value(raw, NITRITE).text == ("阴性" if rank == 0 else "阳性")


def test_scale_equivalents_urobilinogen_trace_is_normal():
    assert parse_value("阴性", UROBILINOGEN).text == "正常"
    assert parse_value("±", UROBILINOGEN) == ParsedValue(Decimal(0), "", "正常")
    assert parse_value("2+", UROBILINOGEN).number == Decimal(2)


@pytest.mark.parametrize(
    ("raw", "found"),
    [
        ("abc", "'abc'"),
        ("", "empty"),
        ("   ", "empty"),
        ("5..6", "'5..6'"),
        ("NaN", "'NaN'"),
        ("nan", "'nan'"),
        ("inf", "'inf'"),
        ("Infinity", "'Infinity'"),
        ("-inf", "'-inf'"),
        ("1,2,3", "'1,2,3'"),
        ("5.6 mmol/L", "'5.6 mmol/L'"),
        ("<", "'<'"),
        ("H", "'H'"),
        ("阴性(+)", "'阴性(+)'"),  # contradicts itself
        ("+++++", "'+++++'"),
    ],
)
def test_rejected_values_name_what_was_found(raw, found):
    with pytest.raises(BadValue) as err:
        parse_value(raw)
    assert found in str(err.value)


def test_qualitative_text_for_a_quantity_indicator_is_bad():
    with pytest.raises(BadValue, match="2345-7"):
        parse_value("阴性", GLUCOSE)


def test_number_for_an_ordinal_indicator_is_bad():
    with pytest.raises(BadValue, match="2888-6"):
        parse_value("30", URINE_PROTEIN)


def test_grade_off_the_scale_is_bad():
    with pytest.raises(BadValue, match="scale"):
        parse_value(
            "4+",
            catalogue.get("5802-4").__class__(
                **{**NITRITE.__dict__, "ordinal_scale": ("阴性", "±", "1+")}
            ),
        )


def test_not_text_is_bad():
    with pytest.raises(BadValue):
        parse_value(5.6)  # type: ignore[arg-type]


@given(st.text(max_size=40))
def test_parse_value_never_crashes_on_arbitrary_text(text):
    for ind in (None, GLUCOSE, URINE_PROTEIN, HBSAG, UROBILINOGEN):
        try:
            parsed = parse_value(text, ind)
        except BadValue:
            continue
        assert isinstance(parsed, ParsedValue)
        assert parsed.number is None or parsed.number.is_finite()


@given(st.text(alphabet="0123456789.,+-<>=≤≥eE ↑↓HL阴阳性()±弱", max_size=12))
def test_parse_value_never_crashes_on_value_like_text(text):
    try:
        parsed = parse_value(text)
    except BadValue:
        return
    assert (parsed.number is None) != (parsed.text == "")


@given(st.decimals(min_value=-(10**6), max_value=10**6, places=4, allow_nan=False))
def test_any_decimal_written_out_parses_back(number):
    assert parse_value(str(number)).number == number
    assert parse_value(f"{number:f}").number == number


def test_signed_digit_is_a_grade_on_a_scale_but_a_number_for_a_quantity():
    assert parse_value("+1", URINE_PROTEIN).text == "1+"
    assert parse_value("+1", GLUCOSE) == ParsedValue(Decimal(1), "", "")
