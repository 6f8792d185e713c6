"""Builders for the health-record tests: a client of team A and a valid entry of each section,
written through the services as the product writes them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from careledger.clients.models import Client

# A valid entry of each section, as a form or the API would send it.
VALID: dict[str, dict[str, Any]] = {
    "conditions": {
        "code": "I10",
        "onset": "2015-06",
        "clinical_status": "active",
        "note": "晨起头晕，服药后控制良好",
    },
    "family_history": {"relation": "FTH", "code": "E11", "onset_age": "52", "note": "父亲糖尿病"},
    "medications": {
        "drug_name": "苯磺酸氨氯地平片",
        "dose_value": "5",
        "dose_unit": "mg",
        "frequency": "qd",
        "route": "oral",
        "start": "2015-07",
        "end": "",
        "medication_status": "active",
        "note": "早餐后服用",
    },
    "allergies": {
        "substance": "青霉素",
        "category": "medication",
        "reaction": "全身皮疹",
        "severity": "moderate",
        "note": "2003年注射后出现",
    },
    "surgeries": {
        "name": "腹腔镜阑尾切除术",
        "performed": "2010-05-03",
        "hospital": "浙江大学医学院附属第一医院",
        "note": "术后恢复良好",
    },
    "lifestyle": {
        "smoking": "current",
        "cigarettes_per_day": "10",
        "smoking_years": "20",
        "alcohol": "regular",
        "alcohol_grams_per_week": "150",
        "diet_pattern": "meat_heavy",
        "salt": "high",
        "oil": "moderate",
        "activity_minutes_per_week": "90",
        "activity_intensity": "moderate",
        "sleep_hours": "6.5",
        "sleep_quality": "fair",
        "note": "应酬较多",
    },
}


def vitals_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "measured_at": timezone.now() - dt.timedelta(hours=1),
        "sbp": Decimal(148),
        "dbp": Decimal(92),
        "heart_rate": Decimal(76),
        "height": Decimal("170.0"),
        "weight": Decimal("78.5"),
        "waist": Decimal("92.0"),
    }
    data.update(overrides)
    return data


@pytest.fixture
def member(world):  # type: ignore[no-untyped-def]
    """A client of team A (the manager's, doctor's and nurse's team), born 1970."""
    enrolled = world.enrol(name="欧阳明月", birth_date=dt.date(1970, 3, 9), sex="M")
    return Client.objects.get(pk=enrolled.client_id)


@pytest.fixture(autouse=True)
def _english_messages():  # type: ignore[no-untyped-def]
    """Assertions read the English wording; pages that test Chinese switch explicitly."""
    from django.utils import translation

    with translation.override("en"):
        yield
