"""Body weight, waist and blood-pressure classifications by the Chinese standards.

BMI and waist: 中华人民共和国卫生行业标准 WS/T 428-2013 成人体重判定 (Criteria of weight for
adults): BMI < 18.5 underweight, 18.5–23.9 normal, 24.0–27.9 overweight, ≥ 28.0 obese;
waist men 85–< 90 / women 80–< 85 cm pre-central obesity (中心型肥胖前期), ≥ 90 / ≥ 85 cm
central obesity (中心型肥胖).

Blood pressure: 中国高血压防治指南修订委员会. 中国高血压防治指南(2018年修订版).
中国心血管杂志 2019;24(1):24-56, Table 3 (office BP): normal < 120 and < 80; high-normal
120–139 and/or 80–89; grade 1 140–159 and/or 90–99; grade 2 160–179 and/or 100–109;
grade 3 ≥ 180 and/or ≥ 110; isolated systolic hypertension ≥ 140 and < 90, graded by SBP.
When SBP and DBP fall in different grades the higher one applies. A person on
antihypertensive treatment whose BP is below 140/90 still has hypertension (the guideline's
definition); the result says so instead of "normal". Not the older WHO/ISH 1999 table.
"""

from __future__ import annotations

from careledger.assessment.riskmodels import inputs as i
from careledger.assessment.riskmodels.base import Out, Reason, Result, RiskModel, Values, used

VERSION = "1"

# ------------------------------------------------------------------ BMI and waist
UNDERWEIGHT = ("underweight", "Underweight (BMI < 18.5)", "体重过低（BMI<18.5）")
NORMAL_WEIGHT = ("normal", "Normal weight (BMI 18.5–23.9)", "体重正常（BMI 18.5～23.9）")
OVERWEIGHT = ("overweight", "Overweight (BMI 24.0–27.9)", "超重（BMI 24.0～27.9）")
OBESE = ("obese", "Obese (BMI ≥ 28.0)", "肥胖（BMI≥28.0）")

WAIST_NORMAL = ("normal", "Waist below the pre-central obesity cut-off", "腰围正常")
WAIST_PRE = ("pre_central_obesity", "Pre-central obesity (waist)", "中心型肥胖前期")
WAIST_CENTRAL = ("central_obesity", "Central obesity (waist)", "中心型肥胖")
WAIST_CUTS = {"male": (85.0, 90.0), "female": (80.0, 85.0)}


def bmi_level(bmi: float) -> tuple[str, str, str]:
    # WS/T 428 prints one decimal ("23.9"), so the bands are [18.5, 24.0) etc.
    if bmi < 18.5:
        return UNDERWEIGHT
    if bmi < 24.0:
        return NORMAL_WEIGHT
    if bmi < 28.0:
        return OVERWEIGHT
    return OBESE


def waist_level(sex: str, waist: float) -> tuple[str, str, str]:
    pre, central = WAIST_CUTS[sex]
    return WAIST_CENTRAL if waist >= central else WAIST_PRE if waist >= pre else WAIST_NORMAL


def _bmi_waist(v: Values, out: Out) -> Result:
    bmi, waist = v["bmi"], v["waist"]
    details: dict[str, object] = {}
    if bmi is None and v["height"] is not None and v["weight"] is not None:
        bmi = round(v["weight"] / (v["height"] / 100) ** 2, 1)
        details["bmi_computed_from_height_weight"] = True
    if bmi is None and waist is None:
        return out.not_applicable(
            Reason("bmi", "BMI (or height and weight) is missing", "缺少体重指数（或身高和体重）"),
            Reason("waist", "waist circumference is missing", "缺少腰围"),
        )
    if waist is not None and v["sex"] is None:
        return out.not_applicable(
            Reason(
                "sex", "sex is missing (the waist cut-offs differ)", "缺少性别（腰围切点男女不同）"
            )
        )
    lo, hi = i.PLAUSIBLE["39156-5"]
    if bmi is not None and not lo <= bmi <= hi:
        return out.not_applicable(
            Reason("bmi", f"BMI {bmi} from height and weight is implausible",
                   f"由身高体重算得的体重指数 {bmi} 不合理")
        )  # fmt: skip
    if waist is not None:
        wl = waist_level(v["sex"], waist)
        details |= {"waist_level": wl[0], "waist_level_en": wl[1], "waist_level_zh": wl[2]}
    if bmi is not None:
        details["bmi"] = bmi
        return out.assessed(
            value=bmi, unit="kg/m2", level=bmi_level(bmi), details=details, inputs_used=used(v)
        )
    return out.assessed(value=waist, unit="cm", level=wl, details=details, inputs_used=used(v))


BMI_WAIST = RiskModel(
    id="bmi_waist",
    version=VERSION,
    kind="classification",
    title_en="Body weight (BMI) and central obesity (waist), WS/T 428-2013",
    title_zh="成人体重判定（BMI与腰围，WS/T 428-2013）",
    citation="WS/T 428-2013 成人体重判定 (National Health and Family Planning Commission, 2013)",
    inputs=(
        i.optional(i.sex(), "needed with waist"),
        i.optional(i.bmi()),
        i.optional(i.waist()),
        i.optional(
            i.lab("height", "8302-2", "cm", "body height", "身高"),
            "with weight, used when BMI is absent",
        ),
        i.optional(
            i.lab("weight", "29463-7", "kg", "body weight", "体重"),
            "with height, used when BMI is absent",
        ),
    ),
    compute=_bmi_waist,
)

# ------------------------------------------------------------------ blood pressure
BP_NORMAL = ("normal", "Normal blood pressure", "正常血压")
BP_HIGH_NORMAL = ("high_normal", "High-normal blood pressure", "正常高值")
BP_GRADES = {
    1: ("grade_1", "Grade 1 hypertension (mild)", "1级高血压（轻度）"),
    2: ("grade_2", "Grade 2 hypertension (moderate)", "2级高血压（中度）"),
    3: ("grade_3", "Grade 3 hypertension (severe)", "3级高血压（重度）"),
}
BP_TREATED_CONTROLLED = (
    "treated_controlled",
    "Hypertension, on treatment, BP below 140/90",
    "高血压（正在服药，血压<140/90 mmHg）",
)


# Ranks: 0 normal, 1 high-normal, 2–4 hypertension grades 1–3 (so the higher rank wins).
_RANK_CODES = ("normal", "high_normal", "grade_1", "grade_2", "grade_3")


def _sbp_rank(sbp: float) -> int:
    return 4 if sbp >= 180 else 3 if sbp >= 160 else 2 if sbp >= 140 else 1 if sbp >= 120 else 0


def _dbp_rank(dbp: float) -> int:
    return 4 if dbp >= 110 else 3 if dbp >= 100 else 2 if dbp >= 90 else 1 if dbp >= 80 else 0


def _bp(v: Values, out: Out) -> Result:
    s, d = _sbp_rank(v["sbp"]), _dbp_rank(v["dbp"])
    worst = max(s, d)
    isolated = v["sbp"] >= 140 and v["dbp"] < 90
    details: dict[str, object] = {
        "sbp_category": _RANK_CODES[s],
        "dbp_category": _RANK_CODES[d],
        "isolated_systolic": isolated,
        "hypertension": worst >= 2 or bool(v["bp_treated"]),
    }
    if worst >= 2:
        code, en, zh = BP_GRADES[worst - 1]
        if isolated:
            en, zh = f"{en}, isolated systolic", f"{zh}，单纯收缩期高血压"
        level = (code, en, zh)
    elif v["bp_treated"]:
        level = BP_TREATED_CONTROLLED
    else:
        level = BP_HIGH_NORMAL if worst == 1 else BP_NORMAL
    return out.assessed(value=None, unit=None, level=level, details=details, inputs_used=used(v))


BP_GRADE = RiskModel(
    id="bp_grade",
    version=VERSION,
    kind="classification",
    title_en="Blood pressure category (Chinese hypertension guideline 2018)",
    title_zh="血压水平分类（中国高血压防治指南2018年修订版）",
    citation="中国高血压防治指南(2018年修订版). 中国心血管杂志 2019;24(1):24-56, 表3",
    inputs=(
        i.sbp(note="office BP, mean of two or more readings"),
        i.dbp(note="office BP, mean of two or more readings"),
        i.optional(
            i.BP_TREATED, "if on treatment, BP < 140/90 is reported as treated hypertension"
        ),
    ),
    compute=_bp,
)
