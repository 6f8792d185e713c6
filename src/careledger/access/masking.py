"""Masking of direct identifiers for roles that may see a client but not who they are in full
(follow-up nurses and call agents). Pure functions; the access policy decides *when* to mask.

Each function takes `str | None` and returns "" for None or "". Masks keep the value's length
(a star per hidden character), which is what staff are used to from Chinese systems, and never
show the whole value, however short it is.

Rules:

- name: a name written in ideographs (Han, also kana and Hangul) keeps its first and last
  character (张三明 → 张*明, 欧阳明月 → 欧**月); two characters keep the first (张三 → 张*); one
  character is fully hidden (张 → *). Alphabetic words (Latin, Cyrillic, …) keep their first
  letter (John Smith → J*** S****). A name with middle dots is masked part by part, each part
  by the rules above (阿依古丽·买买提 → 阿**丽·买*提). Spaces and dots stay visible.
- phone: 11 digits → first 3 and last 4 (138****5678); other lengths ≥ 7 → first 3 and last 2;
  shorter → all stars.
- document number: 18 characters → first 6 (region) and last 4 (330102********1234); other
  lengths > 4 → first 2 and last 2; ≤ 4 → all stars.
- address: the first 6 characters (about province and city) then "****", whatever the length,
  so the length of the street part is not revealed; ≤ 6 characters → all stars.
- card number: the last 4 visible, the rest stars; ≤ 4 characters → all stars.
"""

from __future__ import annotations

import unicodedata

_IDEOGRAPHIC_PREFIXES = ("CJK ", "HANGUL ", "HIRAGANA ", "KATAKANA ")


def _is_ideographic(ch: str) -> bool:
    return unicodedata.name(ch, "").startswith(_IDEOGRAPHIC_PREFIXES)


def _mask_ideographic(word: str) -> str:
    if len(word) <= 1:
        return "*" * len(word)
    if len(word) == 2:
        return word[0] + "*"
    return word[0] + "*" * (len(word) - 2) + word[-1]


def _mask_alphabetic(word: str) -> str:
    return word[:1] + "*" * (len(word) - 1)


def _mask_part(part: str) -> str:
    """One part of a name (between middle dots)."""
    if any(_is_ideographic(ch) for ch in part):
        # Chinese names carry no spaces; a stray one must not turn 张 三 into two visible
        # one-character "words", so the spaces are kept but the characters masked as one name.
        letters = part.replace(" ", "")
        masked = iter(_mask_ideographic(letters))
        return "".join(" " if ch == " " else next(masked) for ch in part)
    return " ".join(_mask_alphabetic(word) for word in part.split(" "))


def mask_name(name: str | None) -> str:
    if not name:
        return ""
    if len(name) == 1:
        return "*"
    return "·".join(_mask_part(part) for part in name.split("·"))


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
