"""Validation and normalisation of client identifiers. Pure: no Django.

Checksums come from maintained libraries (python-stdnum for GB 11643-1999 and Luhn, Google's
libphonenumber port for phone numbers), not from hand-written arithmetic. Every failure raises
`IdentifierError` naming the field, a short machine code (the UI translates by code, see
`careledger.clients.validation`) and a specific English message; `params` carries the values a
translated message interpolates.

Every normaliser applies NFKC first, so the full-width digits and letters a Chinese input method
produces (１３８…, Ｘ) are accepted and stored as ASCII. The normalised value is also what the
blind index hashes, so a change to normalisation is a change to search: keep it stable.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

import phonenumbers
from stdnum import luhn
from stdnum.cn import ric

# Anything longer than this is refused before any normalisation work is done on it, so a hostile
# megabyte-long field costs nothing. Far above every legitimate identifier.
_MAX_RAW = 1024


class IdentifierError(ValueError):
    """A refused identifier: `field` (form field), `code` (machine code), message (English)."""

    def __init__(self, field: str, code: str, message: str, **params: object) -> None:
        super().__init__(message)
        self.field = field
        self.code = code
        self.message = message
        self.params = params

    def __reduce__(self):  # type: ignore[no-untyped-def]
        # Keeps the error picklable (task queues, multiprocessing) despite the custom __init__.
        return (_rebuild_error, (self.field, self.code, self.message, self.params))

    def __repr__(self) -> str:
        return f"IdentifierError(field={self.field!r}, code={self.code!r}, {self.message!r})"


def _rebuild_error(field: str, code: str, message: str, params: dict) -> IdentifierError:
    return IdentifierError(field, code, message, **params)


def _refuse_huge(field: str, raw: str) -> None:
    # Code "format" (not "too_long", whose translation speaks of names): a field this long is
    # not an identifier of any kind.
    if len(raw) > _MAX_RAW:
        raise IdentifierError(
            field,
            "format",
            f"the value has {len(raw)} characters, far more than any valid one",
            count=len(raw),
        )


# --------------------------------------------------------------------------------------------
# GB 11643-1999 resident identity card (居民身份证)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CitizenId:
    number: str  # 18 characters, trailing X upper-case
    birth_date: dt.date
    sex: str  # "M" or "F"
    region_code: str  # first six digits: the registering county (行政区划代码)


_EARLIEST_BIRTH = dt.date(1900, 1, 1)


def parse_citizen_id(raw: str, *, today: dt.date | None = None) -> CitizenId:
    """An 18-character GB 11643-1999 number: real birth date, not before 1900, not after `today`
    (default: the system date), correct ISO 7064 MOD 11-2 check digit (computed by stdnum).

    The birth date is checked before the checksum so that a mistyped date digit is reported as
    the impossible date it produces, which is what the person can correct. The 15-digit form
    (issued before 1999) has no check digit and a two-digit year, so it is refused.
    """
    field = "document_number"
    _refuse_huge(field, raw or "")
    number = re.sub(r"\s", "", unicodedata.normalize("NFKC", raw or "")).upper()
    if not number:
        raise IdentifierError(field, "required", "an ID number is required")
    if len(number) == 15 and number.isdigit():
        raise IdentifierError(
            field,
            "old_format",
            "15-digit ID numbers (before 1999) are not accepted; use the 18-digit number",
        )
    if not re.fullmatch(r"[0-9]{17}[0-9X]", number):
        raise IdentifierError(
            field,
            "format",
            _describe_bad_format(number),
            count=len(number),
        )
    year, month, day = number[6:10], number[10:12], number[12:14]
    try:
        birth = dt.date(int(year), int(month), int(day))
    except ValueError:
        raise IdentifierError(
            field,
            "birth_date_invalid",
            f"birth date {year}-{month}-{day} encoded in the ID number is not a valid date",
            value=f"{year}-{month}-{day}",
        ) from None
    today = today or dt.date.today()
    if birth > today:
        raise IdentifierError(
            field,
            "birth_date_future",
            f"birth date {birth.isoformat()} encoded in the ID number is in the future",
            value=birth.isoformat(),
        )
    if birth < _EARLIEST_BIRTH:
        raise IdentifierError(
            field,
            "birth_date_too_early",
            f"birth date {birth.isoformat()} encoded in the ID number is before 1900",
            value=birth.isoformat(),
        )
    # stdnum's calc_check_digit takes the whole number and ignores its last character.
    expected = ric.calc_check_digit(number)
    if expected != number[17]:
        raise IdentifierError(
            field,
            "checksum",
            f"check digit is wrong: expected {expected}, got {number[17]}",
            expected=expected,
            got=number[17],
        )
    sex = "M" if int(number[16]) % 2 else "F"
    return CitizenId(number=number, birth_date=birth, sex=sex, region_code=number[:6])


def _describe_bad_format(number: str) -> str:
    for position, ch in enumerate(number, start=1):
        if "0" <= ch <= "9" or (ch == "X" and position == len(number)):
            continue
        if position == len(number) == 18:
            return f"the last character ({ch!r}) of the ID number is neither a digit nor X"
        return f"character {position} ({ch!r}) of the ID number is not a digit"
    return f"an ID number has 18 characters, this one has {len(number)}"


def cross_check_citizen_id(
    cid: CitizenId, *, birth_date: dt.date | None, sex: str | None
) -> list[IdentifierError]:
    """Every disagreement between the stated birth date / sex and the ID number, as a list (empty:
    they agree), so a form can show both at once. `None` or "" means "not stated": not checked.
    """
    problems = []
    if birth_date is not None and birth_date != cid.birth_date:
        problems.append(
            IdentifierError(
                "birth_date",
                "birth_date_mismatch",
                f"birth date {birth_date.isoformat()} does not match the ID number "
                f"({cid.birth_date.isoformat()})",
                expected=cid.birth_date.isoformat(),
            )
        )
    if sex and sex.upper() != cid.sex:
        problems.append(
            IdentifierError(
                "sex",
                "sex_mismatch",
                "sex does not match the ID number (its 17th digit is "
                f"{'odd: male' if cid.sex == 'M' else 'even: female'})",
                expected=cid.sex,
            )
        )
    return problems


# --------------------------------------------------------------------------------------------
# Other identity documents
# --------------------------------------------------------------------------------------------

DOCUMENT_TYPES = (
    "resident_id",
    "passport",
    "hk_macao_permit",
    "taiwan_permit",
    "foreign_permanent",
    "other",
)

_DOCUMENT_PATTERNS = {
    "passport": re.compile(r"[A-Z0-9]{5,20}"),
    "hk_macao_permit": re.compile(r"[HM][0-9]{8}(?:[0-9]{2})?"),
    "taiwan_permit": re.compile(r"[0-9]{8}|[0-9]{10}|[A-Z][0-9]{9}"),
    "foreign_permanent": re.compile(r"[A-Z]{3}[0-9]{12}|9[0-9]{16}[0-9X]"),
}
_DOCUMENT_LABELS = {
    "resident_id": "resident ID",
    "passport": "passport",
    "hk_macao_permit": "Hong Kong/Macao permit",
    "taiwan_permit": "Taiwan permit",
    "foreign_permanent": "foreign permanent resident ID",
    "other": "document",
}


def normalise_document(document_type: str, raw: str) -> str:
    """The canonical form of a document number, by type (one of `DOCUMENT_TYPES`).

    All types: NFKC first. Types other than "other" then lose spaces and hyphens and are
    upper-cased, and must match in full:

    - resident_id: GB 11643-1999, validated by `parse_citizen_id`; the 18 characters.
    - passport: ``[A-Z0-9]{5,20}`` (ICAO 9303 keeps 9 in the MRZ; national formats vary).
    - hk_macao_permit (港澳居民来往内地通行证, 回乡证): ``[HM][0-9]{8}`` plus an optional
      two-digit issue count.
    - taiwan_permit (台湾居民来往大陆通行证, 台胞证): 8 digits (card), 10 digits (older
      booklet), or a letter and 9 digits.
    - foreign_permanent (外国人永久居留身份证): ``[A-Z]{3}[0-9]{12}`` (2004 format) or
      ``9[0-9]{16}[0-9X]`` (2023 format).
    - other: trimmed, 4-30 visible characters: no whitespace, control, format (zero-width,
      bidirectional override), private-use or unassigned characters.
    """
    field = "document_number"
    if document_type not in DOCUMENT_TYPES:
        raise IdentifierError(
            "document_type", "unknown", f"unknown document type {document_type!r}"
        )
    if document_type == "resident_id":
        return parse_citizen_id(raw).number
    _refuse_huge(field, raw or "")
    text = unicodedata.normalize("NFKC", raw or "")
    label = _DOCUMENT_LABELS[document_type]
    if document_type == "other":
        value = text.strip()
        bad = next(
            (i for i, ch in enumerate(value, start=1) if unicodedata.category(ch)[0] in "CZ"),
            None,
        )
        if bad is not None:
            raise IdentifierError(
                field,
                "format",
                f"character {bad} of the document number is a space or an invisible character",
                position=bad,
            )
        if not 4 <= len(value) <= 30:
            raise IdentifierError(
                field,
                "format",
                f"a document number has 4 to 30 characters, this one has {len(value)}",
                count=len(value),
            )
        return value
    value = re.sub(r"[\s-]", "", text).upper()
    if not value:
        raise IdentifierError(field, "required", f"a {label} number is required")
    if not _DOCUMENT_PATTERNS[document_type].fullmatch(value):
        raise IdentifierError(field, "format", f"this is not a valid {label} number")
    return value


# --------------------------------------------------------------------------------------------
# Mainland China mobile numbers
# --------------------------------------------------------------------------------------------

_MOBILE_TYPES = (
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
)


def normalise_mobile(raw: str) -> str:
    """A mainland China mobile number as its 11 national digits.

    Accepts spaces, hyphens, dots and brackets as separators, the +86 / 0086 country prefix and
    a trunk 0 before the mobile number (+86 (0)138…).
    libphonenumber decides whether the number is a valid mobile number (number type MOBILE or
    FIXED_LINE_OR_MOBILE for region CN), so new carrier prefixes follow library updates.
    """
    field = "phone"
    _refuse_huge(field, raw or "")
    compact = re.sub(r"[\s\-().]", "", unicodedata.normalize("NFKC", raw or ""))
    if not compact:
        raise IdentifierError(field, "required", "a mobile phone number is required")
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    if not re.fullmatch(r"\+?[0-9]+", compact):
        # The first character that is neither a digit nor the leading "+" (a lone "+": itself).
        bad = next(
            (
                ch
                for i, ch in enumerate(compact)
                if not ("0" <= ch <= "9" or (ch == "+" and i == 0))
            ),
            "+",
        )
        raise IdentifierError(
            field,
            "format",
            f"a phone number contains only digits, not {bad!r}",
            char=bad,
        )
    if compact.startswith("+") and not compact.startswith("+86"):
        raise IdentifierError(
            field, "not_mainland", "only mainland China (+86) numbers are accepted"
        )
    national = compact[3:] if compact.startswith("+86") else compact
    if len(national) == 12 and national.startswith("01") and not national.startswith("010"):
        # The domestic trunk prefix: "+86 (0)138…" and the long-distance "0138…" habit.
        # (Beijing landlines, 010 + 8 digits, are 11 long and never reach here.)
        national = national[1:]
    if not national.startswith("1"):
        try:
            parsed = phonenumbers.parse(national, "CN")
            landline = phonenumbers.is_valid_number(parsed) and (
                phonenumbers.number_type(parsed) == phonenumbers.PhoneNumberType.FIXED_LINE
            )
        except phonenumbers.NumberParseException:
            landline = False
        raise IdentifierError(
            field,
            "not_mobile",
            "this is a landline number, not a mobile number"
            if landline
            else "a mainland mobile number starts with 1",
        )
    if len(national) != 11:
        raise IdentifierError(
            field,
            "length",
            f"a mainland mobile number has 11 digits, this one has {len(national)}",
            count=len(national),
        )
    try:
        parsed = phonenumbers.parse(national, "CN")
    except phonenumbers.NumberParseException:
        raise IdentifierError(field, "format", "this is not a phone number") from None
    if (
        not phonenumbers.is_valid_number(parsed)
        or phonenumbers.number_type(parsed) not in _MOBILE_TYPES
    ):
        raise IdentifierError(
            field,
            "not_mobile",
            f"{national[:3]} is not a mainland mobile prefix",
            prefix=national[:3],
        )
    return national


# --------------------------------------------------------------------------------------------
# Personal names
# --------------------------------------------------------------------------------------------

MAX_NAME = 64
_NAME_SEPARATORS = frozenset(" ·'-")
# Look-alikes of the middle dot (间隔号) used between the parts of minority and transliterated
# foreign names; NFKC leaves them alone, so they are mapped here.
_DOT_VARIANTS = str.maketrans(dict.fromkeys(".•・‧∙⋅", "·"))


def normalise_name(raw: str, field: str = "name") -> str:
    """A person's name, NFKC-normalised, trimmed, runs of whitespace collapsed to one space and
    middle-dot look-alikes (. • ・ ‧ ∙ ⋅) mapped to "·" without spaces around it.

    Allowed: letters and combining marks of any script, plus space, "·", "'" and "-" (minority,
    transliterated and foreign names). A name needs at least one letter, and "·" only between
    two parts (阿依古丽·买买提). Anything else (digits, punctuation, markup, control or invisible
    characters) is refused with the 1-based position of the first offender.
    """
    if len(raw or "") > _MAX_RAW:
        raise _name_too_long(field, len(raw))
    value = " ".join(unicodedata.normalize("NFKC", raw or "").split()).translate(_DOT_VARIANTS)
    value = re.sub(r" ?· ?", "·", value)
    if not value:
        raise IdentifierError(field, "required", "a name is required")
    if len(value) > MAX_NAME:
        raise _name_too_long(field, len(value))
    for position, ch in enumerate(value, start=1):
        if ch == "·" and (position in (1, len(value)) or value[position] == "·"):
            raise _bad_name_character(
                field, position, ch, "is a middle dot that is not between two parts of the name"
            )
        if ch not in _NAME_SEPARATORS and unicodedata.category(ch)[0] not in "LM":
            raise _bad_name_character(field, position, ch, "is not allowed in a name")
    if not any(unicodedata.category(ch).startswith("L") for ch in value):
        raise _bad_name_character(
            field, 1, value[0], "is not a letter, and a name needs at least one letter"
        )
    return value


def _name_too_long(field: str, count: int) -> IdentifierError:
    return IdentifierError(
        field,
        "too_long",
        f"a name has at most {MAX_NAME} characters, this one has {count}",
        limit=MAX_NAME,
        count=count,
    )


def _bad_name_character(field: str, position: int, ch: str, why: str) -> IdentifierError:
    return IdentifierError(
        field, "characters", f"character {position} ({ch!r}) {why}", position=position, char=ch
    )


# --------------------------------------------------------------------------------------------
# Membership card numbers (会员卡号)
# --------------------------------------------------------------------------------------------

_CARD_LENGTHS = range(8, 21)


def card_number_with_check_digit(prefix: str, sequence: int, *, width: int = 7) -> str:
    """prefix (1-6 digits) + sequence zero-padded to `width` + Luhn check digit (stdnum).

    Luhn catches every single-digit error and most adjacent transpositions at the desk.
    Raises ValueError (a programming error, not user input) when the result would not be a
    number `normalise_card_number` accepts.
    """
    if not re.fullmatch(r"[0-9]{1,6}", prefix):
        raise ValueError("card prefix must be 1-6 digits")
    if isinstance(sequence, bool) or not isinstance(sequence, int):
        raise TypeError("card sequence must be an int")
    if sequence < 0 or len(str(sequence)) > width:
        raise ValueError(f"card sequence {sequence} does not fit in {width} digits")
    body = f"{prefix}{sequence:0{width}d}"
    if len(body) + 1 not in _CARD_LENGTHS:
        raise ValueError("a card number must have 8 to 20 digits including the check digit")
    return body + luhn.calc_check_digit(body)


def is_valid_card_number(value: str | None) -> bool:
    """True for an already-normalised card number: 8-20 ASCII digits with a valid Luhn digit."""
    return bool(value and re.fullmatch(r"[0-9]{8,20}", value) and luhn.is_valid(value))


def normalise_card_number(raw: str) -> str:
    """A card number as typed (spaces and hyphens allowed) to its digits, Luhn-checked."""
    field = "card_number"
    _refuse_huge(field, raw or "")
    value = re.sub(r"[\s-]", "", unicodedata.normalize("NFKC", raw or ""))
    if not value:
        raise IdentifierError(field, "required", "a card number is required")
    if not re.fullmatch(r"[0-9]+", value) or len(value) not in _CARD_LENGTHS:
        raise IdentifierError(
            field,
            "format",
            f"a card number has 8 to 20 digits; got {len(value)} characters",
            count=len(value),
        )
    if not luhn.is_valid(value):
        raise IdentifierError(
            field,
            "checksum",
            f"the card number's check digit is wrong: expected "
            f"{luhn.calc_check_digit(value[:-1])}, got {value[-1]}",
            expected=luhn.calc_check_digit(value[:-1]),
            got=value[-1],
        )
    return value
