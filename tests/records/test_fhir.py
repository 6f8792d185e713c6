"""Each section's entry maps to a FHIR R4 resource that fhir.resources' R4B models accept, with
the codes the receiving side expects; entries in error say so."""

from __future__ import annotations

import datetime as dt
import importlib
import uuid
from decimal import Decimal

import pytest

from careledger.records import fhir

PATIENT = str(uuid.uuid4())
WHEN = dt.datetime(2025, 3, 1, 9, 30, tzinfo=dt.UTC)

VALUES = {
    "conditions": {
        "code": "E11",
        "onset": "2015-06",
        "clinical_status": "active",
        "note": "控制良好",
    },
    "family_history": {"relation": "MTH", "code": "I10", "onset_age": 50, "note": ""},
    "medications": {
        "drug_name": "二甲双胍缓释片",
        "dose_value": Decimal("0.500"),
        "dose_unit": "g",
        "frequency": "bid",
        "route": "oral",
        "start": "2016",
        "end": "",
        "medication_status": "on_hold",
        "note": "胃部不适时暂停",
    },
    "allergies": {
        "substance": "海鲜",
        "category": "food",
        "reaction": "荨麻疹",
        "severity": "mild",
        "note": "",
    },
    "surgeries": {
        "name": "甲状腺部分切除术",
        "performed": "2012-09",
        "hospital": "某医院",
        "note": "",
    },
    "lifestyle": {
        "smoking": "current",
        "cigarettes_per_day": 10,
        "smoking_years": 20,
        "alcohol": "regular",
        "alcohol_grams_per_week": 200,
        "diet_pattern": "meat_heavy",
        "salt": "high",
        "oil": "moderate",
        "activity_minutes_per_week": 150,
        "activity_intensity": "moderate",
        "sleep_hours": Decimal("6.5"),
        "sleep_quality": "fair",
        "note": "应酬多",
    },
    "vitals": {
        "measured_at": WHEN,
        "sbp": Decimal(138),
        "dbp": Decimal(88),
        "heart_rate": Decimal(72),
        "height": Decimal("168.0"),
        "weight": Decimal("70.0"),
        "waist": None,
        "bmi": Decimal("24.8"),
    },
}
MODULES = {
    "Condition": "condition",
    "FamilyMemberHistory": "familymemberhistory",
    "MedicationStatement": "medicationstatement",
    "AllergyIntolerance": "allergyintolerance",
    "Procedure": "procedure",
    "Observation": "observation",
}


def validate(resource: dict) -> object:  # type: ignore[type-arg]
    kind = resource["resourceType"]
    model = getattr(importlib.import_module(f"fhir.resources.R4B.{MODULES[kind]}"), kind)
    return model.model_validate(resource)


def entry(section: str, status: str = "active") -> fhir.Entry:
    return fhir.Entry(
        id=str(uuid.uuid4()),
        patient_id=PATIENT,
        version=3,
        status=status,
        values=VALUES[section],
        recorded=WHEN,
    )


@pytest.mark.parametrize("status", ["active", "entered_in_error"])
@pytest.mark.parametrize("section", list(VALUES))
def test_every_section_maps_to_valid_r4_resources(section, status):
    resources = fhir.to_fhir(section, entry(section, status))
    assert resources
    for resource in resources:
        validate(resource)
        assert resource["meta"]["versionId"] == "3"
        reference = resource.get("subject") or resource.get("patient")
        assert reference == {"reference": f"Patient/{PATIENT}"}


def test_condition_carries_icd10_with_the_chinese_name_and_clinical_status():
    resource = fhir.condition(entry("conditions"))
    coding = resource["code"]["coding"][0]
    assert coding == {
        "system": "http://hl7.org/fhir/sid/icd-10",
        "code": "E11",
        "display": "Type 2 diabetes mellitus",
    }
    assert resource["code"]["text"] == "2型糖尿病"
    assert resource["clinicalStatus"]["coding"][0]["code"] == "active"
    assert resource["onsetDateTime"] == "2015-06" and resource["note"] == [{"text": "控制良好"}]


def test_entries_in_error_say_so_and_drop_the_clinical_status():
    condition = fhir.condition(entry("conditions", "entered_in_error"))
    assert "clinicalStatus" not in condition
    assert condition["verificationStatus"]["coding"][0]["code"] == "entered-in-error"
    allergy = fhir.allergy_intolerance(entry("allergies", "entered_in_error"))
    assert "clinicalStatus" not in allergy
    assert fhir.procedure(entry("surgeries", "entered_in_error"))["status"] == "entered-in-error"


def test_medication_dosage_uses_standard_timing_route_and_ucum():
    resource = fhir.medication_statement(entry("medications"))
    assert resource["status"] == "on-hold"
    dosage = resource["dosage"][0]
    assert dosage["timing"]["code"]["coding"][0]["code"] == "BID"
    assert dosage["route"]["coding"][0]["code"] == "26643006"
    assert dosage["doseAndRate"][0]["doseQuantity"] == {
        "value": 0.5,
        "unit": "g",
        "system": "http://unitsofmeasure.org",
        "code": "g",
    }


def test_family_history_uses_role_codes_and_onset_age_in_years():
    resource = fhir.family_member_history(entry("family_history"))
    assert resource["relationship"]["coding"][0]["code"] == "MTH"
    assert resource["condition"][0]["onsetAge"]["value"] == 50
    assert resource["condition"][0]["onsetAge"]["code"] == "a"


def test_lifestyle_uses_loinc_social_history_codes():
    resources = fhir.lifestyle_observations(entry("lifestyle"))
    by_code = {r["code"]["coding"][0]["code"]: r for r in resources}
    smoking = by_code["72166-2"]
    assert smoking["category"][0]["coding"][0]["code"] == "social-history"
    assert smoking["valueCodeableConcept"]["coding"][0]["code"] == "77176002"
    assert smoking["note"] == [{"text": "应酬多"}]
    assert by_code["8663-7"]["valueQuantity"]["value"] == 0.5  # 10 cigarettes = half a pack
    assert by_code["82290-8"]["valueQuantity"]["code"] == "min/wk"
    assert by_code["93832-4"]["valueQuantity"]["value"] == 6.5
    assert len({r["id"] for r in resources}) == len(resources) == 12


def test_vital_signs_put_blood_pressure_in_one_panel():
    resources = fhir.vital_sign_observations(entry("vitals"))
    panel = next(r for r in resources if r["code"]["coding"][0]["code"] == "85354-9")
    assert [c["code"]["coding"][0]["code"] for c in panel["component"]] == ["8480-6", "8462-4"]
    codes = {r["code"]["coding"][0]["code"] for r in resources}
    assert codes == {"85354-9", "8867-4", "8302-2", "29463-7", "39156-5"}
    assert all(r["category"][0]["coding"][0]["code"] == "vital-signs" for r in resources)


@pytest.mark.django_db
def test_entries_read_back_from_the_database_map_to_valid_resources(world, member):
    from careledger.records.selectors import health_record
    from careledger.records.services import do_add_entry
    from records.conftest import VALID, vitals_data

    for section, data in VALID.items():
        do_add_entry(actor=world.manager, client_id=member.id, section=section, data=data)
    do_add_entry(actor=world.manager, client_id=member.id, section="vitals", data=vitals_data())
    record = health_record(world.doctor, member.id)
    mapped = 0
    for section, views in record.entries.items():
        for view in views:
            e = fhir.Entry(
                id=str(view.id),
                patient_id=str(member.id),
                version=view.version,
                status=view.status,
                values=view.values,
                recorded=view.updated_at,
            )
            for resource in fhir.to_fhir(section, e):
                validate(resource)
                mapped += 1
    for vital_set in record.vital_sets:
        values = {name: value for name, (value, _unit, _flag) in vital_set.values.items()}
        e = fhir.Entry(
            id=str(vital_set.id),
            patient_id=str(member.id),
            version=1,
            status="active",
            values={"measured_at": vital_set.measured_at, **values},
        )
        for resource in fhir.to_fhir("vitals", e):
            validate(resource)
            mapped += 1
    # five sections, twelve lifestyle answers, the blood-pressure panel and five other vitals
    assert mapped == 5 + 12 + 6
