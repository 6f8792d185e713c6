"""CKD-EPI 2021 creatinine eGFR (race-free) with the KDIGO G and A categories.

Inker LA, Eneanya ND, Coresh J, et al. New Creatinine- and Cystatin C–Based Equations to
Estimate GFR without Race. N Engl J Med 2021;385:1737–1749, Table 2:
eGFR = 142 × min(Scr/κ, 1)^α × max(Scr/κ, 1)^−1.200 × 0.9938^age × 1.012 [female],
κ 0.7 (F) / 0.9 (M), α −0.241 (F) / −0.302 (M), Scr in mg/dL (µmol/L ÷ 88.4).
Categories: KDIGO 2012 Clinical Practice Guideline for the Evaluation and Management of CKD,
Kidney Int Suppl 2013;3:1–150 (kept unchanged by KDIGO 2024, Kidney Int 2024;105(4S):S117):
G1 ≥ 90, G2 60–89, G3a 45–59, G3b 30–44, G4 15–29, G5 < 15 mL/min/1.73 m²; albuminuria A1 < 30,
A2 30–300, A3 > 300 mg/g; with both, the KDIGO prognosis grid (low, moderately increased,
high, very high risk).

eGFR is reported as a whole number (as KDIGO and laboratories report it) and the G category
is read from that number, so a displayed "60" is never called G3a. Adults only (≥ 18): the
equation was developed and validated in adults. A G1/G2 result without markers of kidney
damage is not CKD; the category describes the filtration rate only.
"""

from __future__ import annotations

from careledger.assessment.riskmodels import inputs as i
from careledger.assessment.riskmodels.base import InputSpec, Out, Result, RiskModel, Values, used
from careledger.assessment.riskmodels.units import creatinine_mgdl

VERSION = "1"

KAPPA = {"female": 0.7, "male": 0.9}
ALPHA = {"female": -0.241, "male": -0.302}
BETA, MU, AGE_FACTOR, FEMALE_FACTOR = -1.200, 142.0, 0.9938, 1.012

G_STAGES = (
    (15, ("G5", "G5: kidney failure (< 15)", "G5期：肾衰竭（<15）")),
    (30, ("G4", "G4: severely decreased (15–29)", "G4期：重度下降（15～29）")),
    (45, ("G3b", "G3b: moderately to severely decreased (30–44)", "G3b期：中重度下降（30～44）")),
    (60, ("G3a", "G3a: mildly to moderately decreased (45–59)", "G3a期：轻中度下降（45～59）")),
    (90, ("G2", "G2: mildly decreased (60–89)", "G2期：轻度下降（60～89）")),
)
G1 = ("G1", "G1: normal or high (≥ 90)", "G1期：正常或升高（≥90）")

A_STAGES = {
    "A1": ("Normal to mildly increased (< 30 mg/g)", "正常至轻度升高（<30 mg/g）"),
    "A2": ("Moderately increased (30–300 mg/g)", "中度升高（30～300 mg/g）"),
    "A3": ("Severely increased (> 300 mg/g)", "重度升高（>300 mg/g）"),
}

# KDIGO prognosis of CKD by GFR and albuminuria categories ("heat map").
_RISK = {
    "low": (
        "Low risk (if no other markers of kidney disease, no CKD)",
        "低风险（若无其他肾损伤标志，不属于CKD）",
    ),
    "moderate": ("Moderately increased risk", "风险中度增加"),
    "high": ("High risk", "高风险"),
    "very_high": ("Very high risk", "极高风险"),
}  # fmt: skip
GRID = {
    "G1": ("low", "moderate", "high"),
    "G2": ("low", "moderate", "high"),
    "G3a": ("moderate", "high", "very_high"),
    "G3b": ("high", "very_high", "very_high"),
    "G4": ("very_high", "very_high", "very_high"),
    "G5": ("very_high", "very_high", "very_high"),
}


def egfr(creatinine_umol_l: float, age: float, sex: str) -> float:
    """Unrounded eGFR in mL/min/1.73 m²."""
    ratio = creatinine_mgdl(creatinine_umol_l) / KAPPA[sex]
    value = MU * min(ratio, 1.0) ** ALPHA[sex] * max(ratio, 1.0) ** BETA * AGE_FACTOR**age
    return value * FEMALE_FACTOR if sex == "female" else value


def g_stage(reported: float) -> tuple[str, str, str]:
    for upper, level in G_STAGES:
        if reported < upper:
            return level
    return G1


def a_stage(acr_mg_g: float) -> str:
    return "A1" if acr_mg_g < 30 else "A2" if acr_mg_g <= 300 else "A3"


def _compute(v: Values, out: Out) -> Result:
    raw = egfr(v["creatinine"], v["age"], v["sex"])
    reported = float(round(raw))
    level = g_stage(reported)
    details: dict[str, object] = {
        "egfr_unrounded": round(raw, 2),
        "creatinine_mg_dl": round(creatinine_mgdl(v["creatinine"]), 3),
        "g_stage": level[0],
    }
    if v["uacr"] is not None:
        a = a_stage(v["uacr"])
        risk = GRID[level[0]][int(a[1]) - 1]
        details |= {
            "a_stage": a,
            "a_stage_en": A_STAGES[a][0],
            "a_stage_zh": A_STAGES[a][1],
            "kdigo_risk": risk,
            "kdigo_risk_en": _RISK[risk][0],
            "kdigo_risk_zh": _RISK[risk][1],
        }
    return out.assessed(
        value=reported,
        unit="mL/min/{1.73_m2}",
        level=level,
        details=details,
        inputs_used=used(v),
    )


MODEL = RiskModel(
    id="ckd_epi_2021",
    version=VERSION,
    title_en="CKD-EPI 2021 creatinine eGFR with KDIGO categories",
    title_zh="CKD-EPI 2021 肌酐估算肾小球滤过率及KDIGO分期",
    citation=(
        "Inker LA, et al. N Engl J Med 2021;385:1737-1749; KDIGO 2012 CKD guideline, "
        "Kidney Int Suppl 2013;3:1-150"
    ),
    inputs=(
        i.age(18, 120, ("adults (the equation was developed in adults)", "成人（方程由成人推导）")),
        i.sex(),
        i.lab(
            "creatinine",
            "2160-0",
            "umol/L",
            "serum creatinine",
            "血肌酐",
            note="enzymatic or IDMS-traceable assay",
        ),
        InputSpec(
            name="uacr",
            kind="number",
            label_en="urine albumin-to-creatinine ratio",
            label_zh="尿白蛋白/肌酐比值",
            unit="mg/g",
            minimum=0,
            maximum=10000,
            range_note="plausibility limits",
            range_note_zh="合理性界限",
            required=False,
            loinc="9318-7",
            note="mg/g; a laboratory's mg/mmol × 8.84 = mg/g",
        ),
    ),
    compute=_compute,
)
