"""The rule compiler, without a database: every node kind, null semantics, refusals with their
positions (syntax errors, unknown codes and names, anything outside the whitelist)."""

from __future__ import annotations

import polars as pl
import pytest

from careledger.tagging import vocabulary
from careledger.tagging.rules import RuleError, Vocabulary, compile_rule

VOCAB = Vocabulary(
    indicator=vocabulary.indicator,
    condition_prefix=vocabulary.condition_prefix,
    unavailable=frozenset(),
)
FRAME = pl.DataFrame(
    {
        "client_id": ["a", "b", "c"],
        "age": [67.0, 45.0, 30.0],
        "sex": ["M", "F", "M"],
        "latest:8480-6": [152.0, None, 118.0],
        "previous:8480-6": [138.0, None, 121.0],
        "flag:2345-7": ["H", "", None],
        "has_condition:I10": [False, True, False],
        "lifestyle:smoking": ["current", "never", None],
        "score:phq9": [12.0, 3.0, None],
    }
)


def fires(text: str) -> list[bool]:
    rule = compile_rule(text, VOCAB)
    return FRAME.select(rule.expr.alias("x"))["x"].to_list()


def refusal(text: str, vocab: Vocabulary = VOCAB) -> RuleError:
    with pytest.raises(RuleError) as caught:
        compile_rule(text, vocab)
    return caught.value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("latest('8480-6') >= 140 or has_condition('I10')", [True, True, False]),
        ("latest('8480-6') >= 140 and sex = 'M'", [True, False, False]),
        ("age between 40 and 70 and not sex = 'F'", [True, False, False]),
        ("sex in ('F') or age < 35", [False, True, True]),
        ("latest('8480-6') - previous('8480-6') > 10", [True, False, False]),
        ("change('8480-6') > 10", None),  # compiles; its column is built by facts.py
        ("latest('8480-6') * 2 / 2 + 0 >= 150 or -age < -60", [True, False, False]),
        ("abs(latest('8480-6') - 120) <= 2", [False, False, True]),
        ("round(latest('8480-6') / 10) = 15", [True, False, False]),
        ("greatest(age, 50) = 50 and least(age, 40) = 40", [False, True, False]),
        ("coalesce(latest('8480-6'), 0) = 0", [False, True, False]),
        ("flag('2345-7') in ('H', 'HH')", [True, False, False]),
        ("flag('2345-7') = ''", [False, True, False]),
        ("latest('8480-6') is null", [False, True, False]),
        ("latest('8480-6') is not null", [True, False, True]),
        ("lifestyle('smoking') = 'current'", [True, False, False]),
        ("score('phq9') >= 10", [True, False, False]),
        ("true and age > 0", [True, True, True]),
        ("年龄 >= 60 and 性别 = 'M'", [True, False, False]),
        ("最近('8480-6') ≥ 140 或 1 = 1".replace(" 或 1 = 1", ""), [True, False, False]),
        ("(latest('8480-6') ＞ 140)", [True, False, False]),
    ],
)
def test_every_node_kind_compiles_to_a_vectorised_expression(text, expected):
    rule = compile_rule(text, VOCAB)
    if expected is not None:
        assert FRAME.select(rule.expr.alias("x"))["x"].to_list() == expected


def test_a_missing_fact_never_fires_not_even_through_not():
    # b has no blood pressure: the comparison is unknown, and so is its negation.
    assert fires("latest('8480-6') >= 140") == [True, False, False]
    assert fires("not latest('8480-6') >= 140") == [False, False, True]
    # Unknown OR true is true (Kleene), unknown AND true is unknown → not fired.
    assert fires("latest('8480-6') >= 140 or has_condition('I10')") == [True, True, False]
    assert fires("latest('8480-6') < 200 and has_condition('I10')") == [False, False, False]


def test_the_facts_read_are_listed_once_with_codes_resolved():
    rule = compile_rule(
        "latest('8480-6') > 1 and latest('8480-6') < 300 and has_condition('e11') "
        "and latest('1558-6') > 7",
        VOCAB,
    )
    # 1558-6 (fasting glucose) is an alias of the catalogue's 2345-7; prefixes upper-cased.
    assert rule.columns == ["latest:8480-6", "has_condition:E11", "latest:2345-7"]


@pytest.mark.parametrize(
    ("text", "code", "spot"),
    [
        ("latest('8480-6') >= ", "syntax_incomplete", ">="),
        ("age > 60 and\n  (sex = 'M' or", "syntax_incomplete", "or"),
        ("age > 60 )", "syntax_unexpected", ")"),
        ("latest('9999-9') > 1", "unknown_indicator", "'9999-9'"),
        ("has_condition('Q99') ", "unknown_condition", "'Q99'"),
        ("lifestyle('income') = 'high'", "unknown_lifestyle", "'income'"),
        ("weight > 80", "unknown_name", "weight"),
        ("frobnicate('x') > 1", "unknown_function", "frobnicate('x'"),
        ("latest(8480) > 1", "argument_text", "8480"),
        ("latest('8480-6', '2') > 1", "arity", "latest('8480-6', '2'"),
        ("has_medication('aspirin')", "arity", "has_medication('aspirin'"),
        ("sex > 3", "type", "3"),
        ("age", "not_boolean", "age"),
        ("age = null", "null_outside_is", "null"),
    ],
)
def test_errors_point_at_the_spot(text, code, spot):
    error = refusal(text)
    assert error.code == code
    assert text[error.start : error.end] == spot
    line_start = text.rfind("\n", 0, error.start) + 1
    assert (error.line, error.col) == (
        text.count("\n", 0, error.start) + 1,
        error.start - line_start + 1,
    )


def test_positions_count_what_was_typed_not_the_normalised_text():
    # "≥" is read as ">=" (two characters): the error after it still points into the typed text.
    text = "latest('8480-6') ≥ 140 and latest('0000-0') > 1"
    error = refusal(text)
    assert text[error.start : error.end] == "'0000-0'"


@pytest.mark.parametrize(
    "text",
    [
        "age in (select 1)",
        "exists(select 1 from clients_client)",
        "(select count(*) from clients_client) > 0",
        "__import__('os').system('id') = 0",
        "eval('1') = 1",
        "age > 1; drop table clients_client",
        "drop table clients_client",
        "upper(sex) = 'M'",
        "age >> 2 = 1",
        "sex like 'M%'",
        "case when age > 1 then true else false end",
        "cast(age as text) = '1'",
        "clients.age > 1",
        '"age" > 1',
        "age > 1 union select 1",
        "@age > 1",
    ],
)
def test_anything_outside_the_whitelist_is_refused(text):
    error = refusal(text)
    assert error.code in {
        "not_allowed",
        "unknown_function",
        "unknown_name",
        "syntax",
        "syntax_unexpected",
        "syntax_incomplete",
        "type",
    }


def test_sources_not_installed_are_reported_not_yet_available():
    vocab = Vocabulary(VOCAB.indicator, VOCAB.condition_prefix, frozenset({"risk", "score"}))
    error = refusal("risk('china_par') = 'high'", vocab)
    assert error.code == "unavailable" and "not yet available" in error.message


def test_empty_and_overlong_rules_are_refused():
    assert refusal("   ").code == "empty"
    assert refusal("age > 1 or " * 300 + "age > 1").code == "too_long"


def test_all_rules_of_a_population_evaluate_in_one_select():
    from careledger.tagging import evaluate

    rules = {
        "t1": compile_rule("latest('8480-6') >= 140", VOCAB),
        "t2": compile_rule("has_condition('I10')", VOCAB),
    }
    fired = evaluate.fired(FRAME, rules).sort(["client_id", "tag"])
    assert fired.rows() == [("a", "t1"), ("b", "t2")]
    changes = evaluate.diff(fired, pl.DataFrame({"client_id": ["b", "c"], "tag": ["t2", "t1"]}))
    assert changes.gains.rows() == [("a", "t1")]
    assert changes.losses.rows() == [("c", "t1")]


def test_the_pure_modules_import_no_django():
    import ast
    from pathlib import Path

    import careledger.tagging

    folder = Path(careledger.tagging.__file__).parent
    for name in ("rules.py", "evaluate.py", "vocabulary.py"):
        tree = ast.parse((folder / name).read_text(encoding="utf-8"))
        imported = [
            n.module if isinstance(n, ast.ImportFrom) else a.name
            for n in ast.walk(tree)
            if isinstance(n, ast.Import | ast.ImportFrom)
            for a in (n.names if isinstance(n, ast.Import) else [n])
        ]
        assert not [m for m in imported if m and m.startswith("django")], name
