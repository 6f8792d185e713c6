"""The uniform interface the assessment services use generically: the registry, every input's
declaration, NotApplicable for missing and out-of-range values, InputError for the wrong kind,
JSON-ready deterministic results, unit factors, and no Django in the package."""

from __future__ import annotations

import ast
import json
import math
import timeit
from pathlib import Path

import pytest

from careledger.assessment import riskmodels
from careledger.assessment.riskmodels import MODELS, Assessed, InputError, NotApplicable, units
from careledger.assessment.riskmodels import inputs as shared

IDS = [
    "china_par", "pce_2013", "framingham_2008", "cdrs", "findrisc", "ckd_epi_2021", "bmi_waist",
    "bp_grade", "lipids", "metabolic_syndrome", "glycaemia", "phq9", "gad7",
]  # fmt: skip

# One valid input set per model (used for the generic checks below).
VALID: dict[str, dict[str, object]] = {
    "china_par": {
        "age": 55, "sex": "male", "sbp": 135, "bp_treated": False, "tc": 5.2, "hdl": 1.2,
        "waist": 88, "smoker": True, "diabetes": False, "north": True, "urban": True,
        "family_ascvd": False,
    },
    "pce_2013": {
        "age": 55, "sex": "female", "tc": 5.2, "hdl": 1.2, "sbp": 135, "bp_treated": False,
        "smoker": False, "diabetes": False,
    },
    "framingham_2008": {
        "age": 55, "sex": "female", "tc": 5.2, "hdl": 1.2, "sbp": 135, "bp_treated": False,
        "smoker": False, "diabetes": False,
    },
    "cdrs": {
        "age": 50, "sex": "male", "waist": 88, "bmi": 25, "sbp": 135, "family_diabetes": "none",
    },
    "findrisc": {
        "age": 50, "sex": "male", "bmi": 25, "waist": 88, "active_30min_daily": True,
        "vegetables_daily": True, "bp_medication_ever": False, "ever_high_glucose": False,
        "family_diabetes": "none",
    },
    "ckd_epi_2021": {"age": 50, "sex": "male", "creatinine": 80, "uacr": 12},
    "bmi_waist": {"sex": "male", "bmi": 25, "waist": 88},
    "bp_grade": {"sbp": 135, "dbp": 85},
    "lipids": {"tc": 5.2, "ldl": 3.1, "hdl": 1.2, "tg": 1.5},
    "metabolic_syndrome": {
        "sex": "male", "waist": 88, "fpg": 5.2, "diabetes": False, "sbp": 135, "dbp": 85,
        "bp_treated": False, "tg": 1.5, "hdl": 1.2,
    },
    "glycaemia": {"fpg": 5.2, "hba1c": 5.5},
    "phq9": {"phq9": 7},
    "gad7": {"gad7": 7},
}  # fmt: skip


def test_registry_has_the_stable_ids_in_order() -> None:
    assert list(MODELS) == IDS
    for model_id, model in MODELS.items():
        assert model.id == model_id
        assert model.version and isinstance(model.version, str)
        assert model.title_en and model.title_zh and model.citation


@pytest.mark.parametrize("model_id", IDS)
def test_every_input_is_declared_fully(model_id: str) -> None:
    model = MODELS[model_id]
    names = [s.name for s in model.inputs]
    assert len(names) == len(set(names))
    for spec in model.inputs:
        assert spec.kind in ("number", "bool", "choice")
        assert spec.label_en and spec.label_zh
        assert spec.loinc or spec.fact, f"{spec.name}: say where the value comes from"
        if spec.kind == "number":
            assert spec.unit and spec.minimum is not None and spec.maximum is not None
            assert spec.range_note and spec.range_note_zh
        if spec.kind == "choice":
            assert spec.choices
        json.dumps(spec.to_dict(), ensure_ascii=False)


def test_an_input_name_means_the_same_thing_in_every_model() -> None:
    seen: dict[str, tuple] = {}
    for model in MODELS.values():
        for s in model.inputs:
            sig = (s.kind, s.unit, s.choices, s.loinc)
            assert seen.setdefault(s.name, sig) == sig, f"{s.name} differs in {model.id}"


@pytest.mark.parametrize(
    ("name", "loinc"),
    [("sbp", "8480-6"), ("dbp", "8462-4"), ("tc", "2093-3"), ("hdl", "2085-9"),
     ("ldl", "18262-6"), ("tg", "2571-8"), ("creatinine", "2160-0"), ("waist", "8280-0"),
     ("bmi", "39156-5"), ("fpg", "2345-7"), ("hba1c", "4548-4")],
)  # fmt: skip
def test_lab_inputs_carry_their_loinc_code(name: str, loinc: str) -> None:
    specs = [s for m in MODELS.values() for s in m.inputs if s.name == name]
    assert specs and all(s.loinc == loinc for s in specs)


@pytest.mark.parametrize("model_id", IDS)
def test_valid_inputs_give_an_assessed_json_ready_deterministic_result(model_id: str) -> None:
    model = MODELS[model_id]
    first = model.evaluate(VALID[model_id])
    assert isinstance(first, Assessed) and first.applicable
    assert first.model == model_id and first.version == model.version
    text = json.dumps(first.to_dict(), ensure_ascii=False, sort_keys=True)
    again = json.dumps(
        model.evaluate(dict(VALID[model_id])).to_dict(), ensure_ascii=False, sort_keys=True
    )
    assert text == again
    assert first.level and first.level_en and first.level_zh
    if first.probability is not None:
        assert 0 <= first.probability <= 1


@pytest.mark.parametrize("model_id", IDS)
def test_each_missing_required_input_is_named(model_id: str) -> None:
    model = MODELS[model_id]
    for spec in model.inputs:
        if not spec.required:
            continue
        inputs = {k: v for k, v in VALID[model_id].items() if k != spec.name}
        result = model.evaluate(inputs)
        assert isinstance(result, NotApplicable), spec.name
        assert [r.input for r in result.reasons] == [spec.name]
        reason = result.reasons[0]
        assert spec.label_en in reason.en and spec.label_zh in reason.zh
        assert json.loads(json.dumps(result.to_dict()))["applicable"] is False


def test_none_counts_as_missing() -> None:
    inputs = VALID["cdrs"] | {"bmi": None}
    assert [r.input for r in MODELS["cdrs"].evaluate(inputs).reasons] == ["bmi"]


@pytest.mark.parametrize("model_id", IDS)
def test_out_of_range_numbers_are_not_applicable_never_a_number(model_id: str) -> None:
    model = MODELS[model_id]
    for spec in model.inputs:
        if spec.kind != "number" or spec.name not in VALID[model_id]:
            continue
        for bad in (spec.minimum - 1, spec.maximum + 1):
            result = model.evaluate(VALID[model_id] | {spec.name: bad})
            assert not result.applicable, (spec.name, bad)
            assert [r.input for r in result.reasons] == [spec.name]


def test_all_reasons_reported_at_once() -> None:
    result = MODELS["pce_2013"].evaluate({"age": 30, "sex": "male", "sbp": 250})
    names = [r.input for r in result.reasons]
    assert names == ["age", "tc", "hdl", "sbp", "bp_treated", "smoker", "diabetes"]


@pytest.mark.parametrize(
    ("inputs", "fragment"),
    [
        ({"phq9": "7"}, "expected a number"),
        ({"phq9": True}, "expected a number"),
        ({"phq9": 7.5}, "whole number"),
        ({"phq9": math.nan}, "finite"),
        ({"phq9": 7, "extra": 1}, "unknown input"),
    ],
)
def test_wrong_kinds_and_unknown_names_raise(inputs: dict, fragment: str) -> None:
    with pytest.raises(InputError, match=fragment) as caught:
        MODELS["phq9"].evaluate(inputs)
    assert caught.value.model == "phq9"


def test_bool_and_choice_kinds_are_strict() -> None:
    with pytest.raises(InputError, match="true or false"):
        MODELS["china_par"].evaluate(VALID["china_par"] | {"smoker": 1})
    with pytest.raises(InputError, match="one of male, female"):
        MODELS["china_par"].evaluate(VALID["china_par"] | {"sex": "M"})


def test_whole_number_given_as_float_is_accepted() -> None:
    assert MODELS["gad7"].evaluate({"gad7": 7.0}).inputs_used == {"gad7": 7}


def test_select_keeps_only_a_models_inputs() -> None:
    facts = VALID["metabolic_syndrome"] | {"phq9": 3, "creatinine": 70}
    assert MODELS["phq9"].select(facts) == {"phq9": 3}
    assert "phq9" not in MODELS["bp_grade"].select(facts)


def test_unit_factors_are_the_sources() -> None:
    assert units.china_par_mgdl(1.0) == pytest.approx(1 / 0.0259)
    assert units.cholesterol_mgdl(1.0) == 38.67
    assert units.creatinine_mgdl(88.4) == 1.0
    # The catalogue's cholesterol factor (0.02586) is the same molar factor to 4 figures.
    assert pytest.approx(0.02586, rel=1e-3) == 1 / units.CHOLESTEROL_MGDL_PER_MMOL


def test_plausibility_limits_match_the_indicator_catalogue() -> None:
    from careledger.observations.catalogue.data import INDICATORS

    by_code = {row["code"]: row for row in INDICATORS}
    for code, (lo, hi) in shared.PLAUSIBLE.items():
        plausible = by_code[code]["plausible"]
        assert (float(plausible[0]), float(plausible[1])) == (lo, hi), code


def test_the_package_imports_no_django() -> None:
    package = Path(riskmodels.__file__).parent
    for path in package.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert not name.startswith("django"), f"{path.name} imports {name}"
                if name.startswith("careledger"):
                    assert name.startswith("careledger.assessment.riskmodels"), path.name


def test_speed_is_reported_not_asserted(capsys: pytest.CaptureFixture[str]) -> None:
    """Population runs call every model 100,000 times: print µs per call (no timed assert)."""
    lines = []
    for model_id in IDS:
        model, inputs = MODELS[model_id], VALID[model_id]
        n = 2000
        per_call = timeit.timeit(lambda m=model, i=inputs: m.evaluate(i), number=n) / n * 1e6
        lines.append(f"{model_id}: {per_call:.1f} µs")
    with capsys.disabled():
        print("\nriskmodels evaluate():", ", ".join(lines))
