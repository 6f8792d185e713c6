"""Identifier validation (pure): GB 11643 ID numbers, mainland mobiles, names, card numbers."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import ric

from careledger.clients import identifiers as ids


def valid_id(birth: dt.date, seq: int, region: str = "330102") -> str:
    body = f"{region}{birth:%Y%m%d}{seq:03d}"
    return body + ric.calc_check_digit(body + "0")


def test_the_standard_example_parses_with_lowercase_x():
    cid = ids.parse_citizen_id(" 11010519491231002x ")
    assert cid.number == "11010519491231002X"
    assert cid.birth_date == dt.date(1949, 12, 31) and cid.sex == "F"
    assert cid.region_code == "110105"


@given(
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2020, 12, 31)),
    st.integers(0, 999),
)
def test_any_valid_number_round_trips_with_sex_from_the_17th_digit(birth, seq):
    cid = ids.parse_citizen_id(valid_id(birth, seq))
    assert cid.birth_date == birth
    assert cid.sex == ("M" if seq % 2 else "F")


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("110105194912310021", "checksum"),
        ("110105194902300021", "birth_date_invalid"),
        ("110105491231002", "old_format"),
        ("11010519491231002", "format"),
        ("1101051949123100AX", "format"),
        ("110105189912310021", "birth_date_too_early"),
    ],
)
def test_bad_id_numbers_are_refused_with_a_specific_code(number, code):
    with pytest.raises(ids.IdentifierError) as caught:
        ids.parse_citizen_id(number)
    assert caught.value.code == code and caught.value.field == "document_number"


def test_a_future_birth_date_is_refused():
    number = valid_id(dt.date(2030, 1, 1), 12)
    with pytest.raises(ids.IdentifierError) as caught:
        ids.parse_citizen_id(number, today=dt.date(2026, 11, 22))
    assert caught.value.code == "birth_date_future"


def test_cross_check_reports_both_birth_date_and_sex():
    cid = ids.parse_citizen_id(valid_id(dt.date(1990, 5, 6), 11))  # male
    problems = ids.cross_check_citizen_id(cid, birth_date=dt.date(1990, 5, 7), sex="F")
    assert {p.field for p in problems} == {"birth_date", "sex"}
    assert ids.cross_check_citizen_id(cid, birth_date=dt.date(1990, 5, 6), sex="M") == []


@pytest.mark.parametrize(
    "raw", ["13812345678", "138 1234 5678", "138-1234-5678", "+86 138 1234 5678", "008613812345678"]
)
def test_mainland_mobile_variants_normalise_to_eleven_digits(raw):
    assert ids.normalise_mobile(raw) == "13812345678"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("01012345678", "not_mobile"),
        ("138123456789", "length"),
        ("+1 650 253 0000", "not_mainland"),
        ("1381234567a", "format"),
        ("", "required"),
    ],
)
def test_non_mobile_numbers_are_refused(raw, code):
    with pytest.raises(ids.IdentifierError) as caught:
        ids.normalise_mobile(raw)
    assert caught.value.code == code


def test_names_are_normalised_and_hostile_input_refused():
    assert ids.normalise_name("  张  三 ") == "张 三"
    assert ids.normalise_name("阿依古丽.买买提") == "阿依古丽·买买提"
    assert ids.normalise_name("Ｊｏｈｎ") == "John"  # full-width folded by NFKC
    for bad, code in (("<script>", "characters"), ("x" * 10_000, "too_long"), (" ", "required")):
        with pytest.raises(ids.IdentifierError) as caught:
            ids.normalise_name(bad)
        assert caught.value.code == code


def test_documents_other_than_the_id_card():
    assert ids.normalise_document("passport", "e1234-5678") == "E12345678"
    assert ids.normalise_document("hk_macao_permit", "H12345678") == "H12345678"
    with pytest.raises(ids.IdentifierError):
        ids.normalise_document("passport", "12")
    with pytest.raises(ids.IdentifierError):
        ids.normalise_document("hk_macao_permit", "X12345678")


@given(st.integers(0, 9_999_999), st.integers(0, 11), st.integers(1, 9))
def test_card_numbers_detect_any_single_digit_change(sequence, position, delta):
    number = ids.card_number_with_check_digit("1001", sequence)
    assert ids.is_valid_card_number(number) and ids.normalise_card_number(number) == number
    digits = list(number)
    digits[position] = str((int(digits[position]) + delta) % 10)
    with pytest.raises(ids.IdentifierError):
        ids.normalise_card_number("".join(digits))
