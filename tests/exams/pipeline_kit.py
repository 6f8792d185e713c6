"""Builders for pipeline tests: a job of a source, and parsed reports as a parser returns them."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from zoneinfo import ZoneInfo

from careledger.exams.models import ImportJob, ImportSource
from careledger.exams.parsers.types import ParsedReport, ParsedResult, PatientIds

SHANGHAI = ZoneInfo("Asia/Shanghai")


def make_job(actor, source_name: str = "城东体检中心"):  # type: ignore[no-untyped-def]
    source, _ = ImportSource.objects.get_or_create(
        institution_id=actor.institution_id, name=source_name, defaults={"format": "hl7v2"}
    )
    job = ImportJob(
        institution_id=actor.institution_id,
        source=source,
        format="hl7v2",
        file_sha256=hashlib.sha256(uuid.uuid4().bytes).hexdigest(),
        size_bytes=1,
        created_by=actor,
    )
    job.filename = "test.hl7"
    job.save()
    return job


def result(code: str, value: str, unit: str = "", **kw) -> ParsedResult:  # type: ignore[no-untyped-def]
    return ParsedResult(
        location=kw.pop("location", f"OBX {code}"),
        local_code=code,
        local_name=kw.pop("name", ""),
        coding_system=kw.pop("system", ""),
        value=value,
        unit=unit,
        reference_range=kw.pop("range", ""),
        flag=kw.pop("flag", ""),
        **kw,
    )


def report(  # type: ignore[no-untyped-def]
    *results: ParsedResult,
    id_number: str = "",
    card_number: str = "",
    name: str = "",
    report_id: str = "R-1",
    day: dt.date = dt.date(2024, 5, 6),
    index: int = 0,
    status: str = "final",
) -> ParsedReport:
    return ParsedReport(
        index=index,
        location=f"message {index + 1}",
        patient=PatientIds(id_number=id_number, card_number=card_number, name=name),
        source_report_id=report_id,
        effective_at=dt.datetime.combine(day, dt.time(8, 30), tzinfo=SHANGHAI),
        results=list(results),
        status=status,
    )
