"""Health-record entries as FHIR R4 resources (pure functions, no Django).

One function per section, each taking an `Entry` (what the selectors give: id, the client's id,
version, status and the entry's values) and returning the resource as a JSON-ready dict, valid
against the R4 models of fhir.resources (the tests validate every one). The sharing API of a later
issue serves these; nothing here reads the database.

Codes: ICD-10 (WHO system URI, English title as the coding's display, the Chinese name as
`code.text`); HL7 v3 RoleCode for relatives; v3 GTSAbbreviation for dose timing; SNOMED CT for
routes and smoking status; UCUM for quantities; LOINC for social history — 72166-2 tobacco
smoking status, 8663-7 cigarettes smoked (packs a day), 88029-4 tobacco use duration, 11331-6
history of alcohol use, 82290-8 moderate-to-vigorous physical activity (min/week), 93832-4 sleep
duration. Answers LOINC has no code for (grams of alcohol a week, diet pattern, salt, oil,
activity intensity, sleep quality) use this system's own code system, `LOCAL`.

An entry entered in error keeps its resource with status / verificationStatus
"entered-in-error" (and no clinical status, as FHIR requires for Condition and
AllergyIntolerance), so a receiver that already has it learns to discard it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from careledger.records import icd10

UCUM = "http://unitsofmeasure.org"
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
TERMINOLOGY = "http://terminology.hl7.org/CodeSystem"
LOCAL = "urn:careledger:codesystem:lifestyle"
ENTERED_IN_ERROR = "entered_in_error"

ROLE_CODES = {
    "FTH": "father",
    "MTH": "mother",
    "BRO": "brother",
    "SIS": "sister",
    "SON": "natural son",
    "DAU": "natural daughter",
    "PGRFTH": "paternal grandfather",
    "PGRMTH": "paternal grandmother",
    "MGRFTH": "maternal grandfather",
    "MGRMTH": "maternal grandmother",
    "UNCLE": "uncle",
    "AUNT": "aunt",
}
TIMING = {
    "qd": "QD",
    "bid": "BID",
    "tid": "TID",
    "qid": "QID",
    "q8h": "Q8H",
    "qod": "QOD",
    "bed": "BED",
    "wk": "WK",
}
ROUTES = {
    "oral": ("26643006", "Oral route"),
    "sublingual": ("37839007", "Sublingual route"),
    "sc": ("34206005", "Subcutaneous route"),
    "im": ("78421000", "Intramuscular route"),
    "iv": ("47625008", "Intravenous route"),
    "inhaled": ("447694001", "Respiratory tract route"),
    "nasal": ("46713006", "Nasal route"),
    "ophthalmic": ("54485002", "Ophthalmic route"),
    "topical": ("6064005", "Topical route"),
    "transdermal": ("45890007", "Transdermal route"),
    "rectal": ("37161004", "Rectal route"),
}
SMOKING = {
    "never": ("266919005", "Never smoked tobacco"),
    "former": ("8517006", "Ex-smoker"),
    "current": ("77176002", "Smoker"),
}
VITALS = {
    # field: (LOINC, display, UCUM unit)
    "heart_rate": ("8867-4", "Heart rate", "/min"),
    "height": ("8302-2", "Body height", "cm"),
    "weight": ("29463-7", "Body weight", "kg"),
    "waist": ("8280-0", "Waist Circumference at umbilicus by Tape measure", "cm"),
    "bmi": ("39156-5", "Body mass index (BMI) [Ratio]", "kg/m2"),
}


@dataclass(frozen=True)
class Entry:
    id: str
    patient_id: str
    version: int
    status: str  # "active" or "entered_in_error"
    values: Mapping[str, Any]
    recorded: dt.datetime | None = None  # when this version was recorded

    @property
    def in_error(self) -> bool:
        return self.status == ENTERED_IN_ERROR


def _coding(system: str, code: str, display: str = "") -> dict[str, Any]:
    coding = {"system": system, "code": code}
    if display:
        coding["display"] = display
    return {"coding": [coding]}


def _number(value: Decimal | int | float) -> int | float:
    number = Decimal(str(value))
    return int(number) if number == number.to_integral_value() else float(number)


def _quantity(value: Any, unit: str) -> dict[str, Any]:
    return {"value": _number(value), "unit": unit, "system": UCUM, "code": unit}


def _icd10(code: str) -> dict[str, Any]:
    entry = icd10.get(code)
    concept = _coding(icd10.SYSTEM, entry.code, entry.name_en)
    concept["text"] = entry.name_zh
    return concept


def _base(resource_type: str, e: Entry) -> dict[str, Any]:
    return {"resourceType": resource_type, "id": e.id, "meta": {"versionId": str(e.version)}}


def _note(e: Entry, resource: dict[str, Any]) -> dict[str, Any]:
    if e.values.get("note"):
        resource["note"] = [{"text": e.values["note"]}]
    return resource


def _patient(e: Entry) -> dict[str, str]:
    return {"reference": f"Patient/{e.patient_id}"}


def _recorded(e: Entry) -> str | None:
    return e.recorded.isoformat() if e.recorded else None


def condition(e: Entry) -> dict[str, Any]:
    resource = _base("Condition", e)
    if not e.in_error:
        resource["clinicalStatus"] = _coding(
            f"{TERMINOLOGY}/condition-clinical", e.values["clinical_status"]
        )
    resource["verificationStatus"] = _coding(
        f"{TERMINOLOGY}/condition-ver-status", "entered-in-error" if e.in_error else "confirmed"
    )
    resource["category"] = [_coding(f"{TERMINOLOGY}/condition-category", "problem-list-item")]
    resource["code"] = _icd10(e.values["code"])
    resource["subject"] = _patient(e)
    if e.values.get("onset"):
        resource["onsetDateTime"] = e.values["onset"]
    if e.recorded:
        resource["recordedDate"] = _recorded(e)
    return _note(e, resource)


def family_member_history(e: Entry) -> dict[str, Any]:
    resource = _base("FamilyMemberHistory", e)
    resource["status"] = "entered-in-error" if e.in_error else "completed"
    resource["patient"] = _patient(e)
    relation = e.values["relation"]
    resource["relationship"] = _coding(
        f"{TERMINOLOGY}/v3-RoleCode", relation, ROLE_CODES.get(relation, "")
    )
    item: dict[str, Any] = {"code": _icd10(e.values["code"])}
    if e.values.get("onset_age") is not None:
        item["onsetAge"] = _quantity(e.values["onset_age"], "a")
    resource["condition"] = [item]
    if e.recorded:
        resource["date"] = _recorded(e)
    return _note(e, resource)


def _dosage(values: Mapping[str, Any]) -> dict[str, Any] | None:
    dosage: dict[str, Any] = {}
    frequency = values.get("frequency") or ""
    if frequency == "prn":
        dosage["asNeededBoolean"] = True
    elif frequency:
        dosage["timing"] = {"code": _coding(f"{TERMINOLOGY}/v3-GTSAbbreviation", TIMING[frequency])}
    if values.get("route"):
        dosage["route"] = _coding(SNOMED, *ROUTES[values["route"]])
    if values.get("dose_value") is not None and values.get("dose_unit"):
        dosage["doseAndRate"] = [
            {"doseQuantity": _quantity(values["dose_value"], values["dose_unit"])}
        ]
    return dosage or None


def medication_statement(e: Entry) -> dict[str, Any]:
    resource = _base("MedicationStatement", e)
    status = e.values["medication_status"].replace("_", "-")
    resource["status"] = "entered-in-error" if e.in_error else status
    resource["medicationCodeableConcept"] = {"text": e.values["drug_name"]}
    resource["subject"] = _patient(e)
    period = {k: e.values[k] for k in ("start", "end") if e.values.get(k)}
    if period:
        resource["effectivePeriod"] = period
    if e.recorded:
        resource["dateAsserted"] = _recorded(e)
    dosage = _dosage(e.values)
    if dosage:
        resource["dosage"] = [dosage]
    return _note(e, resource)


def allergy_intolerance(e: Entry) -> dict[str, Any]:
    resource = _base("AllergyIntolerance", e)
    if not e.in_error:
        resource["clinicalStatus"] = _coding(f"{TERMINOLOGY}/allergyintolerance-clinical", "active")
    resource["verificationStatus"] = _coding(
        f"{TERMINOLOGY}/allergyintolerance-verification",
        "entered-in-error" if e.in_error else "confirmed",
    )
    resource["category"] = [e.values["category"]]
    resource["code"] = {"text": e.values["substance"]}
    resource["patient"] = _patient(e)
    if e.recorded:
        resource["recordedDate"] = _recorded(e)
    if e.values.get("reaction"):
        reaction: dict[str, Any] = {"manifestation": [{"text": e.values["reaction"]}]}
        if e.values.get("severity"):
            reaction["severity"] = e.values["severity"]
        resource["reaction"] = [reaction]
    return _note(e, resource)


def procedure(e: Entry) -> dict[str, Any]:
    resource = _base("Procedure", e)
    resource["status"] = "entered-in-error" if e.in_error else "completed"
    resource["code"] = {"text": e.values["name"]}
    resource["subject"] = _patient(e)
    if e.values.get("performed"):
        resource["performedDateTime"] = e.values["performed"]
    if e.values.get("hospital"):
        resource["location"] = {"display": e.values["hospital"]}
    return _note(e, resource)


def _observation(
    e: Entry, suffix: str, category: str, code: dict[str, Any], when: str | None
) -> dict[str, Any]:
    resource = _base("Observation", e)
    resource["id"] = f"{e.id}-{suffix}"
    resource["status"] = "entered-in-error" if e.in_error else "final"
    resource["category"] = [_coding(f"{TERMINOLOGY}/observation-category", category)]
    resource["code"] = code
    resource["subject"] = _patient(e)
    if when:
        resource["effectiveDateTime"] = when
    return resource


def _answer(value: str) -> dict[str, Any]:
    return _coding(LOCAL, value)


# Lifestyle answers as observations: field → (id suffix, code, how the value is written).
_LIFESTYLE: tuple[tuple[str, str, dict[str, Any], str], ...] = (
    ("smoking", "smoking", _coding(LOINC, "72166-2", "Tobacco smoking status"), "smoking"),
    (
        "cigarettes_per_day",
        "cigarettes",
        _coding(LOINC, "8663-7", "Cigarettes smoked current (pack per day) - Reported"),
        "packs",
    ),
    ("smoking_years", "smoking-years", _coding(LOINC, "88029-4", "Tobacco use duration"), "a"),
    ("alcohol", "alcohol", _coding(LOINC, "11331-6", "History of Alcohol use"), "answer"),
    ("alcohol_grams_per_week", "alcohol-grams", _coding(LOCAL, "alcohol-grams-per-week"), "g/wk"),
    ("diet_pattern", "diet", _coding(LOCAL, "diet-pattern"), "answer"),
    ("salt", "salt", _coding(LOCAL, "salt-intake"), "answer"),
    ("oil", "oil", _coding(LOCAL, "cooking-oil-intake"), "answer"),
    (
        "activity_minutes_per_week",
        "activity",
        _coding(LOINC, "82290-8", "Frequency of moderate to vigorous aerobic physical activity"),
        "min/wk",
    ),
    ("activity_intensity", "activity-intensity", _coding(LOCAL, "activity-intensity"), "answer"),
    ("sleep_hours", "sleep", _coding(LOINC, "93832-4", "Sleep duration"), "h"),
    ("sleep_quality", "sleep-quality", _coding(LOCAL, "sleep-quality"), "answer"),
)


def lifestyle_observations(e: Entry) -> list[dict[str, Any]]:
    """One social-history Observation per answered question (the note goes on the first)."""
    when = _recorded(e)
    resources = []
    for name, suffix, code, kind in _LIFESTYLE:
        value = e.values.get(name)
        if value in (None, ""):
            continue
        resource = _observation(e, suffix, "social-history", code, when)
        if kind == "smoking":
            resource["valueCodeableConcept"] = _coding(SNOMED, *SMOKING[value])
        elif kind == "answer":
            resource["valueCodeableConcept"] = _answer(value)
        elif kind == "packs":  # LOINC counts packs of 20
            resource["valueQuantity"] = _quantity(Decimal(value) / 20, "{pack}/d")
        else:
            resource["valueQuantity"] = _quantity(value, kind)
        resources.append(resource)
    if resources:
        _note(e, resources[0])
    return resources


def vital_sign_observations(e: Entry) -> list[dict[str, Any]]:
    """A measurement set (values: measured_at and the canonical values by field) as vital-signs
    Observations: blood pressure as the 85354-9 panel with its two components."""
    when = e.values["measured_at"]
    when = when.isoformat() if isinstance(when, dt.datetime) else str(when)
    resources = []
    if e.values.get("sbp") is not None and e.values.get("dbp") is not None:
        bp = _observation(
            e, "bp", "vital-signs", _coding(LOINC, "85354-9", "Blood pressure panel"), when
        )
        bp["component"] = [
            {
                "code": _coding(LOINC, code, display),
                "valueQuantity": _quantity(e.values[name], "mm[Hg]"),
            }
            for name, code, display in (
                ("sbp", "8480-6", "Systolic blood pressure"),
                ("dbp", "8462-4", "Diastolic blood pressure"),
            )
        ]
        resources.append(bp)
    for name, (code, display, unit) in VITALS.items():
        if e.values.get(name) is not None:
            resource = _observation(
                e, name.replace("_", "-"), "vital-signs", _coding(LOINC, code, display), when
            )
            resource["valueQuantity"] = _quantity(e.values[name], unit)
            resources.append(resource)
    return resources


_MAPPERS = {
    "conditions": condition,
    "family_history": family_member_history,
    "medications": medication_statement,
    "allergies": allergy_intolerance,
    "surgeries": procedure,
}


def to_fhir(section: str, e: Entry) -> list[dict[str, Any]]:
    """Any section's entry as its FHIR resources (one, or several observations)."""
    if section == "lifestyle":
        return lifestyle_observations(e)
    if section == "vitals":
        return vital_sign_observations(e)
    return [_MAPPERS[section](e)]
