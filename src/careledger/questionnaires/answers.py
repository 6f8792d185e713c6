"""Validating an answer set against a definition. Pure: no Django.

`check(defn, raw, complete=...)` reads what was sent (form strings or JSON values, by linkId),
drops answers to disabled items (enableWhen), and returns the typed answers it could read plus
one `Problem` per item that is wrong, each naming the item by the number people know it by and
saying why: "Question 3 is required.", "Question 5: the value must be between 0 and 27."
The Django side renders problems through gettext (the Chinese catalogue says "第3题为必答题",
"第5题：数值须在 0–27 之间"); `Problem.message()` without a translator gives the English text.

Saving progress (`complete=False`) keeps every answer that reads and reports the others; only a
submission (`complete=True`) also insists on required questions. Answers to items the definition
does not have are reported (`unknown_item`), never stored.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from careledger.questionnaires import enable
from careledger.questionnaires.definition import Definition, Item
from careledger.questionnaires.values import Invalid, coerce, is_blank


def gettext_noop(message: str) -> str:  # marks messages for the catalogue, translates later
    return message


TEXTS: dict[str, str] = {
    "required": gettext_noop("Question %(number)s is required."),
    "not_a_number": gettext_noop("Question %(number)s: enter a number."),
    "not_an_integer": gettext_noop("Question %(number)s: enter a whole number."),
    "not_a_date": gettext_noop("Question %(number)s: enter a date (YYYY-MM-DD)."),
    "not_a_boolean": gettext_noop("Question %(number)s: answer yes or no."),
    "not_an_option": gettext_noop("Question %(number)s: choose one of the options."),
    "one_answer_only": gettext_noop("Question %(number)s takes one answer only."),
    "between": gettext_noop("Question %(number)s: the value must be between %(min)s and %(max)s."),
    "at_least": gettext_noop("Question %(number)s: the value must be at least %(min)s."),
    "at_most": gettext_noop("Question %(number)s: the value must be at most %(max)s."),
    "too_long": gettext_noop("Question %(number)s: at most %(max)s characters."),
    "not_answerable": gettext_noop("Question %(number)s is not a question."),
    "unknown_item": gettext_noop("There is no question %(number)s in this questionnaire."),
}


@dataclass(frozen=True)
class Problem:
    link_id: str
    number: str
    code: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def message(self, translate: Callable[[str], str] = str) -> str:
        return translate(TEXTS[self.code]) % {"number": self.number, **self.params}


@dataclass(frozen=True)
class Checked:
    answers: dict[str, list[Any]]  # typed, enabled questions only
    problems: list[Problem]

    @property
    def ok(self) -> bool:
        return not self.problems

    def by_item(self) -> dict[str, list[Problem]]:
        out: dict[str, list[Problem]] = {}
        for p in self.problems:
            out.setdefault(p.link_id, []).append(p)
        return out


def _listed(raw: Any) -> list[Any]:
    if raw is None:
        return []
    values = list(raw) if isinstance(raw, list | tuple) else [raw]
    return [v for v in values if not is_blank(v)]


def _range_problem(item: Item, value: Any) -> tuple[str, dict[str, Any]] | None:
    low, high = item.min_value, item.max_value
    if (low is None and high is None) or item.type not in ("integer", "decimal", "date"):
        return None
    if (low is not None and value < low) or (high is not None and value > high):
        if low is not None and high is not None:
            return "between", {"min": low, "max": high}
        if low is not None:
            return "at_least", {"min": low}
        return "at_most", {"max": high}
    return None


def _read(item: Item, number: str, raw: Sequence[Any]) -> tuple[list[Any], list[Problem]]:
    values: list[Any] = []
    problems: list[Problem] = []
    if len(raw) > 1 and not item.repeats:
        return [], [Problem(item.link_id, number, "one_answer_only")]
    for one in raw:
        try:
            value = coerce(item, one)
        except Invalid as exc:
            problems.append(Problem(item.link_id, number, exc.code, exc.params))
            continue
        ranged = _range_problem(item, value)
        if ranged:
            problems.append(Problem(item.link_id, number, ranged[0], ranged[1]))
            continue
        if value not in values:
            values.append(value)
    return values, problems


def check(defn: Definition, raw: Mapping[str, Any], *, complete: bool) -> Checked:
    """Typed answers to the enabled questions, and every problem (see the module docstring)."""
    numbers = defn.numbers()
    questions = {i.link_id: i for i in defn.questions()}
    problems: list[Problem] = []
    typed: dict[str, list[Any]] = {}
    bad: set[str] = set()
    for link_id, given in raw.items():
        values = _listed(given)
        if not values:
            continue
        item = questions.get(link_id)
        if item is None:
            problems.append(Problem(link_id, link_id, "unknown_item"))
            continue
        read, wrong = _read(item, numbers[link_id], values)
        if read:
            typed[link_id] = read
        if wrong:
            bad.add(link_id)
            problems.extend(wrong)
    enabled = enable.enabled_items(defn, typed)
    # Problems with answers to disabled items do not count: those answers are dropped.
    problems = [p for p in problems if p.code == "unknown_item" or p.link_id in enabled]
    answers = {k: v for k, v in typed.items() if k in enabled}
    if complete:
        for link_id, item in questions.items():
            missing = link_id in enabled and link_id not in answers and link_id not in bad
            if item.required and missing:
                problems.append(Problem(link_id, numbers[link_id], "required"))
    order = {link_id: n for n, link_id in enumerate(questions)}
    problems.sort(key=lambda p: order.get(p.link_id, len(order)))
    return Checked(answers, problems)
