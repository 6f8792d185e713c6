"""The tag-rule language: a SQL boolean expression, parsed by sqlglot, compiled to polars.

Pure (no Django): the compiler is tested without a database and reused by the validator, the
preview and the evaluator. See docs/decisions/0009-tag-rules.md for the vocabulary and why.

A rule is the WHERE-clause subset of SQL, e.g. ``latest('8480-6') >= 140 OR has_condition('I10')``.
sqlglot (a maintained parser) turns the text into a syntax tree; `compile_rule` walks it against
a whitelist of node types and turns each node into a polars expression over the facts frame (one
row per client, one column per fact the rule names). Nothing is ever eval'd: a node type, a
function or a name outside the whitelist is refused with its position, as is a syntax error.

Null semantics (three-valued, Kleene, as SQL): a comparison with a missing fact is *unknown*;
AND/OR/NOT follow Kleene logic (unknown OR true = true; NOT unknown = unknown) and a rule whose
result is unknown does not fire. So a missing fact never fires a tag, not even through NOT;
`IS NULL` / `IS NOT NULL` test for missing facts explicitly. Presence facts (`has_condition`,
`has_medication`) are never missing: they are true or false.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import polars as pl
import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

MAX_LENGTH = 2000
NUMBER, TEXT, BOOL = "number", "text", "bool"

# Fact kinds: name → (type of its value, whether it takes an argument, what the argument is).
FACT_KINDS: dict[str, tuple[str, str]] = {
    "age": (NUMBER, ""),
    "sex": (TEXT, ""),
    "latest": (NUMBER, "indicator"),
    "previous": (NUMBER, "indicator"),
    "flag": (TEXT, "indicator"),
    "change": (NUMBER, "indicator"),
    "slope": (NUMBER, "indicator"),
    "years_since": (NUMBER, "indicator"),
    "has_condition": (BOOL, "icd10"),
    "has_medication": (BOOL, "none"),
    "lifestyle": (TEXT, "lifestyle"),
    "score": (NUMBER, "instrument"),
    "band": (TEXT, "instrument"),
    "risk": (TEXT, "model"),
    "risk_value": (NUMBER, "model"),
}
# Lifestyle fields a rule may read: coded answers (text) and numbers.
LIFESTYLE_TEXT = frozenset(
    {"smoking", "alcohol", "diet_pattern", "salt", "oil", "activity_intensity", "sleep_quality"}
)
LIFESTYLE_NUMBER = frozenset(
    {"cigarettes_per_day", "alcohol_grams_per_week", "activity_minutes_per_week", "sleep_hours"}
)
# Chinese spellings users may type (names and functions).
ALIASES = {
    "年龄": "age",
    "性别": "sex",
    "最近": "latest",
    "最新": "latest",
    "上次": "previous",
    "标记": "flag",
    "变化": "change",
    "斜率": "slope",
    "距今年数": "years_since",
    "患有": "has_condition",
    "诊断": "has_condition",
    "用药": "has_medication",
    "生活方式": "lifestyle",
    "评分": "score",
    "分级": "band",
    "风险": "risk",
    "风险值": "risk_value",
}
# Helper functions over values (not facts).
HELPERS = {"abs", "round", "least", "greatest", "coalesce"}
_CODE_ARG = re.compile(r"^[A-Za-z0-9_:.\-]{1,40}$")
# Operators typed with an input method, read as their ASCII spelling.
_NORMALISE = {
    "≥": ">=",
    "≤": "<=",
    "≠": "<>",
    "（": "(",
    "）": ")",
    "，": ",",
    "‘": "'",
    "’": "'",
    "“": "'",
    "”": "'",
    "＝": "=",
    "＞": ">",
    "＜": "<",
    "　": " ",
}


@dataclass(frozen=True)
class Fact:
    """One column of the facts frame: a kind and its argument (an indicator code, …)."""

    kind: str
    arg: str = ""

    @property
    def column(self) -> str:
        return f"{self.kind}:{self.arg}" if self.arg else self.kind

    @property
    def type(self) -> str:
        if self.kind == "lifestyle":
            return NUMBER if self.arg in LIFESTYLE_NUMBER else TEXT
        return FACT_KINDS[self.kind][0]


@dataclass(frozen=True)
class Vocabulary:
    """What the compiler may accept: indicator codes (resolved to their canonical catalogue
    code), ICD-10 prefixes, and the fact kinds whose source is not installed yet."""

    indicator: Callable[[str], str | None]
    condition_prefix: Callable[[str], bool]
    unavailable: frozenset[str] = frozenset()


class RuleError(ValueError):
    """Why a rule is refused, and where: `start`/`end` are offsets into the text as typed,
    `line`/`col` (1-based) the start's position. `code` is stable (the UI translates it);
    `params` fill the message."""

    MESSAGES = {
        "empty": "The rule is empty.",
        "too_long": "The rule is longer than {limit} characters.",
        "syntax": "Syntax error near {token!r}.",
        "syntax_incomplete": "Incomplete expression: something is missing after {token!r}.",
        "syntax_unexpected": "Unexpected {token!r}.",
        "not_allowed": "{what} is not allowed in a rule.",
        "unknown_name": (
            "Unknown name {name!r}: use age or sex, or a function such as latest('8480-6')."
        ),
        "unknown_function": "Unknown function {name}().",
        "arity": "{name}() takes {expected}.",
        "argument_text": "The argument of {name}() must be a text in single quotes.",
        "unknown_indicator": "Unknown indicator code {code!r}: not in the indicator catalogue.",
        "unknown_condition": "No ICD-10 code in the catalogue starts with {code!r}.",
        "unknown_lifestyle": "Unknown lifestyle field {code!r}.",
        "bad_code": "{code!r} is not a valid code.",
        "unavailable": "{name}() is not yet available: its data source is not installed.",
        "type": "Expected {expected} here, found {found}.",
        "not_boolean": "The rule must be a condition (true or false), not a {found}.",
        "null_outside_is": "NULL may only be used as IS NULL or IS NOT NULL.",
    }

    def __init__(self, code: str, start: int, end: int, text: str, /, **params: object) -> None:
        self.code = code
        self.params = params
        self.start = max(0, min(start, len(text)))
        self.end = max(self.start, min(end, len(text)))
        self.line = text.count("\n", 0, self.start) + 1
        self.col = self.start - (text.rfind("\n", 0, self.start) + 1) + 1
        super().__init__(self.message)

    @property
    def message(self) -> str:
        return self.MESSAGES[self.code].format(**self.params)


@dataclass(frozen=True)
class CompiledRule:
    text: str
    expr: pl.Expr  # Boolean, never null (unknown → false)
    facts: tuple[Fact, ...] = field(default_factory=tuple)

    @property
    def columns(self) -> list[str]:
        return [f.column for f in self.facts]


class _Source:
    """The text as typed and as parsed (input-method operators replaced), with the mapping of
    parsed offsets back to typed ones, so every error points at what the user wrote."""

    def __init__(self, typed: str) -> None:
        self.typed = typed
        parts: list[str] = []
        self.origin: list[int] = []
        for i, char in enumerate(typed):
            out = _NORMALISE.get(char, char)
            parts.append(out)
            self.origin.extend([i] * len(out))
        self.parsed = "".join(parts)
        self.origin.append(len(typed))
        self.line_starts = [0] + [i + 1 for i, c in enumerate(self.parsed) if c == "\n"]

    def typed_offset(self, parsed_offset: int) -> int:
        return self.origin[max(0, min(parsed_offset, len(self.origin) - 1))]

    def offset_of(self, line: int, col: int) -> int:
        """sqlglot's (line, col) of a token's last character, as an offset of the parsed text."""
        line = max(1, min(line, len(self.line_starts)))
        return self.line_starts[line - 1] + max(col - 1, 0)

    def error(self, error: str, start: int, end: int, /, **params: object) -> RuleError:
        return RuleError(
            error, self.typed_offset(start), self.typed_offset(end), self.typed, **params
        )


def _span(node: exp.Expression) -> tuple[int, int]:
    """The node's (start, end) in the parsed text: its own token's, else its descendants'."""
    starts, ends = [], []
    for sub in node.walk():
        meta = sub.meta if isinstance(sub, exp.Expression) else None
        if meta and "start" in meta:
            starts.append(meta["start"])
            ends.append(meta["end"] + 1)
    if not starts:
        return 0, 0
    return min(starts), max(ends)


_COMPARISONS: dict[type, Callable[[pl.Expr, pl.Expr], pl.Expr]] = {
    exp.EQ: lambda a, b: a == b,
    exp.NEQ: lambda a, b: a != b,
    exp.GT: lambda a, b: a > b,
    exp.GTE: lambda a, b: a >= b,
    exp.LT: lambda a, b: a < b,
    exp.LTE: lambda a, b: a <= b,
}
_ARITHMETIC: dict[type, Callable[[pl.Expr, pl.Expr], pl.Expr]] = {
    exp.Add: lambda a, b: a + b,
    exp.Sub: lambda a, b: a - b,
    exp.Mul: lambda a, b: a * b,
    exp.Div: lambda a, b: a / b,
}


class _Compiler:
    def __init__(self, source: _Source, vocabulary: Vocabulary) -> None:
        self.source = source
        self.vocabulary = vocabulary
        self.facts: dict[str, Fact] = {}

    def fail(self, node: exp.Expression, error: str, /, **params: object) -> RuleError:
        start, end = _span(node)
        if start == end == 0:  # a token without position (NULL): find its text near its parent
            after = _span(node.parent)[0] if node.parent is not None else 0
            found = self.source.parsed.lower().find(node.sql().lower(), after)
            if found >= 0:
                start, end = found, found + len(node.sql())
        return self.source.error(error, start, end, **params)

    def expect(self, node: exp.Expression, typed: tuple[pl.Expr, str], want: str) -> pl.Expr:
        expr, found = typed
        if found != want:
            raise self.fail(node, "type", expected=want, found=found)
        return expr

    def same_type(self, node: exp.Expression, left: exp.Expression, right: exp.Expression):  # type: ignore[no-untyped-def]
        a, ta = self.value(left)
        b, tb = self.value(right)
        if ta != tb:
            raise self.fail(right, "type", expected=ta, found=tb)
        return a, b, ta

    def value(self, node: exp.Expression) -> tuple[pl.Expr, str]:
        if isinstance(node, exp.Paren):
            return self.value(node.this)
        if isinstance(node, exp.And | exp.Or):
            left = self.expect(node.this, self.value(node.this), BOOL)
            right = self.expect(node.expression, self.value(node.expression), BOOL)
            return (left & right if isinstance(node, exp.And) else left | right), BOOL
        if isinstance(node, exp.Not):
            if isinstance(node.this, exp.Is):
                return ~self.value(node.this)[0], BOOL
            return ~self.expect(node.this, self.value(node.this), BOOL), BOOL
        if type(node) in _COMPARISONS:
            a, b, kind = self.same_type(node, node.this, node.expression)
            if kind == BOOL and not isinstance(node, exp.EQ | exp.NEQ):
                raise self.fail(node, "type", expected=NUMBER, found=BOOL)
            return _COMPARISONS[type(node)](a, b), BOOL
        if isinstance(node, exp.Between):
            a, ta = self.value(node.this)
            low = self.expect(node.args["low"], self.value(node.args["low"]), ta)
            high = self.expect(node.args["high"], self.value(node.args["high"]), ta)
            return (a >= low) & (a <= high), BOOL
        if isinstance(node, exp.In):
            return self.member(node), BOOL
        if isinstance(node, exp.Is):
            if not isinstance(node.expression, exp.Null):
                raise self.fail(node.expression, "not_allowed", what="IS other than IS NULL")
            return self.value(node.this)[0].is_null(), BOOL
        if type(node) in _ARITHMETIC:
            a = self.expect(node.this, self.value(node.this), NUMBER)
            b = self.expect(node.expression, self.value(node.expression), NUMBER)
            return _ARITHMETIC[type(node)](a, b), NUMBER
        if isinstance(node, exp.Neg):
            return -self.expect(node.this, self.value(node.this), NUMBER), NUMBER
        if isinstance(node, exp.Literal):
            if node.is_string:
                return pl.lit(node.this, dtype=pl.Utf8), TEXT
            return pl.lit(float(node.this), dtype=pl.Float64), NUMBER
        if isinstance(node, exp.Boolean):
            return pl.lit(bool(node.this), dtype=pl.Boolean), BOOL
        if isinstance(node, exp.Null):
            raise self.fail(node, "null_outside_is")
        if isinstance(node, exp.Column):
            return self.name(node)
        if isinstance(node, exp.Anonymous):
            return self.function(node)
        if isinstance(node, exp.Abs | exp.Round | exp.Least | exp.Greatest | exp.Coalesce):
            return self.helper(node)
        raise self.fail(node, "not_allowed", what=_describe(node))

    def member(self, node: exp.In) -> pl.Expr:
        if node.args.get("query") or node.args.get("unnest") or node.args.get("field"):
            raise self.fail(node, "not_allowed", what="A subquery")
        a, ta = self.value(node.this)
        values = []
        for item in node.expressions:
            if not isinstance(item, exp.Literal | exp.Neg):
                raise self.fail(item, "not_allowed", what=f"{_describe(item)} in an IN list")
            if isinstance(item, exp.Neg):
                if not isinstance(item.this, exp.Literal) or item.this.is_string:
                    raise self.fail(item, "not_allowed", what=_describe(item))
                values.append(-float(item.this.this))
                kind = NUMBER
            else:
                kind = TEXT if item.is_string else NUMBER
                values.append(item.this if item.is_string else float(item.this))
            if kind != ta:
                raise self.fail(item, "type", expected=ta, found=kind)
        return pl.when(a.is_null()).then(None).otherwise(a.is_in(values))

    def name(self, node: exp.Column) -> tuple[pl.Expr, str]:
        if node.table or node.db:
            raise self.fail(node, "not_allowed", what="A qualified name")
        raw = node.name
        name = ALIASES.get(raw, raw.lower())
        if name not in ("age", "sex") or node.this.quoted:
            raise self.fail(node, "unknown_name", name=raw)
        return self.use(Fact(name))

    def use(self, fact: Fact) -> tuple[pl.Expr, str]:
        self.facts.setdefault(fact.column, fact)
        return pl.col(fact.column), fact.type

    def function(self, node: exp.Anonymous) -> tuple[pl.Expr, str]:
        raw = str(node.this)
        name = ALIASES.get(raw, raw.lower())
        if name not in FACT_KINDS or FACT_KINDS[name][1] == "":
            raise self.fail(node, "unknown_function", name=raw)
        argument = FACT_KINDS[name][1]
        args = node.expressions
        if argument == "none":
            if args:
                raise self.fail(node, "arity", name=raw, expected="no argument")
            return self.use(Fact(name))
        if len(args) != 1:
            raise self.fail(node, "arity", name=raw, expected="one argument")
        arg = args[0]
        if not isinstance(arg, exp.Literal) or not arg.is_string:
            raise self.fail(arg, "argument_text", name=raw)
        code = arg.this.strip()
        if not _CODE_ARG.match(code):
            raise self.fail(arg, "bad_code", code=code)
        if name in self.vocabulary.unavailable:
            raise self.fail(node, "unavailable", name=raw)
        if argument == "indicator":
            canonical = self.vocabulary.indicator(code)
            if canonical is None:
                raise self.fail(arg, "unknown_indicator", code=code)
            code = canonical
        elif argument == "icd10":
            code = code.upper()
            if not self.vocabulary.condition_prefix(code):
                raise self.fail(arg, "unknown_condition", code=code)
        elif argument == "lifestyle":
            if code not in LIFESTYLE_TEXT | LIFESTYLE_NUMBER:
                raise self.fail(arg, "unknown_lifestyle", code=code)
        else:
            code = code.lower()
        return self.use(Fact(name, code))

    def helper(self, node: exp.Expression) -> tuple[pl.Expr, str]:
        if isinstance(node, exp.Abs):
            return self.expect(node.this, self.value(node.this), NUMBER).abs(), NUMBER
        if isinstance(node, exp.Round):
            value = self.expect(node.this, self.value(node.this), NUMBER)
            places = node.args.get("decimals")
            if places is None:
                return value.round(0), NUMBER
            if not isinstance(places, exp.Literal) or places.is_string:
                raise self.fail(places, "not_allowed", what=_describe(places))
            return value.round(int(float(places.this))), NUMBER
        items = [node.this, *node.expressions]
        exprs = [self.expect(i, self.value(i), NUMBER) for i in items]
        if isinstance(node, exp.Least):
            return pl.min_horizontal(exprs), NUMBER
        if isinstance(node, exp.Greatest):
            return pl.max_horizontal(exprs), NUMBER
        return pl.coalesce(exprs), NUMBER


def _describe(node: exp.Expression) -> str:
    if isinstance(node, exp.Subquery | exp.Select | exp.Exists):
        return "A subquery"
    if isinstance(node, exp.Func):
        return f"The function {node.sql_name().lower()}()"
    return f"The construct {type(node).__name__}"


def _parse(source: _Source) -> exp.Expression:
    text = source.parsed
    try:
        trees = sqlglot.parse(text, read="sqlite")
    except ParseError as exc:
        first = exc.errors[0] if exc.errors else {}
        line, col = first.get("line", 1), first.get("col", len(text))
        highlight = first.get("highlight") or ""
        end = source.offset_of(line, col) + 1
        start = max(0, end - max(len(highlight), 1))
        description = str(first.get("description") or "")
        code = "syntax"
        if description.startswith("Required keyword"):
            code = "syntax_incomplete"
        elif "Unexpected token" in description or "Invalid expression" in description:
            code = "syntax_unexpected"
        raise source.error(code, start, end, token=highlight) from None
    except TokenError:
        quote = text.rfind("'")
        start = quote if quote >= 0 else len(text)
        raise source.error("syntax", start, len(text), token=text[start:][:20]) from None
    trees = [t for t in trees if t is not None]
    if len(trees) != 1:
        raise source.error("not_allowed", 0, len(text), what="More than one statement")
    return trees[0]


def compile_rule(text: str, vocabulary: Vocabulary) -> CompiledRule:
    """The rule as a polars Boolean expression and the facts it reads, or RuleError."""
    if len(text) > MAX_LENGTH:
        raise RuleError("too_long", MAX_LENGTH, len(text), text, limit=MAX_LENGTH)
    if not text.strip():
        raise RuleError("empty", 0, 0, text)
    source = _Source(text)
    tree = _parse(source)
    if isinstance(tree, exp.Query | exp.DDL | exp.DML | exp.Command):
        raise source.error("not_allowed", 0, len(source.parsed), what="A statement")
    compiler = _Compiler(source, vocabulary)
    expr, kind = compiler.value(tree)
    if kind != BOOL:
        raise compiler.fail(tree, "not_boolean", found=kind)
    return CompiledRule(text=text, expr=expr.fill_null(False), facts=tuple(compiler.facts.values()))
