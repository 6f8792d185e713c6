"""Metabolic syndrome and glycaemic categories by the Chinese diabetes guideline 2020.

中华医学会糖尿病学分会. 中国2型糖尿病防治指南(2020年版). 中华糖尿病杂志
2021;13(4):315-409.

Metabolic syndrome (代谢综合征), ≥ 3 of: (1) abdominal obesity, waist ≥ 90 cm men, ≥ 85 cm
women; (2) hyperglycaemia, FPG ≥ 6.1 or 2-h PG ≥ 7.8 mmol/L, or diagnosed and treated
diabetes; (3) hypertension, BP ≥ 130/85 mmHg, or diagnosed and treated hypertension;
(4) fasting TG ≥ 1.70 mmol/L; (5) fasting HDL-C < 1.04 mmol/L. With some components unknown
the answer is still given when it cannot change (3 present, or too few left to reach 3);
otherwise NotApplicable names the missing ones.

Glycaemia: the guideline's categories (WHO 1999) — FPG < 6.1 normal, 6.1–< 7.0 impaired
fasting glucose, ≥ 7.0 diabetes range; 2-h PG < 7.8 normal, 7.8–< 11.1 impaired glucose
tolerance, ≥ 11.1 diabetes range; HbA1c ≥ 6.5 % diabetes range (added as a diagnostic
criterion in 2020, standardised laboratories). The guideline defines no HbA1c prediabetes
band; the ADA's (5.7–6.4 %, with FPG 5.6–6.9 and 2-h 7.8–11.0) is reported beside it in
`details["ada"]` (American Diabetes Association. Standards of Care in Diabetes, section 2,
Diagnosis and Classification of Diabetes). One result in the diabetes range is not a
diagnosis: without symptoms it must be confirmed by a repeat test.
"""

from __future__ import annotations

from careledger.assessment.riskmodels import inputs as i
from careledger.assessment.riskmodels.base import (
    Out,
    Reason,
    Result,
    RiskModel,
    Values,
    missing,
    used,
)

VERSION = "1"
_GUIDELINE = "中国2型糖尿病防治指南(2020年版). 中华糖尿病杂志 2021;13(4):315-409"

# ------------------------------------------------------------------ metabolic syndrome
MS_PRESENT = ("present", "Metabolic syndrome", "代谢综合征")
MS_ABSENT = ("absent", "No metabolic syndrome", "不符合代谢综合征")


def _component_states(v: Values) -> dict[str, bool | None]:
    """True/False per component, None when its inputs cannot decide it."""

    def any_true(*conds: bool | None) -> bool | None:
        if any(c is True for c in conds):
            return True
        return None if any(c is None for c in conds) else False

    def ge(x: float | None, cut: float) -> bool | None:
        return None if x is None else x >= cut

    waist = None
    if v["waist"] is not None and v["sex"] is not None:
        waist = v["waist"] >= (90 if v["sex"] == "male" else 85)
    glucose = any_true(ge(v["fpg"], 6.1), ge(v["glucose_2h"], 7.8), v["diabetes"])
    bp_measured = None
    if v["sbp"] is not None and v["dbp"] is not None:
        bp_measured = v["sbp"] >= 130 or v["dbp"] >= 85
    elif (v["sbp"] is not None and v["sbp"] >= 130) or (v["dbp"] is not None and v["dbp"] >= 85):
        bp_measured = True
    # A measured yes decides; a measured no with unknown treatment stays unknown, because
    # treated hypertension counts even when controlled (likewise treated diabetes).
    bp = any_true(bp_measured, v["bp_treated"])
    return {
        "abdominal_obesity": waist,
        "hyperglycaemia": glucose,
        "hypertension": bp,
        "high_tg": ge(v["tg"], 1.70),
        "low_hdl": None if v["hdl"] is None else v["hdl"] < 1.04,
    }


COMPONENT_LABELS = {
    "abdominal_obesity": ("abdominal obesity", "腹型肥胖"),
    "hyperglycaemia": ("hyperglycaemia", "高血糖"),
    "hypertension": ("raised blood pressure", "高血压"),
    "high_tg": ("raised triglycerides", "高甘油三酯"),
    "low_hdl": ("low HDL cholesterol", "低HDL-C"),
}
_COMPONENT_INPUTS = {
    "abdominal_obesity": ("waist", "sex"),
    "hyperglycaemia": ("fpg", "glucose_2h", "diabetes"),
    "hypertension": ("sbp", "dbp", "bp_treated"),
    "high_tg": ("tg",),
    "low_hdl": ("hdl",),
}


def _metabolic(v: Values, out: Out) -> Result:
    states = _component_states(v)
    present = sum(1 for s in states.values() if s is True)
    unknown = [k for k, s in states.items() if s is None]
    if present < 3 <= present + len(unknown):
        spec = {s.name: s for s in METABOLIC_SYNDROME.inputs}
        reasons = []
        for comp in unknown:
            names = [n for n in _COMPONENT_INPUTS[comp] if v[n] is None]
            en, zh = COMPONENT_LABELS[comp]
            reasons.extend(
                missing(spec[n], f"needed to decide {en}", f"判定{zh}所需") for n in names
            )
        return out.not_applicable(*reasons)
    return out.assessed(
        value=float(present),
        unit="{components}",
        level=MS_PRESENT if present >= 3 else MS_ABSENT,
        details={"components": states, "components_present": present, "unknown": unknown},
        inputs_used=used(v),
    )


METABOLIC_SYNDROME = RiskModel(
    id="metabolic_syndrome",
    version=VERSION,
    kind="classification",
    title_en="Metabolic syndrome (Chinese Diabetes Society 2020)",
    title_zh="代谢综合征（中华医学会糖尿病学分会2020）",
    citation=_GUIDELINE,
    inputs=(
        i.optional(i.sex(), "needed with waist"),
        i.optional(i.waist()),
        i.optional(i.fpg()),
        i.optional(i.glucose_2h()),
        i.optional(
            i.flag(
                "diabetes",
                "diagnosed and treated diabetes",
                "已确诊并治疗的糖尿病",
                i.DIABETES_FACT,
            )
        ),
        i.optional(i.sbp()),
        i.optional(i.dbp()),
        i.optional(
            i.flag(
                "bp_treated",
                "diagnosed and treated hypertension",
                "已确诊并治疗的高血压",
                i.BP_TREATED_FACT,
            )
        ),
        i.optional(i.tg(), "fasting"),
        i.optional(i.hdl(), "fasting"),
    ),
    compute=_metabolic,
)

# ------------------------------------------------------------------ glycaemia
GLY_NORMAL = ("normal", "Normal glucose regulation", "正常血糖")
GLY_PRE = ("prediabetes", "Impaired glucose regulation (prediabetes)", "糖调节受损（糖尿病前期）")
GLY_DM = (
    "diabetes_range",
    "In the diabetes range (confirm with a repeat test)",
    "达到糖尿病诊断切点（需复查确认）",
)


def _glycaemia(v: Values, out: Out) -> Result:
    fpg, g2, a1c = v["fpg"], v["glucose_2h"], v["hba1c"]
    if fpg is None and g2 is None and a1c is None:
        return out.not_applicable(
            Reason("*", "no glucose result given (fasting glucose, 2-h glucose or HbA1c)",
                   "未提供血糖结果（空腹血糖、OGTT 2小时血糖或糖化血红蛋白）")
        )  # fmt: skip
    china: dict[str, str] = {}
    ada: dict[str, str] = {}
    if fpg is not None:
        china["fpg"] = "diabetes_range" if fpg >= 7.0 else "ifg" if fpg >= 6.1 else "normal"
        ada["fpg"] = "diabetes_range" if fpg >= 7.0 else "prediabetes" if fpg >= 5.6 else "normal"
    if g2 is not None:
        china["glucose_2h"] = "diabetes_range" if g2 >= 11.1 else "igt" if g2 >= 7.8 else "normal"
        ada["glucose_2h"] = (
            "diabetes_range" if g2 >= 11.1 else "prediabetes" if g2 >= 7.8 else "normal"
        )
    if a1c is not None:
        china["hba1c"] = "diabetes_range" if a1c >= 6.5 else "not_diagnostic"
        ada["hba1c"] = "diabetes_range" if a1c >= 6.5 else "prediabetes" if a1c >= 5.7 else "normal"
    if "diabetes_range" in china.values():
        level = GLY_DM
    elif any(c in ("ifg", "igt") for c in china.values()):
        level = GLY_PRE
    else:
        level = GLY_NORMAL
    if fpg is not None and china.get("fpg") == "ifg" and china.get("glucose_2h") == "igt":
        subtype = "ifg_and_igt"
    elif china.get("fpg") == "ifg":
        subtype = "ifg"
    elif china.get("glucose_2h") == "igt":
        subtype = "igt"
    else:
        subtype = None
    return out.assessed(
        value=None,
        unit=None,
        level=level,
        details={"china": china, "prediabetes_type": subtype, "ada": ada},
        inputs_used=used(v),
    )


GLYCAEMIA = RiskModel(
    id="glycaemia",
    version=VERSION,
    kind="classification",
    title_en="Glycaemic category (Chinese diabetes guideline 2020; ADA beside it)",
    title_zh="血糖状态分类（中国2型糖尿病防治指南2020年版）",
    citation=_GUIDELINE + "; ADA Standards of Care in Diabetes, section 2",
    inputs=(
        i.optional(i.fpg(), "venous plasma, fasting ≥ 8 h"),
        i.optional(i.glucose_2h(), "75 g OGTT"),
        i.optional(
            i.lab("hba1c", "4548-4", "%", "HbA1c", "糖化血红蛋白"), "NGSP %, standardised assay"
        ),
    ),
    compute=_glycaemia,
)
