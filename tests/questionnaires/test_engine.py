"""The questionnaire engine without a database: reading FHIR definitions, enableWhen, validating
answer sets (messages that name the item and say why), scoring and the FHIR response."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from careledger.questionnaires import answers, enable, fhir_response, scoring
from careledger.questionnaires.definition import (
    MAX_URL,
    MIN_URL,
    ORDINAL_URL,
    SCORE_URL,
    WEIGHT_URL,
    DefinitionError,
    parse,
)
from careledger.questionnaires.values import Other


def coded(code: str, display: str, score: float | None = None) -> dict[str, Any]:
    coding: dict[str, Any] = {"code": code, "display": display}
    if score is not None:
        coding["extension"] = [{"url": ORDINAL_URL, "valueDecimal": score}]
    return {"valueCoding": coding}


def questionnaire(*items: dict[str, Any], scores: list[dict[str, Any]] = ()) -> dict[str, Any]:  # type: ignore[assignment]
    return {
        "resourceType": "Questionnaire",
        "url": "https://example.org/q",
        "version": "1",
        "status": "active",
        "item": list(items),
        "extension": list(scores),
    }


def score_rule(code: str, *parts: dict[str, Any], bands=()) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    ext: list[dict[str, Any]] = [{"url": "code", "valueCode": code}, *parts]
    for low, band in bands:
        ext.append(
            {
                "url": "band",
                "extension": [
                    {"url": "min", "valueDecimal": low},
                    {"url": "code", "valueCode": band},
                ],
            }
        )
    return {"url": SCORE_URL, "extension": ext}


def ranged(link_id: str, kind: str, low: Any, high: Any, **extra: Any) -> dict[str, Any]:
    key = {"integer": "valueInteger", "decimal": "valueDecimal", "date": "valueDate"}[kind]
    return {
        "linkId": link_id,
        "type": kind,
        "text": link_id,
        "extension": [{"url": MIN_URL, key: low}, {"url": MAX_URL, key: high}],
        **extra,
    }


LIKERT = [coded(str(n), str(n), n) for n in range(4)]
SMOKING = parse(
    questionnaire(
        {"linkId": "intro", "type": "display", "text": "说明"},
        {
            "linkId": "smoke",
            "type": "choice",
            "text": "吸烟？",
            "required": True,
            "answerOption": [coded("yes", "是"), coded("no", "否")],
        },
        {
            **ranged("per_day", "integer", 1, 100),
            "required": True,
            "enableWhen": [{"question": "smoke", "operator": "=", "answerCoding": {"code": "yes"}}],
        },
        {
            **ranged("years", "integer", 0, 80),
            "enableWhen": [{"question": "per_day", "operator": ">=", "answerInteger": 20}],
        },
        {"linkId": "note", "type": "text", "text": "备注", "maxLength": 10},
    )
)


# -- reading definitions --------------------------------------------------------------------


def test_a_definition_reads_items_options_ranges_and_conditions():
    per_day = SMOKING.item("per_day")
    assert per_day is not None and (per_day.min_value, per_day.max_value) == (1, 100)
    assert [o.code for o in SMOKING.item("smoke").options] == ["yes", "no"]  # type: ignore[union-attr]
    assert per_day.enable_when[0].answer == "yes"
    assert SMOKING.numbers() == {"smoke": "1", "per_day": "2", "years": "3", "note": "4"}


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        (
            [{"linkId": "a", "type": "string"}, {"linkId": "a", "type": "string"}],
            "linkId used twice",
        ),
        ([{"linkId": "a", "type": "choice"}], "needs answerOption"),
        ([{"linkId": "a", "type": "attachment"}], "not supported"),
        (
            [
                {
                    "linkId": "a",
                    "type": "string",
                    "enableWhen": [{"question": "zz", "operator": "exists", "answerBoolean": True}],
                }
            ],
            "refers to unknown zz",
        ),
        (
            [
                {"linkId": "a", "type": "integer"},
                {
                    "linkId": "b",
                    "type": "string",
                    "enableWhen": [{"question": "a", "operator": "~", "answerInteger": 1}],
                },
            ],
            "operator '~'",
        ),
        (
            [
                {
                    "linkId": "a",
                    "type": "boolean",
                    "enableWhen": [{"question": "b", "operator": "exists", "answerBoolean": True}],
                },
                {
                    "linkId": "b",
                    "type": "boolean",
                    "enableWhen": [{"question": "a", "operator": "exists", "answerBoolean": True}],
                },
            ],
            "circular",
        ),
        ([ranged("a", "integer", 10, 1)], "minValue is above maxValue"),
    ],
)
def test_a_definition_the_engine_cannot_run_is_refused_naming_the_item(items, expected):
    with pytest.raises(DefinitionError) as caught:
        parse(questionnaire(*items))
    assert any(expected in p for p in caught.value.problems), caught.value.problems


def test_scores_must_name_questions_and_ascending_bands():
    data = questionnaire(
        {"linkId": "a", "type": "choice", "answerOption": LIKERT},
        scores=[
            score_rule("s", {"url": "item", "valueString": "nope"}, bands=[(5, "x"), (0, "y")])
        ],
    )
    with pytest.raises(DefinitionError) as caught:
        parse(data)
    assert "score s: item nope is not a question" in caught.value.problems
    assert "score s: bands must have ascending, distinct minimums" in caught.value.problems


def test_json_that_is_not_a_fhir_questionnaire_is_refused_by_fhir_resources():
    with pytest.raises(DefinitionError):
        parse({"resourceType": "Patient"})
    with pytest.raises(DefinitionError) as caught:
        parse({"resourceType": "Questionnaire", "status": "active", "item": [{"linkId": 5}]})
    assert caught.value.problems


# -- enableWhen -----------------------------------------------------------------------------


def one_condition(kind: str, operator: str, answer: dict[str, Any]) -> Any:
    source: dict[str, Any] = {"linkId": "src", "type": kind}
    if kind == "choice":
        source["answerOption"] = [coded("a", "A"), coded("b", "B")]
    return parse(
        questionnaire(
            source,
            {
                "linkId": "dst",
                "type": "string",
                "enableWhen": [{"question": "src", "operator": operator, **answer}],
            },
        )
    )


@pytest.mark.parametrize(
    ("kind", "operator", "answer", "value", "enabled"),
    [
        ("integer", ">", {"answerInteger": 5}, 6, True),
        ("integer", ">", {"answerInteger": 5}, 5, False),
        ("integer", ">=", {"answerInteger": 5}, 5, True),
        ("integer", "<", {"answerInteger": 5}, 4, True),
        ("integer", "<=", {"answerInteger": 5}, 6, False),
        ("decimal", "<=", {"answerDecimal": 1.5}, Decimal("1.5"), True),
        ("date", ">", {"answerDate": "2020-01-01"}, dt.date(2020, 1, 2), True),
        ("boolean", "=", {"answerBoolean": True}, True, True),
        ("boolean", "=", {"answerBoolean": True}, False, False),
        ("boolean", "!=", {"answerBoolean": True}, False, True),
        ("choice", "=", {"answerCoding": {"code": "b"}}, "b", True),
        ("choice", "!=", {"answerCoding": {"code": "b"}}, "a", True),
        ("choice", "!=", {"answerCoding": {"code": "b"}}, "b", False),
        ("string", "=", {"answerString": "x"}, "x", True),
        ("integer", "exists", {"answerBoolean": True}, 0, True),
        ("integer", "exists", {"answerBoolean": False}, 0, False),
        ("integer", ">", {"answerInteger": 5}, "not a number", False),  # kinds never compare
    ],
)
def test_each_operator(kind, operator, answer, value, enabled):
    defn = one_condition(kind, operator, answer)
    assert ("dst" in enable.enabled_items(defn, {"src": [value]})) is enabled


def test_unanswered_questions_exist_false_and_are_unequal():
    assert "dst" in enable.enabled_items(
        one_condition("integer", "exists", {"answerBoolean": False}), {}
    )
    assert "dst" in enable.enabled_items(
        one_condition("choice", "!=", {"answerCoding": {"code": "a"}}), {}
    )
    assert "dst" not in enable.enabled_items(
        one_condition("choice", "=", {"answerCoding": {"code": "a"}}), {}
    )


def test_enable_behavior_all_and_any():
    def build(behavior: str):  # type: ignore[no-untyped-def]
        return parse(
            questionnaire(
                {"linkId": "a", "type": "boolean"},
                {"linkId": "b", "type": "boolean"},
                {
                    "linkId": "c",
                    "type": "string",
                    "enableBehavior": behavior,
                    "enableWhen": [
                        {"question": "a", "operator": "=", "answerBoolean": True},
                        {"question": "b", "operator": "=", "answerBoolean": True},
                    ],
                },
            )
        )

    one = {"a": [True], "b": [False]}
    assert "c" not in enable.enabled_items(build("all"), one)
    assert "c" in enable.enabled_items(build("any"), one)
    assert "c" in enable.enabled_items(build("all"), {"a": [True], "b": [True]})


def test_switching_off_a_question_switches_off_what_depends_on_it():
    chain = {"smoke": ["no"], "per_day": [30], "years": [10]}
    assert enable.prune(SMOKING, chain) == {"smoke": ["no"]}
    lit = {**chain, "smoke": ["yes"]}
    assert enable.prune(SMOKING, lit) == lit
    assert enable.prune(SMOKING, {**lit, "per_day": [19]}) == {"smoke": ["yes"], "per_day": [19]}


def test_a_disabled_group_disables_its_children():
    defn = parse(
        questionnaire(
            {"linkId": "a", "type": "boolean"},
            {
                "linkId": "g",
                "type": "group",
                "enableWhen": [{"question": "a", "operator": "=", "answerBoolean": True}],
                "item": [{"linkId": "inner", "type": "string"}],
            },
        )
    )
    assert "inner" not in enable.enabled_items(defn, {"a": [False], "inner": ["x"]})
    assert "inner" in enable.enabled_items(defn, {"a": [True]})


# -- validating answer sets -----------------------------------------------------------------


def messages(checked: answers.Checked) -> list[str]:
    return [p.message() for p in checked.problems]


def test_required_questions_name_their_number_on_submit_only():
    checked = answers.check(SMOKING, {"smoke": "yes"}, complete=True)
    assert messages(checked) == ["Question 2 is required."]
    assert answers.check(SMOKING, {"smoke": "yes"}, complete=False).ok


def test_out_of_range_values_say_the_range_and_are_not_kept():
    checked = answers.check(SMOKING, {"smoke": "yes", "per_day": "200"}, complete=False)
    assert messages(checked) == ["Question 2: the value must be between 1 and 100."]
    assert checked.answers == {"smoke": ["yes"]}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"per_day": "ten"}, "Question 2: enter a number."),
        ({"per_day": "2.5"}, "Question 2: enter a whole number."),
        ({"per_day": ["1", "2"]}, "Question 2 takes one answer only."),
        ({"smoke": "maybe"}, "Question 1: choose one of the options."),
        ({"note": "x" * 11}, "Question 4: at most 10 characters."),
        ({"ghost": "1"}, "There is no question ghost in this questionnaire."),
    ],
)
def test_each_kind_of_bad_answer_has_its_message(raw, message):
    raw = {"smoke": "yes", **raw}
    assert message in messages(answers.check(SMOKING, raw, complete=False))


def test_answers_to_disabled_items_are_dropped_even_when_they_are_wrong():
    checked = answers.check(SMOKING, {"smoke": "no", "per_day": "999"}, complete=True)
    assert checked.ok and checked.answers == {"smoke": ["no"]}


def test_values_are_typed_from_form_strings_and_json():
    defn = parse(
        questionnaire(
            {"linkId": "b", "type": "boolean"},
            {"linkId": "d", "type": "decimal"},
            {"linkId": "t", "type": "date"},
            {"linkId": "m", "type": "choice", "repeats": True, "answerOption": LIKERT},
            {"linkId": "o", "type": "open-choice", "answerOption": LIKERT},
        )
    )
    checked = answers.check(
        defn,
        {"b": "是", "d": "36,5", "t": "2024-02-29", "m": ["1", "3"], "o": "咳嗽"},
        complete=True,
    )
    assert checked.answers == {
        "b": [True],
        "d": [Decimal("36.5")],
        "t": [dt.date(2024, 2, 29)],
        "m": ["1", "3"],
        "o": [Other("咳嗽")],
    }
    assert answers.check(defn, {"b": True, "d": 2, "o": "2"}, complete=True).answers["o"] == ["2"]
    assert messages(answers.check(defn, {"t": "2023-02-29"}, complete=False)) == [
        "Question 3: enter a date (YYYY-MM-DD)."
    ]


def test_prefixes_are_the_numbers_people_see():
    defn = parse(
        questionnaire({"linkId": "x", "prefix": "Q7.", "type": "string", "required": True})
    )
    assert messages(answers.check(defn, {}, complete=True)) == ["Question Q7 is required."]


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["smoke", "per_day", "years", "note", "other"]),
        st.one_of(st.text(max_size=12), st.lists(st.text(max_size=5), max_size=3), st.integers()),
    )
)
def test_any_input_gives_typed_enabled_answers_or_problems_never_an_exception(raw):
    checked = answers.check(SMOKING, raw, complete=True)
    assert set(checked.answers) <= enable.enabled_items(SMOKING, checked.answers)
    assert enable.prune(SMOKING, checked.answers) == checked.answers
    assert all(p.message() for p in checked.problems)


# -- scoring ----------------------------------------------------------------------------------

SCORED = parse(
    questionnaire(
        *(
            {"linkId": f"q{n}", "type": "choice", "required": True, "answerOption": LIKERT}
            for n in range(1, 4)
        ),
        {
            "linkId": "w",
            "type": "integer",
            "extension": [{"url": WEIGHT_URL, "valueDecimal": 2}],
        },
        scores=[
            score_rule("total", bands=[(0, "low"), (4, "mid"), (7, "high")]),
            score_rule(
                "reversed",
                {"url": "item", "valueString": "q1"},
                {"url": "item", "valueString": "q2"},
                {"url": "reverse", "valueString": "q1"},
                {"url": "transform", "valueCode": "percent"},
            ),
            score_rule(
                "weighted",
                {"url": "method", "valueCode": "weighted"},
                {"url": "item", "valueString": "q1"},
                {"url": "item", "valueString": "w"},
            ),
            score_rule(
                "alert",
                {"url": "item", "valueString": "q3"},
                {"url": "flag", "valueBoolean": True},
                bands=[(0, "negative"), (1, "positive")],
            ),
        ],
    )
)


def by_code(results: list[scoring.Score]) -> dict[str, scoring.Score]:
    return {s.code: s for s in results}


def test_sum_band_reverse_percent_weight_and_flag():
    results = by_code(scoring.score(SCORED, {"q1": ["3"], "q2": ["1"], "q3": ["0"], "w": [5]}))
    assert (results["total"].value, results["total"].band) == (4, "mid")
    # q1 reversed: 0 + 3 − 3 = 0; q2 = 1; range 0..6 → 1/6 × 100
    assert results["reversed"].rounded == Decimal("16.67")
    assert results["weighted"].value == 3 + 2 * 5
    assert (results["alert"].band, results["alert"].flag) == ("negative", False)
    flagged = by_code(scoring.score(SCORED, {"q1": ["0"], "q2": ["0"], "q3": ["2"], "w": [0]}))
    assert (flagged["alert"].band, flagged["alert"].flag) == ("positive", True)


def test_a_score_with_unanswered_items_is_not_computed():
    results = by_code(scoring.score(SCORED, {"q1": ["3"]}))
    assert results["total"].value is None and results["total"].missing == ("q2", "q3")


@pytest.mark.parametrize(
    ("total", "band"), [(0, "low"), (3, "low"), (4, "mid"), (6, "mid"), (7, "high"), (9, "high")]
)
def test_band_edges_are_inclusive_minimums(total, band):
    q = [min(3, total), min(3, max(0, total - 3)), max(0, total - 6)]
    results = by_code(scoring.score(SCORED, {f"q{n + 1}": [str(v)] for n, v in enumerate(q)}))
    assert (results["total"].value, results["total"].band) == (total, band)


# -- the FHIR response ------------------------------------------------------------------------


def test_a_response_is_a_valid_fhir_questionnaire_response_nested_like_its_questionnaire():
    from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

    data = fhir_response.to_fhir(
        response_id="r1",
        defn=SMOKING,
        client_id="0b7f0f8e-0000-4000-8000-000000000001",
        status="completed",
        answers={"smoke": ["yes"], "per_day": [25], "note": ["少量"]},
        authored=dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC),
        scores=by_code(scoring.score(SCORED, {"q1": ["1"], "q2": ["1"], "q3": ["1"]})).values(),  # type: ignore[arg-type]
    )
    QuestionnaireResponse.model_validate(data)
    assert data["questionnaire"] == "https://example.org/q|1"
    assert data["subject"] == {"reference": "Patient/0b7f0f8e-0000-4000-8000-000000000001"}
    assert data["item"][0]["answer"] == [{"valueCoding": {"code": "yes", "display": "是"}}]
    assert data["item"][1]["answer"] == [{"valueInteger": 25}]
    assert data["item"][2]["answer"] == [{"valueString": "少量"}]
