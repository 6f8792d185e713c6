"""China-PAR 10-year ASCVD risk (中国动脉粥样硬化性心血管疾病风险预测).

Yang X, Li J, Hu D, et al. Predicting the 10-Year Risks of Atherosclerotic Cardiovascular
Disease in Chinese Population: The China-PAR Project (Prediction for ASCVD Risk in China).
Circulation 2016;134:1430–1440. doi:10.1161/CIRCULATIONAHA.116.022367.
Risk bands: 中国心血管病风险评估和管理指南编写联合委员会. 中国心血管病风险评估和管理指南.
中华预防医学杂志 2019;53(1):13-35 — < 5 % low, 5.0–9.9 % medium, ≥ 10 % high.

Risk = 1 − S10^exp(Σβx − mean), sex-specific Cox equations. Coefficients to three decimals as
in the group standard T/JPMA 024—2024 (CLINICAL_SOURCES.md): the supplement's two-decimal set
puts the paper's own worked example about 6 % high for men, and its printed women's S10 of 0.99
about a third low. The women's S10 0.9851 is derived from the paper's worked example (sum
119.22 → 10.1 %). Urban and family history enter the men's equation only.

Accepted ranges are the official calculator's (age 20–85, waist 50–130 cm, TC 80–400 mg/dL,
HDL-C 20–130 mg/dL, SBP 70–200 mmHg); the equations were derived on ages 35–74, so a result
outside that age band carries `details["age_outside_derivation"] = True`. The lifetime-risk
equation is not published and is not offered.
"""

from __future__ import annotations

import math

from careledger.assessment.riskmodels import inputs as i
from careledger.assessment.riskmodels.base import (
    InputSpec,
    Out,
    Result,
    RiskModel,
    Values,
    missing,
    used,
)
from careledger.assessment.riskmodels.units import CHINA_PAR_MMOL_PER_MGDL, china_par_mgdl

VERSION = "1"

MEN = {
    "ln_age": 31.967,
    "ln_sbp_treated": 27.388,
    "ln_sbp_untreated": 26.148,
    "ln_tc": 0.621,
    "ln_hdl": -0.695,
    "ln_waist": -0.712,
    "smoker": 3.955,
    "diabetes": 0.357,
    "north": 0.475,
    "urban": -0.164,
    "family_history": 6.221,
    "ln_age_x_ln_sbp_treated": -6.018,
    "ln_age_x_ln_sbp_untreated": -5.731,
    "ln_age_x_smoker": -0.939,
    "ln_age_x_family_history": -1.534,
}
MEN_MEAN, MEN_S10 = 140.68, 0.9707

WOMEN = {
    "ln_age": 24.874,
    "ln_sbp_treated": 20.709,
    "ln_sbp_untreated": 19.982,
    "ln_tc": 0.058,
    "ln_hdl": -0.217,
    "ln_waist": 1.475,
    "smoker": 0.495,
    "diabetes": 0.567,
    "north": 0.544,
    "ln_age_x_ln_sbp_treated": -4.528,
    "ln_age_x_ln_sbp_untreated": -4.360,
}
WOMEN_MEAN, WOMEN_S10 = 117.26, 0.9851  # S10 derived from the paper's worked example

DERIVATION_AGES = (35, 74)

LOW = ("low", "Low risk (< 5 %)", "低危（<5%）")
MEDIUM = ("medium", "Medium risk (5–9.9 %)", "中危（5%～9.9%）")
HIGH = ("high", "High risk (≥ 10 %)", "高危（≥10%）")

_NOTE = ("China-PAR official calculator range", "China-PAR官方计算器范围")


def _note(extra: str = "") -> tuple[str, str]:
    return (_NOTE[0] + extra, _NOTE[1] + extra)


_F = 1 / CHINA_PAR_MMOL_PER_MGDL  # mg/dL per mmol/L


def _mmol(mgdl: float) -> float:
    return mgdl * CHINA_PAR_MMOL_PER_MGDL


INPUTS: tuple[InputSpec, ...] = (
    i.age(
        20,
        85,
        (
            "China-PAR official calculator range; derived on ages 35–74",
            "China-PAR官方计算器范围；方程由35～74岁人群推导",
        ),
    ),
    i.sex(),
    i.sbp(minimum=70, maximum=200, range_note=_NOTE),
    i.BP_TREATED,
    i.tc(minimum=_mmol(80), maximum=_mmol(400), range_note=_note(" 80–400 mg/dL")),
    i.hdl(minimum=_mmol(20), maximum=_mmol(130), range_note=_note(" 20–130 mg/dL")),
    i.waist(minimum=50, maximum=130, range_note=_NOTE),
    i.SMOKER,
    i.DIABETES,
    i.flag(
        "north",
        "lives north of the Yangtze",
        "居住在长江以北",
        "client.address: province north of the Yangtze (the paper's 北方)",
    ),
    i.flag(
        "urban",
        "lives in a city",
        "居住在城市",
        "client.address: urban (城市) rather than rural (农村)",
        required=False,
        note="required for men; the women's equation has no urban term",
    ),
    i.flag(
        "family_ascvd",
        "family history of ASCVD (parent or sibling with MI or stroke)",
        "心脑血管病家族史（父母或兄弟姐妹患心肌梗死或脑卒中）",
        "record.family_history: parent or sibling with I21–I22 or I60–I64",
        required=False,
        note="required for men; the women's equation has no family-history term",
    ),
)
_SPEC = {s.name: s for s in INPUTS}


def linear_predictor(v: Values) -> tuple[float, dict[str, float]]:
    """Σβx and each term (in mg/dL and the paper's order)."""
    male = v["sex"] == "male"
    c = MEN if male else WOMEN
    la = math.log(v["age"])
    ls = math.log(v["sbp"])
    arm = "treated" if v["bp_treated"] else "untreated"
    terms = {
        "ln_age": c["ln_age"] * la,
        f"ln_sbp_{arm}": c[f"ln_sbp_{arm}"] * ls,
        "ln_tc": c["ln_tc"] * math.log(china_par_mgdl(v["tc"])),
        "ln_hdl": c["ln_hdl"] * math.log(china_par_mgdl(v["hdl"])),
        "ln_waist": c["ln_waist"] * math.log(v["waist"]),
        "smoker": c["smoker"] * v["smoker"],
        "diabetes": c["diabetes"] * v["diabetes"],
        "north": c["north"] * v["north"],
        f"ln_age_x_ln_sbp_{arm}": c[f"ln_age_x_ln_sbp_{arm}"] * la * ls,
    }
    if male:
        terms["urban"] = c["urban"] * v["urban"]
        terms["family_history"] = c["family_history"] * v["family_ascvd"]
        terms["ln_age_x_smoker"] = c["ln_age_x_smoker"] * la * v["smoker"]
        terms["ln_age_x_family_history"] = c["ln_age_x_family_history"] * la * v["family_ascvd"]
    return sum(terms.values()), terms


def _compute(v: Values, out: Out) -> Result:
    male = v["sex"] == "male"
    if male:
        absent = [_SPEC[n] for n in ("urban", "family_ascvd") if v[n] is None]
        if absent:
            return out.not_applicable(
                *(missing(s, "the men's equation uses it", "男性方程需要此项") for s in absent)
            )
    total, terms = linear_predictor(v)
    mean, s10 = (MEN_MEAN, MEN_S10) if male else (WOMEN_MEAN, WOMEN_S10)
    risk = 1 - s10 ** math.exp(total - mean)
    percent = round(risk * 100, 1)
    level = LOW if percent < 5 else MEDIUM if percent < 10 else HIGH
    lo, hi = DERIVATION_AGES
    used_values = used(v)
    if not male:
        used_values.pop("urban", None)
        used_values.pop("family_ascvd", None)
    return out.assessed(
        value=percent,
        unit="%",
        level=level,
        probability=round(risk, 6),
        details={
            "equation": "men" if male else "women",
            "linear_predictor": round(total, 4),
            "mean_linear_predictor": mean,
            "baseline_survival_10y": s10,
            "terms": {k: round(t, 4) for k, t in terms.items()},
            "tc_mg_dl": round(china_par_mgdl(v["tc"]), 2),
            "hdl_mg_dl": round(china_par_mgdl(v["hdl"]), 2),
            "mg_dl_per_mmol_l": round(_F, 4),
            "age_outside_derivation": not lo <= v["age"] <= hi,
        },
        inputs_used=used_values,
    )


MODEL = RiskModel(
    id="china_par",
    version=VERSION,
    title_en="China-PAR 10-year ASCVD risk",
    title_zh="China-PAR 10年动脉粥样硬化性心血管病风险",
    citation=(
        "Yang X, et al. Circulation 2016;134:1430-1440 (doi:10.1161/CIRCULATIONAHA.116.022367); "
        "coefficients T/JPMA 024-2024; bands: 中国心血管病风险评估和管理指南, "
        "中华预防医学杂志 2019;53(1):13-35"
    ),
    inputs=INPUTS,
    compute=_compute,
)
