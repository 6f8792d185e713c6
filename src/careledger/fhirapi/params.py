"""FHIR search parameters we answer, parsed from the query string (pure: no Django).

Only what the CapabilityStatement lists; anything else is refused with a specific message rather
than ignored (FHIR lets a server ignore unknown parameters, but a partner who filtered by a
parameter we drop would receive more than they asked for and believe it was less).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from careledger.fhirapi.resources import SEARCH_PARAMS

_DATE = re.compile(r"^(eq|ge|le|gt|lt)?(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?$")
_CODE = re.compile(r"^(?:http://loinc\.org\|)?([0-9]{1,7}-[0-9])$")
# Bookkeeping parameters a client library may send and we answer by ignoring.
HARMLESS = frozenset({"_format"})
MAX_COUNT = 1000


class SearchError(ValueError):
    """A parameter we cannot honour: `code` is the FHIR issue type, the message says why."""

    def __init__(self, message: str, code: str = "invalid") -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Search:
    patient: uuid.UUID | None = None
    ids: tuple[str, ...] = ()
    codes: tuple[str, ...] = ()
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    count: int = MAX_COUNT
    given: tuple[str, ...] = field(default_factory=tuple)


def _patient(value: str) -> uuid.UUID:
    text = value.removeprefix("Patient/")
    try:
        return uuid.UUID(text)
    except ValueError:
        raise SearchError(
            f"patient must be Patient/<id> with a UUID id, not {value[:60]!r}"
        ) from None


def _bound(value: str) -> tuple[str, dt.date, dt.date]:
    match = _DATE.match(value)
    if not match:
        raise SearchError(f"date must be [ge|le|gt|lt|eq]YYYY[-MM[-DD]], not {value[:40]!r}")
    prefix, year, month, day = match.groups()
    try:
        y, m, d = int(year), int(month or 1), int(day or 1)
        start = dt.date(y, m, d)
        if day:
            end = start
        elif month:
            end = (dt.date(y + (m == 12), m % 12 + 1, 1)) - dt.timedelta(days=1)
        else:
            end = dt.date(y, 12, 31)
    except ValueError:
        raise SearchError(f"date {value[:40]!r} is not a calendar date") from None
    return prefix or "eq", start, end


def parse(resource_type: str, query: Mapping[str, Sequence[str]]) -> Search:
    known = {name for name, _kind, _doc in SEARCH_PARAMS.get(resource_type, ())} | {"_count"}
    unknown = sorted(set(query) - known - HARMLESS)
    if unknown:
        raise SearchError(
            f"{resource_type} cannot be searched by {', '.join(unknown)}; see /fhir/R4/metadata",
            code="not-supported",
        )
    patient = None
    if "patient" in query:
        values = list(query["patient"])
        if len(values) != 1:
            raise SearchError("give patient once")
        patient = _patient(values[0])
    ids = tuple(v for raw in query.get("_id", ()) for v in raw.split(",") if v)
    codes = []
    for raw in query.get("code", ()):
        for item in raw.split(","):
            match = _CODE.match(item.strip())
            if not match:
                raise SearchError(
                    f"code must be a LOINC code (system http://loinc.org), not {item[:30]!r}"
                )
            codes.append(match.group(1))
    date_from = date_to = None
    for raw in query.get("date", ()):
        prefix, start, end = _bound(raw)
        if prefix in ("ge", "eq"):
            date_from = max(date_from, start) if date_from else start
        if prefix == "gt":
            nxt = end + dt.timedelta(days=1)
            date_from = max(date_from, nxt) if date_from else nxt
        if prefix in ("le", "eq"):
            date_to = min(date_to, end) if date_to else end
        if prefix == "lt":
            prev = start - dt.timedelta(days=1)
            date_to = min(date_to, prev) if date_to else prev
    count = MAX_COUNT
    if "_count" in query:
        try:
            count = int(list(query["_count"])[-1])
        except ValueError:
            raise SearchError("_count must be a whole number") from None
        if not 1 <= count <= MAX_COUNT:
            raise SearchError(f"_count must be between 1 and {MAX_COUNT}")
    if resource_type == "Patient":
        if not ids:
            raise SearchError("search Patient by _id (a client's id)", code="required")
    elif patient is None:
        raise SearchError(f"search {resource_type} with patient=Patient/<id>", code="required")
    return Search(patient, ids, tuple(codes), date_from, date_to, count, tuple(sorted(query)))
