"""A questionnaire's definition, read from FHIR R4 Questionnaire JSON. Pure: no Django.

The stored form of a questionnaire is its FHIR JSON (so it imports and exports unchanged); this
module turns that JSON into typed values the engine works on (`Definition`, `Item`, ...) and back.
`parse()` first validates the JSON with the fhir.resources R4B model (R4B is wire-compatible with
R4 for Questionnaire), then checks what the engine needs and fhir.resources does not enforce:
unique linkIds, supported item types, options on choice items, enableWhen references and
operators, scores that name existing items and ascending bands. Every problem is reported, each
naming the item.

Extensions read (standard ones first):

* `http://hl7.org/fhir/StructureDefinition/minValue` / `maxValue` (valueInteger, valueDecimal or
  valueDate) on an item: the answer's range. `maxLength` (core) for string/text.
* `http://hl7.org/fhir/StructureDefinition/ordinalValue` on an option's valueCoding, or
  `http://hl7.org/fhir/StructureDefinition/itemWeight` on the answerOption (the R5 element
  back-ported as an extension): the option's score.
* `SCORE_URL` (this system's own, documented in the app README) on the Questionnaire, one per
  score: sub-extensions `code`, `display`, `method` (`sum` | `weighted`), `item` (linkIds, each
  once; none = every scored item), `reverse` (linkIds scored max + min − value), `transform`
  (`raw` | `percent`: (raw − lowest possible) / (highest − lowest) × 100), `flag` (valueBoolean:
  the score is an alert, e.g. PHQ-9 item 9), and `band` (complex: `min` valueDecimal, inclusive,
  `code` valueCode, `display` valueString; a score falls in the band with the largest `min` not
  above it).
* `WEIGHT_URL` (valueDecimal) on an item: its weight in a `weighted` score (default 1).
* `JUDGEMENT_URL` (valueCode) on the Questionnaire: a named rule applied after the bands
  (`zyyxh-t157-2009`, the TCM constitution judgement, see `tcm.py`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import Any

BASE = "https://careledger.example.org/fhir/StructureDefinition"
SCORE_URL = f"{BASE}/questionnaire-score"
WEIGHT_URL = f"{BASE}/questionnaire-score-weight"
JUDGEMENT_URL = f"{BASE}/questionnaire-judgement"
CODE_URL = f"{BASE}/questionnaire-code"
MIN_URL = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_URL = "http://hl7.org/fhir/StructureDefinition/maxValue"
ORDINAL_URL = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
ITEM_WEIGHT_URL = "http://hl7.org/fhir/StructureDefinition/itemWeight"

ITEM_TYPES = (
    "group",
    "display",
    "boolean",
    "decimal",
    "integer",
    "date",
    "string",
    "text",
    "choice",
    "open-choice",
)
QUESTION_TYPES = frozenset(ITEM_TYPES) - {"group", "display"}
FREE_TEXT_TYPES = frozenset({"string", "text"})
OPERATORS = ("exists", "=", "!=", ">", "<", ">=", "<=")
STATUSES = ("draft", "active", "retired")
METHODS = ("sum", "weighted")
TRANSFORMS = ("raw", "percent")
JUDGEMENTS = ("zyyxh-t157-2009",)


class DefinitionError(ValueError):
    """The JSON is not a questionnaire this engine can run; `problems` says every reason."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Option:
    code: str
    display: str
    system: str = ""
    score: Decimal | None = None  # ordinalValue / itemWeight


@dataclass(frozen=True)
class EnableWhen:
    question: str
    operator: str
    answer: Any  # bool, int, Decimal, date, str (a string or a coding's code)


@dataclass(frozen=True)
class Item:
    link_id: str
    type: str
    text: str = ""
    prefix: str = ""
    required: bool = False
    repeats: bool = False
    min_value: Any = None  # int / Decimal / date
    max_value: Any = None
    max_length: int | None = None
    options: tuple[Option, ...] = ()
    enable_when: tuple[EnableWhen, ...] = ()
    enable_behavior: str = "all"  # "all" | "any"
    weight: Decimal | None = None
    items: tuple[Item, ...] = ()

    @property
    def is_question(self) -> bool:
        return self.type in QUESTION_TYPES

    def option(self, code: str) -> Option | None:
        return next((o for o in self.options if o.code == code), None)

    @property
    def score_range(self) -> tuple[Decimal, Decimal] | None:
        """Lowest and highest score this item can give (options' scores, else min/max)."""
        scores = [o.score for o in self.options if o.score is not None]
        if scores:
            return min(scores), max(scores)
        if self.type == "boolean":
            return Decimal(0), Decimal(1)
        if self.type in ("integer", "decimal") and None not in (self.min_value, self.max_value):
            return Decimal(self.min_value), Decimal(self.max_value)
        return None


@dataclass(frozen=True)
class Band:
    min: Decimal
    code: str
    display: str = ""


@dataclass(frozen=True)
class ScoreRule:
    code: str
    display: str = ""
    method: str = "sum"
    items: tuple[str, ...] = ()  # empty: every scored item
    reverse: tuple[str, ...] = ()
    transform: str = "raw"
    flag: bool = False
    bands: tuple[Band, ...] = ()


@dataclass(frozen=True)
class Definition:
    url: str
    version: str
    name: str
    title: str
    status: str
    items: tuple[Item, ...]
    code: str = ""  # this system's short code ("phq9"), from CODE_URL
    description: str = ""
    scores: tuple[ScoreRule, ...] = ()
    judgement: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def walk(self) -> Iterator[Item]:
        """Every item, depth first, in document order."""
        yield from _walk(self.items)

    def questions(self) -> list[Item]:
        return [i for i in self.walk() if i.is_question]

    def item(self, link_id: str) -> Item | None:
        return next((i for i in self.walk() if i.link_id == link_id), None)

    def numbers(self) -> dict[str, str]:
        """The number people call each question by: its prefix, else its position (1, 2, ...)."""
        out: dict[str, str] = {}
        for n, item in enumerate(self.questions(), start=1):
            out[item.link_id] = item.prefix.rstrip(".、:：) ").strip() or str(n)
        return out


def _walk(items: tuple[Item, ...]) -> Iterator[Item]:
    for item in items:
        yield item
        yield from _walk(item.items)


# -- reading ---------------------------------------------------------------------------------


def _decimal(value: Any) -> Decimal:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValueError(value) from None


def _typed(ext: Mapping[str, Any]) -> Any:
    for key in ("valueInteger", "valueDecimal", "valueDate", "valueString", "valueCode"):
        if key in ext:
            value = ext[key]
            if key == "valueDecimal":
                return _decimal(value)
            if key == "valueDate":
                return dt.date.fromisoformat(value)
            return value
    if "valueBoolean" in ext:
        return bool(ext["valueBoolean"])
    return None


def _ext(node: Mapping[str, Any], url: str) -> list[Mapping[str, Any]]:
    return [e for e in node.get("extension", ()) if e.get("url") == url]


def _first(node: Mapping[str, Any], url: str) -> Any:
    found = _ext(node, url)
    return _typed(found[0]) if found else None


def _answer_of(node: Mapping[str, Any]) -> Any:
    for key, convert in (
        ("answerBoolean", bool),
        ("answerInteger", int),
        ("answerDecimal", _decimal),
        ("answerDate", dt.date.fromisoformat),
        ("answerString", str),
    ):
        if key in node:
            return convert(node[key])
    if "answerCoding" in node:
        return str(node["answerCoding"].get("code", ""))
    return None


def _option(node: Mapping[str, Any]) -> Option:
    score = _first(node, ITEM_WEIGHT_URL)
    if "valueCoding" in node:
        coding = node["valueCoding"]
        ordinal = _first(coding, ORDINAL_URL)
        score = ordinal if ordinal is not None else score
        return Option(
            code=str(coding.get("code", "")),
            display=str(coding.get("display", coding.get("code", ""))),
            system=str(coding.get("system", "")),
            score=None if score is None else _decimal(score),
        )
    for key in ("valueString", "valueInteger", "valueDate"):
        if key in node:
            value = str(node[key])
            return Option(
                code=value, display=value, score=None if score is None else _decimal(score)
            )
    raise ValueError("answerOption without a value")


def _item(node: Mapping[str, Any], problems: list[str]) -> Item:
    link_id = str(node.get("linkId", ""))
    where = f"item {link_id or '?'}"
    kind = str(node.get("type", ""))
    if kind not in ITEM_TYPES:
        problems.append(f"{where}: type {kind!r} is not supported")
    options: list[Option] = []
    for raw in node.get("answerOption", ()):
        try:
            options.append(_option(raw))
        except ValueError:
            problems.append(f"{where}: an answerOption has no value")
    if kind in ("choice", "open-choice") and not options:
        problems.append(f"{where}: a {kind} item needs answerOption values")
    if len({o.code for o in options}) != len(options):
        problems.append(f"{where}: two options share a code")
    conditions = []
    for raw in node.get("enableWhen", ()):
        operator = str(raw.get("operator", ""))
        if operator not in OPERATORS:
            problems.append(f"{where}: enableWhen operator {operator!r} is not supported")
        try:
            answer = _answer_of(raw)
        except ValueError:
            problems.append(f"{where}: enableWhen answer is not readable")
            answer = None
        if answer is None:
            problems.append(f"{where}: enableWhen needs an answer value")
        conditions.append(EnableWhen(str(raw.get("question", "")), operator, answer))
    behavior = str(node.get("enableBehavior", "all"))
    if behavior not in ("all", "any"):
        problems.append(f"{where}: enableBehavior must be all or any")
    if len(conditions) > 1 and "enableBehavior" not in node:
        problems.append(f"{where}: enableBehavior is required with several enableWhen")
    try:
        min_value, max_value = _first(node, MIN_URL), _first(node, MAX_URL)
        weight = _first(node, WEIGHT_URL)
    except ValueError:
        problems.append(f"{where}: a min/max/weight extension is not readable")
        min_value = max_value = weight = None
    if kind == "decimal":
        min_value = None if min_value is None else _decimal(min_value)
        max_value = None if max_value is None else _decimal(max_value)
    if min_value is not None and max_value is not None and min_value > max_value:
        problems.append(f"{where}: minValue is above maxValue")
    children = tuple(_item(child, problems) for child in node.get("item", ()))
    if kind == "group" and node.get("repeats"):
        problems.append(f"{where}: repeating groups are not supported (repeat the questions)")
    if kind == "display" and (children or node.get("required")):
        problems.append(f"{where}: a display item has no children and is never required")
    if kind in QUESTION_TYPES and children:
        problems.append(f"{where}: questions with nested items are not supported")
    return Item(
        link_id=link_id,
        type=kind,
        text=str(node.get("text", "")),
        prefix=str(node.get("prefix", "")),
        required=bool(node.get("required", False)),
        repeats=bool(node.get("repeats", False)),
        min_value=min_value,
        max_value=max_value,
        max_length=node.get("maxLength"),
        options=tuple(options),
        enable_when=tuple(conditions),
        enable_behavior=behavior,
        weight=None if weight is None else _decimal(weight),
        items=children,
    )


def _sub(ext: Mapping[str, Any], name: str) -> list[Any]:
    return [_typed(e) for e in ext.get("extension", ()) if e.get("url") == name]


def _score_rule(ext: Mapping[str, Any], problems: list[str]) -> ScoreRule:
    codes = _sub(ext, "code")
    code = str(codes[0]) if codes else ""
    bands = []
    for band in (e for e in ext.get("extension", ()) if e.get("url") == "band"):
        lows, band_codes, names = _sub(band, "min"), _sub(band, "code"), _sub(band, "display")
        if not lows or not band_codes:
            problems.append(f"score {code}: a band needs min and code")
            continue
        bands.append(Band(_decimal(lows[0]), str(band_codes[0]), str((names or [""])[0])))
    method = str((_sub(ext, "method") or ["sum"])[0])
    transform = str((_sub(ext, "transform") or ["raw"])[0])
    if not code:
        problems.append("a score needs a code")
    if method not in METHODS:
        problems.append(f"score {code}: method {method!r} is not supported")
    if transform not in TRANSFORMS:
        problems.append(f"score {code}: transform {transform!r} is not supported")
    if [b.min for b in bands] != sorted({b.min for b in bands}):
        problems.append(f"score {code}: bands must have ascending, distinct minimums")
    return ScoreRule(
        code=code,
        display=str((_sub(ext, "display") or [""])[0]),
        method=method,
        items=tuple(str(v) for v in _sub(ext, "item")),
        reverse=tuple(str(v) for v in _sub(ext, "reverse")),
        transform=transform,
        flag=bool((_sub(ext, "flag") or [False])[0]),
        bands=tuple(bands),
    )


def validate_fhir(data: Mapping[str, Any]) -> None:
    """fhir.resources' own validation of the R4 structure (raises DefinitionError)."""
    from fhir.resources.R4B.questionnaire import Questionnaire
    from pydantic import ValidationError

    if not isinstance(data, Mapping) or data.get("resourceType") != "Questionnaire":
        raise DefinitionError(["resourceType must be Questionnaire"])
    try:
        Questionnaire.model_validate(dict(data))
    except ValidationError as exc:
        problems = [
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()[:20]
        ]
        raise DefinitionError(problems or ["not a valid FHIR Questionnaire"]) from None


def _check_references(defn: Definition, problems: list[str]) -> None:
    seen: dict[str, Item] = {}
    for item in defn.walk():
        if not item.link_id:
            problems.append("an item has no linkId")
        elif item.link_id in seen:
            problems.append(f"item {item.link_id}: linkId used twice")
        seen[item.link_id] = item
    for item in defn.walk():
        for cond in item.enable_when:
            target = seen.get(cond.question)
            if target is None or not target.is_question:
                problems.append(
                    f"item {item.link_id}: enableWhen refers to unknown {cond.question}"
                )
            elif cond.question == item.link_id:
                problems.append(f"item {item.link_id}: enableWhen refers to itself")
    if _has_cycle(defn):
        problems.append("enableWhen conditions are circular")
    scored = {i.link_id for i in defn.questions()}
    for rule in defn.scores:
        for link_id in (*rule.items, *rule.reverse):
            if link_id not in scored:
                problems.append(f"score {rule.code}: item {link_id} is not a question")
        if set(rule.reverse) - set(rule.items or scored):
            problems.append(f"score {rule.code}: a reversed item must be one of its items")
        if rule.transform == "percent" or rule.reverse:
            for link_id in rule.items or scored:
                item = seen.get(link_id)
                if item is not None and item.score_range is None:
                    problems.append(f"score {rule.code}: item {link_id} has no score range")
    if len({r.code for r in defn.scores}) != len(defn.scores):
        problems.append("two scores share a code")
    if defn.judgement and defn.judgement not in JUDGEMENTS:
        problems.append(f"judgement {defn.judgement!r} is not supported")


def _depends(defn: Definition) -> dict[str, set[str]]:
    """Item → the items its enabled state depends on (its conditions' questions, its parent)."""
    edges: dict[str, set[str]] = {}

    def visit(items: tuple[Item, ...], parent: str) -> None:
        for item in items:
            edges[item.link_id] = {c.question for c in item.enable_when} | (
                {parent} if parent else set()
            )
            visit(item.items, item.link_id)

    visit(defn.items, "")
    return edges


def _has_cycle(defn: Definition) -> bool:
    edges = _depends(defn)
    state: dict[str, int] = {}  # 1 visiting, 2 done

    def cyclic(node: str) -> bool:
        if state.get(node) == 1:
            return True
        if state.get(node) == 2 or node not in edges:
            return False
        state[node] = 1
        found = any(cyclic(n) for n in edges[node])
        state[node] = 2
        return found

    return any(cyclic(n) for n in edges)


def parse(data: Mapping[str, Any]) -> Definition:
    """The definition of a FHIR Questionnaire JSON object; DefinitionError lists every problem."""
    validate_fhir(data)
    problems: list[str] = []
    items = tuple(_item(node, problems) for node in data.get("item", ()))
    scores = tuple(_score_rule(ext, problems) for ext in _ext(data, SCORE_URL))
    status = str(data.get("status", ""))
    if status not in STATUSES:
        problems.append(f"status {status!r} is not draft, active or retired")
    defn = Definition(
        url=str(data.get("url", "")),
        version=str(data.get("version", "")),
        name=str(data.get("name", "")),
        title=str(data.get("title", "")),
        status=status,
        items=items,
        code=str(_first(data, CODE_URL) or ""),
        description=str(data.get("description", "")),
        scores=scores,
        judgement=str(_first(data, JUDGEMENT_URL) or ""),
        raw=data,
    )
    if not items:
        problems.append("a questionnaire needs at least one item")
    _check_references(defn, problems)
    if problems:
        raise DefinitionError(problems)
    return defn


def with_status(data: Mapping[str, Any], status: str, version: str | None = None) -> dict[str, Any]:
    """A copy of the JSON with another status (and version)."""
    out = dict(data)
    out["status"] = status
    if version is not None:
        out["version"] = version
    return out


__all__ = [
    "Band",
    "Definition",
    "DefinitionError",
    "EnableWhen",
    "Item",
    "Option",
    "ScoreRule",
    "parse",
    "replace",
    "validate_fhir",
    "with_status",
]
