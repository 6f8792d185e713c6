"""The built-in instruments, without a database: each is a valid FHIR Questionnaire the engine
runs; PHQ-9 and GAD-7 score and band as Kroenke 2001 and Spitzer 2006 say; the TCM constitution
questionnaire reproduces ZYYXH/T157-2009's rules and its worked examples; the intake form's skip
logic works."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from careledger.questionnaires import answers, definition, scoring, tcm
from careledger.questionnaires.config_services import BUILTIN, builtin_resource


def load(key: str) -> definition.Definition:
    return definition.parse(builtin_resource(key))


def scores_of(key: str, raw: dict[str, object]) -> dict[str, scoring.Score]:
    defn = load(key)
    checked = answers.check(defn, raw, complete=True)
    assert checked.ok, [p.message() for p in checked.problems]
    return {s.code: s for s in scoring.score(defn, checked.answers)}


@pytest.mark.parametrize("key", BUILTIN)
def test_each_builtin_is_a_valid_fhir_questionnaire_in_chinese(key):
    from fhir.resources.R4B.questionnaire import Questionnaire

    data = builtin_resource(key)
    Questionnaire.model_validate(data)
    defn = load(key)
    assert defn.status == "active" and defn.code
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in i.text) for i in defn.questions())


def phq9_band(total: int) -> str:
    for low, band in [(20, "severe"), (15, "moderately_severe"), (10, "moderate"), (5, "mild")]:
        if total >= low:
            return band
    return "minimal"


@given(st.lists(st.integers(0, 3), min_size=9, max_size=9))
def test_phq9_total_is_the_sum_banded_as_kroenke_2001(items):
    scores = scores_of("phq9", {f"phq9_{n}": str(v) for n, v in enumerate(items, 1)})
    assert scores["phq9"].value == sum(items)
    assert scores["phq9"].band == phq9_band(sum(items))
    assert scores["phq9_item9"].flag is (items[8] > 0)
    assert scores["phq9_item9"].band == ("positive" if items[8] else "negative")


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "severe"),
        (21, "severe"),
    ],
)
def test_gad7_bands_as_spitzer_2006(total, band):
    items = [min(3, max(0, total - 3 * n)) for n in range(7)]
    scores = scores_of("gad7", {f"gad7_{n}": str(v) for n, v in enumerate(items, 1)})
    assert (scores["gad7"].value, scores["gad7"].band) == (total, band)


def test_phq9_item10_is_asked_but_not_scored():
    raw = {f"phq9_{n}": "0" for n in range(1, 10)}
    assert scores_of("phq9", {**raw, "phq9_10": "3"})["phq9"].value == 0


# -- TCM constitution -------------------------------------------------------------------------


def test_the_standards_worked_examples():
    # ZYYXH/T157-2009 appendix A, 示例1: 平和质 75 but 气虚质 56 ≥ 40 → not 平和质; 是 气虚质.
    one = tcm.judge(
        {
            "pinghe": Decimal(75),
            "qixu": Decimal(56),
            "yangxu": Decimal(27),
            "yinxu": Decimal(25),
            "tanshi": Decimal(12),
            "shire": Decimal(15),
            "xueyu": Decimal(20),
            "qiyu": Decimal(18),
            "tebing": Decimal(10),
        }
    )
    assert one["pinghe"] == "no" and one["qixu"] == "yes"
    assert tcm.constitution_types(one) == [("qixu", "yes")]
    # 示例2: 平和质 75, 痰湿质 32 (30–39), the rest < 30 → 基本是平和质, 有痰湿质倾向.
    two = tcm.judge(
        {
            "pinghe": Decimal(75),
            "qixu": Decimal(16),
            "yangxu": Decimal(27),
            "yinxu": Decimal(25),
            "tanshi": Decimal(32),
            "shire": Decimal(25),
            "xueyu": Decimal(10),
            "qiyu": Decimal(18),
            "tebing": Decimal(10),
        }
    )
    assert two["pinghe"] == "basically_yes" and two["tanshi"] == "tendency"
    assert tcm.constitution_types(two) == [("pinghe", "basically_yes"), ("tanshi", "tendency")]


def tcm_answers(sex: str = "M", base: str = "1", **overrides: str) -> dict[str, str]:
    defn = load("tcm_constitution")
    raw = {q.link_id: base for q in defn.questions() if q.link_id != "sex"}
    raw["sex"] = sex
    raw.update(overrides)
    return raw


def conversions(raw: dict[str, str]) -> dict[str, tuple[Decimal | None, str]]:
    scores = scores_of("tcm_constitution", raw)
    return {code[4:]: (s.value, s.band) for code, s in scores.items()}


def test_never_to_everything_is_a_balanced_constitution():
    # 平和质: 精力充沛 1 + 能适应 1 + six reverse-scored items answered 1 → 5 each = 32;
    # (32 − 8) / 32 × 100 = 75. Every biased constitution: raw = n → 0.
    result = conversions(tcm_answers())
    assert result["pinghe"] == (Decimal(75), "yes")
    assert all(result[c] == (Decimal(0), "no") for c in tcm.BIASED)


def test_sometimes_to_everything():
    # All 3: 平和质 raw 3+3+6×3 = 24 → 50 (< 60: 否); each biased: (3n − n) / 4n = 50 → 是.
    result = conversions(tcm_answers(base="3"))
    assert result["pinghe"] == (Decimal(50), "no")
    assert all(result[c] == (Decimal(50), "yes") for c in tcm.BIASED)


def test_a_tanshi_tendency_makes_pinghe_basically_yes():
    # 痰湿质: six items 2 and two items 3 → raw 18 → (18 − 8) / 32 × 100 = 31.25 → 倾向是;
    # 平和质 stays 75 (no shared item) with one constitution in 30–39 → 基本是.
    extra = {f"tanshi_{n}": "2" for n in range(1, 7)} | {"tanshi_7": "3", "tanshi_8": "3"}
    result = conversions(tcm_answers(**extra))
    assert result["tanshi"] == (Decimal("31.25"), "tendency")
    assert result["pinghe"] == (Decimal(75), "basically_yes")


def test_shared_items_count_in_both_constitutions_and_reverse_in_pinghe():
    # 容易疲乏 (qixu_1) answered 5: 气虚质 raw 5 + 7 = 12 → 12.5 (否); in 平和质 it is reversed
    # to 1: raw 1 + 1 + 1 + 5×5 = 28 → 62.5 (≥ 60, others < 30 → 是).
    result = conversions(tcm_answers(qixu_1="5"))
    assert result["qixu"] == (Decimal("12.5"), "no")
    assert result["pinghe"] == (Decimal("62.5"), "yes")


def test_shire_counts_six_items_for_either_sex_and_drops_the_other_sexs_item():
    female = {f"shire_{n}": "5" for n in range(1, 8)}
    result = conversions(tcm_answers(sex="F", **female))
    assert result["shire"] == (Decimal(100), "yes")  # (30 − 6) / 24 × 100
    defn = load("tcm_constitution")
    checked = answers.check(defn, tcm_answers(sex="F", **female), complete=True)
    assert "shire_7" not in checked.answers and "shire_6" in checked.answers


def test_sixty_questions_are_answered():
    defn = load("tcm_constitution")
    for sex in ("M", "F"):
        checked = answers.check(defn, tcm_answers(sex=sex), complete=True)
        assert len([k for k in checked.answers if k != "sex"]) == 60


@pytest.mark.parametrize(
    ("value", "judged"), [(Decimal("29.99"), "no"), (30, "tendency"), (Decimal("39.5"), "tendency")]
)
def test_biased_cut_points(value, judged):
    values = {c: Decimal(0) for c in tcm.CONSTITUTIONS} | {"xueyu": Decimal(value)}
    assert tcm.judge(values)["xueyu"] == judged
    assert tcm.judge(values | {"xueyu": Decimal(40)})["xueyu"] == "yes"


# -- intake form ------------------------------------------------------------------------------


def test_intake_smoking_yes_asks_cigarettes_and_years():
    defn = load("intake")
    base = {
        "past_conditions": ["none"],
        "surgery": "false",
        "symptoms": ["none"],
        "takes_medication": "false",
        "has_allergy": "false",
        "family_history": ["none"],
        "alcohol": "never",
        "diet_pattern": "balanced",
        "salt": "moderate",
        "exercise": "false",
        "sleep_hours": "7",
        "sleep_quality": "good",
    }
    smoker = answers.check(defn, {**base, "smoking": "current"}, complete=True)
    numbers = defn.numbers()
    assert {p.link_id for p in smoker.problems} == {"cigarettes_per_day", "smoking_years"}
    assert smoker.problems[0].message() == f"Question {numbers['cigarettes_per_day']} is required."
    never = answers.check(
        defn, {**base, "smoking": "never", "cigarettes_per_day": "20"}, complete=True
    )
    assert never.ok and "cigarettes_per_day" not in never.answers
    former = answers.check(defn, {**base, "smoking": "former"}, complete=True)
    assert [p.link_id for p in former.problems] == ["smoking_years"]
