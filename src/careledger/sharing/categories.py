"""What a share grant can cover: resource categories → FHIR resource types (pure, no Django).

A client chooses categories in words they know (检查结果, 既往史, 问卷 …), not FHIR type names;
each category opens a fixed set of resource types, and a partner's token must also carry the
SMART scope of a type (`system/Observation.read` or `system/*.read`) before it is served. The
ledger's access log (AuditEvent) is not shareable: it is about our staff, not the client's data.

The time window (`data_from`, `data_to`) applies to dated events — results, reports,
questionnaire responses, risk assessments, consents — by their own date; demographics and the
problem list are current state and come whole when their category is granted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

CATEGORIES: dict[str, tuple[str, ...]] = {
    "demographics": ("Patient",),
    "results": ("Observation", "DiagnosticReport"),
    "conditions": ("Condition",),
    "questionnaires": ("QuestionnaireResponse",),
    "risk": ("RiskAssessment",),
    "careplans": ("CarePlan",),
    "consents": ("Consent",),
}
# The types every category can open, in the order a Bundle lists them.
SHAREABLE_TYPES: tuple[str, ...] = tuple(t for types in CATEGORIES.values() for t in types)
DATED_TYPES = frozenset(
    {"Observation", "DiagnosticReport", "QuestionnaireResponse", "RiskAssessment", "Consent"}
)
ALL_TYPES_SCOPE = "system/*.read"
MAX_USES = 1000
MAX_DAYS = 366


class CategoryError(ValueError):
    """A category list, window, expiry or use count that cannot make a grant (the field and the
    reason code in `errors`)."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(", ".join(f"{k}: {'/'.join(v)}" for k, v in errors.items()))
        self.errors = errors


def scope_of(resource_type: str) -> str:
    return f"system/{resource_type}.read"


def all_scopes() -> list[str]:
    """The SMART system scopes a partner's OAuth client can be given."""
    return [ALL_TYPES_SCOPE, *(scope_of(t) for t in SHAREABLE_TYPES)]


def types_of(categories: Iterable[str]) -> tuple[str, ...]:
    chosen = set(categories)
    return tuple(t for c, types in CATEGORIES.items() if c in chosen for t in types)


def category_of(resource_type: str) -> str | None:
    for category, types in CATEGORIES.items():
        if resource_type in types:
            return category
    return None


def scope_allows(scopes: Iterable[str], resource_type: str) -> bool:
    held = set(scopes)
    return ALL_TYPES_SCOPE in held or scope_of(resource_type) in held


def clean_grant(
    *,
    categories: Iterable[str],
    data_from: dt.date | None,
    data_to: dt.date | None,
    valid_days: int | None,
    max_uses: int | None,
) -> tuple[list[str], int, int]:
    """Check what a grant is made of; (categories in canonical order, days, uses) or
    `CategoryError` naming each bad field."""
    errors: dict[str, list[str]] = {}
    chosen = list(dict.fromkeys(categories))
    unknown = [c for c in chosen if c not in CATEGORIES]
    if not chosen:
        errors["categories"] = ["required"]
    elif unknown:
        errors["categories"] = ["unknown_category"]
    if data_from and data_to and data_from > data_to:
        errors["data_to"] = ["before_data_from"]
    if valid_days is None or not 1 <= valid_days <= MAX_DAYS:
        errors["valid_days"] = ["out_of_range"]
    if max_uses is None or not 1 <= max_uses <= MAX_USES:
        errors["max_uses"] = ["out_of_range"]
    if errors:
        raise CategoryError(errors)
    ordered = [c for c in CATEGORIES if c in chosen]
    assert valid_days is not None and max_uses is not None
    return ordered, valid_days, max_uses


def in_window(
    when: dt.date | dt.datetime | None, start: dt.date | None, end: dt.date | None
) -> bool:
    if when is None:
        return start is None and end is None
    day = when.date() if isinstance(when, dt.datetime) else when
    return (start is None or day >= start) and (end is None or day <= end)
