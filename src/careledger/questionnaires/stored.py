"""Between the engine and the rows: a row's parsed definition (cached per version: a published
version never changes) and an answer set split into what stays clear and what is sealed.

Clear (`QuestionnaireResponse.answers`): option codes, numbers, yes/no, dates — coded data,
keyed by the client's internal id. Sealed (`free_text`, under the client's key): string and
text answers and the words typed into an open-choice "other", because free text can say
anything (a name, a diagnosis the client keeps private).
"""

from __future__ import annotations

import json
from typing import Any

from careledger.questionnaires import definition, values
from careledger.questionnaires.models import Questionnaire, QuestionnaireResponse, Status

_CACHE: dict[tuple[str, int], definition.Definition] = {}


def definition_of(row: Questionnaire) -> definition.Definition:
    """The parsed definition of a row; published and retired versions are cached (immutable)."""
    key = (str(row.id), row.version)
    if row.status != Status.DRAFT and key in _CACHE:
        return _CACHE[key]
    parsed = definition.parse(row.resource)
    if row.status != Status.DRAFT:
        if len(_CACHE) > 256:
            _CACHE.clear()
        _CACHE[key] = parsed
    return parsed


def split(
    defn: definition.Definition, answers: dict[str, list[Any]]
) -> tuple[dict[str, list[Any]], dict[str, list[Any]]]:
    """(coded, free text), each {linkId: [JSON values]}."""
    coded: dict[str, list[Any]] = {}
    text: dict[str, list[Any]] = {}
    for link_id, given in answers.items():
        item = defn.item(link_id)
        if item is None:
            continue
        for value in given:
            target = text if values.is_free_text(item, value) else coded
            target.setdefault(link_id, []).append(values.to_json(value))
    return coded, text


def typed_answers(
    defn: definition.Definition, response: QuestionnaireResponse
) -> dict[str, list[Any]]:
    """The response's answers as engine values (opens the sealed free text)."""
    merged: dict[str, list[Any]] = {}
    sealed = json.loads(response.free_text) if response.free_text else {}
    for source in (response.answers or {}, sealed):
        for link_id, given in source.items():
            item = defn.item(link_id)
            if item is None:
                continue
            merged.setdefault(link_id, []).extend(values.from_json(item, v) for v in given)
    return merged


def as_form(defn: definition.Definition, answers: dict[str, list[Any]]) -> dict[str, list[str]]:
    """Answers as the strings a form shows (open-choice "other" under `<linkId>__other`)."""
    out: dict[str, list[str]] = {}
    for link_id, given in answers.items():
        for value in given:
            if isinstance(value, values.Other):
                out.setdefault(f"{link_id}__other", []).append(value.text)
                out.setdefault(link_id, []).append("__other__")
            elif isinstance(value, bool):
                out.setdefault(link_id, []).append("true" if value else "false")
            else:
                out.setdefault(link_id, []).append(str(values.to_json(value)))
    return out
