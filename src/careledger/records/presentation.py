"""How an entry's values read on a page: field labels and choice names from the section's form
(one wording for the form, the record and the history), ICD-10 codes with their names, numbers
without trailing zeros. Pure presentation; no data access."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.utils import timezone, translation

from careledger.records import icd10
from careledger.records.forms import FORMS

# The field a section's entry is named by in a list.
TITLE_FIELD = {
    "conditions": "code",
    "family_history": "code",
    "medications": "drug_name",
    "allergies": "substance",
    "surgeries": "name",
}


def _number_text(value: Any) -> str:
    try:
        return format(Decimal(str(value)).normalize(), "f")
    except InvalidOperation:
        return str(value)


def text_of(section: str, name: str, value: Any) -> str:
    if value is None or value == "":
        return ""
    field = FORMS[section].base_fields.get(name)
    if isinstance(field, forms.ChoiceField):
        return str(dict(field.choices).get(value, value))
    if name == "code":
        entry = icd10.find(str(value))
        language = translation.get_language() or "zh-hans"
        return f"{value} {entry.name(language)}" if entry else str(value)
    if name == "measured_at":
        when = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
        return timezone.localtime(when).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, Decimal) or name in {"dose_value", "sleep_hours"}:
        return _number_text(value)
    return str(value)


def label_of(section: str, name: str) -> str:
    field = FORMS[section].base_fields.get(name)
    return str(field.label) if field is not None else name


def describe(section: str, values: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(label, text) of every filled field, in form order."""
    rows = []
    for name in FORMS[section].base_fields:
        text = text_of(section, name, values.get(name))
        if text:
            rows.append((label_of(section, name), text))
    return rows


@dataclass(frozen=True)
class Shown:
    """An entry with its values as text: the title, the other facts, the note."""

    entry: Any
    title: str
    facts: list[tuple[str, str]]
    note: str


def show(section: str, entry: Any) -> Shown:
    title_field = TITLE_FIELD.get(section, "")
    values = entry.values
    facts = []
    for name in FORMS[section].base_fields:
        text = text_of(section, name, values.get(name))
        if name in {title_field, "note", "dose_unit"} or not text:
            continue
        if name == "dose_value":  # "0.5 g", one fact
            text = f"{text} {text_of(section, 'dose_unit', values.get('dose_unit'))}"
        facts.append((label_of(section, name), text))
    return Shown(
        entry=entry,
        title=text_of(section, title_field, values.get(title_field)) if title_field else "",
        facts=facts,
        note=values.get("note", ""),
    )
