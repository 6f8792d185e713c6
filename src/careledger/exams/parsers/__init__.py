"""Report parsers: HL7 v2 ORU^R01, FHIR R4 Bundles, CSV and XLSX → `ParseOutcome`.

Pure Python, no Django, no database: the import pipeline (careledger.exams.pipeline) matches
clients, maps codes, converts units and stores; these modules only read files. See types.py for
the contract and docs/decisions/0005-report-parsers.md for the rules each format follows.

    fmt = detect_format(upload.name, data[:8192])
    outcome = parse(data, fmt=fmt, mapping=saved_mapping, now=timezone.now())
"""

from __future__ import annotations

import datetime as dt

from careledger.exams.parsers.decoding import bom_codec, decode
from careledger.exams.parsers.tabular import DELIMITERS, ColumnMapping, MappingError, sniff_mapping
from careledger.exams.parsers.types import (
    FileUnreadable,
    ParsedReport,
    ParsedResult,
    ParseOutcome,
    ParseProblem,
    PatientIds,
    Reason,
)

FORMATS = ("hl7v2", "fhir", "csv", "xlsx")

# Set on the message of a FileUnreadable / ParseProblem that stands for a bug in a parser rather
# than for something wrong with the file (the fuzz tests assert it never appears).
INTERNAL_ERROR = "internal parser error"

__all__ = [
    "FORMATS",
    "INTERNAL_ERROR",
    "ColumnMapping",
    "FileUnreadable",
    "MappingError",
    "ParseOutcome",
    "ParseProblem",
    "ParsedReport",
    "ParsedResult",
    "PatientIds",
    "Reason",
    "detect_format",
    "parse",
    "sniff_mapping",
]


def parse(
    data: bytes,
    *,
    fmt: str,
    mapping: ColumnMapping | None = None,
    now: dt.datetime,
    max_bytes: int | None = None,
) -> ParseOutcome:
    """Parse `data` as `fmt` ("hl7v2" | "fhir" | "csv" | "xlsx").

    `mapping` is used by csv/xlsx (None: recognised from the header row, see sniff_mapping);
    `now` (aware) bounds dates (FUTURE_DATE) and ID-number birth dates. Bad files raise
    `FileUnreadable`, nothing else: a parser bug surfaces as FileUnreadable(UNREADABLE) whose
    message starts with INTERNAL_ERROR, so a job never dies of an import.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")
    if max_bytes is not None and len(data) > max_bytes:
        raise FileUnreadable(
            Reason.TOO_LARGE,
            f"the file has {len(data)} bytes, more than the limit of {max_bytes}",
        )
    if not data or data.isspace():  # (data.strip() would copy a 50 MB upload)
        raise FileUnreadable(Reason.UNREADABLE, "the file is empty")
    try:
        if fmt == "hl7v2":
            from careledger.exams.parsers.hl7v2 import parse_hl7

            return parse_hl7(data, now=now)
        if fmt == "fhir":
            from careledger.exams.parsers.fhir_bundle import parse_fhir

            return parse_fhir(data, now=now)
        from careledger.exams.parsers.tabular import parse_csv, parse_xlsx

        if fmt == "csv":
            return parse_csv(data, mapping=mapping, now=now)
        return parse_xlsx(data, mapping=mapping, now=now)
    except FileUnreadable:
        raise
    except MemoryError:
        raise
    except Exception as exc:
        raise FileUnreadable(
            Reason.UNREADABLE, f"{INTERNAL_ERROR} ({type(exc).__name__}) reading this {fmt} file"
        ) from exc


def detect_format(filename: str, head: bytes) -> str | None:
    """The format by content (the first few KB; 8 KB recommended), not by the name's extension:
    MSH/FHS/BHS → "hl7v2", a JSON object with "resourceType" → "fhir", a zip holding xl/ →
    "xlsx", delimited text → "csv"; None when it is none of them. `filename` is only a
    tie-breaker for a zip whose first entries do not show yet whether it is a workbook.
    """
    if head.startswith(b"PK\x03\x04"):
        if b"xl/" in head or (
            b"[Content_Types].xml" in head and filename.lower().endswith(".xlsx")
        ):
            return "xlsx"
        return None
    bom = bom_codec(head)
    if bom and bom != "utf-8-sig":
        try:
            text = head.decode(bom, errors="ignore")
        except (UnicodeDecodeError, LookupError):
            return None
    else:
        text = _decode_head(head)
        if text is None:
            return None
    body = text.lstrip("\ufeff \t\r\n\x0b")
    if body[:3] in ("MSH", "FHS", "BHS") and len(body) > 3 and not body[3].isalnum():
        return "hl7v2"
    if body.startswith("{"):
        return "fhir" if '"resourceType"' in body else None
    first = body.split("\n", 1)[0]
    if any(d in first for d in DELIMITERS):
        return "csv"
    return None


def _decode_head(head: bytes) -> str | None:
    # The head may end inside a multi-byte character: drop up to 3 trailing bytes.
    for cut in range(4):
        chunk = head[: len(head) - cut] if cut else head
        try:
            return decode(chunk)[0]
        except FileUnreadable:
            continue
    return None
