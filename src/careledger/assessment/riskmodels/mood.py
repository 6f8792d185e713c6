"""PHQ-9 depression and GAD-7 anxiety severity bands.

PHQ-9: Kroenke K, Spitzer RL, Williams JB. The PHQ-9: validity of a brief depression severity
measure. J Gen Intern Med 2001;16(9):606–613 — 0–4 minimal, 5–9 mild, 10–14 moderate, 15–19
moderately severe, 20–27 severe. Item 9 (thoughts of being better off dead or of self-harm)
scored above 0 needs a same-day safety assessment whatever the total; pass it when known.

GAD-7: Spitzer RL, Kroenke K, Williams JBW, Löwe B. A brief measure for assessing generalized
anxiety disorder: the GAD-7. Arch Intern Med 2006;166(10):1092–1097 — 0–4 minimal, 5–9 mild,
10–14 moderate, 15–21 severe.

No Chinese guideline sets different bands; the Chinese versions (validated in Chinese
primary care and general hospital samples) are scored with the authors' cut-points. A band is
a screening result, not a diagnosis. Totals are usually computed by the questionnaires app
(QuestionnaireResponse); this module only bands them.
"""

from __future__ import annotations

from careledger.assessment.riskmodels.base import InputSpec, Out, Result, RiskModel, Values, used

VERSION = "1"

PHQ9_BANDS = (
    (5, ("minimal", "Minimal depressive symptoms (0–4)", "无或极轻微抑郁症状（0～4分）")),
    (10, ("mild", "Mild depression (5–9)", "轻度抑郁（5～9分）")),
    (15, ("moderate", "Moderate depression (10–14)", "中度抑郁（10～14分）")),
    (20, ("moderately_severe", "Moderately severe depression (15–19)", "中重度抑郁（15～19分）")),
    (28, ("severe", "Severe depression (20–27)", "重度抑郁（20～27分）")),
)
GAD7_BANDS = (
    (5, ("minimal", "Minimal anxiety (0–4)", "无或极轻微焦虑（0～4分）")),
    (10, ("mild", "Mild anxiety (5–9)", "轻度焦虑（5～9分）")),
    (15, ("moderate", "Moderate anxiety (10–14)", "中度焦虑（10～14分）")),
    (22, ("severe", "Severe anxiety (15–21)", "重度焦虑（15～21分）")),
)


def _band(score: int, bands: tuple[tuple[int, tuple[str, str, str]], ...]) -> tuple[str, str, str]:
    for upper, level in bands:
        if score < upper:
            return level
    raise AssertionError("score outside the declared range")


def _score_input(name: str, maximum: int, loinc: str, label: str) -> InputSpec:
    return InputSpec(
        name=name,
        kind="number",
        label_en=f"{label} total score",
        label_zh=f"{label}总分",
        unit="{score}",
        minimum=0,
        maximum=maximum,
        range_note="the questionnaire's range",
        range_note_zh="问卷分值范围",
        integer=True,
        loinc=loinc,
        fact="questionnaires: the scored QuestionnaireResponse",
    )


def _phq9(v: Values, out: Out) -> Result:
    item9 = v["phq9_item9"]
    details: dict[str, object] = {}
    if item9 is not None:
        details["item9"] = item9
        details["safety_assessment_needed"] = item9 > 0
    return out.assessed(
        value=float(v["phq9"]),
        unit="{score}",
        level=_band(v["phq9"], PHQ9_BANDS),
        details=details,
        inputs_used=used(v),
    )


def _gad7(v: Values, out: Out) -> Result:
    return out.assessed(
        value=float(v["gad7"]),
        unit="{score}",
        level=_band(v["gad7"], GAD7_BANDS),
        inputs_used=used(v),
    )


PHQ9 = RiskModel(
    id="phq9",
    version=VERSION,
    kind="classification",
    title_en="PHQ-9 depression severity",
    title_zh="PHQ-9 抑郁症状严重程度",
    citation="Kroenke K, Spitzer RL, Williams JB. J Gen Intern Med 2001;16(9):606-613",
    inputs=(
        _score_input("phq9", 27, "44261-6", "PHQ-9"),
        InputSpec(
            name="phq9_item9",
            kind="number",
            label_en="PHQ-9 item 9 (thoughts of death or self-harm)",
            label_zh="PHQ-9 第9题（死亡或自伤念头）",
            unit="{score}",
            minimum=0,
            maximum=3,
            range_note="the item's range",
            range_note_zh="该题分值范围",
            integer=True,
            required=False,
            loinc="44260-8",
            fact="questionnaires: answer to item 9",
        ),
    ),
    compute=_phq9,
)

GAD7 = RiskModel(
    id="gad7",
    version=VERSION,
    kind="classification",
    title_en="GAD-7 anxiety severity",
    title_zh="GAD-7 焦虑症状严重程度",
    citation="Spitzer RL, et al. Arch Intern Med 2006;166(10):1092-1097",
    inputs=(_score_input("gad7", 21, "70274-6", "GAD-7"),),
    compute=_gad7,
)
