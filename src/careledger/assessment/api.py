"""Risk routes of the JSON API.

`router`, mounted at /api/clients/{client_id}/risk: the current assessments (GET) and a new run
(POST) on the same path; the facts a clinician gave (GET /facts) and gives or withdraws (PUT
/facts); the FHIR RiskAssessment resources (GET /fhir). Every path answers GET, so the
route-enumeration test (invariant 1) reaches its authorisation. `config_router`, mounted at
/api/config/risk-models: the models and their inputs (no client data). Thin wrappers over the
page's selectors and services, so the same policy and ledger apply."""

from __future__ import annotations

import uuid
from typing import Any

from django.http import HttpRequest
from ninja import Body, Path, Router, Schema

from careledger.assessment import fhir, selectors, services
from careledger.assessment.riskmodels import MODELS

router = Router(tags=["risk assessment"])
config_router = Router(tags=["risk assessment"])


class InputRead(Schema):
    name: str
    label_zh: str
    label_en: str
    value: Any = None
    unit: str
    source: str
    code: str = ""
    at: str = ""


class RiskRead(Schema):
    id: uuid.UUID
    model: str
    version: str
    title_zh: str
    title_en: str
    kind: str
    citation: str
    applicable: bool
    value: float | None = None
    unit: str
    probability: float | None = None
    level: str
    level_zh: str
    level_en: str
    reasons: list[dict[str, str]]
    details: dict[str, Any]
    inputs: list[InputRead]
    assessed_at: Any
    trigger: str
    earlier: int


class ClientRisksRead(Schema):
    client_id: uuid.UUID
    emergency: bool
    supplied: dict[str, Any]
    risks: list[RiskRead]


class RunRead(Schema):
    clients: int
    evaluated: int
    written: int


class FactsUpdate(Schema):
    """Facts by name: true/false (or a choice code for `family_diabetes`); null withdraws."""

    facts: dict[str, bool | str | None]


def _risk(r: selectors.RiskView) -> dict[str, Any]:
    return {
        **{k: getattr(r, k) for k in RiskRead.model_fields if hasattr(r, k) and k != "inputs"},
        "model": r.model_id,
        "reasons": list(r.reasons),
        "inputs": [i.__dict__ for i in r.inputs],
    }


@router.get("", response=ClientRisksRead)
def client_risks(request: HttpRequest, client_id: Path[uuid.UUID]):  # type: ignore[no-untyped-def]
    data = selectors.client_risks(request.user, client_id)
    return {
        "client_id": data.client_id,
        "emergency": data.emergency,
        "supplied": data.supplied,
        "risks": [_risk(r) for r in data.risks],
    }


@router.post("", response=RunRead)
def assess(request: HttpRequest, client_id: Path[uuid.UUID]):  # type: ignore[no-untyped-def]
    return services.do_assess_client(actor=request.user, client_id=client_id).__dict__


@router.get("/facts", response=dict[str, Any])
def supplied_facts(request: HttpRequest, client_id: Path[uuid.UUID]):  # type: ignore[no-untyped-def]
    """The facts a clinician gave for this client (name → value)."""
    return selectors.client_risks(request.user, client_id).supplied


@router.put("/facts", response=RunRead)
def supply_facts(request: HttpRequest, client_id: Path[uuid.UUID], payload: Body[FactsUpdate]):  # type: ignore[no-untyped-def]
    summary = services.do_supply_facts(actor=request.user, client_id=client_id, data=payload.facts)
    return summary.__dict__


@router.get("/fhir")
def fhir_bundle(request: HttpRequest, client_id: Path[uuid.UUID]):  # type: ignore[no-untyped-def]
    """The current assessments as a FHIR R4 searchset Bundle of RiskAssessment resources."""
    rows = selectors.current_rows(request.user, client_id)
    entries = []
    for row in rows:
        model = MODELS.get(row.model_id)
        result = row.result or {}
        resource = fhir.risk_assessment(
            id=str(row.id),
            client_id=str(row.client_id),
            model_id=row.model_id,
            model_version=row.model_version,
            title=model.title_zh if model else row.model_id,
            applicable=row.outcome == "assessed",
            probability=None if row.probability is None else float(row.probability),
            value=None if row.value is None else float(row.value),
            unit=row.unit,
            level=row.level,
            level_label=result.get("level_zh", ""),
            inputs=row.inputs or {},
            reasons=result.get("reasons", []),
            assessed_at=row.assessed_at,
        )
        entries.append({"fullUrl": f"urn:uuid:{row.id}", "resource": resource})
    return {"resourceType": "Bundle", "type": "searchset", "total": len(entries), "entry": entries}


@config_router.get("")
def list_models(request: HttpRequest):  # type: ignore[no-untyped-def]
    """Every model and classification with its source and inputs (ranges, units, LOINC codes)."""
    return [
        {
            "id": m.id,
            "version": m.version,
            "kind": m.kind,
            "title_zh": m.title_zh,
            "title_en": m.title_en,
            "citation": m.citation,
            "inputs": [s.to_dict() for s in m.inputs],
        }
        for m in MODELS.values()
    ]
