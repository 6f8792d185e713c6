"""Wording for the pages: fact names, history reasons and the compiler's errors, translated.

The compiler (pure) reports stable error codes with parameters; the words a user reads are
here, through gettext, so the rule editor speaks Chinese first like every page.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from careledger.observations import catalogue
from careledger.tagging.rules import RuleError

KIND_LABELS = {
    "age": gettext_lazy("Age"),
    "sex": gettext_lazy("Sex"),
    "latest": gettext_lazy("latest"),
    "previous": gettext_lazy("previous"),
    "flag": gettext_lazy("flag"),
    "change": gettext_lazy("change"),
    "slope": gettext_lazy("slope per year"),
    "years_since": gettext_lazy("years since"),
    "has_condition": gettext_lazy("Condition"),
    "has_medication": gettext_lazy("Taking medication"),
    "lifestyle": gettext_lazy("Lifestyle"),
    "score": gettext_lazy("Score"),
    "band": gettext_lazy("Band"),
    "risk": gettext_lazy("Risk level"),
    "risk_value": gettext_lazy("Risk"),
}

ERRORS = {
    "empty": gettext_lazy("The rule is empty."),
    "too_long": gettext_lazy("The rule is longer than %(limit)s characters."),
    "syntax": gettext_lazy("Syntax error near %(token)s."),
    "syntax_incomplete": gettext_lazy("Incomplete: something is missing after %(token)s."),
    "syntax_unexpected": gettext_lazy("Unexpected %(token)s."),
    "not_allowed": gettext_lazy("Not allowed in a rule: %(what)s."),
    "unknown_name": gettext_lazy(
        "Unknown name %(name)s: use age or sex, or a function such as latest('8480-6')."
    ),
    "unknown_function": gettext_lazy("Unknown function %(name)s()."),
    "arity": gettext_lazy("%(name)s() takes %(expected)s."),
    "argument_text": gettext_lazy("The argument of %(name)s() must be a text in single quotes."),
    "unknown_indicator": gettext_lazy(
        "Unknown indicator code %(code)s: not in the indicator catalogue."
    ),
    "unknown_condition": gettext_lazy("No ICD-10 code in the catalogue starts with %(code)s."),
    "unknown_lifestyle": gettext_lazy("Unknown lifestyle field %(code)s."),
    "bad_code": gettext_lazy("%(code)s is not a valid code."),
    "unavailable": gettext_lazy(
        "%(name)s() is not yet available: its data source is not installed."
    ),
    "type": gettext_lazy("Expected %(expected)s here, found %(found)s."),
    "not_boolean": gettext_lazy("The rule must be a condition (true or false), not a %(found)s."),
    "null_outside_is": gettext_lazy("NULL may only be used as IS NULL or IS NOT NULL."),
}
TYPES = {
    "number": gettext_lazy("a number"),
    "text": gettext_lazy("a text"),
    "bool": gettext_lazy("a condition"),
}
ARITY = {"no argument": gettext_lazy("no argument"), "one argument": gettext_lazy("one argument")}


def _param(name: str, value: object) -> str:
    if name in ("expected", "found") and value in TYPES:
        return str(TYPES[str(value)])
    if name == "expected" and value in ARITY:
        return str(ARITY[str(value)])
    if name in ("token", "name", "code") and isinstance(value, str):
        return f"“{value}”"
    return str(value)


def error_message(error: RuleError) -> str:
    template = ERRORS.get(error.code)
    if template is None:
        return error.message
    return str(template) % {k: _param(k, v) for k, v in error.params.items()}


def _indicator_name(code: str) -> str:
    entry = catalogue.find(code)
    if entry is None:
        return code
    return entry.name_en if (get_language() or "").startswith("en") else entry.name_zh


def fact_label(column: str) -> str:
    kind, _sep, arg = column.partition(":")
    label = str(KIND_LABELS.get(kind, kind))
    if kind in ("latest", "previous", "flag", "change", "slope", "years_since"):
        return f"{_indicator_name(arg)} · {label}"
    return f"{label} {arg}".strip()


def fact_value(column: str, value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    kind, _sep, arg = column.partition(":")
    if isinstance(value, float):
        text = f"{value:g}"
        entry = catalogue.find(arg) if kind in ("latest", "previous", "change", "slope") else None
        return f"{text} {entry.unit_display}".strip() if entry else text
    return str(value) or "—"


def history_row(row: Any) -> dict[str, Any]:
    return {
        "h": row,
        "facts": [(fact_label(c), fact_value(c, v)) for c, v in sorted(row.facts.items())],
    }
