"""Guideline classifications: every cut-point on both sides, taken from the cited tables.

These are definitions, not equations: no worked example is needed beyond the tables
themselves (WS/T 428-2013; 中国高血压防治指南 2018 表3; 中国血脂管理指南 2023 表3; 中国2型糖尿病
防治指南 2020 (metabolic syndrome, glycaemic categories); Kroenke 2001; Spitzer 2006), so each
test pins the value just below and at each edge.
"""

from __future__ import annotations

import pytest

from careledger.assessment.riskmodels import MODELS

BMI = MODELS["bmi_waist"]
BP = MODELS["bp_grade"]
LIPIDS = MODELS["lipids"]
METS = MODELS["metabolic_syndrome"]
GLY = MODELS["glycaemia"]
PHQ9 = MODELS["phq9"]
GAD7 = MODELS["gad7"]


@pytest.mark.parametrize(
    ("bmi", "level"),
    [(18.4, "underweight"), (18.5, "normal"), (23.9, "normal"), (24.0, "overweight"),
     (27.9, "overweight"), (28.0, "obese")],
)  # fmt: skip
def test_bmi_ws_t_428(bmi: float, level: str) -> None:
    result = BMI.evaluate({"bmi": bmi})
    assert (result.value, result.level) == (bmi, level)


@pytest.mark.parametrize(
    ("sex", "waist", "level"),
    [("male", 84.9, "normal"), ("male", 85, "pre_central_obesity"), ("male", 90, "central_obesity"),
     ("female", 79.9, "normal"), ("female", 80, "pre_central_obesity"),
     ("female", 85, "central_obesity")],
)  # fmt: skip
def test_waist_ws_t_428(sex: str, waist: float, level: str) -> None:
    result = BMI.evaluate({"sex": sex, "bmi": 22, "waist": waist})
    assert result.level == "normal"  # the BMI class leads; the waist class sits beside it
    assert result.details["waist_level"] == level
    only_waist = BMI.evaluate({"sex": sex, "waist": waist})
    assert (only_waist.level, only_waist.unit) == (level, "cm")


def test_bmi_from_height_and_weight_when_absent() -> None:
    result = BMI.evaluate({"height": 170, "weight": 72})
    assert result.value == 24.9 and result.level == "overweight"
    assert result.details["bmi_computed_from_height_weight"] is True


def test_bmi_waist_not_applicable_without_either_or_without_sex_for_waist() -> None:
    nothing = BMI.evaluate({})
    assert {r.input for r in nothing.reasons} == {"bmi", "waist"}
    no_sex = BMI.evaluate({"waist": 90})
    assert [r.input for r in no_sex.reasons] == ["sex"]


@pytest.mark.parametrize(
    ("sbp", "dbp", "level", "isolated"),
    [
        (119, 79, "normal", False),
        (120, 79, "high_normal", False),
        (119, 80, "high_normal", False),
        (139, 89, "high_normal", False),
        (140, 89, "grade_1", True),
        (139, 90, "grade_1", False),
        (159, 99, "grade_1", False),
        (160, 85, "grade_2", True),
        (150, 100, "grade_2", False),  # the higher grade wins
        (179, 109, "grade_2", False),
        (180, 70, "grade_3", True),
        (130, 110, "grade_3", False),
        (165, 115, "grade_3", False),
    ],
)
def test_bp_grade_2018(sbp: float, dbp: float, level: str, isolated: bool) -> None:
    result = BP.evaluate({"sbp": sbp, "dbp": dbp})
    assert result.level == level
    assert result.details["isolated_systolic"] is isolated
    if isolated:
        assert "isolated systolic" in result.level_en and "单纯收缩期高血压" in result.level_zh


def test_treated_hypertension_below_140_90_is_not_called_normal() -> None:
    result = BP.evaluate({"sbp": 128, "dbp": 78, "bp_treated": True})
    assert result.level == "treated_controlled"
    assert result.details["hypertension"] is True
    assert BP.evaluate({"sbp": 150, "dbp": 80, "bp_treated": True}).level == "grade_1"


def test_bp_needs_both_readings() -> None:
    assert [r.input for r in BP.evaluate({"sbp": 150}).reasons] == ["dbp"]


@pytest.mark.parametrize(
    ("inputs", "key", "category"),
    [
        ({"tc": 5.19}, "tc", "appropriate"), ({"tc": 5.2}, "tc", "borderline"),
        ({"tc": 6.19}, "tc", "borderline"), ({"tc": 6.2}, "tc", "raised"),
        ({"ldl": 2.59}, "ldl", "ideal"), ({"ldl": 2.6}, "ldl", "appropriate"),
        ({"ldl": 3.4}, "ldl", "borderline"), ({"ldl": 4.09}, "ldl", "borderline"),
        ({"ldl": 4.1}, "ldl", "raised"),
        ({"hdl": 0.99}, "hdl", "low"), ({"hdl": 1.0}, "hdl", "appropriate"),
        ({"tg": 1.69}, "tg", "appropriate"), ({"tg": 1.7}, "tg", "borderline"),
        ({"tg": 2.3}, "tg", "raised"),
        ({"tc": 4.4, "hdl": 1.0}, "non_hdl", "appropriate"),
        ({"tc": 4.3, "hdl": 1.0}, "non_hdl", "ideal"),
        ({"tc": 5.1, "hdl": 1.0}, "non_hdl", "borderline"),
        ({"tc": 5.9, "hdl": 1.0}, "non_hdl", "raised"),
        ({"lp_a": 299}, "lp_a", "appropriate"), ({"lp_a": 300}, "lp_a", "raised"),
    ],
)  # fmt: skip
def test_lipid_cut_points_2023(inputs: dict, key: str, category: str) -> None:
    assert LIPIDS.evaluate(inputs).details["categories"][key] == category


def test_lipid_overall_level_and_types() -> None:
    fine = LIPIDS.evaluate({"tc": 4.5, "ldl": 2.5, "hdl": 1.3, "tg": 1.0})
    assert fine.level == "appropriate" and fine.details["types"] == []
    assert "低危人群" in fine.level_zh  # says which reference it applies
    edge = LIPIDS.evaluate({"tc": 5.5, "hdl": 1.3})
    assert edge.level == "borderline"
    mixed = LIPIDS.evaluate({"ldl": 4.5, "tg": 2.6, "hdl": 0.9})
    assert mixed.level == "raised"
    assert mixed.details["types"] == ["mixed_hyperlipidaemia", "low_hdl"]
    assert LIPIDS.evaluate({"tg": 3.0}).details["types"] == ["hypertriglyceridaemia"]
    # Lp(a) is reported but does not make dyslipidaemia on its own.
    lp = LIPIDS.evaluate({"ldl": 2.0, "lp_a": 500})
    assert lp.level == "appropriate" and lp.details["categories"]["lp_a"] == "raised"


def test_lipids_without_any_value() -> None:
    result = LIPIDS.evaluate({})
    assert not result.applicable and "血脂" in result.reasons[0].zh


def mets(**over: object) -> dict:
    base = {
        "sex": "male", "waist": 80, "fpg": 5.0, "glucose_2h": None, "diabetes": False,
        "sbp": 120, "dbp": 75, "bp_treated": False, "tg": 1.2, "hdl": 1.3,
    }  # fmt: skip
    return base | over


def test_metabolic_syndrome_counts_components_at_their_edges() -> None:
    assert METS.evaluate(mets()).value == 0
    edges = mets(waist=90, fpg=6.1, sbp=130, tg=1.70, hdl=1.03)
    result = METS.evaluate(edges)
    assert result.value == 5 and result.level == "present"
    below = mets(waist=89.9, fpg=6.0, sbp=129, dbp=84, tg=1.69, hdl=1.04)
    assert METS.evaluate(below).value == 0
    assert METS.evaluate(mets(sex="female", waist=85)).details["components"]["abdominal_obesity"]
    assert METS.evaluate(mets(dbp=85)).details["components"]["hypertension"]


def test_metabolic_syndrome_treated_conditions_count() -> None:
    result = METS.evaluate(mets(diabetes=True, bp_treated=True, tg=2.0))
    assert result.value == 3 and result.level == "present"
    ogtt = METS.evaluate(mets(fpg=5.5, glucose_2h=7.8))
    assert ogtt.details["components"]["hyperglycaemia"] is True


def test_metabolic_syndrome_decides_when_missing_values_cannot_change_it() -> None:
    three = METS.evaluate({"sex": "male", "waist": 95, "tg": 2.0, "hdl": 0.9})
    assert three.applicable and three.level == "present"
    assert set(three.details["unknown"]) == {"hyperglycaemia", "hypertension"}
    # Two negatives known and three unknown: could still reach 3 → not applicable.
    open_case = METS.evaluate({"tg": 1.0, "hdl": 1.5})
    assert not open_case.applicable
    named = {r.input for r in open_case.reasons}
    assert {"waist", "sex", "fpg", "sbp", "dbp"} <= named
    # Four known negatives: one unknown cannot make 3 → absent.
    four = METS.evaluate(mets(waist=None))
    assert four.applicable and four.level == "absent"


@pytest.mark.parametrize(
    ("inputs", "level", "china"),
    [
        ({"fpg": 6.0}, "normal", {"fpg": "normal"}),
        ({"fpg": 6.1}, "prediabetes", {"fpg": "ifg"}),
        ({"fpg": 6.9}, "prediabetes", {"fpg": "ifg"}),
        ({"fpg": 7.0}, "diabetes_range", {"fpg": "diabetes_range"}),
        ({"glucose_2h": 7.7}, "normal", {"glucose_2h": "normal"}),
        ({"glucose_2h": 7.8}, "prediabetes", {"glucose_2h": "igt"}),
        ({"glucose_2h": 11.0}, "prediabetes", {"glucose_2h": "igt"}),
        ({"glucose_2h": 11.1}, "diabetes_range", {"glucose_2h": "diabetes_range"}),
        ({"hba1c": 6.4}, "normal", {"hba1c": "not_diagnostic"}),
        ({"hba1c": 6.5}, "diabetes_range", {"hba1c": "diabetes_range"}),
    ],
)
def test_glycaemia_china_2020(inputs: dict, level: str, china: dict) -> None:
    result = GLY.evaluate(inputs)
    assert result.level == level
    assert result.details["china"] == china


@pytest.mark.parametrize(
    ("inputs", "ada"),
    [
        ({"fpg": 5.5}, {"fpg": "normal"}),
        ({"fpg": 5.6}, {"fpg": "prediabetes"}),
        ({"hba1c": 5.6}, {"hba1c": "normal"}),
        ({"hba1c": 5.7}, {"hba1c": "prediabetes"}),
        ({"hba1c": 6.4}, {"hba1c": "prediabetes"}),
    ],
)
def test_glycaemia_ada_beside_it(inputs: dict, ada: dict) -> None:
    result = GLY.evaluate(inputs)
    assert result.details["ada"] == ada
    assert result.level == "normal"  # the Chinese categories lead: FPG 5.6 is not IFG in China


def test_glycaemia_prediabetes_subtypes_and_diabetes_message() -> None:
    both = GLY.evaluate({"fpg": 6.3, "glucose_2h": 8.5})
    assert both.details["prediabetes_type"] == "ifg_and_igt"
    dm = GLY.evaluate({"fpg": 7.2})
    assert "confirm" in dm.level_en and "复查" in dm.level_zh
    assert not GLY.evaluate({}).applicable


@pytest.mark.parametrize(
    ("score", "level"),
    [(0, "minimal"), (4, "minimal"), (5, "mild"), (9, "mild"), (10, "moderate"), (14, "moderate"),
     (15, "moderately_severe"), (19, "moderately_severe"), (20, "severe"), (27, "severe")],
)  # fmt: skip
def test_phq9_bands(score: int, level: str) -> None:
    assert PHQ9.evaluate({"phq9": score}).level == level


@pytest.mark.parametrize(
    ("score", "level"),
    [(0, "minimal"), (4, "minimal"), (5, "mild"), (9, "mild"), (10, "moderate"), (14, "moderate"),
     (15, "severe"), (21, "severe")],
)  # fmt: skip
def test_gad7_bands(score: int, level: str) -> None:
    assert GAD7.evaluate({"gad7": score}).level == level


def test_phq9_item9_flags_safety_whatever_the_total() -> None:
    result = PHQ9.evaluate({"phq9": 3, "phq9_item9": 1})
    assert result.level == "minimal"
    assert result.details["safety_assessment_needed"] is True
    assert PHQ9.evaluate({"phq9": 3, "phq9_item9": 0}).details["safety_assessment_needed"] is False


@pytest.mark.parametrize(("model", "name", "score"), [(PHQ9, "phq9", 28), (GAD7, "gad7", 22)])
def test_scores_outside_the_questionnaire_are_not_applicable(model, name, score) -> None:  # type: ignore[no-untyped-def]
    result = model.evaluate({name: score})
    assert not result.applicable and result.reasons[0].input == name
