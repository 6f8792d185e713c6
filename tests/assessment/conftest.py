"""Shared data for the assessment tests: a client with results and a record, built through the
same services (and the trend tests' report writer) as the product builds them."""

from __future__ import annotations

import datetime as dt

import pytest

from careledger.records import services as records
from observations.test_trends_data import write_report


def checkup(world, client_id, day, **values):  # type: ignore[no-untyped-def]
    codes = {
        "sbp": "8480-6",
        "dbp": "8462-4",
        "tc": "2093-3",
        "hdl": "2085-9",
        "ldl": "18262-6",
        "tg": "2571-8",
        "fpg": "2345-7",
        "hba1c": "4548-4",
        "creatinine": "2160-0",
        "waist": "8280-0",
        "bmi": "39156-5",
    }
    return write_report(
        world.manager, client_id, day, [(codes[k], str(v)) for k, v in values.items()]
    )


@pytest.fixture
def patient(world):  # type: ignore[no-untyped-def]
    """A 58-year-old man with hypertension on treatment, a smoker, two check-ups."""
    world.inst.serves_north = True
    world.inst.serves_urban = True
    world.inst.save()
    client_id = world.enrol(sex="M", birth_date=dt.date(1968, 3, 2)).client_id
    checkup(world, client_id, dt.date(2025, 5, 1), sbp=150, fpg=5.9, tc=5.8, hdl=1.1, waist=92)
    checkup(
        world,
        client_id,
        dt.date(2026, 5, 1),
        sbp=146,
        dbp=92,
        tc=5.6,
        hdl=1.05,
        ldl=3.6,
        tg=2.0,
        fpg=6.3,
        hba1c=6.0,
        creatinine=88,
        waist=94,
        bmi=26.4,
    )
    add = records.do_add_entry
    add(actor=world.manager, client_id=client_id, section="conditions",
        data={"code": "I10", "clinical_status": "active", "onset": "2019"})  # fmt: skip
    add(actor=world.manager, client_id=client_id, section="medications",
        data={"drug_name": "氨氯地平", "medication_status": "active"})  # fmt: skip
    add(actor=world.manager, client_id=client_id, section="lifestyle",
        data={"smoking": "current", "cigarettes_per_day": 10, "alcohol": "never",
              "activity_minutes_per_week": 90, "activity_intensity": "moderate"})  # fmt: skip
    add(actor=world.manager, client_id=client_id, section="family_history",
        data={"relation": "MTH", "code": "E11"})  # fmt: skip
    return client_id
