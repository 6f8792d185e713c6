"""Framingham 2008 general cardiovascular disease risk, lipid version (10 years).

D'Agostino RB Sr, Vasan RS, Pencina MJ, Wolf PA, Cobain M, Massaro JM, Kannel WB. General
Cardiovascular Risk Profile for Use in Primary Care: The Framingham Heart Study.
Circulation 2008;117:743–753, Table 2 (β, mean Σβx, S0(10)). Outcome: coronary death, MI,
coronary insufficiency, angina, stroke (ischaemic and haemorrhagic), TIA, intermittent
claudication, heart failure.
Risk categories: Anderson TJ, et al. 2016 Canadian Cardiovascular Society Guidelines for the
Management of Dyslipidemia. Can J Cardiol 2016;32:1263–1282 (they use this general-CVD FRS):
low < 10 %, intermediate 10–19.9 %, high ≥ 20 %.

Ages 30–74 (the derivation cohort). The paper states no validated range for cholesterol or
blood pressure, so those inputs carry only the product's plausibility limits. Treated and
untreated SBP have separate coefficients.
"""

from __future__ import annotations

import math

from careledger.assessment.riskmodels import inputs as i
from careledger.assessment.riskmodels.base import InputSpec, Out, Result, RiskModel, Values, used
from careledger.assessment.riskmodels.units import cholesterol_mgdl

VERSION = "1"

EQUATIONS: dict[str, dict[str, float]] = {
    "male": {
        "ln_age": 3.06117, "ln_tc": 1.12370, "ln_hdl": -0.93263, "ln_sbp_untreated": 1.93303,
        "ln_sbp_treated": 1.99881, "smoker": 0.65451, "diabetes": 0.57367,
        "mean": 23.9802, "s10": 0.88936,
    },
    "female": {
        "ln_age": 2.32888, "ln_tc": 1.20904, "ln_hdl": -0.70833, "ln_sbp_untreated": 2.76157,
        "ln_sbp_treated": 2.82263, "smoker": 0.52873, "diabetes": 0.69154,
        "mean": 26.1931, "s10": 0.95012,
    },
}  # fmt: skip

LOW = ("low", "Low risk (< 10 %)", "低危（<10%）")
INTERMEDIATE = ("intermediate", "Intermediate risk (10–19.9 %)", "中危（10%～19.9%）")
HIGH = ("high", "High risk (≥ 20 %)", "高危（≥20%）")

INPUTS: tuple[InputSpec, ...] = (
    i.age(30, 74, ("Framingham derivation ages", "Framingham推导人群年龄")),
    i.sex(),
    i.tc(),
    i.hdl(),
    i.sbp(),
    i.BP_TREATED,
    i.SMOKER,
    i.DIABETES,
)


def linear_predictor(v: Values) -> tuple[float, dict[str, float]]:
    c = EQUATIONS[v["sex"]]
    arm = "treated" if v["bp_treated"] else "untreated"
    terms = {
        "ln_age": c["ln_age"] * math.log(v["age"]),
        "ln_tc": c["ln_tc"] * math.log(cholesterol_mgdl(v["tc"])),
        "ln_hdl": c["ln_hdl"] * math.log(cholesterol_mgdl(v["hdl"])),
        f"ln_sbp_{arm}": c[f"ln_sbp_{arm}"] * math.log(v["sbp"]),
        "smoker": c["smoker"] * v["smoker"],
        "diabetes": c["diabetes"] * v["diabetes"],
    }
    return sum(terms.values()), terms


def _compute(v: Values, out: Out) -> Result:
    c = EQUATIONS[v["sex"]]
    total, terms = linear_predictor(v)
    risk = 1 - c["s10"] ** math.exp(total - c["mean"])
    percent = round(risk * 100, 1)
    level = LOW if percent < 10 else INTERMEDIATE if percent < 20 else HIGH
    return out.assessed(
        value=percent,
        unit="%",
        level=level,
        probability=round(risk, 6),
        details={
            "equation": v["sex"],
            "linear_predictor": round(total, 4),
            "mean_linear_predictor": c["mean"],
            "baseline_survival_10y": c["s10"],
            "terms": {k: round(t, 4) for k, t in terms.items()},
            "tc_mg_dl": round(cholesterol_mgdl(v["tc"]), 2),
            "hdl_mg_dl": round(cholesterol_mgdl(v["hdl"]), 2),
        },
        inputs_used=used(v),
    )


MODEL = RiskModel(
    id="framingham_2008",
    version=VERSION,
    title_en="Framingham 2008 general CVD risk (lipid version, 10 years)",
    title_zh="Framingham 2008 总体心血管病风险（血脂版，10年）",
    citation=(
        "D'Agostino RB Sr, et al. General Cardiovascular Risk Profile for Use in Primary Care: "
        "The Framingham Heart Study. Circulation 2008;117:743-753; categories: Anderson TJ, et "
        "al. Can J Cardiol 2016;32:1263-1282"
    ),
    inputs=INPUTS,
    compute=_compute,
)
