"""A definition and an answer set as the rows a page renders, and a posted form back as raw
answers. Pure: no Django (the templates do the HTML, `views.py` the request).

Field names: `a.<linkId>` for the answers (several values for a repeating question), and
`o.<linkId>` for the words typed into an open-choice "other" (whose radio posts `__other__`).
Each row carries its enableWhen conditions as JSON for `questionnaires/form.js`, which hides and
disables what is switched off while the person fills in the form; the server decides again on
every save (answers to disabled items are dropped), so the page works without the script too.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from careledger.questionnaires import values
from careledger.questionnaires.answers import Problem
from careledger.questionnaires.definition import Definition, Item

OTHER = "__other__"


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    checked: bool


@dataclass(frozen=True)
class Row:
    item: Item
    kind: str  # "group", "display" or the widget: radio, checkbox, number, date, text, textarea
    name: str
    number: str
    depth: int
    parent: str
    shown: bool
    conditions: str  # JSON for form.js: {"behavior": "all", "when": [[name, op, value], ...]}
    value: str = ""  # text-like widgets
    other: str = ""  # open-choice "other" text
    choices: list[Choice] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def required(self) -> bool:
        return self.item.required


def field_name(link_id: str) -> str:
    return f"a.{link_id}"


def _widget(item: Item) -> str:
    if item.type in ("choice", "open-choice"):
        return "checkbox" if item.repeats else "radio"
    return {
        "boolean": "radio",
        "integer": "number",
        "decimal": "number",
        "date": "date",
        "text": "textarea",
    }.get(item.type, "text")


def _conditions(item: Item) -> str:
    if not item.enable_when:
        return ""
    when = []
    for c in item.enable_when:
        answer = c.answer
        if isinstance(answer, bool):
            answer = "true" if answer else "false"
        when.append([field_name(c.question), c.operator, str(values.to_json(answer))])
    return json.dumps({"behavior": item.enable_behavior, "when": when}, ensure_ascii=False)


def _choices(item: Item, given: Sequence[str], translate: Callable[[str], str]) -> list[Choice]:
    if item.type == "boolean":
        return [
            Choice("true", translate("Yes"), "true" in given),
            Choice("false", translate("No"), "false" in given),
        ]
    out = [Choice(o.code, o.display, o.code in given) for o in item.options]
    if item.type == "open-choice":
        out.append(Choice(OTHER, translate("Other"), OTHER in given))
    return out


def form_rows(
    defn: Definition,
    form_values: Mapping[str, Sequence[str]],
    *,
    enabled: set[str],
    problems: Sequence[Problem] = (),
    translate: Callable[[str], str] = str,
) -> list[Row]:
    """Every item as a row to render, in order, nested groups flattened with their depth."""
    numbers = defn.numbers()
    errors: dict[str, list[str]] = {}
    for p in problems:
        errors.setdefault(p.link_id, []).append(p.message(translate))
    return list(_rows(defn.items, form_values, enabled, numbers, errors, 0, "", True, translate))


def _rows(
    items: Sequence[Item],
    form_values: Mapping[str, Sequence[str]],
    enabled: set[str],
    numbers: dict[str, str],
    errors: dict[str, list[str]],
    depth: int,
    parent: str,
    parent_shown: bool,
    translate: Callable[[str], str],
) -> Iterator[Row]:
    for item in items:
        shown = parent_shown and item.link_id in enabled
        given = list(form_values.get(item.link_id, ()))
        kind = item.type if item.type in ("group", "display") else _widget(item)
        yield Row(
            item=item,
            kind=kind,
            name=field_name(item.link_id),
            number=numbers.get(item.link_id, ""),
            depth=depth,
            parent=parent,
            shown=shown,
            conditions=_conditions(item),
            value=given[0] if given and kind in ("number", "date", "text", "textarea") else "",
            other=(form_values.get(f"{item.link_id}__other") or [""])[0],
            choices=_choices(item, given, translate) if kind in ("radio", "checkbox") else [],
            errors=errors.get(item.link_id, []),
        )
        if item.items:
            yield from _rows(
                item.items,
                form_values,
                enabled,
                numbers,
                errors,
                depth + 1,
                item.link_id,
                shown,
                translate,
            )


def read_post(defn: Definition, getlist: Callable[[str], list[str]]) -> dict[str, list[Any]]:
    """The raw answers of a posted form (strings; open-choice "other" as {"other": text})."""
    raw: dict[str, list[Any]] = {}
    for item in defn.questions():
        given = [v for v in getlist(field_name(item.link_id)) if v.strip()]
        if item.type == "open-choice" and OTHER in given:
            given = [v for v in given if v != OTHER]
            text = " ".join(getlist(f"o.{item.link_id}")).strip()
            if text:
                given.append({"other": text})
        if given:
            raw[item.link_id] = given
    return raw


def answer_rows(
    defn: Definition,
    answers: Mapping[str, Sequence[Any]],
    translate: Callable[[str], str] = str,
) -> list[tuple[Item, str, list[str]]]:
    """(item, number, shown answers) for every group heading and answered question, in order."""
    numbers = defn.numbers()
    out: list[tuple[Item, str, list[str]]] = []
    for item in defn.walk():
        if item.type == "group":
            out.append((item, "", []))
        elif item.is_question and answers.get(item.link_id):
            shown = [_shown(item, v, translate) for v in answers[item.link_id]]
            out.append((item, numbers[item.link_id], shown))
    return out


def _shown(item: Item, value: Any, translate: Callable[[str], str]) -> str:
    if isinstance(value, values.Other):
        return translate("Other: %(text)s") % {"text": value.text}
    if isinstance(value, bool):
        return translate("Yes") if value else translate("No")
    if item.type in ("choice", "open-choice"):
        option = item.option(value)
        return option.display if option else str(value)
    return str(values.to_json(value))
