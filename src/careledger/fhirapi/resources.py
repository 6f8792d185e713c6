"""FHIR R4 resources this API adds to the ones other apps already build (pure: no Django).

`records.fhir` (conditions), `assessment.fhir` (RiskAssessment), `questionnaires.fhir_response`
(QuestionnaireResponse) and `consent` (Consent) own their mappings; here are the rest: Patient,
laboratory Observation, DiagnosticReport, AuditEvent (a ledger leaf), the CapabilityStatement,
OperationOutcome and Bundles. Every function takes plain values and returns a JSON-ready dict
that validates against fhir.resources' R4B models (`fhirapi.validate`, and the tests).

Why these choices:
* Patient carries what a receiver needs to match a person and nothing more: name, gender, birth
  date, and our internal id as its identifier (system `PATIENT_SYSTEM`). No ID number, phone or
  address: a share is minimal by default (PIPL Art. 6), and the staff API gives the same.
* Observations are the stored canonical values (UCUM), with the catalogue's LOINC code and
  Chinese display; the laboratory's own code, value, unit and range ride along as FHIR does it
  (`code.coding` second entry, `referenceRange.text`), so nothing the source said is lost.
* An AuditEvent is one ledger leaf read back: ids, action, outcome, purpose, time — exactly what
  the leaf holds, never a name (the ledger has none), with the leaf index as `entity.what`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
TERMINOLOGY = "http://terminology.hl7.org/CodeSystem"
PATIENT_SYSTEM = "urn:careledger:patient-id"
SOURCE_CODE_SYSTEM = "urn:careledger:codesystem:source-code"
LEDGER_SYSTEM = "urn:careledger:ledger"
ACTION_SYSTEM = "urn:careledger:codesystem:ledger-action"
PURPOSE_SYSTEM = "urn:careledger:codesystem:purpose-of-use"
ROLE_SYSTEM = "urn:careledger:codesystem:role"

GENDER = {"M": "male", "F": "female"}
# HL7 v2 table 0078 interpretation codes, as FHIR's v3-ObservationInterpretation has them.
INTERPRETATION = {"N": "N", "L": "L", "H": "H", "LL": "LL", "HH": "HH", "A": "A"}
FHIR_DATETIME = "%Y-%m-%dT%H:%M:%S%z"


def instant(value: dt.datetime) -> str:
    """An ISO 8601 date-time with its offset (FHIR requires one when a time is given)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.isoformat()


def _number(value: Decimal | int | float) -> int | float:
    number = Decimal(str(value)).normalize()
    return int(number) if number == number.to_integral_value() else float(number)


def patient(
    *, id: str, name: str, sex: str, birth_date: dt.date, active: bool = True
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": id,
        "identifier": [{"system": PATIENT_SYSTEM, "value": id}],
        "active": active,
        "gender": GENDER.get(sex, "unknown"),
        "birthDate": birth_date.isoformat(),
    }
    if name:
        resource["name"] = [{"use": "official", "text": name}]
    return resource


def observation(
    *,
    id: str,
    patient_id: str,
    code: str,
    display_zh: str,
    display_en: str,
    effective: dt.datetime,
    value: Decimal | None,
    comparator: str,
    value_text: str,
    unit: str,
    flag: str,
    report_id: str,
    is_current: bool = True,
    source_code: str = "",
    source_value: str = "",
    source_unit: str = "",
    source_range: str = "",
) -> dict[str, Any]:
    coding = [{"system": LOINC, "code": code, "display": display_en or code}]
    if source_code and source_code != code:
        coding.append({"system": SOURCE_CODE_SYSTEM, "code": source_code})
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": id,
        # A result a correction superseded stays what was reported then (`final`), tagged
        # `superseded` so a receiver can drop it; the correcting result is the current one.
        "status": "final",
        "category": [
            {
                "coding": [
                    {
                        "system": f"{TERMINOLOGY}/observation-category",
                        "code": "laboratory",
                    }
                ]
            }
        ],
        "code": {"coding": coding, "text": display_zh or display_en or code},
        "subject": {"reference": f"Patient/{patient_id}"},
        "effectiveDateTime": instant(effective),
    }
    if not is_current:
        resource["meta"] = {
            "tag": [{"system": "urn:careledger:tag", "code": "superseded"}],
        }
    if report_id:
        resource["derivedFrom"] = [{"reference": f"DiagnosticReport/{report_id}"}]
    if value is not None and unit not in ("",) and not value_text:
        quantity: dict[str, Any] = {"value": _number(value), "unit": unit}
        if unit != "1":
            quantity.update(system=UCUM, code=unit)
        if comparator:
            quantity["comparator"] = comparator
        resource["valueQuantity"] = quantity
    elif value_text:
        resource["valueString"] = value_text
    elif value is not None:
        resource["valueQuantity"] = {"value": _number(value)}
    if flag in INTERPRETATION:
        resource["interpretation"] = [
            {
                "coding": [
                    {
                        "system": f"{TERMINOLOGY}/v3-ObservationInterpretation",
                        "code": INTERPRETATION[flag],
                    }
                ]
            }
        ]
    if source_range:
        resource["referenceRange"] = [{"text": source_range}]
    if source_value or source_unit:
        resource["note"] = [{"text": f"source: {source_value} {source_unit}".strip()}]
    return resource


def diagnostic_report(
    *,
    id: str,
    patient_id: str,
    effective: dt.datetime,
    issued: dt.datetime | None,
    status: str,
    version: int,
    source_name: str,
    result_ids: Sequence[str],
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "DiagnosticReport",
        "id": id,
        "meta": {"versionId": str(version)},
        "status": "corrected" if status == "corrected" else "final",
        "category": [
            {
                "coding": [
                    {"system": f"{TERMINOLOGY}/v2-0074", "code": "LAB", "display": "Laboratory"}
                ]
            }
        ],
        "code": {
            "coding": [{"system": LOINC, "code": "11502-2", "display": "Laboratory report"}],
            "text": "检查报告",
        },
        "subject": {"reference": f"Patient/{patient_id}"},
        "effectiveDateTime": instant(effective),
    }
    if issued is not None:
        resource["issued"] = instant(issued)
    if source_name:
        resource["performer"] = [{"display": source_name}]
    if result_ids:
        resource["result"] = [{"reference": f"Observation/{rid}"} for rid in result_ids]
    return resource


_OUTCOME = {"allowed": "0", "denied": "4", "failed": "8"}


def audit_event(*, leaf: Mapping[str, Any], seq: int, recorded: dt.datetime) -> dict[str, Any]:
    """One ledger leaf as an AuditEvent. The leaf holds ids and codes only, so does this."""
    action = str(leaf.get("action", ""))
    agent: dict[str, Any] = {
        "type": {"coding": [{"system": ROLE_SYSTEM, "code": str(leaf.get("role") or "unknown")}]},
        "who": {"identifier": {"system": "urn:careledger:actor", "value": str(leaf.get("actor"))}},
        "requestor": True,
    }
    if leaf.get("purpose"):
        agent["purposeOfUse"] = [
            {"coding": [{"system": PURPOSE_SYSTEM, "code": str(leaf["purpose"])}]}
        ]
    if leaf.get("ip"):
        agent["network"] = {"address": str(leaf["ip"]), "type": "2"}
    entity: list[dict[str, Any]] = [
        {"what": {"identifier": {"system": LEDGER_SYSTEM, "value": str(seq)}}}
    ]
    if leaf.get("client"):
        entity.append({"what": {"reference": f"Patient/{leaf['client']}"}})
    resource = leaf.get("resource") or None
    if isinstance(resource, dict) and resource.get("type"):
        entity.append(
            {
                "what": {
                    "identifier": {
                        "system": f"urn:careledger:{resource['type']}",
                        "value": str(resource.get("id") or "-"),
                    }
                }
            }
        )
    return {
        "resourceType": "AuditEvent",
        "id": f"ledger-{seq}",
        "type": {"system": ACTION_SYSTEM, "code": action},
        "recorded": instant(recorded),
        "outcome": _OUTCOME.get(str(leaf.get("outcome")), "8"),
        "agent": [agent],
        "source": {"observer": {"display": "CareLedger audit ledger"}},
        "entity": entity,
    }


def operation_outcome(code: str, diagnostics: str, severity: str = "error") -> dict[str, Any]:
    """FHIR's error body: an issue code from the FHIR value set and a plain explanation."""
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": severity, "code": code, "diagnostics": diagnostics}],
    }


def searchset(
    resources: Iterable[Mapping[str, Any]], *, base: str, self_url: str, total: int | None = None
) -> dict[str, Any]:
    entries = [
        {
            "fullUrl": f"{base}/{r['resourceType']}/{r['id']}",
            "resource": r,
            "search": {"mode": "match"},
        }
        for r in resources
    ]
    return {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": len(entries) if total is None else total,
        "link": [{"relation": "self", "url": self_url}],
        "entry": entries,
    }


def collection(
    resources: Iterable[Mapping[str, Any]], *, base: str, timestamp: dt.datetime, id: str
) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "id": id,
        "type": "collection",
        "timestamp": instant(timestamp),
        "entry": [
            {"fullUrl": f"{base}/{r['resourceType']}/{r['id']}", "resource": r} for r in resources
        ],
    }


# What the CapabilityStatement says of each resource type: the search parameters we answer and
# an honest note where the store holds nothing of that kind yet.
SEARCH_PARAMS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "Patient": (("_id", "token", "the patient's id"),),
    "Observation": (
        ("patient", "reference", "required"),
        ("code", "token", "LOINC code, comma-separated for several"),
        ("date", "date", "effective date, with ge/le/gt/lt prefixes"),
    ),
    "DiagnosticReport": (
        ("patient", "reference", "required"),
        ("date", "date", "effective date, with ge/le/gt/lt prefixes"),
    ),
    "Condition": (("patient", "reference", "required"),),
    "QuestionnaireResponse": (("patient", "reference", "required"),),
    "RiskAssessment": (("patient", "reference", "required"),),
    "CarePlan": (("patient", "reference", "required"),),
    "Consent": (("patient", "reference", "required"),),
    "AuditEvent": (
        ("patient", "reference", "required"),
        ("date", "date", "recorded date, with ge/le/gt/lt prefixes"),
    ),
}


def capability_statement(
    *,
    base: str,
    software_version: str,
    now: dt.datetime,
    token_url: str,
    notes: Mapping[str, str],
    scopes: Sequence[str],
) -> dict[str, Any]:
    resources = []
    for rtype, params in SEARCH_PARAMS.items():
        entry: dict[str, Any] = {
            "type": rtype,
            "interaction": [{"code": "read"}, {"code": "search-type"}],
            "searchParam": [{"name": n, "type": t, "documentation": d} for n, t, d in params],
        }
        if rtype == "Patient":
            entry["operation"] = [
                {
                    "name": "everything",
                    "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything",
                }
            ]
        if notes.get(rtype):
            entry["documentation"] = notes[rtype]
        resources.append(entry)
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": instant(now),
        "kind": "instance",
        "software": {"name": "CareLedger", "version": software_version},
        "implementation": {"description": "康链健康管理系统 FHIR R4 API", "url": base},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json"],
        "rest": [
            {
                "mode": "server",
                "documentation": (
                    "Partners: OAuth 2 client credentials with SMART system scopes ("
                    + ", ".join(scopes)
                    + "); a partner reads only what a client's share grant allows. Staff: the "
                    "signed-in session, under the care-team policy. Every read is ledgered."
                ),
                "security": {
                    "cors": False,
                    "service": [
                        {
                            "coding": [
                                {
                                    "system": f"{TERMINOLOGY}/restful-security-service",
                                    "code": "SMART-on-FHIR",
                                }
                            ]
                        }
                    ],
                    "extension": [
                        {
                            "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
                            "extension": [{"url": "token", "valueUri": token_url}],
                        }
                    ],
                },
                "resource": resources,
                "interaction": [{"code": "batch"}, {"code": "transaction"}],
            }
        ],
    }
