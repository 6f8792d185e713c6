"""2013 ACC/AHA Pooled Cohort Equations, 10-year hard ASCVD risk.

Goff DC Jr, Lloyd-Jones DM, Bennett G, et al. 2013 ACC/AHA Guideline on the Assessment of
Cardiovascular Risk. Circulation 2014;129(25 Suppl 2):S49–S73, Table A of the Full Work Group
Report (coefficients, mean Σβx and baseline survival by race and sex).
Risk categories: Arnett DK, et al. 2019 ACC/AHA Guideline on the Primary Prevention of
Cardiovascular Disease. Circulation 2019;140:e596–e646 — low < 5 %, borderline 5–7.4 %,
intermediate 7.5–19.9 %, high ≥ 20 %.

Valid for ages 40–79, TC 130–320 mg/dL, HDL-C 20–100 mg/dL, SBP 90–200 mmHg (the guideline's
and the ACC/AHA calculator's limits); outside them the result is NotApplicable. The white
equations are the guideline's choice for races other than African American, which is the
default here (the product's clients are Chinese; PCE is offered for comparison with China-PAR,
which it overestimates in Chinese cohorts).

Pitfall: the JAHA 2015 reprint prints the white-women untreated-SBP coefficient as 1.857; the
guideline's 1.957 is used (it reproduces the guideline's example).
"""

from __future__ import annotations

import math

from careledger.assessment.riskmodels import inputs as i
from careledger.assessment.riskmodels.base import InputSpec, Out, Result, RiskModel, Values, used
from careledger.assessment.riskmodels.units import CHOLESTEROL_MGDL_PER_MMOL, cholesterol_mgdl

VERSION = "1"

# Per group: coefficients (0 where the guideline has no term), mean Σβx, S10.
EQUATIONS: dict[str, dict[str, float]] = {
    "white_female": {
        "ln_age": -29.799, "ln_age_sq": 4.884, "ln_tc": 13.540, "ln_age_x_ln_tc": -3.114,
        "ln_hdl": -13.578, "ln_age_x_ln_hdl": 3.149, "ln_sbp_treated": 2.019,
        "ln_age_x_ln_sbp_treated": 0.0, "ln_sbp_untreated": 1.957,
        "ln_age_x_ln_sbp_untreated": 0.0, "smoker": 7.574, "ln_age_x_smoker": -1.665,
        "diabetes": 0.661, "mean": -29.18, "s10": 0.9665,
    },
    "african_american_female": {
        "ln_age": 17.114, "ln_age_sq": 0.0, "ln_tc": 0.940, "ln_age_x_ln_tc": 0.0,
        "ln_hdl": -18.920, "ln_age_x_ln_hdl": 4.475, "ln_sbp_treated": 29.291,
        "ln_age_x_ln_sbp_treated": -6.432, "ln_sbp_untreated": 27.820,
        "ln_age_x_ln_sbp_untreated": -6.087, "smoker": 0.691, "ln_age_x_smoker": 0.0,
        "diabetes": 0.874, "mean": 86.61, "s10": 0.9533,
    },
    "white_male": {
        "ln_age": 12.344, "ln_age_sq": 0.0, "ln_tc": 11.853, "ln_age_x_ln_tc": -2.664,
        "ln_hdl": -7.990, "ln_age_x_ln_hdl": 1.769, "ln_sbp_treated": 1.797,
        "ln_age_x_ln_sbp_treated": 0.0, "ln_sbp_untreated": 1.764,
        "ln_age_x_ln_sbp_untreated": 0.0, "smoker": 7.837, "ln_age_x_smoker": -1.795,
        "diabetes": 0.658, "mean": 61.18, "s10": 0.9144,
    },
    "african_american_male": {
        "ln_age": 2.469, "ln_age_sq": 0.0, "ln_tc": 0.302, "ln_age_x_ln_tc": 0.0,
        "ln_hdl": -0.307, "ln_age_x_ln_hdl": 0.0, "ln_sbp_treated": 1.916,
        "ln_age_x_ln_sbp_treated": 0.0, "ln_sbp_untreated": 1.809,
        "ln_age_x_ln_sbp_untreated": 0.0, "smoker": 0.549, "ln_age_x_smoker": 0.0,
        "diabetes": 0.645, "mean": 19.54, "s10": 0.8954,
    },
}  # fmt: skip

LOW = ("low", "Low risk (< 5 %)", "低危（<5%）")
BORDERLINE = ("borderline", "Borderline risk (5–7.4 %)", "临界风险（5%～7.4%）")
INTERMEDIATE = ("intermediate", "Intermediate risk (7.5–19.9 %)", "中危（7.5%～19.9%）")
HIGH = ("high", "High risk (≥ 20 %)", "高危（≥20%）")

_NOTE = ("PCE validated range", "PCE验证范围")


def _note(extra: str) -> tuple[str, str]:
    return (_NOTE[0] + extra, _NOTE[1] + extra)


def _mmol(mgdl: float) -> float:
    return mgdl / CHOLESTEROL_MGDL_PER_MMOL


INPUTS: tuple[InputSpec, ...] = (
    i.age(40, 79, _NOTE),
    i.sex(),
    InputSpec(
        name="race",
        kind="choice",
        label_en="race",
        label_zh="种族",
        choices=("african_american", "white", "other"),
        required=False,
        fact="client.race (not collected for Chinese clients: leave out)",
        note="absent or other → the white equations, as the guideline prescribes",
    ),
    i.tc(minimum=_mmol(130), maximum=_mmol(320), range_note=_note(" 130–320 mg/dL")),
    i.hdl(minimum=_mmol(20), maximum=_mmol(100), range_note=_note(" 20–100 mg/dL")),
    i.sbp(minimum=90, maximum=200, range_note=_NOTE),
    i.BP_TREATED,
    i.SMOKER,
    i.DIABETES,
)


def linear_predictor(group: str, v: Values) -> tuple[float, dict[str, float]]:
    c = EQUATIONS[group]
    la = math.log(v["age"])
    lt = math.log(cholesterol_mgdl(v["tc"]))
    lh = math.log(cholesterol_mgdl(v["hdl"]))
    ls = math.log(v["sbp"])
    arm = "treated" if v["bp_treated"] else "untreated"
    smoker, diabetes = float(v["smoker"]), float(v["diabetes"])
    terms = {
        "ln_age": c["ln_age"] * la,
        "ln_age_sq": c["ln_age_sq"] * la * la,
        "ln_tc": c["ln_tc"] * lt,
        "ln_age_x_ln_tc": c["ln_age_x_ln_tc"] * la * lt,
        "ln_hdl": c["ln_hdl"] * lh,
        "ln_age_x_ln_hdl": c["ln_age_x_ln_hdl"] * la * lh,
        f"ln_sbp_{arm}": c[f"ln_sbp_{arm}"] * ls,
        f"ln_age_x_ln_sbp_{arm}": c[f"ln_age_x_ln_sbp_{arm}"] * la * ls,
        "smoker": c["smoker"] * smoker,
        "ln_age_x_smoker": c["ln_age_x_smoker"] * la * smoker,
        "diabetes": c["diabetes"] * diabetes,
    }
    return sum(terms.values()), terms


def _compute(v: Values, out: Out) -> Result:
    race = "african_american" if v["race"] == "african_american" else "white"
    group = f"{race}_{v['sex']}"
    total, terms = linear_predictor(group, v)
    c = EQUATIONS[group]
    risk = 1 - c["s10"] ** math.exp(total - c["mean"])
    percent = round(risk * 100, 1)
    level = (
        LOW
        if percent < 5
        else BORDERLINE
        if percent < 7.5
        else INTERMEDIATE
        if percent < 20
        else HIGH
    )
    return out.assessed(
        value=percent,
        unit="%",
        level=level,
        probability=round(risk, 6),
        details={
            "equation": group,
            "linear_predictor": round(total, 4),
            "mean_linear_predictor": c["mean"],
            "baseline_survival_10y": c["s10"],
            "terms": {k: round(t, 4) for k, t in terms.items() if t},
            "tc_mg_dl": round(cholesterol_mgdl(v["tc"]), 2),
            "hdl_mg_dl": round(cholesterol_mgdl(v["hdl"]), 2),
        },
        inputs_used=used(v),
    )


MODEL = RiskModel(
    id="pce_2013",
    version=VERSION,
    title_en="2013 ACC/AHA Pooled Cohort Equations (10-year ASCVD risk)",
    title_zh="2013 ACC/AHA 汇总队列方程（10年ASCVD风险）",
    citation=(
        "Goff DC Jr, et al. 2013 ACC/AHA Guideline on the Assessment of Cardiovascular Risk. "
        "Circulation 2014;129(25 Suppl 2):S49-S73; categories: Arnett DK, et al. "
        "Circulation 2019;140:e596-e646"
    ),
    inputs=INPUTS,
    compute=_compute,
)
