"""The outbound detectors without a database: each kind found where it is, and the everyday
numbers and words that look like them left alone (true and false positives side by side)."""

from __future__ import annotations

import datetime as dt

import pytest

from careledger.notifications import sensitive
from careledger.notifications.sensitive import scan
from conftest import make_citizen_id

CITIZEN = make_citizen_id(dt.date(1968, 3, 2), "M", 7)
CARD = "6222020200112233446"  # Luhn-valid, UnionPay prefix


def kinds(text: str) -> list[str]:
    return [f.kind for f in scan(text)]


@pytest.mark.parametrize(
    "text",
    [
        f"身份证号{CITIZEN}请核对",
        f"证件 {CITIZEN[:6]} {CITIZEN[6:14]} {CITIZEN[14:]}",
        "号码11010519491231002X",
        "号码11010519491231002x。",
    ],
)
def test_citizen_ids_with_a_valid_check_digit_and_birth_date_are_found(text):
    assert kinds(text) == ["citizen_id"]


@pytest.mark.parametrize(
    "text",
    [
        CITIZEN[:-1] + ("0" if CITIZEN[-1] != "0" else "1"),  # wrong check digit
        "订单号110105194913310021",  # month 13
        f"A{CITIZEN}",  # part of a longer code
        "流水号 2026120412345678901",  # 19 digits
    ],
)
def test_numbers_that_only_look_like_citizen_ids_are_not(text):
    assert "citizen_id" not in kinds(text)


@pytest.mark.parametrize(
    "text",
    [
        "请致电13912345678",
        "手机 139 1234 5678",
        "手机 139-1234-5678",
        "+86 13912345678",
        "008613912345678",
        "座机0571-88886666",
        "电话(010)12345678",
    ],
)
def test_mainland_phone_numbers_are_found(text):
    assert kinds(text) == ["phone"]


@pytest.mark.parametrize(
    "text",
    [
        "您的验证码为123456，5分钟内有效",
        "金额 12345678901 分",  # starts with 12: no mobile prefix
        "编号213912345678",  # inside a longer number
        "请于2026年12月4日上午8点到院",
        "预约号 88886666",  # a bare number without area code
    ],
)
def test_codes_dates_and_bare_numbers_are_not_phones(text):
    assert "phone" not in kinds(text)


@pytest.mark.parametrize(
    "text", [f"卡号{CARD}", "卡号 6222 0202 0011 2233 446", "Visa 4111-1111-1111-1111"]
)
def test_bank_cards_passing_luhn_are_found(text):
    assert kinds(text) == ["bank_card"]


@pytest.mark.parametrize(
    "text",
    [
        "卡号6222020200112233445",  # Luhn fails
        "编号1234567890123452",  # Luhn passes, but no payment-card prefix
        "订单 622202020011",  # too short
    ],
)
def test_numbers_failing_luhn_or_shape_are_not_cards(text):
    assert "bank_card" not in kinds(text)


def test_a_citizen_id_is_not_reported_again_as_a_card():
    # Whatever Luhn says of it, an 18-digit citizen id is one finding of its own kind.
    assert kinds(f"{CITIZEN}") == ["citizen_id"]


@pytest.mark.parametrize(
    "text",
    [
        "住址：浙江省杭州市西湖区文三路100号",
        "上海市黄浦区中山东一路18号",
        "北京朝阳区建国路88-2号",
        "望江小区3栋2单元501室",
    ],
)
def test_street_addresses_are_found(text):
    assert "address" in kinds(text)


@pytest.mark.parametrize(
    "text",
    [
        "请到三号楼体检中心",
        "一路顺风，祝您健康",
        "请于8号前完成问卷",
        "【康链健康】您已成功预约2026年12月4日的体检。",
    ],
)
def test_everyday_words_are_not_addresses(text):
    assert "address" not in kinds(text)


def test_name_candidates_cover_two_to_four_character_runs_and_dotted_names():
    candidates = sensitive.name_candidates("请联系张三明。阿依古丽·买买提")
    assert {"张三", "三明", "张三明", "请联系张", "阿依古丽·买买提"} <= set(candidates)
    assert candidates["张三明"] == [(3, 6)]


def test_other_clients_names_are_found_through_the_lookup_only():
    asked: list[set[str]] = []

    def lookup(candidates: set[str]) -> dict[str, str]:
        asked.append(candidates)
        return {"欧阳明月": "c-42"} if "欧阳明月" in candidates else {}

    found = scan("【康链健康】欧阳明月的报告已出", names=lookup, fixed="【康链健康】的报告已出")
    assert [(f.kind, f.client_id) for f in found] == [("client_name", "c-42")]
    assert "健康" not in asked[0] and "康链" not in asked[0]  # the template's own words


def test_a_finding_never_shows_what_it_found():
    finding = scan(f"身份证{CITIZEN}")[0]
    assert CITIZEN not in repr(finding) and CITIZEN not in str(finding.audit())
    assert finding.audit() == {"kind": "citizen_id", "at": [3, 21]}


def test_a_clean_message_has_no_findings():
    text = "【康链健康】您的客户门户登录验证码为482913，5分钟内有效。请勿告诉他人。"
    assert scan(text, names=lambda c: {}) == []
