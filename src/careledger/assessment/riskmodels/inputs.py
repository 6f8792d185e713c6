"""The inputs the models share, declared once: label, UCUM unit, where the value usually comes
from (a LOINC code of the indicator catalogue, or a fact of the client's record), and the
plausibility limits that apply when a model's source states no validated range.

Plausibility limits are the indicator catalogue's (`observations/catalogue/data.py`,
"plausible"); a test keeps the two in step. A model narrows a limit to its source's validated
range by passing `minimum`/`maximum` and a `range_note` (English, Chinese) naming the source.
"""

from __future__ import annotations

from dataclasses import replace

from careledger.assessment.riskmodels.base import InputSpec

# LOINC code → (minimum, maximum) in the catalogue's canonical unit.
PLAUSIBLE: dict[str, tuple[float, float]] = {
    "8480-6": (40, 320),  # SBP mmHg
    "8462-4": (20, 200),  # DBP mmHg
    "2093-3": (0.5, 40),  # TC mmol/L
    "2085-9": (0.05, 6),  # HDL-C mmol/L
    "18262-6": (0.05, 30),  # LDL-C mmol/L
    "2571-8": (0.05, 150),  # TG mmol/L
    "10835-7": (0, 5000),  # Lp(a) mg/L
    "2160-0": (5, 3500),  # creatinine µmol/L
    "8280-0": (30, 250),  # waist cm
    "39156-5": (8, 110),  # BMI kg/m2
    "8302-2": (40, 260),  # height cm
    "29463-7": (2, 400),  # weight kg
    "2345-7": (0.5, 150),  # fasting glucose mmol/L
    "1521-4": (0.5, 150),  # 2-h glucose mmol/L
    "4548-4": (2, 25),  # HbA1c %
}

PLAUSIBLE_NOTE = ("plausibility limits", "合理性界限")
SEX_FACT = "client.sex (Patient.gender)"
AGE_FACT = "client.birth_date → age in whole years at the assessment date"


def lab(
    name: str,
    loinc: str,
    unit: str,
    label_en: str,
    label_zh: str,
    *,
    required: bool = True,
    minimum: float | None = None,
    maximum: float | None = None,
    range_note: tuple[str, str] = PLAUSIBLE_NOTE,
    note: str = "",
) -> InputSpec:
    lo, hi = PLAUSIBLE[loinc]
    return InputSpec(
        name=name,
        kind="number",
        label_en=label_en,
        label_zh=label_zh,
        unit=unit,
        minimum=lo if minimum is None else minimum,
        maximum=hi if maximum is None else maximum,
        range_note=range_note[0],
        range_note_zh=range_note[1],
        required=required,
        loinc=loinc,
        note=note,
    )


def age(minimum: float, maximum: float, range_note: tuple[str, str], **kw: object) -> InputSpec:
    return InputSpec(
        name="age",
        kind="number",
        label_en="age",
        label_zh="年龄",
        unit="a",
        minimum=minimum,
        maximum=maximum,
        range_note=range_note[0],
        range_note_zh=range_note[1],
        fact=AGE_FACT,
        **kw,  # type: ignore[arg-type]
    )


def sex(required: bool = True, note: str = "") -> InputSpec:
    return InputSpec(
        name="sex",
        kind="choice",
        label_en="sex",
        label_zh="性别",
        choices=("male", "female"),
        required=required,
        fact=SEX_FACT,
        note=note,
    )


def flag(name: str, label_en: str, label_zh: str, fact: str, *, required: bool = True,
         note: str = "") -> InputSpec:  # fmt: skip
    return InputSpec(
        name=name,
        kind="bool",
        label_en=label_en,
        label_zh=label_zh,
        required=required,
        fact=fact,
        note=note,
    )


def sbp(**kw: object) -> InputSpec:
    return lab("sbp", "8480-6", "mm[Hg]", "systolic blood pressure", "收缩压", **kw)  # type: ignore[arg-type]


def dbp(**kw: object) -> InputSpec:
    return lab("dbp", "8462-4", "mm[Hg]", "diastolic blood pressure", "舒张压", **kw)  # type: ignore[arg-type]


def tc(**kw: object) -> InputSpec:
    return lab("tc", "2093-3", "mmol/L", "total cholesterol", "总胆固醇", **kw)  # type: ignore[arg-type]


def hdl(**kw: object) -> InputSpec:
    return lab("hdl", "2085-9", "mmol/L", "HDL cholesterol", "高密度脂蛋白胆固醇", **kw)  # type: ignore[arg-type]


def ldl(**kw: object) -> InputSpec:
    return lab("ldl", "18262-6", "mmol/L", "LDL cholesterol", "低密度脂蛋白胆固醇", **kw)  # type: ignore[arg-type]


def tg(**kw: object) -> InputSpec:
    return lab("tg", "2571-8", "mmol/L", "triglycerides", "甘油三酯", **kw)  # type: ignore[arg-type]


def waist(**kw: object) -> InputSpec:
    return lab("waist", "8280-0", "cm", "waist circumference", "腰围", **kw)  # type: ignore[arg-type]


def bmi(**kw: object) -> InputSpec:
    return lab("bmi", "39156-5", "kg/m2", "body mass index", "体重指数", **kw)  # type: ignore[arg-type]


def fpg(**kw: object) -> InputSpec:
    return lab("fpg", "2345-7", "mmol/L", "fasting plasma glucose", "空腹血糖", **kw)  # type: ignore[arg-type]


def glucose_2h(**kw: object) -> InputSpec:
    return lab(
        "glucose_2h",
        "1521-4",
        "mmol/L",
        "2-hour glucose (OGTT)",
        "OGTT 2小时血糖",
        **kw,  # type: ignore[arg-type]
    )


BP_TREATED_FACT = "record.medications: an active antihypertensive (ATC C02, C03, C07, C08, C09)"
SMOKER_FACT = "record.lifestyle.smoking = current"
DIABETES_FACT = "record.conditions: diabetes (ICD-10 E10–E14), or glucose-lowering medication"

BP_TREATED = flag("bp_treated", "on antihypertensive treatment", "正在服用降压药", BP_TREATED_FACT)
SMOKER = flag("smoker", "current smoker", "现在吸烟", SMOKER_FACT)
DIABETES = flag("diabetes", "diabetes", "糖尿病", DIABETES_FACT)


def optional(spec: InputSpec, note: str = "") -> InputSpec:
    return replace(spec, required=False, note=note or spec.note)
