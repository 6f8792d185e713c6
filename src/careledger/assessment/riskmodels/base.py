"""The uniform shape every risk model and classification shares.

A `RiskModel` declares its inputs (`InputSpec`: name, UCUM unit, kind, allowed range, whether
required, and the LOINC code or record fact it usually comes from) and evaluates a mapping of
them to a `Result`: `Assessed` (a value, a stable level code with Chinese and English labels, a
probability where the source gives one, the intermediate figures and the inputs used) or
`NotApplicable` (each reason naming the input and why, in plain English and Chinese).

Two kinds of bad input are told apart on purpose:

* a value the model cannot speak for — missing, or outside the range the source validated —
  is an answer (`NotApplicable`), never a silent number;
* a value that is not of the declared kind (a string for a number, NaN, an unknown choice, an
  unknown input name) is the caller's mistake and raises `InputError`.

No Django here: population runs call `evaluate` hundreds of thousands of times.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Kind = Literal["number", "bool", "choice"]

# A value at a range boundary converted between units (e.g. 130 mg/dL → mmol/L and back) must
# not fall outside by a rounding error.
_RANGE_TOLERANCE = 1e-9


class InputError(ValueError):
    """An input name the model does not take, or a value of the wrong kind."""

    def __init__(self, model: str, name: str, message: str) -> None:
        super().__init__(f"{model}: {name}: {message}")
        self.model = model
        self.name = name


@dataclass(frozen=True, slots=True)
class InputSpec:
    """One input of a model. `minimum`/`maximum` are in `unit` and inclusive."""

    name: str
    kind: Kind
    label_en: str
    label_zh: str
    unit: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    range_note: str = ""
    range_note_zh: str = ""
    choices: tuple[str, ...] = ()
    required: bool = True
    integer: bool = False
    loinc: str | None = None
    fact: str | None = None
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "label_en": self.label_en,
            "label_zh": self.label_zh,
            "unit": self.unit,
            "minimum": self.minimum,
            "maximum": self.maximum,
            "range_note": self.range_note,
            "range_note_zh": self.range_note_zh,
            "choices": list(self.choices),
            "required": self.required,
            "integer": self.integer,
            "loinc": self.loinc,
            "fact": self.fact,
            "note": self.note,
        }


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a model does not apply, about one input (or "*" for the combination)."""

    input: str
    en: str
    zh: str

    def to_dict(self) -> dict[str, str]:
        return {"input": self.input, "en": self.en, "zh": self.zh}


@dataclass(frozen=True, slots=True)
class Assessed:
    model: str
    version: str
    value: float | None
    unit: str | None
    level: str
    level_en: str
    level_zh: str
    probability: float | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    inputs_used: Mapping[str, Any] = field(default_factory=dict)

    applicable = True

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "version": self.version,
            "applicable": True,
            "value": self.value,
            "unit": self.unit,
            "level": self.level,
            "level_en": self.level_en,
            "level_zh": self.level_zh,
            "probability": self.probability,
            "details": dict(self.details),
            "inputs_used": dict(self.inputs_used),
        }


@dataclass(frozen=True, slots=True)
class NotApplicable:
    model: str
    version: str
    reasons: tuple[Reason, ...]

    applicable = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "version": self.version,
            "applicable": False,
            "reasons": [r.to_dict() for r in self.reasons],
        }


Result = Assessed | NotApplicable
Values = dict[str, Any]
# The model's own computation: validated values in, a result out. It receives a helper to
# build results carrying the model's id and version.
Compute = Callable[["Values", "Out"], Result]


@dataclass(frozen=True, slots=True)
class Out:
    """Result builders bound to one model (so compute functions never repeat id and version)."""

    model: str
    version: str

    def assessed(
        self,
        *,
        value: float | None,
        unit: str | None,
        level: tuple[str, str, str],
        probability: float | None = None,
        details: Mapping[str, Any] | None = None,
        inputs_used: Mapping[str, Any],
    ) -> Assessed:
        code, en, zh = level
        return Assessed(
            model=self.model,
            version=self.version,
            value=value,
            unit=unit,
            level=code,
            level_en=en,
            level_zh=zh,
            probability=probability,
            details=details or {},
            inputs_used=inputs_used,
        )

    def not_applicable(self, *reasons: Reason) -> NotApplicable:
        return NotApplicable(model=self.model, version=self.version, reasons=tuple(reasons))


def missing(spec: InputSpec, why_en: str = "", why_zh: str = "") -> Reason:
    if spec.kind == "bool":
        en = f"{spec.label_en}: not recorded (yes or no)"
        zh = f"未填写“{spec.label_zh}”（是/否）"
    else:
        en, zh = f"{spec.label_en} is missing", f"缺少{spec.label_zh}"
    en += f" ({why_en})" if why_en else ""
    zh += f"（{why_zh}）" if why_zh else ""
    return Reason(spec.name, en, zh)


# How a UCUM unit reads in a sentence (English, Chinese).
_UNIT_WORDS = {
    "a": (" years", "岁"),
    "mm[Hg]": (" mmHg", " mmHg"),
    "umol/L": (" µmol/L", " µmol/L"),
    "kg/m2": (" kg/m²", " kg/m²"),
    "{score}": ("", "分"),
}


def _fmt(x: float) -> str:
    return f"{x:.4g}" if abs(x) < 1000 else f"{x:.0f}"


def out_of_range(spec: InputSpec, value: float) -> Reason:
    unit = spec.unit or ""
    en_u, zh_u = _UNIT_WORDS.get(unit, (f" {unit}" if unit else "", f" {unit}" if unit else ""))
    lo = _fmt(spec.minimum) if spec.minimum is not None else "−∞"
    hi = _fmt(spec.maximum) if spec.maximum is not None else "∞"
    note_en = f"; {spec.range_note}" if spec.range_note else ""
    note_zh = f"；{spec.range_note_zh}" if spec.range_note_zh else ""
    return Reason(
        spec.name,
        f"{spec.label_en} {_fmt(value)}{en_u} is outside the range this model accepts "
        f"({lo}–{hi}{en_u}{note_en})",
        f"{spec.label_zh} {_fmt(value)}{zh_u} 超出本模型适用范围（{lo}–{hi}{zh_u}{note_zh}）",
    )


def _check_kind(model: str, spec: InputSpec, value: Any) -> Any:
    if spec.kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InputError(model, spec.name, f"expected a number, got {type(value).__name__}")
        if not math.isfinite(value):
            raise InputError(model, spec.name, "expected a finite number")
        if spec.integer and value != int(value):
            raise InputError(model, spec.name, "expected a whole number")
        return float(value) if not spec.integer else int(value)
    if spec.kind == "bool":
        if not isinstance(value, bool):
            raise InputError(model, spec.name, f"expected true or false, got {value!r}")
        return value
    if not isinstance(value, str) or value not in spec.choices:
        raise InputError(model, spec.name, f"expected one of {', '.join(spec.choices)}")
    return value


@dataclass(frozen=True, slots=True)
class RiskModel:
    id: str
    version: str
    title_en: str
    title_zh: str
    citation: str
    inputs: tuple[InputSpec, ...]
    compute: Compute
    kind: Literal["risk_model", "classification"] = "risk_model"
    _by_name: Mapping[str, InputSpec] = field(init=False, repr=False, compare=False)
    _out: Out = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {s.name: s for s in self.inputs})
        object.__setattr__(self, "_out", Out(self.id, self.version))

    def input(self, name: str) -> InputSpec:
        return self._by_name[name]

    def evaluate(self, inputs: Mapping[str, object]) -> Result:
        """Check every input, then compute. `None` counts as absent. Raises `InputError` for an
        unknown name or a value of the wrong kind; returns `NotApplicable` for missing or
        out-of-range values (all of them at once, in declaration order)."""
        by_name = self._by_name
        for name in inputs:
            if name not in by_name:
                raise InputError(self.id, name, "unknown input")
        values: Values = {}
        reasons: list[Reason] = []
        for spec in self.inputs:
            raw = inputs.get(spec.name)
            if raw is None:
                values[spec.name] = None
                if spec.required:
                    reasons.append(missing(spec))
                continue
            value = _check_kind(self.id, spec, raw)
            if spec.kind == "number":
                lo, hi = spec.minimum, spec.maximum
                if (lo is not None and value < lo - abs(lo) * _RANGE_TOLERANCE) or (
                    hi is not None and value > hi + abs(hi) * _RANGE_TOLERANCE
                ):
                    reasons.append(out_of_range(spec, value))
            values[spec.name] = value
        if reasons:
            return self._out.not_applicable(*reasons)
        return self.compute(values, self._out)

    def select(self, facts: Mapping[str, object]) -> dict[str, object]:
        """The subset of a larger mapping this model takes (for generic callers)."""
        return {k: v for k, v in facts.items() if k in self._by_name}

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "version": self.version,
            "kind": self.kind,
            "title_en": self.title_en,
            "title_zh": self.title_zh,
            "citation": self.citation,
            "inputs": [s.to_dict() for s in self.inputs],
        }


def used(values: Values) -> dict[str, Any]:
    """The inputs a result was computed from (absent optional ones left out)."""
    return {k: v for k, v in values.items() if v is not None}
