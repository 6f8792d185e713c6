"""Risk models and guideline classifications, behind one interface (no Django here).

    from careledger.assessment.riskmodels import MODELS
    result = MODELS["china_par"].evaluate({"age": 60, "sex": "male", ...})
    result.applicable        # True → Assessed, False → NotApplicable
    result.to_dict()         # JSON-ready, deterministic

Every entry of `MODELS` is a `RiskModel` with `id`, `version` (bumped when coefficients or
cut-points change), `title_en`, `title_zh`, `citation`, `inputs` (`InputSpec`s: name, UCUM unit,
kind, range, required, LOINC code or record fact) and `evaluate(inputs) -> Result`. Inputs are
in the product's canonical units (mmol/L, µmol/L, cm, mmHg). See README.md in this package.
"""

from __future__ import annotations

from careledger.assessment.riskmodels import (
    body,
    china_par,
    ckd_epi,
    diabetes_scores,
    framingham,
    lipids,
    metabolic,
    mood,
    pce,
)
from careledger.assessment.riskmodels.base import (
    Assessed,
    InputError,
    InputSpec,
    NotApplicable,
    Reason,
    Result,
    RiskModel,
)

MODELS: dict[str, RiskModel] = {
    m.id: m
    for m in (
        china_par.MODEL,
        pce.MODEL,
        framingham.MODEL,
        diabetes_scores.CDRS,
        diabetes_scores.FINDRISC,
        ckd_epi.MODEL,
        body.BMI_WAIST,
        body.BP_GRADE,
        lipids.LIPIDS,
        metabolic.METABOLIC_SYNDROME,
        metabolic.GLYCAEMIA,
        mood.PHQ9,
        mood.GAD7,
    )
}

__all__ = [
    "MODELS",
    "Assessed",
    "InputError",
    "InputSpec",
    "NotApplicable",
    "Reason",
    "Result",
    "RiskModel",
]
