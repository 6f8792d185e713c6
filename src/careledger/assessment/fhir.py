"""Stored risk assessments as FHIR R4 RiskAssessment resources (pure: no Django, no database).

`method` names the model (this system's code system of model ids, with its version);
`prediction` carries the level as `qualitativeRisk` and, for models that give one, the
probability (a score or a measured value such as eGFR goes in `rationale`). FHIR's `basis`
holds references, which a receiver outside our store could not resolve, so the inputs used are
written as extensions (`INPUT_EXTENSION`: name, value, source, LOINC code, date) instead. A model
that did not apply is `preliminary` with no prediction and its reasons as notes (generated
text naming the missing or out-of-range input, no personal data).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

MODEL_SYSTEM = "urn:careledger:codesystem:risk-model"
LEVEL_SYSTEM = "urn:careledger:codesystem:risk-level"
INPUT_EXTENSION = "urn:careledger:fhir:StructureDefinition:risk-input"
UCUM = "http://unitsofmeasure.org"


def _input_extension(name: str, entry: Mapping[str, Any]) -> dict[str, Any]:
    parts: list[dict[str, Any]] = [{"url": "name", "valueString": name}]
    value = entry.get("value")
    if isinstance(value, bool):
        parts.append({"url": "value", "valueBoolean": value})
    elif isinstance(value, int | float):
        parts.append({"url": "value", "valueDecimal": value})
    elif value is not None:
        parts.append({"url": "value", "valueString": str(value)})
    for key in ("source", "code", "at"):
        if entry.get(key):
            parts.append({"url": key, "valueString": str(entry[key])})
    return {"url": INPUT_EXTENSION, "extension": parts}


def risk_assessment(
    *,
    id: str,
    client_id: str,
    model_id: str,
    model_version: str,
    title: str,
    applicable: bool,
    probability: float | None,
    value: float | None,
    unit: str,
    level: str,
    level_label: str,
    inputs: Mapping[str, Mapping[str, Any]],
    reasons: list[Mapping[str, str]],
    assessed_at: dt.datetime,
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "RiskAssessment",
        "id": id,
        "status": "final" if applicable else "preliminary",
        "subject": {"reference": f"Patient/{client_id}"},
        "occurrenceDateTime": assessed_at.isoformat(),
        "method": {
            "coding": [{"system": MODEL_SYSTEM, "code": model_id, "version": model_version}],
            "text": title,
        },
    }
    if inputs:
        resource["extension"] = [_input_extension(n, e) for n, e in inputs.items()]
    if applicable:
        prediction: dict[str, Any] = {
            "outcome": {"text": title},
            "qualitativeRisk": {
                "coding": [{"system": LEVEL_SYSTEM, "code": level}],
                "text": level_label,
            },
        }
        if probability is not None:
            prediction["probabilityDecimal"] = probability
        if value is not None and probability is None:
            # A score or a measured quantity (eGFR, points): the prediction's rationale holds it.
            prediction["rationale"] = f"{value:g} {unit}".strip()
        resource["prediction"] = [prediction]
    else:
        resource["note"] = [{"text": r.get("zh") or r.get("en", "")} for r in reasons] or [
            {"text": "not applicable"}
        ]
    return resource
