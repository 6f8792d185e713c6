"""Reads of a client's risk assessments: authorised by the policy, ledgered, a fixed number of
queries (the client, its care teams, the current assessments, the supplied facts, the history
count, the ledger append).

Views and the API get `RiskView` values: what the model said, in the words of its source
(level labels in Chinese and English), with each input beside where it came from. Models never
run here; the page shows what was stored, so what a clinician sees is what the ledger sealed.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Count

from careledger.access.enforce import actor_of, require
from careledger.access.roles import Action
from careledger.accounts.models import User
from careledger.assessment.models import Outcome, RiskAssessment, SuppliedFact
from careledger.assessment.riskmodels import MODELS
from careledger.clients.models import Client
from careledger.clients.services import client_scope
from careledger.ledger import services as ledger

PURPOSE = "care"
SOURCE_LABELS = {
    "client": ("Registration", "登记信息"),
    "observation": ("Result", "检查结果"),
    "record": ("Health record", "健康档案"),
    "derived": ("Derived from the record", "由档案推定"),
    "questionnaire": ("Questionnaire", "问卷"),
    "institution": ("Institution setting", "机构设置"),
    "clinician": ("Given by a clinician", "医务人员填写"),
}


@dataclass(frozen=True)
class InputView:
    name: str
    label_zh: str
    label_en: str
    value: Any
    unit: str
    source: str
    source_zh: str
    source_en: str
    code: str = ""
    at: str = ""


@dataclass(frozen=True)
class RiskView:
    id: uuid.UUID
    model_id: str
    title_zh: str
    title_en: str
    kind: str
    citation: str
    version: str
    applicable: bool
    value: float | None
    unit: str
    probability: float | None
    level: str
    level_zh: str
    level_en: str
    inputs: tuple[InputView, ...]
    reasons: tuple[dict[str, str], ...]
    details: dict[str, Any]
    assessed_at: dt.datetime
    trigger: str
    earlier: int  # superseded assessments of this model kept for this client

    @property
    def percent(self) -> float | None:
        return None if self.probability is None else round(self.probability * 100, 1)


@dataclass(frozen=True)
class ClientRisks:
    client_id: uuid.UUID
    risks: tuple[RiskView, ...]  # registry order: risk models, then classifications
    supplied: dict[str, Any] = field(default_factory=dict)
    emergency: bool = False

    @property
    def models(self) -> tuple[RiskView, ...]:
        return tuple(r for r in self.risks if r.kind == "risk_model")

    @property
    def classifications(self) -> tuple[RiskView, ...]:
        return tuple(r for r in self.risks if r.kind != "risk_model")


def _spec(model, name: str):  # type: ignore[no-untyped-def]
    if model is None:
        return None
    try:
        return model.input(name)
    except KeyError:
        return None


def _inputs(model_id: str, stored: dict[str, dict[str, Any]]) -> tuple[InputView, ...]:
    model = MODELS.get(model_id)
    shown = []
    for name, entry in stored.items():
        spec = _spec(model, name)
        source = entry.get("source", "")
        en, zh = SOURCE_LABELS.get(source, (source, source))
        shown.append(
            InputView(
                name=name,
                label_zh=spec.label_zh if spec else name,
                label_en=spec.label_en if spec else name,
                value=entry.get("value"),
                unit=(spec.unit or "") if spec and spec.unit not in ("1", "{score}") else "",
                source=source,
                source_zh=zh,
                source_en=en,
                code=entry.get("code", ""),
                at=entry.get("at", ""),
            )
        )
    return tuple(shown)


def _view(row: RiskAssessment, earlier: int) -> RiskView:
    model = MODELS.get(row.model_id)
    result = row.result or {}
    return RiskView(
        id=row.id,
        model_id=row.model_id,
        title_zh=model.title_zh if model else row.model_id,
        title_en=model.title_en if model else row.model_id,
        kind=model.kind if model else "risk_model",
        citation=model.citation if model else "",
        version=row.model_version,
        applicable=row.outcome == Outcome.ASSESSED,
        value=None if row.value is None else float(row.value),
        unit=row.unit,
        probability=None if row.probability is None else float(row.probability),
        level=row.level,
        level_zh=result.get("level_zh", ""),
        level_en=result.get("level_en", ""),
        inputs=_inputs(row.model_id, row.inputs or {}),
        reasons=tuple(result.get("reasons", ())),
        details=result.get("details", {}),
        assessed_at=row.assessed_at,
        trigger=row.trigger,
        earlier=earlier,
    )


def client_risks(actor: User, client_id: uuid.UUID) -> ClientRisks:
    """The client's current assessment of every model (the risk page and the API)."""
    client = Client.objects.get(pk=client_id)
    decision = require(actor, Action.RISK_VIEW, client_scope(client), purpose=PURPOSE)
    order = {model_id: n for n, model_id in enumerate(MODELS)}
    with transaction.atomic():
        rows = list(RiskAssessment.objects.filter(client=client, is_current=True))
        earlier = dict(
            RiskAssessment.objects.filter(client=client, is_current=False)
            .order_by()
            .values("model_id")
            .annotate(n=Count("id"))
            .values_list("model_id", "n")
        )
        supplied = dict(SuppliedFact.objects.filter(client=client).values_list("name", "value"))
        ledger.record(
            actor=actor_of(actor),
            action=str(Action.RISK_VIEW),
            purpose=decision.purpose(PURPOSE),
            client_id=str(client.id),
            resource_type="RiskAssessment",
            detail={"assessments": len(rows)},
        )
    rows.sort(key=lambda r: order.get(r.model_id, len(order)))
    return ClientRisks(
        client_id=client.id,
        risks=tuple(_view(r, earlier.get(r.model_id, 0)) for r in rows),
        supplied=supplied,
        emergency=decision.emergency,
    )


def current_rows(actor: User, client_id: uuid.UUID) -> list[RiskAssessment]:
    """The current rows themselves, for the FHIR export (authorised and ledgered)."""
    client = Client.objects.get(pk=client_id)
    decision = require(actor, Action.RISK_VIEW, client_scope(client), purpose=PURPOSE)
    with transaction.atomic():
        rows = list(RiskAssessment.objects.filter(client=client, is_current=True))
        ledger.record(
            actor=actor_of(actor),
            action=str(Action.RISK_VIEW),
            purpose=decision.purpose(PURPOSE),
            client_id=str(client.id),
            resource_type="RiskAssessment",
            detail={"assessments": len(rows), "format": "fhir"},
        )
    return rows
