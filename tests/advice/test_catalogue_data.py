"""The built-in catalogue as data (pure: no database): size, citations, keys, the clinical
rules the wording follows."""

from __future__ import annotations

import re

from careledger.advice.catalogue import builtin_items, sources
from careledger.advice.keys import vocabulary

ITEMS = builtin_items()
BY_CODE = {i.code: i for i in ITEMS}
CONSTITUTIONS = ["pinghe", "qixu", "yangxu", "yinxu", "tanshi", "shire", "xueyu", "qiyu", "tebing"]


def when(item):  # type: ignore[no-untyped-def]
    return {k for g in item.applies for k in g}


def test_between_60_and_90_items_every_one_cited_to_its_section():
    assert 60 <= len(ITEMS) <= 90
    for item in ITEMS:
        assert item.citations, item.code
        for c in item.citations:
            assert c.guideline and c.edition and c.section, item.code
        assert re.search(r"[\u4e00-\u9fff]", item.title + item.body), item.code


def test_every_key_the_catalogue_uses_is_in_the_vocabulary():
    v = vocabulary()
    unknown = sorted({k for i in ITEMS for k in when(i) if not v.known(k)})
    assert unknown == []


def test_the_vocabulary_covers_the_model_ids_and_constitutions_of_the_other_apps():
    v = vocabulary()
    from careledger.assessment.riskmodels import MODELS

    assert set(MODELS) <= set(v.models)
    assert set(CONSTITUTIONS) == set(v.constitutions)


def test_general_advice_carries_the_dietary_guideline_s_eight_principles_and_activity():
    general = [i for i in ITEMS if not i.applies]
    sections = " ".join(c.section for i in general for c in i.citations)
    for n in "一二三四五六七八":
        assert f"准则{n}" in sections, n
    aerobic = BY_CODE["general.exercise.aerobic"]
    assert "150～300分钟" in aerobic.body
    assert {c.guideline for c in aerobic.citations} >= {"中国人群身体活动指南(2021)"}
    assert "5 g" in BY_CODE["general.diet.salt"].body


def test_hypertension_salt_advice_cites_both_guidelines_and_replaces_the_general_one():
    salt = BY_CODE["htn.diet.salt"]
    assert {c.guideline for c in salt.citations} == {
        "中国高血压防治指南2018年修订版",
        "中国居民膳食指南(2022)",
    }
    assert "5 g" in salt.body and "6 g" in salt.body
    assert salt.replaces == ("general.diet.salt",)
    assert "tag:hypertension" in when(salt) and "risk:bp_grade:grade_1" in when(salt)


def test_phq9_and_gad7_moderate_and_above_advise_evaluation_and_need_a_clinician():
    for key in (
        "risk:phq9:moderate",
        "risk:phq9:moderately_severe",
        "risk:phq9:severe",
        "risk:gad7:moderate",
        "risk:gad7:severe",
    ):
        answering = [i for i in ITEMS if key in when(i)]
        assert answering and all(i.needs_clinician for i in answering), key
        assert all("评估" in i.body or "就诊" in i.body for i in answering), key
    for key in ("risk:phq9:mild", "risk:gad7:mild"):
        assert [i.needs_clinician for i in ITEMS if key in when(i)] == [False]


def test_item9_positive_gives_urgent_referral_wording_first():
    item9 = BY_CODE["mood.item9"]
    assert when(item9) == {"risk:phq9:item9_positive"}
    assert item9.needs_clinician and item9.priority == 1
    assert "12356" in item9.body and "急诊" in item9.body


def test_each_constitution_has_its_tiaoyang_advice_on_diet_life_exercise_and_emotion():
    for code in CONSTITUTIONS:
        mine = [i for i in ITEMS if when(i) == {f"constitution:{code}"}]
        text = " ".join(i.title + i.body for i in mine)
        for aspect in ("饮食", "起居", "运动", "情志"):
            assert aspect in text, (code, aspect)
        assert all(i.domain == "tcm" for i in mine)
        cited = {c.guideline for i in mine for c in i.citations}
        assert "中医体质分类与判定(ZYYXH/T157-2009)" in cited


def test_ckd_advice_is_conservative_and_no_item_prescribes_a_drug_or_a_dose():
    ckd = BY_CODE["ckd.care"]
    assert "非甾体抗炎药" in ckd.body and ckd.needs_clinician
    assert {"risk:ckd_epi_2021:g3a", "risk:ckd_epi_2021:g5"} <= when(ckd)
    dose = re.compile(r"\d\s*(mg|毫克|片|粒|μg|ug)(?![/a-zA-Z])")
    drugs = ["二甲双胍", "阿司匹林", "氨氯地平", "他汀", "硝苯地平", "别嘌醇", "伐尼克兰", "布洛芬"]
    for item in ITEMS:
        assert not dose.search(item.body), item.code
        assert not any(d in item.body for d in drugs), item.code


def test_sources_are_all_used_and_codes_are_stable_identifiers():
    used = {c.guideline for i in ITEMS for c in i.citations}
    assert used == {g for g, _e in sources().values()}
    assert all(re.fullmatch(r"[a-z0-9_.\-]+", i.code) for i in ITEMS)
