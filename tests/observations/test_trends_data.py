"""Test data for the trend tests: check-up reports written the way the import service writes
them (a Report, its Observations in the canonical unit with our flag and the lab's own range
and flag beside it, then one ledger event that seals the report and so its observations).

Imported by the other trend tests as `observations.test_trends_data`; its own tests prove the
data it writes is what a service writes: sealed, verifiable, found by the trend selector.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django.utils import timezone

from careledger.access.enforce import actor_of
from careledger.clients.models import Client
from careledger.crypto.blind_index import blind_index
from careledger.ledger import services as ledger
from careledger.observations import catalogue
from careledger.observations.catalogue.values import parse_value
from careledger.observations.models import Observation, Report

SHANGHAI = ZoneInfo("Asia/Shanghai")

# (code, raw value as the lab sent it, the lab's range, the lab's flag)
Line = tuple[str, str] | tuple[str, str, str] | tuple[str, str, str, str]


def age_on(birth: dt.date, day: dt.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def write_report(
    actor,  # type: ignore[no-untyped-def]
    client_id: uuid.UUID,
    day: dt.date,
    lines: Iterable[Line],
    *,
    source: str = "示范体检中心",
) -> Report:
    """One check-up report with its results, sealed, in one transaction."""
    client = Client.objects.get(pk=client_id)
    at = dt.datetime.combine(day, dt.time(8, 30), tzinfo=SHANGHAI)
    now = timezone.now()
    with transaction.atomic():
        report = Report.objects.create(
            institution_id=client.institution_id,
            client=client,
            source_name=source,
            report_key=blind_index(
                client.institution_id, "report", f"{source}\x00id\x00{uuid.uuid4()}"
            ),
            effective_at=at,
            issued_at=at + dt.timedelta(days=2),
        )
        rows = []
        for line in lines:
            code, raw, source_range, source_flag = (*line, "", "")[:4]
            ind = catalogue.get(code)
            parsed = parse_value(raw, ind)
            if ind.is_ordinal:
                flag = catalogue.ordinal_flag(ind, parsed.text)
            else:
                flag = catalogue.flag(
                    ind,
                    parsed.number,
                    sex=client.sex,
                    age=age_on(client.birth_date, day),
                    comparator=parsed.comparator,
                )
            rows.append(
                Observation(
                    institution_id=client.institution_id,
                    client=client,
                    report=report,
                    code=ind.code,
                    effective_at=at,
                    value=parsed.number,
                    comparator=parsed.comparator,
                    value_text=parsed.text,
                    unit=ind.unit,
                    flag=flag,
                    source_code=code,
                    source_value=raw,
                    source_unit=ind.unit_display,
                    source_range=source_range,
                    source_flag=source_flag,
                    created_at=now,
                )
            )
        Observation.objects.bulk_create(rows)
        ledger.record(
            actor=actor_of(actor),
            action="observation.import",
            purpose="report_sync",
            client_id=str(client.id),
            resource_type="DiagnosticReport",
            resource_id=str(report.id),
            detail={"observations": len(rows)},
            sealed=[report],
        )
    return report


def five_years(actor, client_id: uuid.UUID, *, first_year: int = 2020) -> list[Report]:  # type: ignore[no-untyped-def]
    """Five annual check-ups (12 May) with trajectories: glucose and HbA1c worsening into the
    diabetes range, LDL-C improving under treatment, ALT high for two years then normal,
    creatinine steady then high in the last year, blood pressure high then normal, urine
    protein (ordinal) 阴性 → ± → 1+ → 阴性; haemoglobin and weight along.

    The last check-up against the one before: new abnormal CREA; back to normal SBP, DBP, PRO,
    ALT; significant (by RCV) ALT fall, CREA rise, HbA1c rise (glucose +12 % is inside its
    RCV). For a man born before 1975 (the creatinine band 57–97 applies under 60)."""
    glucose = ["5.4", "5.8", "6.2", "6.6", "7.4"]
    hba1c = ["5.6", "5.8", "6.1", "6.4", "6.9"]
    ldl = ["4.6", "4.3", "3.6", "3.1", "2.6"]
    alt = ["32", "48", "66", "58", "30"]
    crea = ["78", "80", "77", "81", "99"]
    hgb = ["148", "150", "146", "151", "149"]
    weight = ["78.0", "80.5", "82.0", "83.5", "83.0"]
    sbp = ["128", "132", "138", "144", "136"]
    dbp = ["82", "84", "88", "92", "86"]
    protein = ["阴性", "阴性", "±", "1+", "阴性"]
    reports = []
    for i in range(5):
        day = dt.date(first_year + i, 5, 12)
        reports.append(
            write_report(
                actor,
                client_id,
                day,
                [
                    ("2345-7", glucose[i], "3.9-6.1", "↑" if float(glucose[i]) > 6.1 else ""),
                    ("4548-4", hba1c[i], "4.0-6.0"),
                    ("18262-6", ldl[i], "<3.37"),
                    ("1742-6", alt[i], "9-50", "H" if int(alt[i]) > 50 else ""),
                    ("2160-0", crea[i], "57-97"),
                    ("718-7", hgb[i], "130-175"),
                    ("29463-7", weight[i]),
                    ("8480-6", sbp[i]),
                    ("8462-4", dbp[i]),
                    ("2888-6", protein[i], "阴性"),
                ],
            )
        )
    return reports


# --- the factory's own tests: what it writes is what a service writes -------------------


@pytest.mark.django_db
def test_reports_are_sealed_with_their_observations(world):
    from careledger.ledger.models import RowSeal
    from careledger.ledger.rows import row_digest

    enrolled = world.enrol(sex="M", birth_date=dt.date(1968, 3, 2))
    report = write_report(
        world.manager,
        enrolled.client_id,
        dt.date(2023, 5, 1),
        [("2345-7", "6.5", "3.9-6.1", "H"), ("2888-6", "1+")],
    )
    stored = {o.code: o for o in Observation.objects.filter(report=report)}
    assert stored["2345-7"].value == Decimal("6.5") and stored["2345-7"].flag == "H"
    assert stored["2888-6"].value_text == "1+" and stored["2888-6"].flag == "A"
    seal = RowSeal.objects.get(row_id=str(report.id))
    assert seal.digest == row_digest(report)  # covers the observations (sealed_children)
