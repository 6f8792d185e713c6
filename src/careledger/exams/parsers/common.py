"""What every parser shares: dates and their time zone, patient identifiers, result values.

Pure: no Django. Each helper either returns a value or raises `ValueError` with an English
message that names what was found in general terms (a format, a length), never the identifier
or name itself, so the message can be stored beside the sealed payload.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from careledger.clients.identifiers import IdentifierError, parse_citizen_id

SHANGHAI = ZoneInfo("Asia/Shanghai")

# A report dated more than this after `now` is refused as FUTURE_DATE: clocks of exam-centre
# systems drift and time zones get lost, so "tomorrow" is tolerated, next week is a typo.
FUTURE_TOLERANCE = dt.timedelta(days=1)


# --------------------------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------------------------


def aware(value: dt.datetime) -> dt.datetime:
    """A naive datetime is local time of the exam centre: Asia/Shanghai."""
    return value if value.tzinfo is not None else value.replace(tzinfo=SHANGHAI)


def is_future(value: dt.datetime, now: dt.datetime) -> bool:
    return aware(value) > aware(now) + FUTURE_TOLERANCE


_HL7_TS = re.compile(
    r"(?P<y>\d{4})(?P<mo>\d{2})(?P<d>\d{2})"
    r"(?:(?P<h>\d{2})(?:(?P<mi>\d{2})(?:(?P<s>\d{2})(?:\.(?P<f>\d{1,6}))?)?)?)?"
    r"(?:(?P<tz>[+-])(?P<tzh>\d{2})(?P<tzm>\d{2}))?"
)


def parse_hl7_ts(text: str) -> dt.datetime:
    """HL7 TS/DTM `YYYYMMDD[HH[MM[SS[.S…]]]][±ZZZZ]`, day precision at least.

    Vendors also write ISO-ish "2024-01-05 08:30:00": dashes, colons, spaces and a "T" are
    dropped before matching. No zone → Asia/Shanghai. Raises ValueError naming the format.
    """
    raw = text.strip()
    # A trailing ±ZZZZ zone first, so dropping the dashes of "2024-01-05" spares its sign.
    zone = re.search(r"[+-]\d{4}$", raw) if len(raw) > 8 else None
    body, suffix = (raw[: zone.start()], zone.group()) if zone else (raw, "")
    compact = re.sub(r"[-:\sT/]", "", body) + suffix
    match = _HL7_TS.fullmatch(compact)
    if not match:
        if re.fullmatch(r"\d{4}(\d{2})?", compact):
            raise ValueError(f"date {len(compact)} digits long has no day (YYYYMMDD needed)")
        raise ValueError(f"not an HL7 timestamp (YYYYMMDD[HHMM[SS]][+ZZZZ]): {_shape(raw)}")
    g = match.groupdict()
    tz: dt.tzinfo = SHANGHAI
    if g["tz"]:
        offset = dt.timedelta(hours=int(g["tzh"]), minutes=int(g["tzm"]))
        tz = dt.timezone(-offset if g["tz"] == "-" else offset)
    try:
        return dt.datetime(
            int(g["y"]),
            int(g["mo"]),
            int(g["d"]),
            int(g["h"] or 0),
            int(g["mi"] or 0),
            int(g["s"] or 0),
            int((g["f"] or "0").ljust(6, "0")),
            tzinfo=tz,
        )
    except ValueError:
        raise ValueError(f"impossible date or time {_shape(raw)}") from None


_LOOSE_DATE = re.compile(
    r"(?P<y>\d{4})\s*[-/.年]\s*(?P<mo>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?"
    r"(?:[\sT]+(?P<h>\d{1,2})[:时](?P<mi>\d{1,2})(?:[:分](?P<s>\d{1,2})(?:\.\d+)?)?秒?)?"
    r"\s*(?P<z>Z|[+-]\d{2}:?\d{2})?"
)


def parse_loose_datetime(text: str) -> dt.datetime:
    """Dates as people and spreadsheets write them: 2024-01-05, 2024/1/5, 2024.01.05,
    2024年1月5日, with an optional time "08:30[:00]"; also the compact HL7 form 20240105[0830].
    """
    raw = unicodedata.normalize("NFKC", text).strip()
    match = _LOOSE_DATE.fullmatch(raw)
    if not match:
        if re.fullmatch(r"\d{8}(\d{4}(\d{2})?)?", raw):
            return parse_hl7_ts(raw)
        raise ValueError(f"not a date (YYYY-MM-DD expected): {_shape(raw)}")
    g = match.groupdict()
    tz: dt.tzinfo = SHANGHAI
    if g["z"]:
        z = g["z"]
        if z == "Z":
            tz = dt.UTC
        else:
            digits = z[1:].replace(":", "")
            offset = dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
            tz = dt.timezone(-offset if z[0] == "-" else offset)
    try:
        return dt.datetime(
            int(g["y"]),
            int(g["mo"]),
            int(g["d"]),
            int(g["h"] or 0),
            int(g["mi"] or 0),
            int(g["s"] or 0),
            tzinfo=tz,
        )
    except ValueError:
        raise ValueError(f"impossible date or time {_shape(raw)}") from None


def _shape(raw: str) -> str:
    """A date-ish value's shape for a message: digits → 9, letters → A, so an error message
    shows the pattern that was wrong (9999/99/99) without leaking a value that might be an
    identifier typed into the wrong column."""
    shape = re.sub(r"\d", "9", raw[:40])
    shape = re.sub(r"[^\W\d_]", "A", shape)
    return repr(shape)


# --------------------------------------------------------------------------------------------
# Patients
# --------------------------------------------------------------------------------------------

# Identifier type codes (HL7 table 0203 and what Chinese vendors write) meaning the resident ID
# number. SS: PID-19 / "SS" carries the social security number, which in mainland China is the
# resident ID number.
ID_NUMBER_TYPES = frozenset(
    {"NI", "NNCHN", "CN", "ID", "RI", "SS", "SB", "SFZ", "IDCARD", "RESIDENT", "身份证", "身份证号"}
)
# Types meaning the centre's card / record number, best first: the membership card the centre
# issued (MB), a visit card (就诊卡), then the medical record and internal patient numbers.
CARD_TYPES = ("MB", "CARD", "JZK", "VIP", "HYK", "卡号", "会员卡", "就诊卡", "MR", "PI", "PT")


@dataclass(frozen=True)
class Candidate:
    value: str
    type_code: str = ""  # "NI", "MB", "MR", ... upper-case; "" when untyped
    where: str = ""  # the field it came from, for messages: "PID-3", "PID-19"


@dataclass(frozen=True)
class PickedIds:
    id_number: str
    card_number: str
    bad_id_where: str = ""  # the field of an identifier typed as an ID number that is invalid
    bad_id_why: str = ""


def valid_id_number(value: str, today: dt.date) -> str | None:
    """The normalised 18-character GB 11643 number, or None (same rule as the client registry:
    careledger.clients.identifiers.parse_citizen_id, so a picked number can match a client)."""
    cleaned = unicodedata.normalize("NFKC", value).strip()
    if len(cleaned) != 18:
        return None
    try:
        return parse_citizen_id(cleaned, today=today).number
    except IdentifierError:
        return None


def id_number_error(value: str, today: dt.date) -> str:
    try:
        parse_citizen_id(unicodedata.normalize("NFKC", value), today=today)
    except IdentifierError as exc:
        # The registry's messages name digits of the number (check digit expected/got, encoded
        # birth date); keep only the code so nothing of the identifier reaches the problem.
        return exc.code
    return ""


def pick_ids(
    candidates: Iterable[Candidate], *, today: dt.date, card_types: Iterable[str] = CARD_TYPES
) -> PickedIds:
    """The matching rule, the same for every format.

    * id_number: the first candidate whose value is a valid 18-character GB 11643 number
      (check digit, real birth date), whatever its type code: vendors put it in PID-3, PID-2,
      PID-19 or a FHIR identifier with any system.
    * card_number: the first candidate typed as a card / record number, in the order of
      `card_types`; failing any, the first untyped candidate that is not an ID number (a plain
      PID-3 patient id is the centre's own number).
    * A candidate typed as an ID number that is not a valid one is reported (bad_id_*), never
      used: the caller decides whether the card number can still carry the report.
    """
    cands = [c for c in candidates if c.value and c.value.strip()]
    picked_id = ""
    id_positions: set[int] = set()
    for pos, cand in enumerate(cands):
        number = valid_id_number(cand.value, today)
        if number:
            id_positions.add(pos)
            if not picked_id:
                picked_id = number
    bad_where = bad_why = ""
    if not picked_id:
        for pos, cand in enumerate(cands):
            if pos not in id_positions and cand.type_code in ID_NUMBER_TYPES:
                bad_where, bad_why = cand.where, id_number_error(cand.value, today)
                break
    order = [t.upper() for t in card_types]
    card = ""
    best = len(order)
    for pos, cand in enumerate(cands):
        if pos in id_positions:
            continue
        if cand.type_code in order and order.index(cand.type_code) < best:
            best = order.index(cand.type_code)
            card = cand.value.strip()
    if not card:
        for pos, cand in enumerate(cands):
            if pos not in id_positions and not cand.type_code:
                card = cand.value.strip()
                break
    return PickedIds(picked_id, card, bad_where, bad_why)


def normalise_sex(value: str) -> str:
    """ "M" / "F" / "": HL7 M/F, FHIR male/female, 男/女, GB/T 2261.1 codes 1/2."""
    v = unicodedata.normalize("NFKC", value or "").strip().upper()
    if v in ("M", "MALE", "男", "1", "男性"):
        return "M"
    if v in ("F", "FEMALE", "女", "2", "女性"):
        return "F"
    return ""


def join_name(family: str, given: str) -> str:
    """张 + 三 → 张三; Smith + John → John Smith."""
    family, given = family.strip(), given.strip()
    if not family or not given:
        return family or given
    if any("\u2e80" <= ch <= "\u9fff" for ch in family + given):
        return family + given
    return f"{given} {family}"


# --------------------------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------------------------

_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_NUMBER_RE = re.compile(_NUMBER)
_COMPARATOR_RE = re.compile(rf"(?:<=|>=|<|>|≤|≥|=)\s*{_NUMBER}")
_RANGE_RE = re.compile(rf"{_NUMBER}\s*[-~～]\s*{_NUMBER}")  # "0-2" cells per HPF
_TITRE_RE = re.compile(r"\d+\s*:\s*\d+")  # 1:128
_PLUSES_RE = re.compile(r"(?:[+\-±]{1,4}|[1-4]\s*\+|\+-|-\+)")  # -, ±, +, ++, 2+
# Qualitative results as Chinese and English LIS print them.
QUALITATIVE = frozenset(
    {
        "阴性",
        "阳性",
        "弱阳性",
        "强阳性",
        "可疑",
        "可疑阳性",
        "弱阳",
        "正常",
        "异常",
        "未见异常",
        "未检出",
        "检出",
        "未见",
        "少量",
        "微量",
        "极微量",
        "无",
        "有",
        "清",
        "混浊",
        "微浊",
        "黄色",
        "淡黄色",
        "NEGATIVE",
        "POSITIVE",
        "NEG",
        "POS",
        "NORMAL",
        "ABNORMAL",
        "TRACE",
        "DETECTED",
        "NOT DETECTED",
        "NONE",
        "REACTIVE",
        "NONREACTIVE",
        "NON-REACTIVE",
        "WEAKLY POSITIVE",
    }
)


def fold_number(value: str) -> str:
    """Full-width digits and signs (５．６, ＜0.1) folded to ASCII when the value is numeric;
    other values are returned as written (trimmed)."""
    v = value.strip()
    folded = unicodedata.normalize("NFKC", v).replace(" ", "")
    if (
        _NUMBER_RE.fullmatch(folded)
        or _COMPARATOR_RE.fullmatch(folded)
        or _RANGE_RE.fullmatch(folded)
        or _TITRE_RE.fullmatch(folded)
    ):
        return folded
    return v


def classify_value(value: str) -> str:
    """ "number", "comparator", "range", "titre", "qualitative", "text" or "bad".

    "bad" is a value that starts like a number but is not one ("5..6", "12abc", "3,4"): a
    corrupted cell, not a text result.
    """
    v = unicodedata.normalize("NFKC", value).strip()
    if not v:
        return "bad"
    compact = v.replace(" ", "")
    if _NUMBER_RE.fullmatch(compact):
        return "number"
    if _COMPARATOR_RE.fullmatch(compact):
        return "comparator"
    if _RANGE_RE.fullmatch(compact):
        return "range"
    if _TITRE_RE.fullmatch(compact):
        return "titre"
    if _PLUSES_RE.fullmatch(compact) or _qualitative_core(v) in QUALITATIVE:
        return "qualitative"
    if re.match(r"[+\-.<>≤≥=]?\d", compact):
        return "bad"
    return "text"


def _qualitative_core(v: str) -> str:
    # "阴性(-)", "阳性（+）", "Negative " → the word alone.
    core = re.sub(r"[(（][^)）]*[)）]", "", v).strip().upper()
    return core


def is_plausible_numeric_result(value: str) -> bool:
    """For a value the source typed as numeric (HL7 NM/SN): a number, comparator+number, range,
    titre or a known qualitative text (vendors type 阴性 as NM)."""
    return classify_value(value) not in ("bad", "text")
