"""The ICD-10 codes a check-up centre records, with their Chinese names (pure, no Django).

The catalogue is `data/icd10_cn.csv` (code, Chinese name, English title): about two hundred
categories and subcategories a health-management centre meets in past history and family history
(hypertension I10–I15, diabetes E10–E14, dyslipidaemia E78.x, hyperuricaemia and gout, fatty
liver, coronary heart disease, stroke, COPD and asthma, CKD stages, thyroid disease, the common
cancers, hepatitis B, obesity, osteoporosis, the usual imaging findings …). Chinese names follow
the national clinical version (国家临床版) / GB/T 14396; where a category is broad and centres use
it for one finding (R91 for a pulmonary nodule, K82.8 for a gallbladder polyp), the name says
that finding. English titles are WHO ICD-10's, used as the FHIR coding display.

A code that is not in the catalogue is refused rather than stored: a free-typed code would put
codes nobody can name (and no cohort query finds) into the record. `resolve()` accepts what a
person types into the form: the code in any case, with or without its dot, full-width
characters, "I10 原发性高血压" as the browser's list inserts it, or the exact Chinese name.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "icd10_cn.csv"
SYSTEM = "http://hl7.org/fhir/sid/icd-10"

_CODE = re.compile(r"^([A-Z])(\d{2})(?:\.?(\d))?$")


@dataclass(frozen=True)
class Icd10:
    code: str
    name_zh: str
    name_en: str

    def name(self, language: str = "zh-hans") -> str:
        return self.name_en if language.startswith("en") else self.name_zh


class UnknownCode(ValueError):
    """The text names no code of the catalogue. `parent` is the catalogue's category of the
    code typed, when there is one (E11.7 → E11), to suggest it."""

    def __init__(self, text: str, parent: Icd10 | None = None) -> None:
        super().__init__(f"unknown ICD-10 code {text!r}")
        self.text = text
        self.parent = parent


@cache
def _catalogue() -> dict[str, Icd10]:
    with DATA.open(encoding="utf-8", newline="") as fh:
        rows = [Icd10(r["code"], r["name_zh"], r["name_en"]) for r in csv.DictReader(fh)]
    return {row.code: row for row in rows}


@cache
def _by_name() -> dict[str, Icd10]:
    return {_fold(entry.name_zh): entry for entry in _catalogue().values()}


def all_codes() -> list[Icd10]:
    """Every entry, in code order."""
    return list(_catalogue().values())


def find(code: str) -> Icd10 | None:
    return _catalogue().get(code)


def get(code: str) -> Icd10:
    entry = find(code)
    if entry is None:
        raise UnknownCode(code)
    return entry


def _fold(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).casefold()


def normalise_code(text: str) -> str | None:
    """ "i10", "E785", "Ｅ７８．５", "E78.5 高脂血症" → the canonical spelling ("I10", "E78.5");
    None when the text does not start with something shaped like an ICD-10 code."""
    compact = unicodedata.normalize("NFKC", text).strip()
    head = compact.split()[0] if compact.split() else ""
    match = _CODE.match(head.upper())
    if match is None:
        return None
    letter, digits, sub = match.groups()
    return f"{letter}{digits}.{sub}" if sub else f"{letter}{digits}"


def resolve(text: str) -> Icd10:
    """The catalogue entry a person meant, or UnknownCode."""
    code = normalise_code(text)
    if code is not None:
        entry = find(code)
        if entry is not None:
            return entry
        raise UnknownCode(code, find(code.split(".")[0]) if "." in code else None)
    by_name = _by_name().get(_fold(text))
    if by_name is not None:
        return by_name
    raise UnknownCode(text.strip())
