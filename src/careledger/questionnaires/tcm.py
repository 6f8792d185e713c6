"""TCM constitution judgement (中医体质分类与判定). Pure: no Django.

Source: 中华中医药学会 (China Association of Chinese Medicine) standard ZYYXH/T157-2009
《中医体质分类与判定》 (2009-04-09; drafted by 王琦 Wang Qi et al., Beijing University of Chinese
Medicine), appendix A 中医体质分类与判定表, reproduced in T/CACM 1460-2023 appendix A. The
questionnaire itself ships as `instruments/tcm_constitution.json`; this module holds the rules.

Nine constitutions: 平和质 pinghe (balanced) and eight biased ones — 气虚质 qixu, 阳虚质 yangxu,
阴虚质 yinxu, 痰湿质 tanshi, 湿热质 shire, 血瘀质 xueyu, 气郁质 qiyu, 特禀质 tebing. Each question
is answered on five levels scored 1–5 (没有 / 很少 / 有时 / 经常 / 总是), about the past year.

* raw score (原始分) = the sum of a constitution's item scores; 平和质 items 2, 3, 4, 5, 7 and 8
  (疲乏, 声音低弱无力, 闷闷不乐, 耐受不了寒冷, 失眠, 健忘; marked * in the table) are reverse-scored
  (1↔5, 2↔4);
* conversion score (转化分) = (raw − n) / (4n) × 100, n = the constitution's item count;
* 平和质: conversion ≥ 60 and every other constitution < 30 → 是 (yes); ≥ 60 and every other < 40
  → 基本是 (basically yes); otherwise 否 (no);
* each biased constitution: ≥ 40 → 是 (yes), 30–39 → 倾向是 (tendency), < 30 → 否 (no).

The table lists 66 scored questions; six of them repeat a question of another constitution
(平和质 2 = 气虚质 1, 平和质 3 ≈ 气虚质 7, 平和质 4 = 气郁质 1, 平和质 5 = 阳虚质 4,
平和质 8 = 血瘀质 6, and 气虚质 5 = 阳虚质 5), and 湿热质 6 is asked of women (带下色黄) or men
(阴囊潮湿) only, so a person answers 60 questions: the form asks each once and the scores
share it. A conversion score that falls between the integer cut points (scores move in steps
of 100/(4n)) is judged by the same inequalities: 39.5 is below 40, so "tendency".

The standard's own worked examples (appendix A, 示例) are reproduced in tests/questionnaires.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from decimal import Decimal

PINGHE = "pinghe"
BIASED = ("qixu", "yangxu", "yinxu", "tanshi", "shire", "xueyu", "qiyu", "tebing")
CONSTITUTIONS = (PINGHE, *BIASED)
NAMES = {
    "pinghe": "平和质",
    "qixu": "气虚质",
    "yangxu": "阳虚质",
    "yinxu": "阴虚质",
    "tanshi": "痰湿质",
    "shire": "湿热质",
    "xueyu": "血瘀质",
    "qiyu": "气郁质",
    "tebing": "特禀质",
}
PREFIX = "tcm:"
YES, BASICALLY_YES, TENDENCY, NO = "yes", "basically_yes", "tendency", "no"
BAND_NAMES = {YES: "是", BASICALLY_YES: "基本是", TENDENCY: "倾向是", NO: "否"}
SIXTY, FORTY, THIRTY = Decimal(60), Decimal(40), Decimal(30)


def conversion(raw: Decimal | int, n: int) -> Decimal:
    """转化分 = (原始分 − 条目数) / (条目数 × 4) × 100."""
    return (Decimal(raw) - n) / (4 * n) * 100


def judge(conversions: Mapping[str, Decimal]) -> dict[str, str]:
    """The judgement of each constitution from all nine conversion scores."""
    out: dict[str, str] = {}
    for code in BIASED:
        value = conversions[code]
        out[code] = YES if value >= FORTY else TENDENCY if value >= THIRTY else NO
    others = [conversions[c] for c in BIASED]
    balanced = conversions[PINGHE] >= SIXTY
    if balanced and all(v < THIRTY for v in others):
        out[PINGHE] = YES
    elif balanced and all(v < FORTY for v in others):
        out[PINGHE] = BASICALLY_YES
    else:
        out[PINGHE] = NO
    return out


def apply(scores: Sequence) -> list:  # list[scoring.Score]
    """Replace the bands of the nine `tcm:` scores with the standard's judgement (when all nine
    are computed); other scores pass through unchanged."""
    by_code = {s.code[len(PREFIX) :]: s for s in scores if s.code.startswith(PREFIX)}
    if set(by_code) != set(CONSTITUTIONS) or any(s.value is None for s in by_code.values()):
        return list(scores)
    verdict = judge({code: s.value for code, s in by_code.items()})
    out = []
    for s in scores:
        code = s.code[len(PREFIX) :] if s.code.startswith(PREFIX) else None
        if code in verdict:
            s = replace(s, band=verdict[code], band_display=BAND_NAMES[verdict[code]])
        out.append(s)
    return out


def constitution_types(judgements: Mapping[str, str]) -> list[tuple[str, str]]:
    """(code, judgement) of what a person is, strongest first: 是, then 基本是, then 倾向是
    (平和质 only when it is judged yes or basically yes); nothing judged 否."""
    rank = {YES: 0, BASICALLY_YES: 1, TENDENCY: 2}
    found = [(c, j) for c, j in judgements.items() if j in rank and c in NAMES]
    order = {c: i for i, c in enumerate(CONSTITUTIONS)}
    return sorted(found, key=lambda cj: (rank[cj[1]], order[cj[0]]))
