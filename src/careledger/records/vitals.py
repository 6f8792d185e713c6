"""Vital signs (生命体征) in the observation store.

Vital signs are observations like any check-up result, so they are stored as one: each
measurement set a health manager types becomes one `Report` (source "manual") with one
`Observation` per value, in the catalogue's canonical unit and flagged against its ranges; BMI
(39156-5) is computed when height and weight are measured together. The trend pages then show
manual and imported blood pressures on one series.

Observations are never edited in place: a mistaken set is retracted (its observations stop being
current, the report's version moves on) and re-entered. The caller seals the report in the ledger
after this module has written its observations (the report's digest covers them).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Q
from django.utils import timezone

from careledger.clients.models import Client
from careledger.crypto.blind_index import blind_index
from careledger.observations import catalogue
from careledger.observations.models import Observation, Report, ReportStatus
from careledger.records.validation import VITAL_FIELDS, as_text

SOURCE = "manual"
BMI = "39156-5"
# Canonical UCUM units, used where the catalogue has no entry for a code.
_UNITS = {
    "8480-6": "mm[Hg]",
    "8462-4": "mm[Hg]",
    "8867-4": "/min",
    "8302-2": "cm",
    "29463-7": "kg",
    "8280-0": "cm",
    BMI: "kg/m2",
}
CODES = (*(code for _name, code, *_rest in VITAL_FIELDS), BMI)
FIELD_OF = {code: name for name, code, *_rest in VITAL_FIELDS} | {BMI: "bmi"}
RECENT_SETS = 10
_STORED = Decimal("0.000001")  # Observation.value's scale


def unit_of(code: str) -> str:
    ind = catalogue.find(code)
    return ind.unit if ind is not None else _UNITS[code]


def _age_on(birth: dt.date, day: dt.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def bmi(height_cm: Decimal, weight_kg: Decimal) -> Decimal:
    metres = height_cm / 100
    return (weight_kg / (metres * metres)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _flag(code: str, value: Decimal, client: Client, day: dt.date) -> str:
    ind = catalogue.find(code)
    if ind is None:
        return ""
    return catalogue.flag(ind, value, sex=client.sex, age=_age_on(client.birth_date, day))


def write_set(*, client: Client, values: dict[str, Any], now: dt.datetime) -> Report:
    """One report and its observations for a validated measurement set (caller's transaction)."""
    measured_at: dt.datetime = values["measured_at"]
    report_id = uuid.uuid4()
    report = Report.objects.create(
        id=report_id,
        institution_id=client.institution_id,
        client=client,
        source_name=SOURCE,
        # The same key scheme as imports (source, its own report id), so keys never collide.
        report_key=blind_index(client.institution_id, "report", f"{SOURCE}\x00id\x00{report_id}"),
        effective_at=measured_at,
        issued_at=now,
        status=ReportStatus.FINAL,
    )
    measured = {code: values[name] for name, code, *_rest in VITAL_FIELDS if values[name]}
    if "8302-2" in measured and "29463-7" in measured:
        measured[BMI] = bmi(measured["8302-2"], measured["29463-7"])
    day = timezone.localtime(measured_at).date()
    Observation.objects.bulk_create(
        Observation(
            institution_id=client.institution_id,
            client=client,
            report=report,
            code=code,
            effective_at=measured_at,
            value=value.quantize(_STORED),
            unit=unit_of(code),
            flag=_flag(code, value, client, day),
            source_value=str(value),
            source_unit=unit_of(code),
            created_at=now,
        )
        for code, value in measured.items()
    )
    return report


def retract_set(*, report: Report, now: dt.datetime) -> Report:
    """Take a manual set out of the record: its observations stop being current."""
    Observation.objects.filter(report=report, is_current=True).update(
        is_current=False, superseded_at=now
    )
    report.version += 1
    report.save(update_fields=["version", "updated_at"])
    return report


def snapshot(report: Report, observations: list[Observation]) -> dict[str, str]:
    """A set's values as a revision keeps them (canonical units, as text)."""
    data = {"measured_at": as_text(report.effective_at)}
    data.update({FIELD_OF[o.code]: as_text(o.value) for o in observations if o.code in FIELD_OF})
    return data


@dataclass(frozen=True)
class VitalSet:
    id: uuid.UUID
    measured_at: dt.datetime
    source_name: str
    values: dict[str, tuple[Decimal | None, str, str]]  # field → (value, unit, flag)

    @property
    def manual(self) -> bool:
        return self.source_name == SOURCE


def recent_sets(client_id: uuid.UUID, limit: int = RECENT_SETS) -> list[VitalSet]:
    """The latest measurement sets with a current vital sign, from any source (two queries)."""
    current = Q(observations__code__in=CODES, observations__is_current=True)
    reports = list(
        Report.objects.filter(current, client_id=client_id)
        .distinct()
        .order_by("-effective_at", "id")
        .only("id", "effective_at", "source_name")[:limit]
    )
    by_report: dict[uuid.UUID, dict[str, tuple[Decimal | None, str, str]]] = {
        r.id: {} for r in reports
    }
    for obs in Observation.objects.filter(
        report_id__in=list(by_report), code__in=CODES, is_current=True
    ).only("report_id", "code", "value", "unit", "flag"):
        by_report[obs.report_id][FIELD_OF[obs.code]] = (obs.value, obs.unit, obs.flag)
    return [VitalSet(r.id, r.effective_at, r.source_name, by_report[r.id]) for r in reports]
