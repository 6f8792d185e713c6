"""A response as a FHIR R4 QuestionnaireResponse (JSON-ready dict). Pure: no Django.

Nested as the questionnaire nests its groups (an item appears only with answers, a group only
with answered items, display items never); `questionnaire` is the canonical `url|version` of the
exact version answered; the subject is the client's internal id (`Patient/<uuid>`), never a name.
Answers: valueBoolean, valueInteger, valueDecimal, valueDate, valueString, and valueCoding for
options (system, code, display as the questionnaire has them); an open-choice "other" is a
valueString. Scores travel as extensions of the response (`SCORE_RESULT_URL`: code, value, band),
so a receiver that knows nothing of them can ignore them. Valid against fhir.resources' R4B
QuestionnaireResponse (the tests check).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from careledger.questionnaires.definition import BASE, Definition, Item
from careledger.questionnaires.scoring import Score
from careledger.questionnaires.values import Other

SCORE_RESULT_URL = f"{BASE}/questionnaire-response-score"
STATUS = {"in_progress": "in-progress", "completed": "completed"}


def _answer(item: Item, value: Any) -> dict[str, Any]:
    if isinstance(value, Other):
        return {"valueString": value.text}
    if item.type in ("choice", "open-choice"):
        option = item.option(value)
        coding = {"code": str(value)}
        if option is not None:
            if option.system:
                coding["system"] = option.system
            coding["display"] = option.display
        return {"valueCoding": coding}
    if item.type == "boolean":
        return {"valueBoolean": bool(value)}
    if item.type == "integer":
        return {"valueInteger": int(value)}
    if item.type == "decimal":
        return {"valueDecimal": float(Decimal(str(value)))}
    if item.type == "date":
        return {"valueDate": value.isoformat() if isinstance(value, dt.date) else str(value)}
    return {"valueString": str(value)}


def _items(items: Sequence[Item], answers: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for item in items:
        if item.type == "group":
            children = _items(item.items, answers)
            if children:
                node = {"linkId": item.link_id, "item": children}
                if item.text:
                    node["text"] = item.text
                out.append(node)
        elif item.is_question and answers.get(item.link_id):
            node = {
                "linkId": item.link_id,
                "answer": [_answer(item, v) for v in answers[item.link_id]],
            }
            if item.text:
                node["text"] = item.text
            out.append(node)
    return out


def _score_extension(score: Score) -> dict[str, Any]:
    parts: list[dict[str, Any]] = [{"url": "code", "valueCode": score.code}]
    if score.rounded is not None:
        parts.append({"url": "value", "valueDecimal": float(score.rounded)})
    if score.band:
        parts.append({"url": "band", "valueCode": score.band})
    return {"url": SCORE_RESULT_URL, "extension": parts}


def to_fhir(
    *,
    response_id: str,
    defn: Definition,
    client_id: str,
    status: str,
    answers: Mapping[str, Sequence[Any]],
    authored: dt.datetime | None,
    scores: Sequence[Score] = (),
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "id": response_id,
        "questionnaire": f"{defn.url}|{defn.version}" if defn.version else defn.url,
        "status": STATUS.get(status, status),
        "subject": {"reference": f"Patient/{client_id}"},
    }
    if authored is not None:
        resource["authored"] = authored.isoformat()
    items = _items(defn.items, answers)
    if items:
        resource["item"] = items
    if scores:
        resource["extension"] = [_score_extension(s) for s in scores]
    return resource
