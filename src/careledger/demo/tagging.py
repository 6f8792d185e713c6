"""Demo tag rules (自动设置标签): the rules a health-management centre starts with, written by the
demo admin through the real services (validated, versioned, published, ledgered), then one
evaluation of every demo client — the same run the nightly task makes. Idempotent: a tag that
already exists is left as the institution has it (its edits are kept).

Cut-points follow the guidelines the risk classifications cite (ARCHITECTURE §6): hypertension
≥ 140/90 mmHg (2018 Chinese hypertension guideline); diabetes fasting glucose ≥ 7.0 mmol/L or
HbA1c ≥ 6.5 % and impaired fasting glucose 6.1–< 7.0 (CDS 2020); dyslipidaemia TC ≥ 6.2,
LDL-C ≥ 4.1, TG ≥ 2.3 or HDL-C < 1.0 mmol/L (Chinese lipid guideline 2023); BMI 24 / 28 and
waist 90 / 85 cm (WS/T 428); hyperuricaemia > 420 µmol/L (Chinese hyperuricaemia and gout
guideline 2019); eGFR < 60 (KDIGO G3a–G5); more than 15 g of alcohol a day (Chinese Dietary
Guidelines 2022). Codes are the catalogue's canonical LOINC codes (glucose is 2345-7).
"""

from __future__ import annotations

from careledger.accounts.models import User
from careledger.tagging.models import Category, Colour, TagDefinition
from careledger.tagging.services import TagInput, do_create_tag, do_publish_rule
from careledger.tagging.tasks import reevaluate_institution

# (code, Chinese name, English name, colour, category, rule)
DEMO_RULES = [
    (
        "hypertension",
        "高血压",
        "Hypertension",
        Colour.RED,
        Category.DISEASE,
        "has_condition('I10') OR latest('8480-6') >= 140 OR latest('8462-4') >= 90",
    ),
    (
        "diabetes",
        "糖尿病",
        "Diabetes",
        Colour.RED,
        Category.DISEASE,
        "has_condition('E11') OR latest('2345-7') >= 7.0 OR latest('4548-4') >= 6.5",
    ),
    (
        "prediabetes",
        "糖尿病前期",
        "Prediabetes",
        Colour.ORANGE,
        Category.RISK,
        "NOT has_condition('E11') AND latest('2345-7') >= 6.1 AND latest('2345-7') < 7.0",
    ),
    (
        "dyslipidaemia",
        "血脂异常",
        "Dyslipidaemia",
        Colour.ORANGE,
        Category.DISEASE,
        "latest('2093-3') >= 6.2 OR latest('13457-7') >= 4.1 OR latest('2571-8') >= 2.3"
        " OR latest('2085-9') < 1.0",
    ),
    (
        "obesity",
        "肥胖",
        "Obesity",
        Colour.ORANGE,
        Category.RISK,
        "latest('39156-5') >= 28",
    ),
    (
        "overweight",
        "超重",
        "Overweight",
        Colour.YELLOW,
        Category.RISK,
        "latest('39156-5') >= 24 AND latest('39156-5') < 28",
    ),
    (
        "central_obesity",
        "中心型肥胖",
        "Central obesity",
        Colour.YELLOW,
        Category.RISK,
        "(sex = 'M' AND latest('8280-0') >= 90) OR (sex = 'F' AND latest('8280-0') >= 85)",
    ),
    (
        "hyperuricaemia",
        "高尿酸血症",
        "Hyperuricaemia",
        Colour.ORANGE,
        Category.DISEASE,
        "latest('3084-1') > 420",
    ),
    (
        "sbp_rising",
        "血压逐年升高",
        "Blood pressure rising",
        Colour.PURPLE,
        Category.FOLLOWUP,
        "slope('8480-6') >= 3",
    ),
    (
        "ckd",
        "肾功能减退",
        "Reduced kidney function",
        Colour.ORANGE,
        Category.DISEASE,
        "has_condition('N18') OR risk_value('ckd_epi_2021') < 60",
    ),
    (
        "drinker",
        "饮酒过量",
        "Drinks too much",
        Colour.GREY,
        Category.LIFESTYLE,
        "lifestyle('alcohol_grams_per_week') > 105",
    ),
    (
        "poor_sleep",
        "睡眠不佳",
        "Poor sleep",
        Colour.GREY,
        Category.LIFESTYLE,
        "lifestyle('sleep_quality') = 'poor' OR lifestyle('sleep_hours') < 6",
    ),
    (
        "smoker",
        "吸烟",
        "Smoker",
        Colour.GREY,
        Category.LIFESTYLE,
        "lifestyle('smoking') = 'current'",
    ),
]


def seed_tags() -> dict[str, int]:
    admin = User.objects.get(username="admin")
    created = 0
    for code, name_zh, name_en, colour, category, rule in DEMO_RULES:
        if TagDefinition.objects.filter(institution_id=admin.institution_id, code=code).exists():
            continue
        tag = do_create_tag(
            actor=admin,
            data=TagInput(code, name_zh, name_en, colour, category),
            expression=rule,
        )
        do_publish_rule(actor=admin, rule_id=tag.rules.get().id)
        created += 1
    changed = reevaluate_institution(str(admin.institution_id), "demo")
    return {"rules_published": created, "tag_changes": changed}
