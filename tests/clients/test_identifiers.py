"""Identifier validation (pure): GB 11643 ID numbers, other documents, mainland mobiles, names,
card numbers. No database, no Django settings."""

from __future__ import annotations

import ast
import datetime as dt
import pickle
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum import luhn
from stdnum.cn import ric

from careledger.clients import identifiers as ids

TODAY = dt.date(2026, 11, 22)


def valid_id(birth: dt.date, seq: int, region: str = "330102") -> str:
    """A valid number, its check digit computed by stdnum (which ignores the last character)."""
    body = f"{region}{birth:%Y%m%d}{seq:03d}"
    return body + ric.calc_check_digit(body + "0")


def refused(func, *args, **kwargs) -> ids.IdentifierError:  # type: ignore[no-untyped-def]
    with pytest.raises(ids.IdentifierError) as caught:
        func(*args, **kwargs)
    return caught.value


def test_the_module_is_pure():
    source = Path(ids.__file__).read_text(encoding="utf-8")
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert "django" not in imported
    assert not {"careledger"} & imported


# ---------------------------------------------------------------------------------- ID numbers


def test_the_standard_example_parses_with_lowercase_x_and_spaces():
    cid = ids.parse_citizen_id(" 110105 19491231 002x ")
    assert cid == ids.CitizenId(
        number="11010519491231002X",
        birth_date=dt.date(1949, 12, 31),
        sex="F",  # 17th digit 2: even
        region_code="110105",
    )


def test_full_width_digits_from_an_input_method_are_accepted():
    assert (
        ids.parse_citizen_id("１１０１０５１９４９１２３１００２Ｘ").number == "11010519491231002X"
    )


def test_citizen_id_is_immutable():
    cid = ids.parse_citizen_id("11010519491231002X")
    with pytest.raises(AttributeError):
        cid.sex = "M"  # type: ignore[misc]


@given(
    st.dates(min_value=dt.date(1900, 1, 1), max_value=TODAY),
    st.integers(0, 999),
    st.sampled_from(["110105", "330102", "440305", "650102", "810000"]),
    st.booleans(),
)
def test_any_valid_number_round_trips(birth, seq, region, lower):
    number = valid_id(birth, seq, region)
    cid = ids.parse_citizen_id(number.lower() if lower else number, today=TODAY)
    assert cid.number == number
    assert cid.birth_date == birth
    assert cid.region_code == region
    assert cid.sex == ("M" if seq % 2 else "F")  # 17th digit = last digit of the sequence
    assert ids.normalise_document("resident_id", number) == number


@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=TODAY), st.integers(0, 999), st.data())
def test_any_wrong_check_digit_is_named(birth, seq, data):
    number = valid_id(birth, seq)
    wrong = data.draw(st.sampled_from([c for c in "0123456789X" if c != number[-1]]))
    error = refused(ids.parse_citizen_id, number[:-1] + wrong, today=TODAY)
    assert (error.field, error.code) == ("document_number", "checksum")
    assert str(error) == f"check digit is wrong: expected {number[-1]}, got {wrong}"
    assert error.params == {"expected": number[-1], "got": wrong}


def test_bad_checksum_of_the_standard_example():
    error = refused(ids.parse_citizen_id, "110105194912310021")
    assert error.code == "checksum" and error.params == {"expected": "X", "got": "1"}


def test_an_impossible_date_is_named_even_with_a_correct_check_digit():
    body = "11010520310230002"  # 2031-02-30
    error = refused(ids.parse_citizen_id, body + ric.calc_check_digit(body + "0"), today=TODAY)
    assert error.code == "birth_date_invalid"
    assert str(error) == "birth date 2031-02-30 encoded in the ID number is not a valid date"


def test_a_future_birth_date_is_refused_relative_to_today():
    number = valid_id(dt.date(2026, 11, 23), 12)
    error = refused(ids.parse_citizen_id, number, today=TODAY)
    assert error.code == "birth_date_future" and "in the future" in str(error)
    # Born today is fine; and the check follows `today`, not the machine's clock.
    assert ids.parse_citizen_id(valid_id(TODAY, 12), today=TODAY).birth_date == TODAY
    assert ids.parse_citizen_id(number, today=dt.date(2030, 1, 1)).birth_date.day == 23


def test_a_birth_date_far_beyond_the_machine_clock_is_refused_by_default():
    error = refused(ids.parse_citizen_id, valid_id(dt.date(2999, 1, 1), 12))
    assert error.code == "birth_date_future"


@pytest.mark.parametrize(
    ("number", "code", "message_part"),
    [
        ("110105491231002", "old_format", "15-digit"),
        ("11010519491231002", "format", "this one has 17"),
        ("1101051949123100212", "format", "this one has 19"),
        ("1101051949123100AX", "format", "character 17 ('A')"),
        ("11010519491231002Y", "format", "last character ('Y')"),
        ("1101-0519491231002X", "format", "character 5 ('-')"),
        ("", "required", "required"),
        ("   ", "required", "required"),
        (valid_id(dt.date(1899, 12, 31), 2), "birth_date_too_early", "before 1900"),
        ("x" * 100_000, "format", "far more"),
    ],
)
def test_bad_id_numbers_are_refused_with_a_specific_code(number, code, message_part):
    error = refused(ids.parse_citizen_id, number, today=TODAY)
    assert (error.field, error.code) == ("document_number", code)
    assert message_part in str(error)


def test_cross_check_agrees_or_names_each_disagreement():
    cid = ids.parse_citizen_id(valid_id(dt.date(1990, 5, 6), 11))  # male
    assert ids.cross_check_citizen_id(cid, birth_date=dt.date(1990, 5, 6), sex="M") == []
    assert ids.cross_check_citizen_id(cid, birth_date=None, sex=None) == []
    assert ids.cross_check_citizen_id(cid, birth_date=None, sex="m") == []

    (sex_problem,) = ids.cross_check_citizen_id(cid, birth_date=None, sex="F")
    assert (sex_problem.field, sex_problem.code) == ("sex", "sex_mismatch")
    assert "odd: male" in str(sex_problem) and sex_problem.params == {"expected": "M"}

    (date_problem,) = ids.cross_check_citizen_id(cid, birth_date=dt.date(1990, 6, 5), sex="M")
    assert (date_problem.field, date_problem.code) == ("birth_date", "birth_date_mismatch")
    assert "1990-05-06" in str(date_problem) and date_problem.params == {"expected": "1990-05-06"}

    both = ids.cross_check_citizen_id(cid, birth_date=dt.date(1990, 5, 7), sex="F")
    assert {(p.field, p.code) for p in both} == {
        ("birth_date", "birth_date_mismatch"),
        ("sex", "sex_mismatch"),
    }


def test_cross_check_for_a_woman():
    cid = ids.parse_citizen_id("11010519491231002X")
    (problem,) = ids.cross_check_citizen_id(cid, birth_date=cid.birth_date, sex="M")
    assert "even: female" in str(problem)


# ----------------------------------------------------------------------------- other documents


@pytest.mark.parametrize(
    ("document_type", "raw", "expected"),
    [
        ("resident_id", "11010519491231002x", "11010519491231002X"),
        ("passport", "e1234-5678", "E12345678"),
        ("passport", "ＥＡ １２３４５６７", "EA1234567"),
        ("passport", "12345", "12345"),
        ("passport", "A" * 20, "A" * 20),
        ("hk_macao_permit", "h1234 5678", "H12345678"),
        ("hk_macao_permit", "M1234567801", "M1234567801"),
        ("taiwan_permit", "1234-5678", "12345678"),
        ("taiwan_permit", "1234567890", "1234567890"),
        ("taiwan_permit", "a123456789", "A123456789"),
        ("foreign_permanent", "USA123456789012", "USA123456789012"),
        ("foreign_permanent", "93115619900101001x", "93115619900101001X"),
        ("other", "  军官证-第1234号 ", "军官证-第1234号"),
        ("other", "ABCD", "ABCD"),
    ],
)
def test_documents_normalise(document_type, raw, expected):
    assert document_type in ids.DOCUMENT_TYPES
    assert ids.normalise_document(document_type, raw) == expected


@pytest.mark.parametrize(
    ("document_type", "raw", "code"),
    [
        ("resident_id", "110105194912310021", "checksum"),
        ("passport", "12", "format"),
        ("passport", "A" * 21, "format"),
        ("passport", "E1234567#", "format"),
        ("passport", "  ", "required"),
        ("hk_macao_permit", "X12345678", "format"),
        ("hk_macao_permit", "H1234567", "format"),
        ("taiwan_permit", "1234567", "format"),
        ("foreign_permanent", "US1234567890123", "format"),
        ("foreign_permanent", "83115619900101001X", "format"),
        ("other", "abc", "format"),
        ("other", "x" * 31, "format"),
        ("other", "AB CD", "format"),
        ("other", "AB\u202eCD", "format"),  # right-to-left override: a spoofing vector
        ("other", "AB\u200bCD", "format"),  # zero-width space
        ("other", "AB\x00CD", "format"),
    ],
)
def test_bad_documents_are_refused(document_type, raw, code):
    error = refused(ids.normalise_document, document_type, raw)
    assert (error.field, error.code) == ("document_number", code)


def test_an_unknown_document_type_is_refused():
    error = refused(ids.normalise_document, "library_card", "12345678")
    assert (error.field, error.code) == ("document_type", "unknown")


def test_document_types_are_the_six_expected():
    assert ids.DOCUMENT_TYPES == (
        "resident_id",
        "passport",
        "hk_macao_permit",
        "taiwan_permit",
        "foreign_permanent",
        "other",
    )


# ------------------------------------------------------------------------------ mobile numbers


@pytest.mark.parametrize(
    "raw",
    [
        "13812345678",
        "138 1234 5678",
        "138-1234-5678",
        "+86 138 1234 5678",
        "+8613812345678",
        "008613812345678",
        "0086 138-1234-5678",
        "(138) 1234.5678",
        "+86 (0)138 1234 5678",
        "１３８ １２３４ ５６７８",
        " 13812345678\n",
    ],
)
def test_mainland_mobile_variants_normalise_to_eleven_digits(raw):
    assert ids.normalise_mobile(raw) == "13812345678"


@given(
    st.sampled_from(["13812345678", "15912345678", "18612345678", "19912345678", "17712345678"]),
    st.sampled_from(["", "+86", "0086", "+86 ", "0086-"]),
    st.lists(st.sampled_from([" ", "-"]), min_size=10, max_size=10),
)
def test_any_separator_pattern_normalises(number, country, separators):
    raw = country + "".join(d + s for d, s in zip(number, [*separators, ""], strict=True))
    assert ids.normalise_mobile(raw) == number


@pytest.mark.parametrize(
    ("raw", "code", "message_part"),
    [
        ("01012345678", "not_mobile", "landline"),
        ("010-1234 5678", "not_mobile", "landline"),
        ("+86 21 1234 5678", "not_mobile", "landline"),
        ("138123456789", "length", "this one has 12"),
        ("1381234567", "length", "this one has 10"),
        ("12012345678", "not_mobile", "120 is not a mainland mobile prefix"),
        ("11112345678", "not_mobile", "111"),
        ("+1 650 253 0000", "not_mainland", "+86"),
        ("+852 9123 4567", "not_mainland", "+86"),
        ("001 650 253 0000", "not_mainland", "+86"),
        ("1381234567a", "format", "'a'"),
        ("138<script>", "format", "'<'"),
        ("+", "format", "'+'"),
        ("++8613812345678", "format", "'+'"),
        ("", "required", "required"),
        ("  ", "required", "required"),
    ],
)
def test_non_mobile_numbers_are_refused(raw, code, message_part):
    error = refused(ids.normalise_mobile, raw)
    assert (error.field, error.code) == ("phone", code)
    assert message_part in str(error)


# ------------------------------------------------------------------------------------- names


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("张三", "张三"),
        ("  张  三 ", "张 三"),
        ("John\t \nSmith", "John Smith"),
        ("阿依古丽·买买提", "阿依古丽·买买提"),
        ("阿依古丽.买买提", "阿依古丽·买买提"),
        ("阿依古丽•买买提", "阿依古丽·买买提"),
        ("阿依古丽・买买提", "阿依古丽·买买提"),
        ("阿依古丽 · 买买提", "阿依古丽·买买提"),
        ("Ｊｏｈｎ", "John"),  # full-width folded by NFKC
        ("O'Brien-Smith", "O'Brien-Smith"),
        ("Jose\u0301", "José"),  # combining accent composed by NFKC
        ("김민준", "김민준"),
        ("张" * ids.MAX_NAME, "张" * ids.MAX_NAME),
    ],
)
def test_names_are_normalised(raw, expected):
    assert ids.normalise_name(raw) == expected


@pytest.mark.parametrize(
    ("raw", "code", "position", "char"),
    [
        ("<script>", "characters", 1, "<"),
        ("张<b>三", "characters", 2, "<"),
        ("张三3", "characters", 3, "3"),
        ("张\u200b三", "characters", 2, "\u200b"),  # invisible
        ("张\x07三", "characters", 2, "\x07"),  # control
        ('张"三', "characters", 2, '"'),
        ("张;三", "characters", 2, ";"),
        ("·张三", "characters", 1, "·"),
        ("张三·", "characters", 3, "·"),
        ("阿依古丽··买买提", "characters", 5, "·"),
        ("-", "characters", 1, "-"),
        ("' -", "characters", 1, "'"),
    ],
)
def test_hostile_or_malformed_names_name_the_first_offender(raw, code, position, char):
    error = refused(ids.normalise_name, raw)
    assert (error.field, error.code) == ("name", code)
    assert error.params == {"position": position, "char": char}
    assert f"character {position} " in str(error)


@pytest.mark.parametrize(
    ("raw", "count"), [("x" * 10_000, 10_000), ("张" * (ids.MAX_NAME + 1), ids.MAX_NAME + 1)]
)
def test_long_names_are_refused(raw, count):
    error = refused(ids.normalise_name, raw)
    assert error.code == "too_long"
    assert error.params == {"limit": ids.MAX_NAME, "count": count}


def test_empty_names_are_required_and_the_field_is_the_callers():
    assert refused(ids.normalise_name, " \u3000 ").code == "required"
    assert refused(ids.normalise_name, "<", "emergency_contact_name").field == (
        "emergency_contact_name"
    )


@given(st.text(max_size=80))
def test_name_normalisation_is_idempotent(raw):
    try:
        once = ids.normalise_name(raw)
    except ids.IdentifierError:
        return
    assert ids.normalise_name(once) == once
    assert once == once.strip() and "  " not in once and len(once) <= ids.MAX_NAME


# ------------------------------------------------------------------------------ card numbers


def test_card_numbers_round_trip():
    number = ids.card_number_with_check_digit("1001", 15)
    assert number[:11] == "10010000015" and len(number) == 12
    assert number[-1] == luhn.calc_check_digit(number[:-1])
    assert ids.is_valid_card_number(number)
    assert ids.normalise_card_number(number) == number
    spaced = f"{number[:4]} {number[4:8]}-{number[8:]}"
    assert ids.normalise_card_number(spaced) == number
    assert not ids.is_valid_card_number(spaced)  # is_valid_* wants the normalised form


@given(st.integers(0, 9_999_999), st.integers(0, 11), st.integers(1, 9))
def test_card_numbers_detect_any_single_digit_change(sequence, position, delta):
    number = ids.card_number_with_check_digit("1001", sequence)
    assert ids.is_valid_card_number(number) and ids.normalise_card_number(number) == number
    digits = list(number)
    digits[position] = str((int(digits[position]) + delta) % 10)
    changed = "".join(digits)
    assert not ids.is_valid_card_number(changed)
    error = refused(ids.normalise_card_number, changed)
    assert (error.field, error.code) == ("card_number", "checksum")


@given(st.from_regex(r"[0-9]{1,6}", fullmatch=True), st.integers(0, 10**7 - 1))
def test_any_generated_card_number_is_valid(prefix, sequence):
    number = ids.card_number_with_check_digit(prefix, sequence)
    assert ids.is_valid_card_number(number) and len(number) == len(prefix) + 8


@pytest.mark.parametrize(
    ("prefix", "sequence", "width", "exception"),
    [
        ("", 1, 7, ValueError),
        ("1234567", 1, 7, ValueError),
        ("10a1", 1, 7, ValueError),
        ("1001", -1, 7, ValueError),
        ("1001", 10**7, 7, ValueError),
        ("1", 1, 2, ValueError),  # 4 digits: shorter than any accepted card number
        ("123456", 1, 14, ValueError),  # 21 digits
        ("1001", True, 7, TypeError),
        ("1001", "15", 7, TypeError),
    ],
)
def test_card_number_generation_refuses_bad_arguments(prefix, sequence, width, exception):
    with pytest.raises(exception):
        ids.card_number_with_check_digit(prefix, sequence, width=width)


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("", "required"),
        ("1234567", "format"),  # 7 digits
        ("1" * 21, "format"),
        ("1001000001a", "format"),
        ("１００１００００００１５x", "format"),
        ("100100000156", "checksum"),
    ],
)
def test_bad_card_numbers_are_refused(raw, code):
    error = refused(ids.normalise_card_number, raw)
    assert (error.field, error.code) == ("card_number", code)


def test_is_valid_card_number_is_none_safe():
    assert not ids.is_valid_card_number(None)
    assert not ids.is_valid_card_number("")
    assert not ids.is_valid_card_number("00000000a")


# ---------------------------------------------------------------------------------- the error


def test_identifier_error_is_a_value_error_that_survives_pickling():
    error = refused(ids.normalise_mobile, "138123456789")
    assert isinstance(error, ValueError)
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own object
    assert (copy.field, copy.code, str(copy), copy.params) == (
        error.field,
        error.code,
        str(error),
        error.params,
    )
    assert "length" in repr(copy)
