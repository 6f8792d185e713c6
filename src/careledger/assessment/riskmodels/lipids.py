"""Blood lipid categories by the Chinese lipid guideline 2023.

中国血脂管理指南修订联合专家委员会. 中国血脂管理指南(2023年). 中国循环杂志
2023;38(3):237-271, 表3 中国ASCVD一级预防低危人群主要血脂指标的参考标准 (mmol/L):

| | ideal 理想 | appropriate 合适 | borderline 边缘升高 | raised 升高 | low 降低 |
|---|---|---|---|---|---|
| TC | | < 5.2 | 5.2–< 6.2 | ≥ 6.2 | |
| LDL-C | < 2.6 | < 3.4 | 3.4–< 4.1 | ≥ 4.1 | |
| HDL-C | | | | | < 1.0 |
| non-HDL-C | < 3.4 | < 4.1 | 4.1–< 4.9 | ≥ 4.9 | |
| TG | | < 1.7 | 1.7–< 2.3 | ≥ 2.3 | |
| Lp(a) | | | | ≥ 300 mg/L | |

What changed from 中国成人血脂异常防治指南(2016年修订版): the cut-points themselves are the
same, but (1) the 2023 table is stated to apply only to people at low ASCVD risk in primary
prevention — for everyone else the LDL-C target comes from the ASCVD risk tier (e.g. < 1.8
mmol/L very high risk, < 1.4 ultra-high risk), which this classification does not decide;
(2) Lp(a) ≥ 300 mg/L is added as raised, and ApoB, ApoA1 and Lp(a) join the routine panel;
(3) the title changed from 防治 to 管理. The result therefore says "by the low-risk
reference values" and never calls a value "at target".

Overall level: `raised` when any of TC ≥ 6.2, LDL-C ≥ 4.1, non-HDL-C ≥ 4.9, TG ≥ 2.3 or
HDL-C < 1.0 (the guideline's dyslipidaemia); else `borderline` when any borderline; else
`appropriate`. The clinical type (高胆固醇血症, 高TG血症, 混合型, 低HDL-C血症) is in details.
Non-HDL-C is computed as TC − HDL-C when both are given.
"""

from __future__ import annotations

from careledger.assessment.riskmodels import inputs as i
from careledger.assessment.riskmodels.base import Out, Reason, Result, RiskModel, Values, used

VERSION = "1"

APPROPRIATE = (
    "appropriate",
    "Lipids at appropriate levels (low-risk reference values)",
    "血脂处于合适水平（按低危人群参考标准）",
)
BORDERLINE = ("borderline", "Borderline-high lipids", "血脂边缘升高")
RAISED = ("raised", "Dyslipidaemia", "血脂异常")

LP_A_RAISED_MG_L = 300.0


def _upper(value: float, *cuts: tuple[float | None, str]) -> str:
    for bound, name in cuts:
        if bound is None or value < bound:
            return name
    raise AssertionError("unreachable")


def categories(v: Values) -> dict[str, str]:
    cat: dict[str, str] = {}
    if v["tc"] is not None:
        cat["tc"] = _upper(v["tc"], (5.2, "appropriate"), (6.2, "borderline"), (None, "raised"))
    if v["ldl"] is not None:
        cat["ldl"] = _upper(
            v["ldl"], (2.6, "ideal"), (3.4, "appropriate"), (4.1, "borderline"), (None, "raised")
        )
    if v["hdl"] is not None:
        cat["hdl"] = "low" if v["hdl"] < 1.0 else "appropriate"
    if v["tc"] is not None and v["hdl"] is not None:
        cat["non_hdl"] = _upper(
            v["tc"] - v["hdl"],
            (3.4, "ideal"),
            (4.1, "appropriate"),
            (4.9, "borderline"),
            (None, "raised"),
        )
    if v["tg"] is not None:
        cat["tg"] = _upper(v["tg"], (1.7, "appropriate"), (2.3, "borderline"), (None, "raised"))
    if v["lp_a"] is not None:
        cat["lp_a"] = "raised" if v["lp_a"] >= LP_A_RAISED_MG_L else "appropriate"
    return cat


def _types(cat: dict[str, str]) -> list[str]:
    high_chol = cat.get("tc") == "raised" or cat.get("ldl") == "raised"
    high_tg = cat.get("tg") == "raised"
    types = []
    if high_chol and high_tg:
        types.append("mixed_hyperlipidaemia")
    elif high_chol:
        types.append("hypercholesterolaemia")
    elif high_tg:
        types.append("hypertriglyceridaemia")
    if cat.get("hdl") == "low":
        types.append("low_hdl")
    return types


def _lipids(v: Values, out: Out) -> Result:
    if all(v[n] is None for n in ("tc", "ldl", "hdl", "tg", "lp_a")):
        return out.not_applicable(
            Reason("*", "no lipid result given (TC, LDL-C, HDL-C, TG or Lp(a))",
                   "未提供任何血脂结果（总胆固醇、LDL-C、HDL-C、甘油三酯或Lp(a)）")
        )  # fmt: skip
    cat = categories(v)
    # Lp(a) is a risk-enhancing factor, reported alone; it does not make "dyslipidaemia".
    core = {k: c for k, c in cat.items() if k != "lp_a"}
    if any(c in ("raised", "low") for c in core.values()):
        level = RAISED
    elif any(c == "borderline" for c in core.values()):
        level = BORDERLINE
    else:
        level = APPROPRIATE
    details: dict[str, object] = {"categories": cat, "types": _types(cat)}
    if v["tc"] is not None and v["hdl"] is not None:
        details["non_hdl"] = round(v["tc"] - v["hdl"], 2)
    details["reference"] = "ASCVD primary prevention, low-risk reference values (2023 表3)"
    return out.assessed(value=None, unit=None, level=level, details=details, inputs_used=used(v))


LIPIDS = RiskModel(
    id="lipids",
    version=VERSION,
    kind="classification",
    title_en="Blood lipid categories (Chinese lipid management guideline 2023)",
    title_zh="血脂水平分层（中国血脂管理指南2023年）",
    citation="中国血脂管理指南(2023年). 中国循环杂志 2023;38(3):237-271, 表3",
    inputs=(
        i.optional(i.tc()),
        i.optional(i.ldl()),
        i.optional(i.hdl()),
        i.optional(i.tg(), "fasting (12 h)"),
        i.optional(
            i.lab("lp_a", "10835-7", "mg/L", "lipoprotein(a)", "脂蛋白(a)"),
            "mg/L; nmol/L cannot be converted (isoform-dependent)",
        ),
    ),
    compute=_lipids,
)
