"""Detecting personal data in an outgoing message before it leaves (出站敏感信息检测). Pure: no
Django; the "other clients' names" lookup is passed in by `careledger.notifications.outbound`.

Each detector answers where in the text it found what kind of thing, never the thing itself:
a `Finding` holds the kind and the span, its `repr` shows no characters of the text, so a
finding can be logged and ledgered without leaking what it found (invariant 6).

Kinds and how they are told from ordinary numbers (decision 0025):

* `citizen_id` — an 18-character GB 11643 number whose province code, birth date and check
  digit (ISO 7064 MOD 11-2, `python-stdnum`'s `cn.ric`) are valid (the county code is not
  checked: retired codes stay on people's cards); digits may be grouped by spaces or dashes
  (110101 19900307 663X). A random 18-digit string passes by chance about 1 in 11 × (valid
  dates), so an order number is rarely mistaken for one.
* `phone` — a mainland mobile (1[3-9] + 9 digits, optional +86/0086, grouped 3-4-4 or not)
  or a landline written with its area code and a separator (010-12345678, 0571-8888888).
  A bare 7–8 digit number is not reported: too many codes and amounts look like it.
* `bank_card` — 16 to 19 digits (grouped by 4 or not) that pass the Luhn check and start like
  a payment card (3, 4, 5, 6 or 9; UnionPay cards start with 62). A citizen id is reported as
  such, not also as a card.
* `address` — a street address: a road, street or lane name followed by a house number
  (文三路100号, 中山东一路18号), or a building/unit/room triple (3栋2单元501室).
* `client_name` — a name of another client of the institution: every 2–4 character run of
  Chinese characters (and every "·"-joined name) is a candidate; the caller checks the
  candidates against the clients' name blind index in one set query and reports the hits.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from stdnum import luhn
from stdnum.cn import ric
from stdnum.exceptions import ValidationError

CITIZEN_ID = "citizen_id"
PHONE = "phone"
BANK_CARD = "bank_card"
ADDRESS = "address"
CLIENT_NAME = "client_name"
KINDS = (CITIZEN_ID, PHONE, BANK_CARD, ADDRESS, CLIENT_NAME)

_SEP = r"[ \-\u2010-\u2015]?"
_ID = re.compile(
    rf"(?<![0-9A-Za-z])([1-9]\d{{5}}){_SEP}(\d{{8}}){_SEP}(\d{{3}}[0-9Xx])(?![0-9A-Za-z])"
)
_MOBILE = re.compile(
    rf"(?<![0-9+])(?:(?:\+|00)86{_SEP})?(1[3-9]\d){_SEP}(\d{{4}}){_SEP}(\d{{4}})(?!\d)"
)
_LANDLINE = re.compile(r"(?<!\d)(?:\(0\d{2,3}\)|0\d{2,3}[-\u2010-\u2015 ])\d{7,8}(?!\d)")
_DIGITS = re.compile(r"(?<![0-9A-Za-z])\d(?:[ \-]?\d){15,18}(?![0-9A-Za-z])")
_NUM = r"[0-9０-９一二三四五六七八九十百千]+"
_STREET = re.compile(
    rf"[\u4e00-\u9fff]{{1,12}}(?:路|街|大道|大街|巷|弄|胡同|里)(?:[东南西北中]?[一二三四五六七八九十]?段)?{_NUM}(?:-{_NUM})?号"
)
_UNIT = re.compile(rf"{_NUM}(?:栋|幢|号楼|座){_NUM}(?:单元){_NUM}(?:室|号|户)?")
_HAN_RUN = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf]+(?:·[\u4e00-\u9fff\u3400-\u4dbf]+)*")
NAME_LENGTHS = (2, 3, 4)


@dataclass(frozen=True)
class Finding:
    kind: str
    start: int
    end: int
    client_id: str = ""  # for client_name: whose name it is (an id, never the name)

    def __repr__(self) -> str:  # never the text
        return f"Finding({self.kind}, {self.start}-{self.end})"

    def audit(self) -> dict[str, object]:
        entry: dict[str, object] = {"kind": self.kind, "at": [self.start, self.end]}
        if self.client_id:
            entry["client"] = self.client_id
        return entry


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


# Province-level codes (GB/T 2260), the first two digits. The county part is not checked:
# districts merge and their codes retire, but people keep their numbers.
_PROVINCES = frozenset(
    [
        "11",
        "12",
        "13",
        "14",
        "15",
        "21",
        "22",
        "23",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "50",
        "51",
        "52",
        "53",
        "54",
        "61",
        "62",
        "63",
        "64",
        "65",
        "71",
        "81",
        "82",
    ]
)


def is_citizen_id(number: str) -> bool:
    """An 18-character GB 11643 number: province code, a real birth date, the check digit."""
    if len(number) != 18 or number[:2] not in _PROVINCES:
        return False
    try:
        ric.get_birth_date(number)
    except ValidationError:
        return False
    return ric.calc_check_digit(number) == number[-1].upper()


def citizen_ids(text: str) -> list[Finding]:
    return [
        Finding(CITIZEN_ID, m.start(), m.end())
        for m in _ID.finditer(text)
        if is_citizen_id("".join(m.groups()))
    ]


def phones(text: str) -> list[Finding]:
    found = [Finding(PHONE, m.start(), m.end()) for m in _MOBILE.finditer(text)]
    found += [Finding(PHONE, m.start(), m.end()) for m in _LANDLINE.finditer(text)]
    return found


def bank_cards(text: str, taken: Iterable[Finding] = ()) -> list[Finding]:
    busy = [(f.start, f.end) for f in taken]
    found = []
    for m in _DIGITS.finditer(text):
        number = _digits(m.group())
        if not 16 <= len(number) <= 19 or number[0] not in "34569":
            continue
        if any(s < m.end() and m.start() < e for s, e in busy):
            continue  # already a citizen id or a phone number
        if luhn.is_valid(number):
            found.append(Finding(BANK_CARD, m.start(), m.end()))
    return found


def addresses(text: str) -> list[Finding]:
    spans = [(m.start(), m.end()) for m in _STREET.finditer(text)]
    spans += [(m.start(), m.end()) for m in _UNIT.finditer(text)]
    return [Finding(ADDRESS, s, e) for s, e in sorted(spans)]


def name_candidates(text: str) -> dict[str, list[tuple[int, int]]]:
    """Every substring that could be a Chinese name → where it occurs (2–4 characters of a run
    of Chinese characters, and whole "·"-joined names)."""
    out: dict[str, list[tuple[int, int]]] = {}
    for m in _HAN_RUN.finditer(text):
        run, base = m.group(), m.start()
        if "·" in run:
            out.setdefault(run, []).append((base, m.end()))
            continue
        for size in NAME_LENGTHS:
            for i in range(len(run) - size + 1):
                out.setdefault(run[i : i + size], []).append((base + i, base + i + size))
    return out


NameLookup = Callable[[set[str]], dict[str, str]]  # candidates → {candidate: client id}


def scan(text: str, *, names: NameLookup | None = None, fixed: str = "") -> list[Finding]:
    """Every finding in `text`, in text order; `names` answers which candidates are names of
    clients other than the recipient (None: names are not checked). `fixed`: the template's own
    wording, reviewed once — its words are not name candidates (a client called 健康 must not
    block every message signed 【康链健康】)."""
    ids = citizen_ids(text)
    phone_numbers = phones(text)
    found = ids + phone_numbers + bank_cards(text, ids + phone_numbers) + addresses(text)
    if names is not None:
        candidates = name_candidates(text)
        for word in name_candidates(fixed):
            candidates.pop(word, None)
        if candidates:
            for candidate, client_id in names(set(candidates)).items():
                for start, end in candidates.get(candidate, ()):
                    found.append(Finding(CLIENT_NAME, start, end, client_id))
    return sorted(found, key=lambda f: (f.start, f.kind))


def kinds(findings: Iterable[Finding]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for f in findings:
        counts[f.kind] = counts.get(f.kind, 0) + 1
    return counts
