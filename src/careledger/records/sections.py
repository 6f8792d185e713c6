"""The record's sections, as one table the services, selectors, views and API all read.

A section says which model holds its entries, which FHIR resource they map to, which of their
fields are sealed free text (opened in one key lookup per page), whether the client has at most
one current entry (lifestyle), and how it is titled. Adding a section is adding a row here, a
model, a validator and a FHIR mapping — no new service or view.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from careledger.crypto.fields import EncryptedTextField
from careledger.records.models import (
    AllergyEntry,
    ConditionEntry,
    FamilyHistoryEntry,
    LifestyleEntry,
    MedicationEntry,
    RecordEntry,
    SurgeryEntry,
)

VITALS = "vitals"


@dataclass(frozen=True)
class Section:
    key: str
    title: Promise
    icon: str
    resource_type: str
    model: type[RecordEntry] | None  # None: vital signs live in the observation store
    fields: tuple[str, ...]  # the entry's own values, in form order (a revision's snapshot)
    singleton: bool = False

    @property
    def slug(self) -> str:
        return self.key.replace("_", "-")

    @property
    def sealed_fields(self) -> tuple[str, ...]:
        if self.model is None:
            return ()
        return tuple(
            f.attname for f in self.model._meta.concrete_fields if isinstance(f, EncryptedTextField)
        )


SECTIONS: tuple[Section, ...] = (
    Section(
        "conditions",
        _("Past history"),
        "clipboard2-pulse",
        "Condition",
        ConditionEntry,
        ("code", "onset", "clinical_status", "note"),
    ),
    Section(
        "family_history",
        _("Family history"),
        "people",
        "FamilyMemberHistory",
        FamilyHistoryEntry,
        ("relation", "code", "onset_age", "note"),
    ),
    Section(
        "medications",
        _("Medications"),
        "capsule",
        "MedicationStatement",
        MedicationEntry,
        (
            "drug_name",
            "dose_value",
            "dose_unit",
            "frequency",
            "route",
            "start",
            "end",
            "medication_status",
            "note",
        ),
    ),
    Section(
        "allergies",
        _("Allergies"),
        "exclamation-octagon",
        "AllergyIntolerance",
        AllergyEntry,
        ("substance", "category", "reaction", "severity", "note"),
    ),
    Section(
        "surgeries",
        _("Surgeries"),
        "bandaid",
        "Procedure",
        SurgeryEntry,
        ("name", "performed", "hospital", "note"),
    ),
    Section(
        "lifestyle",
        _("Lifestyle"),
        "cup-hot",
        "Observation",
        LifestyleEntry,
        (
            "smoking",
            "cigarettes_per_day",
            "smoking_years",
            "alcohol",
            "alcohol_grams_per_week",
            "diet_pattern",
            "salt",
            "oil",
            "activity_minutes_per_week",
            "activity_intensity",
            "sleep_hours",
            "sleep_quality",
            "note",
        ),
        singleton=True,
    ),
    Section(
        VITALS,
        _("Vital signs"),
        "heart-pulse",
        "Observation",
        None,
        ("measured_at", "sbp", "dbp", "heart_rate", "height", "weight", "waist"),
    ),
)
BY_KEY = {s.key: s for s in SECTIONS}
ENTRY_SECTIONS = tuple(s for s in SECTIONS if s.model is not None)


class UnknownSection(LookupError):
    pass


def get(key: str) -> Section:
    try:
        return BY_KEY[key]
    except KeyError:
        raise UnknownSection(key) from None
