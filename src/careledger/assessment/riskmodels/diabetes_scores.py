"""Diabetes screening scores: the Chinese Diabetes Risk Score and FINDRISC.

Chinese Diabetes Risk Score (中国糖尿病风险评分):
Zhou X, Qiao Q, Ji L, et al. Nonlaboratory-based risk assessment algorithm for undiagnosed
type 2 diabetes developed on a nation-wide diabetes survey. Diabetes Care
2013;36(12):3944–3952; adopted with the points table by 中华医学会糖尿病学分会. 中国2型糖尿病
防治指南(2020年版). 中华糖尿病杂志 2021;13(4):315-409. Ages 20–74; 0–51 points; ≥ 25 → an
OGTT is advised (the guideline's screening rule).

FINDRISC: Lindström J, Tuomilehto J. The Diabetes Risk Score: a practical tool to predict
type 2 diabetes risk. Diabetes Care 2003;26(3):725–731 (the original form: 8 items, 0–26
points; bands < 7 low, 7–11 slightly elevated, 12–14 moderate, 15–20 high, > 20 very high,
with the form's estimated 10-year risks 1 %, 4 %, 17 %, 33 %, 50 %).

Band edges are the sources' printed ones: CDRS bands are half-open ("22–23.9" = [22, 24)),
FINDRISC's are the form's ("25–30" kg/m² is ≤ 30, "> 30" is above 30; waist "94–102" cm
includes 102).
"""

from __future__ import annotations

from careledger.assessment.riskmodels import inputs as i
from careledger.assessment.riskmodels.base import InputSpec, Out, Result, RiskModel, Values, used

VERSION = "1"

# ------------------------------------------------------------------ CDRS
# (exclusive upper bound, points); the last row has no upper bound.
CDRS_AGE = ((25, 0), (35, 4), (40, 8), (45, 11), (50, 12), (55, 13), (60, 15), (65, 16), (None, 18))
CDRS_BMI = ((22, 0), (24, 1), (30, 3), (None, 5))
CDRS_WAIST = {
    "male": ((75, 0), (80, 3), (85, 5), (90, 7), (95, 8), (None, 10)),
    "female": ((70, 0), (75, 3), (80, 5), (85, 7), (90, 8), (None, 10)),
}
CDRS_SBP = ((110, 0), (120, 1), (130, 3), (140, 6), (150, 7), (160, 8), (None, 10))
CDRS_FAMILY_HISTORY, CDRS_MALE = 6, 2
CDRS_OGTT_CUT = 25

CDRS_LOW = ("low", "Below the screening threshold (< 25)", "低于筛查切点（<25分）")
CDRS_HIGH = ("high", "≥ 25: OGTT advised", "≥25分：建议行OGTT检查")


def _points(value: float, table: tuple[tuple[float | None, int], ...]) -> int:
    for upper, pts in table:
        if upper is None or value < upper:
            return pts
    raise AssertionError("unreachable: the last row has no bound")


def _cdrs(v: Values, out: Out) -> Result:
    items = {
        "age": _points(v["age"], CDRS_AGE),
        "sex": CDRS_MALE if v["sex"] == "male" else 0,
        "bmi": _points(v["bmi"], CDRS_BMI),
        "waist": _points(v["waist"], CDRS_WAIST[v["sex"]]),
        "sbp": _points(v["sbp"], CDRS_SBP),
        "family_diabetes": CDRS_FAMILY_HISTORY if v["family_diabetes"] == "first" else 0,
    }
    total = sum(items.values())
    return out.assessed(
        value=float(total),
        unit="{score}",
        level=CDRS_HIGH if total >= CDRS_OGTT_CUT else CDRS_LOW,
        details={"points": items, "max_points": 51, "ogtt_advised": total >= CDRS_OGTT_CUT},
        inputs_used=used(v),
    )


FAMILY_DIABETES = InputSpec(
    name="family_diabetes",
    kind="choice",
    label_en="diabetes in relatives",
    label_zh="糖尿病家族史",
    choices=("none", "second", "first"),
    fact="record.family_history: E10–E14 in a parent, sibling or child (first) or in a "
    "grandparent, aunt, uncle or first cousin (second)",
    note="CDRS counts first-degree relatives only (父母、同胞、子女); FINDRISC scores both",
)

CDRS = RiskModel(
    id="cdrs",
    version=VERSION,
    title_en="Chinese Diabetes Risk Score",
    title_zh="中国糖尿病风险评分",
    citation=(
        "Zhou X, et al. Diabetes Care 2013;36(12):3944-3952; 中国2型糖尿病防治指南(2020年版), "
        "中华糖尿病杂志 2021;13(4):315-409"
    ),
    inputs=(
        i.age(20, 74, ("CDRS ages", "中国糖尿病风险评分适用年龄")),
        i.sex(),
        i.waist(),
        i.bmi(),
        i.sbp(),
        FAMILY_DIABETES,
    ),
    compute=_cdrs,
)

# ------------------------------------------------------------------ FINDRISC
FINDRISC_BANDS = (
    (7, ("low", "Low (< 7)", "低风险（<7分）"), 0.01),
    (12, ("slightly_elevated", "Slightly elevated (7–11)", "轻度升高（7～11分）"), 0.04),
    (15, ("moderate", "Moderate (12–14)", "中度风险（12～14分）"), 0.17),
    (21, ("high", "High (15–20)", "高风险（15～20分）"), 0.33),
    (None, ("very_high", "Very high (> 20)", "极高风险（>20分）"), 0.50),
)


def _findrisc_age(age: float) -> int:
    return 0 if age < 45 else 2 if age < 55 else 3 if age < 65 else 4


def _findrisc_bmi(bmi: float) -> int:
    return 0 if bmi < 25 else 1 if bmi <= 30 else 3


def _findrisc_waist(sex: str, waist: float) -> int:
    low, high = (94, 102) if sex == "male" else (80, 88)
    return 0 if waist < low else 3 if waist <= high else 4


def _findrisc(v: Values, out: Out) -> Result:
    items = {
        "age": _findrisc_age(v["age"]),
        "bmi": _findrisc_bmi(v["bmi"]),
        "waist": _findrisc_waist(v["sex"], v["waist"]),
        "physical_activity": 0 if v["active_30min_daily"] else 2,
        "vegetables_fruit": 0 if v["vegetables_daily"] else 1,
        "bp_medication": 2 if v["bp_medication_ever"] else 0,
        "high_glucose": 5 if v["ever_high_glucose"] else 0,
        "family_diabetes": {"none": 0, "second": 3, "first": 5}[v["family_diabetes"]],
    }
    total = sum(items.values())
    level, estimate = next(
        (lvl, est) for upper, lvl, est in FINDRISC_BANDS if upper is None or total < upper
    )
    return out.assessed(
        value=float(total),
        unit="{score}",
        level=level,
        details={"points": items, "max_points": 26, "estimated_10y_risk": estimate},
        inputs_used=used(v),
    )


FINDRISC = RiskModel(
    id="findrisc",
    version=VERSION,
    title_en="Finnish Diabetes Risk Score (FINDRISC)",
    title_zh="芬兰糖尿病风险评分（FINDRISC）",
    citation="Lindström J, Tuomilehto J. Diabetes Care 2003;26(3):725-731",
    inputs=(
        i.age(18, 110, ("adults (derived on ages 35–64)", "成人（由35～64岁人群推导）")),
        i.sex(),
        i.bmi(),
        i.waist(),
        i.flag(
            "active_30min_daily",
            "at least 30 minutes of physical activity every day",
            "每天至少30分钟体力活动",
            "questionnaire / record.lifestyle.activity",
        ),
        i.flag(
            "vegetables_daily",
            "eats vegetables, fruit or berries every day",
            "每天吃蔬菜、水果或浆果",
            "questionnaire / record.lifestyle.diet",
        ),
        i.flag(
            "bp_medication_ever",
            "has ever taken antihypertensive medication regularly",
            "曾规律服用降压药",
            i.BP_TREATED_FACT + " (ever)",
        ),
        i.flag(
            "ever_high_glucose",
            "has ever had high blood glucose (check-up, illness, pregnancy)",
            "曾被发现血糖升高（体检、患病或妊娠期间）",
            "observations: any fasting glucose ≥ 6.1 mmol/L, or questionnaire",
        ),
        FAMILY_DIABETES,
    ),
    compute=_findrisc,
)
