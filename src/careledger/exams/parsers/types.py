"""What every report parser produces: plain data, no Django, no database.

A parser turns a file (HL7 v2 ORU^R01 messages, a FHIR R4 Bundle, a CSV/XLSX export) into
`ParsedReport`s, each with the patient identifiers the file carried (to match a client through
the blind index), the source's own report id, and its results exactly as written (value, unit,
range and flag as text). Converting units, mapping codes and flagging against the catalogue is
the pipeline's job (careledger.exams.pipeline), not the parser's.

Problems are data too: a result the parser could not read becomes a `ParseProblem` with where it
was (`location`: "row 12", "message 3 OBX 7", "entry 4"), which field, a reason code and a
human message; the rest of the file still comes through. A problem with the whole unit (a
message with no PID, a truncated last message, a row with no date) is a report-level problem and
that report is not emitted. A file that cannot be read at all raises `FileUnreadable`.

Reason codes are a closed set (`Reason`), so the import summary can count them and the UI can
translate them; messages are English, and name the field and what was found, never a name or
ID number (they are stored beside, not inside, the sealed payload).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum


class Reason(StrEnum):
    # Whole file.
    UNREADABLE = "unreadable"  # not this format at all / corrupt zip / not JSON
    ENCODING = "encoding"  # bytes that decode in no supported encoding
    TOO_LARGE = "too_large"
    # One report (message / bundle entry / row group).
    TRUNCATED = "truncated"  # the file ends inside this report
    NO_PATIENT_ID = "no_patient_id"  # neither an ID number nor a card number
    BAD_PATIENT_ID = "bad_patient_id"  # an ID number that fails its check digit
    NO_DATE = "no_date"
    BAD_DATE = "bad_date"
    FUTURE_DATE = "future_date"
    INVALID_RESOURCE = "invalid_resource"  # FHIR resource failing fhir.resources validation
    UNSUPPORTED = "unsupported"  # a unit that carries no results (ADT message, lone Patient)
    MALFORMED = "malformed"  # a line / segment / row that is not of the format (junk, wrong
    #                          number of cells)
    # One result.
    NO_CODE = "no_code"
    NO_VALUE = "no_value"
    BAD_VALUE = "bad_value"  # a value that is neither a number, a comparator+number, nor a
    #                          known qualitative text
    CANCELLED = "cancelled"  # result status says cancelled / deleted / entered in error
    # Decided by the pipeline, listed here so the set is closed.
    UNKNOWN_CODE = "unknown_code"  # no catalogue entry or local-code mapping
    UNIT_NOT_CONVERTIBLE = "unit_not_convertible"
    IMPLAUSIBLE_VALUE = "implausible_value"  # outside what a living human can have
    UNMATCHED_CLIENT = "unmatched_client"
    AMBIGUOUS_CLIENT = "ambiguous_client"
    CONFLICT = "conflict"  # same report and code already imported with another value


@dataclass(frozen=True, slots=True)
class ParseProblem:
    location: str  # "row 12", "message 3, OBX 7", "entry 4"
    field: str  # "OBX-5", "value", "PID-3", "effectiveDateTime"
    reason: Reason
    message: str  # English, names the field and what was wrong; no identifiers, no names
    report_index: int | None = None  # which ParsedReport it belongs to, if any was emitted
    warning: bool = False  # True: nothing was dropped, the report came through regardless (an
    #                        ID number failing its check digit beside a usable card number)


@dataclass(frozen=True, slots=True)
class PatientIds:
    """Identifiers as written in the file (the pipeline normalises and blind-indexes them)."""

    id_number: str = ""  # 居民身份证号 (GB 11643)
    card_number: str = ""  # the centre's membership card number
    name: str = ""  # only to show a person resolving the quarantine; never used to match
    sex: str = ""  # "M" / "F" / "" as the file says
    birth_date: dt.date | None = None


@dataclass(frozen=True, slots=True)
class ParsedResult:
    location: str  # where in the file ("message 2, OBX 5", "row 7, column 血糖")
    local_code: str  # the source's code (OBX-3.1, Observation.code.coding[0].code, column)
    local_name: str  # the source's display name (OBX-3.2, coding.display / code.text)
    coding_system: str  # "LN" / "http://loinc.org" when the source says it is LOINC, else ""
    value: str  # as written: "5.6", "<0.1", "阴性", "1+", "++"
    unit: str  # as written: "mmol/L", "mg/dl", "10^9/L", ""
    reference_range: str  # as written: "3.9-6.1", "<5.2", "阴性"
    flag: str  # source's abnormal flag as written: "H", "L", "HH", "A", "↑", ""
    status: str = "final"  # "final" / "corrected" (OBX-11 C, FHIR corrected/amended)
    effective_at: dt.datetime | None = None  # per-result time if the source gives one
    note: str = ""  # free-text comment on the result (HL7 NTE, FHIR note); seal it like any
    #                 free text


@dataclass(frozen=True, slots=True)
class ParsedReport:
    index: int  # 0-based position among reports in the file
    location: str  # "message 3", "entry 2", "rows 5-38"
    patient: PatientIds
    source_report_id: str  # placer/filler order number, DiagnosticReport.identifier, 体检号;
    #                        "" when the source has none (the pipeline then derives one)
    effective_at: dt.datetime  # aware datetime (Asia/Shanghai where the file gives none)
    results: list[ParsedResult] = field(default_factory=list)
    status: str = "final"
    sending_facility: str = ""  # MSH-4 / Organization; informative
    note: str = ""  # free-text comment on the whole report (NTE after OBR, conclusion); seal it


@dataclass(frozen=True, slots=True)
class ParseOutcome:
    reports: list[ParsedReport]
    problems: list[ParseProblem]
    encoding: str = "utf-8"  # what the bytes were decoded as
    units_read: int = 0  # messages / entries / data rows seen (for progress and the summary)


class FileUnreadable(Exception):
    """The file as a whole cannot be read as the format it was declared as."""

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
