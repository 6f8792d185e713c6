"""Validation and normalisation of client identifiers. Pure: no Django.

Checksums come from maintained libraries (python-stdnum for GB 11643-1999 and Luhn, Google's
libphonenumber port for phone numbers), not from hand-written arithmetic. Every failure raises
`IdentifierError` naming the field, a short machine code (the UI translates by code) and a
specific English message.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

import phonenumbers
from stdnum import luhn
from stdnum.cn import ric


class IdentifierError(ValueError):
    def __init__(self, field: str, code: str, message: str, **params: object) -> None:
        super().__init__(message)
        self.field = field
        self.code = code
        self.params = params


@dataclass(frozen=True)
class CitizenId:
    number: str
    birth_date: dt.date
    sex: str  # "M" or "F"
    region_code: str


DOCUMENT_TYPES = (
    "resident_id",
    "passport",
    "hk_macao_permit",
    "taiwan_permit",
    "foreign_permanent",
    "other",
)

# Patterns of the documents other than the resident ID card, after removing spaces and hyphens
# and upper-casing: passports 5-20 letters/digits (ICAO 9303 allows up to 9 in the MRZ; national
# formats vary); 回乡证 H/M + 8 or 10 digits; 台胞证 8 digits (or 10 with a letter); 外国人永久居留
# 身份证 15 characters (old) or 18 (2023 format starting with 9); other: 4-30 visible characters.
_DOCUMENT_PATTERNS = {
    "passport": re.compile(r"^[A-Z0-9]{5,20}$"),
    "hk_macao_permit": re.compile(r"^[HM][0-9]{8}([0-9]{2})?$"),
    "taiwan_permit": re.compile(r"^([0-9]{8}|[0-9]{10}|[A-Z][0-9]{9})$"),
    "foreign_permanent": re.compile(r"^([A-Z]{3}[0-9]{12}|9[0-9]{16}[0-9X])$"),
    "other": re.compile(r"^[^\s\x00-\x1f]{4,30}$"),
}


def parse_citizen_id(raw: str, *, today: dt.date | None = None) -> CitizenId:
    """An 18-character GB 11643-1999 number: checksum, real birth date, not in the future."""
    field = "document_number"
    number = re.sub(r"\s", "", raw or "").upper()
    if len(number) == 15 and number.isdigit():
        raise IdentifierError(
            field,
            "old_format",
            "15-digit ID numbers (before 1999) are not accepted; use the 18-digit number",
        )
    if not re.fullmatch(r"[0-9]{17}[0-9X]", number):
        raise IdentifierError(
            field, "format", "an ID number has 17 digits followed by a digit or X"
        )
    try:
        birth = dt.datetime.strptime(number[6:14], "%Y%m%d").date()
    except ValueError:
        raise IdentifierError(
            field,
            "birth_date_invalid",
            f"birth date {number[6:10]}-{number[10:12]}-{number[12:14]} encoded in the ID "
            "number is not a valid date",
        ) from None
    today = today or dt.date.today()
    if birth > today:
        raise IdentifierError(
            field, "birth_date_future", "birth date encoded in the ID number is in the future"
        )
    if birth.year < 1900:
        raise IdentifierError(
            field, "birth_date_too_early", "birth date encoded in the ID number is before 1900"
        )
    expected = ric.calc_check_digit(number)  # stdnum expects the full 18 characters
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


def cross_check_citizen_id(
    cid: CitizenId, *, birth_date: dt.date | None, sex: str | None
) -> list[IdentifierError]:
    """Every disagreement between the stated birth date / sex and the ID number (empty: none)."""
    problems = []
    if birth_date is not None and birth_date != cid.birth_date:
        problems.append(
            IdentifierError(
                "birth_date",
                "birth_date_mismatch",
                f"birth date does not match the ID number ({cid.birth_date.isoformat()})",
                expected=cid.birth_date.isoformat(),
            )
        )
    if sex and sex != cid.sex:
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


def normalise_document(document_type: str, raw: str) -> str:
    if document_type == "resident_id":
        return parse_citizen_id(raw).number
    pattern = _DOCUMENT_PATTERNS.get(document_type)
    if pattern is None:
        raise IdentifierError(
            "document_type", "unknown", f"unknown document type {document_type!r}"
        )
    value = re.sub(r"[\s-]", "", raw or "").upper()
    if document_type == "other":
        value = unicodedata.normalize("NFKC", (raw or "").strip())
    if not pattern.match(value):
        raise IdentifierError(
            "document_number",
            "format",
            f"this is not a valid {document_type.replace('_', ' ')} number",
        )
    return value


def normalise_mobile(raw: str) -> str:
    """A mainland China mobile number as its 11 national digits."""
    text = (raw or "").strip()
    compact = re.sub(r"[\s\-()]", "", text)
    if compact.startswith("0086"):
        compact = "+86" + compact[4:]
    if not compact:
        raise IdentifierError("phone", "required", "a mobile phone number is required")
    if not re.fullmatch(r"\+?[0-9]+", compact):
        raise IdentifierError("phone", "format", "a phone number contains only digits")
    if compact.startswith("+") and not compact.startswith("+86"):
        raise IdentifierError(
            "phone", "not_mainland", "only mainland China (+86) numbers are accepted"
        )
    national = compact[3:] if compact.startswith("+86") else compact
    if len(national) != 11:
        raise IdentifierError(
            "phone",
            "length",
            f"a mainland mobile number has 11 digits, this one has {len(national)}",
            count=len(national),
        )
    if not national.startswith("1"):
        raise IdentifierError(
            "phone", "not_mobile", "this is a landline number, not a mobile number"
        )
    try:
        parsed = phonenumbers.parse(national, "CN")
    except phonenumbers.NumberParseException:
        raise IdentifierError("phone", "format", "this is not a phone number") from None
    kind = phonenumbers.number_type(parsed)
    if not phonenumbers.is_valid_number(parsed) or kind not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        raise IdentifierError(
            "phone",
            "not_mobile",
            f"{national[:3]} is not a mainland mobile prefix",
            prefix=national[:3],
        )
    return national


_NAME_EXTRA = {" ", "·", "'", "-"}
_DOT_VARIANTS = str.maketrans({".": "·", "•": "·", "・": "·", "‧": "·"})
MAX_NAME = 64


def normalise_name(raw: str, field: str = "name") -> str:
    """NFKC, trimmed, single spaces; letters and marks only, plus space · ' - (minority and
    foreign names)."""
    value = " ".join(unicodedata.normalize("NFKC", raw or "").split()).translate(_DOT_VARIANTS)
    if not value:
        raise IdentifierError(field, "required", "a name is required")
    if len(value) > MAX_NAME:
        raise IdentifierError(
            field,
            "too_long",
            f"a name has at most {MAX_NAME} characters, this one has {len(value)}",
            limit=MAX_NAME,
            count=len(value),
        )
    for position, ch in enumerate(value, start=1):
        if ch in _NAME_EXTRA:
            continue
        if unicodedata.category(ch)[0] not in {"L", "M"}:
            raise IdentifierError(
                field,
                "characters",
                f"character {position} ({ch!r}) is not allowed in a name",
                position=position,
                char=ch,
            )
    return value


def card_number_with_check_digit(prefix: str, sequence: int, *, width: int = 7) -> str:
    if not re.fullmatch(r"[0-9]{1,6}", prefix):
        raise ValueError("card prefix must be 1-6 digits")
    if sequence < 0 or len(str(sequence)) > width:
        raise ValueError("card sequence out of range")
    body = f"{prefix}{sequence:0{width}d}"
    return body + luhn.calc_check_digit(body)


def is_valid_card_number(value: str) -> bool:
    return bool(re.fullmatch(r"[0-9]{8,20}", value or "")) and luhn.is_valid(value)


def normalise_card_number(raw: str) -> str:
    value = re.sub(r"[\s-]", "", raw or "")
    if not re.fullmatch(r"[0-9]{8,20}", value):
        raise IdentifierError("card_number", "format", "a card number has 8 to 20 digits")
    if not luhn.is_valid(value):
        raise IdentifierError("card_number", "checksum", "the card number's check digit is wrong")
    return value
