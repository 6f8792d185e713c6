"""enableWhen skip logic (FHIR R4 Questionnaire.item.enableWhen). Pure: no Django.

An item is enabled when its own conditions hold (all of them, or any, per `enableBehavior`) and
its parent group is enabled. A condition reads the answers of another question, which count only
while that question is itself enabled: a disabled question has no answers, so "吸烟？是 → 每天几支"
switches off "每天几支" and everything depending on it when 吸烟 is switched off in turn. Because a
condition may point forwards or backwards in the form, the enabled set is computed to a fixed point
(at most one pass per question; `definition.parse` refuses circular conditions).

Operators as FHIR defines them: `exists` (answer true: the question has an answer; false: it has
none), `=` / `!=` (any answer equals / no answer equals), and `>` `<` `>=` `<=` on numbers and
dates (any answer compares true). Values of different kinds never compare equal or ordered.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from careledger.questionnaires.definition import Definition, EnableWhen, Item
from careledger.questionnaires.values import Other

Answers = Mapping[str, Sequence[Any]]


def _comparable(value: Any) -> Any:
    if isinstance(value, Other):
        return value.text
    if isinstance(value, bool):
        return value
    if isinstance(value, int | Decimal | float):
        return Decimal(str(value))
    return value


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, Decimal):
        return "number"
    if isinstance(value, dt.date):
        return "date"
    return "str"


def _holds(cond: EnableWhen, answers: Sequence[Any]) -> bool:
    if cond.operator == "exists":
        return bool(answers) == bool(cond.answer)
    target = _comparable(cond.answer)
    values = [_comparable(v) for v in answers]
    same = [v for v in values if _kind(v) == _kind(target)]
    if cond.operator == "=":
        return any(v == target for v in same)
    if cond.operator == "!=":
        # FHIR: true if no answer equals the value (an unanswered question counts as unequal).
        return not any(v == target for v in same)
    if _kind(target) not in ("number", "date"):
        return False
    compare = {
        ">": lambda a: a > target,
        "<": lambda a: a < target,
        ">=": lambda a: a >= target,
        "<=": lambda a: a <= target,
    }[cond.operator]
    return any(compare(v) for v in same)


def _own_conditions_hold(item: Item, answers: Answers, enabled: set[str]) -> bool:
    if not item.enable_when:
        return True
    results = [
        _holds(c, answers.get(c.question, ()) if c.question in enabled else ())
        for c in item.enable_when
    ]
    return any(results) if item.enable_behavior == "any" else all(results)


def enabled_items(defn: Definition, answers: Answers) -> set[str]:
    """The linkIds of every enabled item (groups and display items included)."""
    items = list(defn.walk())
    enabled = {i.link_id for i in items}  # start from everything, then settle
    for _ in range(len(items) + 1):
        settled: set[str] = set()
        _visit(defn.items, answers, enabled, settled, parent_enabled=True)
        if settled == enabled:
            return settled
        enabled = settled
    return enabled


def _visit(
    items: tuple[Item, ...],
    answers: Answers,
    enabled: set[str],
    out: set[str],
    parent_enabled: bool,
) -> None:
    for item in items:
        on = parent_enabled and _own_conditions_hold(item, answers, enabled)
        if on:
            out.add(item.link_id)
        _visit(item.items, answers, enabled, out, on)


def prune(defn: Definition, answers: Answers) -> dict[str, list[Any]]:
    """The answers to enabled questions only (answers to disabled items are dropped)."""
    enabled = enabled_items(defn, answers)
    return {k: list(v) for k, v in answers.items() if k in enabled and v}
