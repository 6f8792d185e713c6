"""Masking of identifiers for roles that must not see them in full (pure, no database)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from careledger.access import masking

MASKERS = [
    masking.mask_name,
    masking.mask_phone,
    masking.mask_document,
    masking.mask_address,
    masking.mask_card_number,
]


def test_the_module_is_pure():
    tree = ast.parse(Path(masking.__file__).read_text(encoding="utf-8"))
    modules = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert modules <= {"__future__", "unicodedata"}


@pytest.mark.parametrize("mask", MASKERS)
def test_nothing_masks_to_nothing(mask):
    assert mask(None) == ""
    assert mask("") == ""


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三明", "张*明"),
        ("张三", "张*"),
        ("张", "*"),
        ("欧阳明月", "欧**月"),
        ("诸葛孔明先生", "诸****生"),
        ("张 三", "张 *"),  # a stray space does not make two one-character names
        ("John Smith", "J*** S****"),
        ("J Smith", "J S****"),  # an initial is already only a first letter
        ("José García", "J*** G*****"),  # accented Latin follows the Latin rule
        ("Mary-Jane O'Neil", "M******** O*****"),
        ("Иван Петров", "И*** П*****"),
        ("A", "*"),
        ("김민준", "김*준"),
        ("阿依古丽·买买提", "阿**丽·买*提"),
        ("买买提·吐尔逊·艾力", "买*提·吐*逊·艾*"),
        ("Jean·Pierre", "J***·P*****"),
    ],
)
def test_names(name, masked):
    assert masking.mask_name(name) == masked


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("13812345678", "138****5678"),
        ("1381234", "138**34"),  # 7: first 3, last 2
        ("02112345678", "021****5678"),
        ("008613812345678", "008**********78"),
        ("123456", "******"),
        ("123", "***"),
    ],
)
def test_phones(phone, masked):
    assert masking.mask_phone(phone) == masked


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("330102199001011234", "330102********1234"),
        ("11010519491231002X", "110105********002X"),
        ("E12345678", "E1*****78"),
        ("USA123456789012", "US***********12"),
        ("12345", "12*45"),
        ("1234", "****"),
        ("1", "*"),
    ],
)
def test_documents(number, masked):
    assert masking.mask_document(number) == masked


@pytest.mark.parametrize(
    ("address", "masked"),
    [
        ("浙江省杭州市西湖区文三路100号", "浙江省杭州市****"),
        ("北京市朝阳区建国路1号", "北京市朝阳区****"),
        ("上海市黄浦区1", "上海市黄浦区****"),  # 7 characters: the tail is still hidden
        ("上海市黄浦区", "******"),
        ("北京", "**"),
    ],
)
def test_addresses(address, masked):
    assert masking.mask_address(address) == masked


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("1001000000015", "*********0015"),
        ("12345", "*2345"),
        ("1234", "****"),
        ("12", "**"),
    ],
)
def test_card_numbers(number, masked):
    assert masking.mask_card_number(number) == masked


# ------------------------------------------------------------------------- general properties

_visible = st.characters(
    blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp"), blacklist_characters="·*"
)


@given(st.text(_visible, min_size=1, max_size=40))
@pytest.mark.parametrize("mask", MASKERS)
def test_no_mask_ever_shows_the_whole_value(mask, value):
    masked = mask(value)
    assert masked != value
    assert "*" in masked


@given(st.text(_visible, min_size=1, max_size=40))
@pytest.mark.parametrize(
    "mask",
    [masking.mask_name, masking.mask_phone, masking.mask_document, masking.mask_card_number],
)
def test_masks_keep_the_length_and_only_ever_replace_characters_by_stars(mask, value):
    masked = mask(value)
    assert len(masked) == len(value)
    assert all(m in (v, "*") for v, m in zip(value, masked, strict=True))


@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
def test_a_mobile_number_shows_seven_of_its_eleven_digits(phone):
    masked = masking.mask_phone(phone)
    assert masked.count("*") == 4 and masked[3:7] == "****"


@given(st.from_regex(r"[0-9]{17}[0-9X]", fullmatch=True))
def test_an_id_number_hides_the_birth_date_and_sequence(number):
    masked = masking.mask_document(number)
    assert masked[6:14] == "********"  # the birth date is the part that identifies
    assert masked[:6] == number[:6] and masked[-4:] == number[-4:]


@given(st.from_regex(r"[0-9]{8,20}", fullmatch=True))
def test_a_card_number_shows_exactly_its_last_four(number):
    masked = masking.mask_card_number(number)
    assert masked.endswith(number[-4:]) and set(masked[:-4]) == {"*"}


@given(st.text(_visible, min_size=7, max_size=200))
def test_an_address_never_reveals_its_length(address):
    assert masking.mask_address(address) == address[:6] + "****"


@given(st.lists(st.text(_visible, min_size=1, max_size=8), min_size=1, max_size=4))
def test_names_with_middle_dots_keep_their_parts(parts):
    masked = masking.mask_name("·".join(parts))
    assert masked.count("·") == len(parts) - 1
