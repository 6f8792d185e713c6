"""From a client's facts to a model's result (pure: no Django, no database).

A model's inputs are filled by name from the facts row (`inputs.FACT_SCHEMA`; the few inputs a
model names differently are mapped in `ALIASES`); a null fact is left out, so the model answers
"not applicable" naming it when it needs it. `basis` digests what the model was given, so that
a second run from the same facts is recognised and writes nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from careledger.assessment.riskmodels import MODELS
from careledger.assessment.riskmodels.base import InputSpec, Result, RiskModel

# model input name → fact name, where they differ (the models name their inputs after the facts;
# keyed by input name, or by (model id, input name) should one name ever mean different facts).
ALIASES: dict[str | tuple[str, str], str] = {
    # FINDRISC asks "ever on BP medication"; the record knows current treatment only.
    "bp_medication_ever": "bp_treated",
}
SEXES = {"M": "male", "F": "female"}
# The family-history fact is a degree; a yes/no input asks about first-degree relatives (CDRS:
# parents and siblings), a choice input takes the degree (FINDRISC).
DEGREES = {"none": "none", "second": "second_degree", "first": "first_degree"}


def fact_name(model_id: str, input_name: str) -> str:
    return ALIASES.get((model_id, input_name)) or ALIASES.get(input_name) or input_name


def _converted(spec: InputSpec, fact: str, value: Any) -> Any:
    if spec.name == "sex":
        return SEXES.get(value, value)
    if fact == "family_diabetes":
        if spec.kind == "bool":
            return value == "first"
        return value if value in spec.choices else DEGREES.get(value, value)
    if spec.kind == "number" and spec.integer:
        return int(value)
    return value


@dataclass(frozen=True)
class Evaluation:
    model: RiskModel
    result: Result
    inputs: dict[str, Any]  # what the model was given: {name: value}
    basis: str


_PLANS: dict[tuple[str, str], tuple[tuple[InputSpec, str, bool], ...]] = {}


def _plan(model: RiskModel) -> tuple[tuple[InputSpec, str, bool], ...]:
    """For each input: its spec, the fact that fills it, and whether the value needs converting
    (computed once per model; the population run fills inputs 1.3 million times). Keyed by
    (id, version), not by the model: hashing the frozen dataclass hashed every input spec."""
    key = (model.id, model.version)
    plan = _PLANS.get(key)
    if plan is None:
        plan = _PLANS[key] = _make_plan(model)
    return plan


def _make_plan(model: RiskModel) -> tuple[tuple[InputSpec, str, bool], ...]:
    return tuple(
        (
            spec,
            fact_name(model.id, spec.name),
            spec.name == "sex"
            or fact_name(model.id, spec.name) == "family_diabetes"
            or (spec.kind == "number" and spec.integer),
        )
        for spec in model.inputs
    )


def model_inputs(model: RiskModel, facts: Mapping[str, Any]) -> dict[str, Any]:
    given: dict[str, Any] = {}
    for spec, fact, convert in _plan(model):
        value = facts.get(fact)
        if value is not None:
            given[spec.name] = _converted(spec, fact, value) if convert else value
    return given


def basis_of(model: RiskModel, given: Mapping[str, Any]) -> str:
    canonical = orjson.dumps(
        {"model": model.id, "version": model.version, "inputs": given},
        option=orjson.OPT_SORT_KEYS,
        default=str,
    )
    return hashlib.sha256(canonical).hexdigest()


def evaluate(model: RiskModel, facts: Mapping[str, Any]) -> Evaluation:
    given = model_inputs(model, facts)
    return Evaluation(model, model.evaluate(given), given, basis_of(model, given))


def changed(
    facts: Mapping[str, Any],
    current: Mapping[str, str],
    models: Mapping[str, RiskModel] = MODELS,
) -> Iterator[Evaluation]:
    """The evaluations of the models whose inputs differ from those of the client's current
    assessment (`current`: model id → basis). The basis depends only on the inputs, so a model
    whose inputs did not change is not evaluated at all — the nightly run costs little."""
    for model in models.values():
        given = model_inputs(model, facts)
        basis = basis_of(model, given)
        if current.get(model.id) != basis:
            yield Evaluation(model, model.evaluate(given), given, basis)


def evaluate_all(facts: Mapping[str, Any], models: Mapping[str, RiskModel] = MODELS):  # type: ignore[no-untyped-def]
    """Every model on one client's facts, in registry order."""
    return [evaluate(model, facts) for model in models.values()]


def provenance(
    model: RiskModel,
    given: Mapping[str, Any],
    facts: Mapping[str, Any],
    sources: Mapping[str, str],
    codes: Mapping[str, str],
    supplied: set[str],
) -> dict[str, dict[str, Any]]:
    """What the page shows beside each input: its value, where it came from, and for a result
    the LOINC code and date (stored as the assessment's `inputs`)."""
    shown: dict[str, dict[str, Any]] = {}
    for name, value in given.items():
        fact = fact_name(model.id, name)
        entry: dict[str, Any] = {
            "value": value,
            "source": "clinician" if fact in supplied else sources.get(fact, ""),
        }
        if codes.get(fact):
            entry["code"] = codes[fact]
        at = facts.get(f"{fact}_at")
        if isinstance(at, dt.datetime):
            entry["at"] = at.date().isoformat()
        shown[name] = entry
    return shown
