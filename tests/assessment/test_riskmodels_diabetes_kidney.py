"""CDRS, FINDRISC and CKD-EPI 2021.

CDRS: no worked example with inputs and total could be found (neither in Zhou 2013's abstract
nor in a published implementation in the searched index). Tested by hand-computed totals from
the points table of CLINICAL_SOURCES.md (as in the CDS 2020 guideline), every band edge, the
maximum of 51 and the ≥ 25 rule.

FINDRISC: no published worked example found either; hand-computed from the original form
(Lindström 2003): each item's edges, the maximum of 26 and the five bands.

CKD-EPI 2021: Inker 2021, Supplementary Table S11 (simulated patients, whole numbers), as
transcribed by zwbao/longevity-skills (skills/ckd-epi-2021-egfr/tests/test_manifest.py): man 50,
Scr 1.0 mg/dL → 92; woman 50, Scr 0.6 → 109; woman 75, Scr 1.5 → 36 (G3b); woman 75, Scr 2.0 →
26 (G4). And the NKF calculator as quoted in another project's notes: man 55, Scr 1.2 → 71.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from careledger.assessment.riskmodels import MODELS, ckd_epi
from careledger.assessment.riskmodels.units import CREATININE_UMOL_PER_MGDL

CDRS = MODELS["cdrs"]
FINDRISC = MODELS["findrisc"]
CKD = MODELS["ckd_epi_2021"]


def cdrs(**over: object) -> dict:
    base = {
        "age": 22,
        "sex": "female",
        "waist": 65,
        "bmi": 20,
        "sbp": 105,
        "family_diabetes": "none",
    }
    return base | over


def test_cdrs_zero_and_maximum() -> None:
    assert CDRS.evaluate(cdrs()).value == 0
    top = CDRS.evaluate(
        cdrs(age=70, sex="male", waist=100, bmi=31, sbp=165, family_diabetes="first")
    )
    assert top.value == 51
    assert top.details["points"] == {
        "age": 18, "sex": 2, "bmi": 5, "waist": 10, "sbp": 10, "family_diabetes": 6,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("age", "points"),
    [(20, 0), (24.9, 0), (25, 4), (34, 4), (35, 8), (40, 11), (45, 12), (50, 13), (55, 15),
     (59.9, 15), (60, 16), (65, 18), (74, 18)],
)  # fmt: skip
def test_cdrs_age_points(age: float, points: int) -> None:
    assert CDRS.evaluate(cdrs(age=age)).details["points"]["age"] == points


@pytest.mark.parametrize(
    ("bmi", "points"), [(21.9, 0), (22, 1), (23.9, 1), (24, 3), (29.9, 3), (30, 5)]
)
def test_cdrs_bmi_points(bmi: float, points: int) -> None:
    assert CDRS.evaluate(cdrs(bmi=bmi)).details["points"]["bmi"] == points


@pytest.mark.parametrize(
    ("sex", "waist", "points"),
    [("male", 74.9, 0), ("male", 75, 3), ("male", 80, 5), ("male", 85, 7), ("male", 90, 8),
     ("male", 95, 10), ("female", 69.9, 0), ("female", 70, 3), ("female", 75, 5),
     ("female", 80, 7), ("female", 85, 8), ("female", 89.9, 8), ("female", 90, 10)],
)  # fmt: skip
def test_cdrs_waist_points(sex: str, waist: float, points: int) -> None:
    assert CDRS.evaluate(cdrs(sex=sex, waist=waist)).details["points"]["waist"] == points


@pytest.mark.parametrize(
    ("sbp", "points"),
    [(109, 0), (110, 1), (120, 3), (130, 6), (139, 6), (140, 7), (150, 8), (159, 8), (160, 10)],
)
def test_cdrs_sbp_points(sbp: float, points: int) -> None:
    assert CDRS.evaluate(cdrs(sbp=sbp)).details["points"]["sbp"] == points


def test_cdrs_family_history_counts_first_degree_only() -> None:
    assert CDRS.evaluate(cdrs(family_diabetes="first")).details["points"]["family_diabetes"] == 6
    assert CDRS.evaluate(cdrs(family_diabetes="second")).details["points"]["family_diabetes"] == 0


def test_cdrs_threshold_25_advises_ogtt() -> None:
    # 45 y (12) + male (2) + BMI 24 (3) + waist 85 (7) = 24; SBP 110 (1) makes 25.
    below = CDRS.evaluate(cdrs(age=45, sex="male", bmi=24, waist=85, sbp=105))
    at = CDRS.evaluate(cdrs(age=45, sex="male", bmi=24, waist=85, sbp=110))
    assert (below.value, below.level, below.details["ogtt_advised"]) == (24, "low", False)
    assert (at.value, at.level, at.details["ogtt_advised"]) == (25, "high", True)
    assert at.level_zh == "≥25分：建议行OGTT检查"


@pytest.mark.parametrize("age", [19, 75])
def test_cdrs_outside_20_74(age: int) -> None:
    result = CDRS.evaluate(cdrs(age=age))
    assert not result.applicable and result.reasons[0].input == "age"


def findrisc(**over: object) -> dict:
    base = {
        "age": 40, "sex": "male", "bmi": 22, "waist": 80, "active_30min_daily": True,
        "vegetables_daily": True, "bp_medication_ever": False, "ever_high_glucose": False,
        "family_diabetes": "none",
    }  # fmt: skip
    return base | over


@pytest.mark.parametrize(
    ("over", "item", "points"),
    [
        ({"age": 44}, "age", 0), ({"age": 45}, "age", 2), ({"age": 55}, "age", 3),
        ({"age": 64}, "age", 3), ({"age": 65}, "age", 4),
        ({"bmi": 24.9}, "bmi", 0), ({"bmi": 25}, "bmi", 1), ({"bmi": 30}, "bmi", 1),
        ({"bmi": 30.1}, "bmi", 3),
        ({"waist": 93.9}, "waist", 0), ({"waist": 94}, "waist", 3), ({"waist": 102}, "waist", 3),
        ({"waist": 102.1}, "waist", 4),
        ({"sex": "female", "waist": 79.9}, "waist", 0),
        ({"sex": "female", "waist": 80}, "waist", 3),
        ({"sex": "female", "waist": 88}, "waist", 3),
        ({"sex": "female", "waist": 88.1}, "waist", 4),
        ({"active_30min_daily": False}, "physical_activity", 2),
        ({"vegetables_daily": False}, "vegetables_fruit", 1),
        ({"bp_medication_ever": True}, "bp_medication", 2),
        ({"ever_high_glucose": True}, "high_glucose", 5),
        ({"family_diabetes": "second"}, "family_diabetes", 3),
        ({"family_diabetes": "first"}, "family_diabetes", 5),
    ],
)  # fmt: skip
def test_findrisc_items(over: dict, item: str, points: int) -> None:
    result = FINDRISC.evaluate(findrisc(**over))
    assert result.details["points"][item] == points
    assert result.value == points


@pytest.mark.parametrize(
    ("over", "total", "band"),
    [
        ({}, 0, "low"),
        ({"age": 45, "bmi": 25, "waist": 94}, 6, "low"),
        ({"age": 45, "bmi": 25, "waist": 94, "vegetables_daily": False}, 7, "slightly_elevated"),
        ({"age": 55, "bmi": 31, "waist": 94, "vegetables_daily": False, "active_30min_daily": False}, 12, "moderate"),  # noqa: E501
        ({"age": 55, "ever_high_glucose": True, "family_diabetes": "first", "bmi": 26}, 14, "moderate"),  # noqa: E501
        ({"age": 65, "ever_high_glucose": True, "family_diabetes": "first", "bmi": 26}, 15, "high"),
        ({"age": 65, "bmi": 31, "waist": 103, "active_30min_daily": False, "ever_high_glucose": True, "family_diabetes": "first"}, 23, "very_high"),  # noqa: E501
    ],
)  # fmt: skip
def test_findrisc_bands(over: dict, total: int, band: str) -> None:
    result = FINDRISC.evaluate(findrisc(**over))
    assert (result.value, result.level) == (total, band)


def test_findrisc_maximum_and_estimate() -> None:
    worst = FINDRISC.evaluate(
        findrisc(age=70, bmi=35, waist=110, active_30min_daily=False, vegetables_daily=False,
                 bp_medication_ever=True, ever_high_glucose=True, family_diabetes="first")
    )  # fmt: skip
    assert worst.value == 26 and worst.level == "very_high"
    assert worst.details["estimated_10y_risk"] == 0.5
    assert worst.probability is None  # the form gives band estimates, not a continuous risk


def test_findrisc_needs_every_item() -> None:
    inputs = findrisc()
    del inputs["vegetables_daily"]
    [reason] = FINDRISC.evaluate(inputs).reasons
    assert reason.input == "vegetables_daily"
    assert "not recorded" in reason.en and "未填写" in reason.zh


# ------------------------------------------------------------------ CKD-EPI 2021
def umol(mgdl: float) -> float:
    return mgdl * CREATININE_UMOL_PER_MGDL


@pytest.mark.parametrize(
    ("sex", "age", "scr", "printed", "stage"),
    [
        ("male", 50, 1.0, 92, "G1"),
        ("female", 50, 0.6, 109, "G1"),
        ("female", 75, 1.5, 36, "G3b"),
        ("female", 75, 2.0, 26, "G4"),
        ("male", 55, 1.2, 71, "G2"),
    ],
)
def test_ckd_epi_published_values(sex, age, scr, printed, stage) -> None:  # type: ignore[no-untyped-def]
    result = CKD.evaluate({"age": age, "sex": sex, "creatinine": umol(scr)})
    assert result.details["egfr_unrounded"] == pytest.approx(printed, abs=1.0)
    assert result.level == stage
    assert result.unit == "mL/min/{1.73_m2}"


def test_ckd_epi_reports_a_whole_number_and_stages_on_it() -> None:
    # Find a creatinine whose eGFR is 59.6: reported 60, so G2, not G3a.
    lo, hi = 50.0, 200.0
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if ckd_epi.egfr(mid, 60, "male") > 59.6 else (lo, mid)
    result = CKD.evaluate({"age": 60, "sex": "male", "creatinine": lo})
    assert result.details["egfr_unrounded"] == pytest.approx(59.6, abs=0.01)
    assert (result.value, result.level) == (60, "G2")


@pytest.mark.parametrize(
    ("egfr", "stage"),
    [(90, "G1"), (89, "G2"), (60, "G2"), (59, "G3a"), (45, "G3a"), (44, "G3b"), (30, "G3b"),
     (29, "G4"), (15, "G4"), (14, "G5")],
)  # fmt: skip
def test_kdigo_g_edges(egfr: float, stage: str) -> None:
    assert ckd_epi.g_stage(egfr)[0] == stage


@pytest.mark.parametrize(
    ("acr", "stage"), [(0, "A1"), (29.9, "A1"), (30, "A2"), (300, "A2"), (300.1, "A3")]
)
def test_kdigo_a_stage_and_grid(acr: float, stage: str) -> None:
    result = CKD.evaluate({"age": 75, "sex": "female", "creatinine": umol(1.5), "uacr": acr})
    assert result.details["a_stage"] == stage
    expected = {"A1": "high", "A2": "very_high", "A3": "very_high"}[stage]  # G3b row
    assert result.details["kdigo_risk"] == expected


def test_without_acr_no_a_stage() -> None:
    result = CKD.evaluate({"age": 50, "sex": "male", "creatinine": 80})
    assert "a_stage" not in result.details and "kdigo_risk" not in result.details


def test_children_are_not_applicable() -> None:
    result = CKD.evaluate({"age": 16, "sex": "male", "creatinine": 60})
    assert not result.applicable and result.reasons[0].input == "age"


def test_creatinine_umol_conversion_factor() -> None:
    result = CKD.evaluate({"age": 50, "sex": "female", "creatinine": 88.4})
    assert result.details["creatinine_mg_dl"] == 1.0


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["male", "female"]), st.floats(18, 90), st.floats(30, 800), st.floats(1, 50))
def test_egfr_falls_with_creatinine_and_age(sex, age, scr, step) -> None:  # type: ignore[no-untyped-def]
    base = ckd_epi.egfr(scr, age, sex)
    assert ckd_epi.egfr(scr + step, age, sex) < base
    assert ckd_epi.egfr(scr, age + step / 5, sex) < base
