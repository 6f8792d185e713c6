"""A parsed report as JSON and back: what a quarantined item keeps (sealed) for a later retry."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any

from careledger.exams.parsers.types import ParsedReport, ParsedResult, PatientIds


def _default(value: Any) -> str:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def _shallow(obj: Any) -> dict[str, Any]:
    # dataclasses.asdict deep-copies every value; these are flat, immutable values already.
    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}


def dump(report: ParsedReport) -> str:
    data = _shallow(report)
    data["patient"] = _shallow(report.patient)
    data["results"] = [_shallow(r) for r in report.results]
    return json.dumps(data, default=_default, ensure_ascii=False)


def _datetime(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def load(text: str) -> ParsedReport:
    data = json.loads(text)
    patient = dict(data["patient"])
    birth = patient.get("birth_date")
    patient["birth_date"] = dt.date.fromisoformat(birth) if birth else None
    results = [
        ParsedResult(**{**r, "effective_at": _datetime(r.get("effective_at"))})
        for r in data["results"]
    ]
    effective = _datetime(data["effective_at"])
    assert effective is not None
    return ParsedReport(
        **{
            **data,
            "patient": PatientIds(**patient),
            "results": results,
            "effective_at": effective,
        }
    )


def only(report: ParsedReport, result: ParsedResult) -> ParsedReport:
    """The report with just one of its results (a result-level quarantine item)."""
    return dataclasses.replace(report, results=[result])
