"""The vocabulary the rule compiler accepts, from the catalogues (pure, no Django).

Indicator codes come from the indicator catalogue (an alias LOINC code resolves to its entry's
canonical code, which is what the observation store keys results by); ICD-10 prefixes must
start at least one code of the records' ICD-10 catalogue. Questionnaire scores and risk levels
are "not yet available" while their facts modules are not installed: the validator then names
the function instead of letting a rule that can never fire be published.
"""

from __future__ import annotations

import importlib.util
from functools import cache

from careledger.observations import catalogue
from careledger.records import icd10
from careledger.tagging.rules import Vocabulary

# Fact kinds → the module that provides them (checked by import spec, not imported here).
SOURCES = {
    "score": "careledger.questionnaires.facts",
    "band": "careledger.questionnaires.facts",
    "risk": "careledger.assessment.facts",
    "risk_value": "careledger.assessment.facts",
}


def indicator(code: str) -> str | None:
    entry = catalogue.find(code)
    return entry.code if entry else None


@cache
def _condition_codes() -> tuple[str, ...]:
    return tuple(entry.code for entry in icd10.all_codes())


def condition_prefix(prefix: str) -> bool:
    prefix = prefix.strip().upper()
    return bool(prefix) and any(code.startswith(prefix) for code in _condition_codes())


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def unavailable() -> frozenset[str]:
    return frozenset(kind for kind, module in SOURCES.items() if not _installed(module))


def default() -> Vocabulary:
    return Vocabulary(
        indicator=indicator, condition_prefix=condition_prefix, unavailable=unavailable()
    )
