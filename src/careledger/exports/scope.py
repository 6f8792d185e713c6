"""What an export request may ask for, in one canonical form, and its hash. Pure: no Django.

Why canonical: the approver approves exactly one scope, and the job must run exactly that one.
`canonical()` turns what the form or the API sent into one dict (sorted lists, ISO dates, every
key present), and `scope_hash()` is the SHA-256 of its canonical JSON (sorted keys, UTF-8, no
whitespace). The hash is computed when the request is made, sealed into the approval, and
computed again from the stored scope when the job runs: any difference refuses the run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

CATEGORIES = ("demographics", "identifiers", "observations", "tags")
IDENTIFIER_FIELDS = ("name", "document_number", "phone", "address")
FORMATS = ("csv", "xlsx")
PURPOSES = (
    "quality_improvement",
    "service_statistics",
    "continuity_of_care",
    "regulatory_report",
    "research",
)
# Purposes for which identifiers may leave (a handover names the person; so does a report the
# law requires). Every other purpose is de-identified, whatever was asked.
IDENTIFIED_PURPOSES = frozenset({"continuity_of_care", "regulatory_report"})
MAX_CODES = 40
MIN_K, MAX_K = 2, 50


class ScopeError(ValueError):
    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


def _ids(values: Iterable[Any], field: str, errors: dict[str, list[str]]) -> list[str]:
    out = set()
    for value in values or ():
        try:
            out.add(str(uuid.UUID(str(value))))
        except ValueError:
            errors.setdefault(field, []).append(f"not an id: {str(value)[:40]!r}")
    return sorted(out)


def _date(value: Any, field: str, errors: dict[str, list[str]]) -> str:
    if value in (None, ""):
        return ""
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value.isoformat()
    try:
        return dt.date.fromisoformat(str(value)).isoformat()
    except ValueError:
        errors.setdefault(field, []).append("use a date as YYYY-MM-DD")
        return ""


def _choices(
    values: Iterable[Any], allowed: Iterable[str], field: str, errors: dict[str, list[str]]
) -> list[str]:
    allowed = set(allowed)
    chosen = {str(v) for v in values or ()}
    unknown = sorted(chosen - allowed)
    if unknown:
        errors.setdefault(field, []).append(f"unknown: {', '.join(unknown)[:120]}")
    return sorted(chosen & allowed)


def canonical(raw: Mapping[str, Any], *, known_codes: Iterable[str] = ()) -> dict[str, Any]:
    """Validate and normalise a scope; `ScopeError` names every problem by field."""
    errors: dict[str, list[str]] = {}
    purpose = str(raw.get("purpose", ""))
    if purpose not in PURPOSES:
        errors["purpose"] = ["choose one of the offered purposes"]
    kind = "research" if purpose == "research" else "bulk"
    fmt = str(raw.get("format", "csv"))
    if fmt not in FORMATS:
        errors["format"] = ["choose CSV or XLSX"]
    categories = _choices(raw.get("categories", ()), CATEGORIES, "categories", errors)
    if "demographics" not in categories:
        categories = sorted({*categories, "demographics"})  # age, sex and region always
    identifier_fields = _choices(
        raw.get("identifier_fields", ()), IDENTIFIER_FIELDS, "identifier_fields", errors
    )
    identified = bool(identifier_fields) or "identifiers" in categories
    if identified and purpose not in IDENTIFIED_PURPOSES:
        errors.setdefault("identifier_fields", []).append(
            "identifiers leave only for continuity of care or a report the law requires"
        )
    if identified and not identifier_fields:
        errors.setdefault("identifier_fields", []).append("name the identifiers needed")
    if identifier_fields and "identifiers" not in categories:
        categories = sorted({*categories, "identifiers"})
    codes = sorted({str(c).strip() for c in raw.get("observation_codes", ()) or () if str(c)})
    known = set(known_codes)
    if known and set(codes) - known:
        errors["observation_codes"] = [
            f"not in the indicator catalogue: {', '.join(sorted(set(codes) - known))[:120]}"
        ]
    if len(codes) > MAX_CODES:
        errors["observation_codes"] = [f"at most {MAX_CODES} indicators"]
    if "observations" in categories and not codes:
        errors.setdefault("observation_codes", []).append("choose at least one indicator")
    if codes and "observations" not in categories:
        categories = sorted({*categories, "observations"})
    scope = {
        "purpose": purpose,
        "kind": kind,
        "project_id": "",
        "format": fmt,
        "care_team_ids": _ids(raw.get("care_team_ids", ()), "care_team_ids", errors),
        "tag_codes": sorted({str(t).strip() for t in raw.get("tag_codes", ()) or () if str(t)}),
        "enrolled_from": _date(raw.get("enrolled_from"), "enrolled_from", errors),
        "enrolled_to": _date(raw.get("enrolled_to"), "enrolled_to", errors),
        "results_from": _date(raw.get("results_from"), "results_from", errors),
        "results_to": _date(raw.get("results_to"), "results_to", errors),
        "categories": categories,
        "identifier_fields": identifier_fields,
        "observation_codes": codes,
        "identified": identified and purpose in IDENTIFIED_PURPOSES,
        "k": 0,
    }
    if kind == "research":
        project = raw.get("project_id") or ""
        scope["project_id"] = (_ids([project], "project_id", errors) or [""])[0]
        if not scope["project_id"]:
            errors.setdefault("project_id", []).append("a research export names its project")
    for low, high in (("enrolled_from", "enrolled_to"), ("results_from", "results_to")):
        if scope[low] and scope[high] and scope[low] > scope[high]:
            errors.setdefault(high, []).append("the end is before the start")
    if not scope["identified"]:
        try:
            k = int(raw.get("k") or 5)
        except (TypeError, ValueError):
            k = 0
        if not MIN_K <= k <= MAX_K:
            errors["k"] = [f"k is a whole number from {MIN_K} to {MAX_K}"]
        scope["k"] = k
    if errors:
        raise ScopeError(errors)
    return scope


def canonical_json(scope: Mapping[str, Any]) -> bytes:
    return json.dumps(scope, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def scope_hash(scope: Mapping[str, Any]) -> str:
    return hashlib.sha256(b"careledger-export-scope\x00" + canonical_json(scope)).hexdigest()
