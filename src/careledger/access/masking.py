"""Masking of direct identifiers for roles that may see a client but not who they are in full
(follow-up nurses and call agents). Pure functions; the policy decides *when* to mask.

Rules: a name keeps its first and last character (张*明; 张三 → 张*; one character → *); Latin
names keep each word's first letter (J*** S****); a name with a middle dot is masked part by part
(阿依古丽·买买提 → 阿**丽·买*提). Phone 138****5678; 18-character document 330102********1234,
others keep two characters at each end; address keeps its first six characters (province and
city); card numbers keep the last four.
"""

from __future__ import annotations


def _mask_word(word: str) -> str:
    if len(word) <= 1:
        return "*" * len(word)
    if word.isascii():
        return word[0] + "*" * (len(word) - 1)
    if len(word) == 2:
        return word[0] + "*"
    return word[0] + "*" * (len(word) - 2) + word[-1]


def mask_name(name: str | None) -> str:
    if not name:
        return ""
    if "·" in name:
        return "·".join(_mask_word(part) for part in name.split("·"))
    if " " in name:
        return " ".join(_mask_word(part) for part in name.split(" "))
    return _mask_word(name)


def mask_phone(phone: str | None) -> str:
    if not phone:
        return ""
    if len(phone) == 11:
        return phone[:3] + "****" + phone[-4:]
    if len(phone) >= 7:
        return phone[:3] + "*" * (len(phone) - 5) + phone[-2:]
    return "*" * len(phone)


def mask_document(number: str | None) -> str:
    if not number:
        return ""
    if len(number) == 18:
        return number[:6] + "*" * 8 + number[-4:]
    if len(number) <= 4:
        return "*" * len(number)
    return number[:2] + "*" * (len(number) - 4) + number[-2:]


def mask_address(address: str | None) -> str:
    if not address:
        return ""
    if len(address) <= 6:
        return "*" * len(address)
    return address[:6] + "****"


def mask_card_number(number: str | None) -> str:
    if not number:
        return ""
    if len(number) <= 4:
        return "*" * len(number)
    return "*" * (len(number) - 4) + number[-4:]
