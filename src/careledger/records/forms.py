"""The section forms: they only collect what was typed; the service validates its meaning.

Every field is optional at the form level and passed through as text, so that the service's
validation (shared with the API) reports all problems at once, in its own words, beside the
right fields. `required_names` tells the template which fields to mark as required.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from careledger.records import models as m
from careledger.records.validation import MAX_NOTE, MAX_REASON

DATE_HELP = _("Year, year-month or a full date: 2015, 2015-06 or 2015-06-03.")


def _choice(label: Any, choices: type[models.TextChoices], initial: str = "") -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label, choices=[("", "—"), *choices.choices], required=False, initial=initial
    )


def _text(label: Any, max_length: int = 200, **attrs: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        max_length=max_length,
        required=False,
        widget=forms.TextInput(attrs=attrs) if attrs else None,
    )


def _date(label: Any) -> forms.CharField:
    field = _text(label, 20)
    field.help_text = DATE_HELP
    return field


def _number(label: Any) -> forms.CharField:
    return _text(label, 20, inputmode="decimal")


def _note() -> forms.CharField:
    return forms.CharField(
        label=_("Note"),
        max_length=MAX_NOTE,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class SectionForm(forms.Form):
    required_names: frozenset[str] = frozenset()
    uses_icd10 = False

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            self.fields["reason"] = forms.CharField(
                label=_("Reason for the change"), max_length=MAX_REASON, required=False
            )

    def to_data(self) -> dict[str, Any]:
        return {k: v for k, v in self.cleaned_data.items() if k != "reason"}

    def add_service_errors(self, errors: dict[str, list[str]]) -> None:
        for name, messages in errors.items():
            target = name if name in self.fields else None
            for message in messages:
                self.add_error(target, message)


class ConditionForm(SectionForm):
    code = _text(_("Diagnosis (ICD-10)"), 100, list="icd10-codes")
    onset = _date(_("Onset"))
    clinical_status = _choice(_("Status"), m.ClinicalStatus, "active")
    note = _note()
    required_names = frozenset({"code", "clinical_status"})
    uses_icd10 = True


class FamilyHistoryForm(SectionForm):
    relation = _choice(_("Relative"), m.FamilyRelation)
    code = _text(_("Diagnosis (ICD-10)"), 100, list="icd10-codes")
    onset_age = _text(_("Age at onset"), 5, inputmode="numeric")
    note = _note()
    required_names = frozenset({"relation", "code"})
    uses_icd10 = True


class MedicationForm(SectionForm):
    drug_name = _text(_("Drug"), 100)
    dose_value = _number(_("Dose"))
    dose_unit = _choice(_("Dose unit"), m.DoseUnit)
    frequency = _choice(_("Frequency"), m.Frequency)
    route = _choice(_("Route"), m.Route)
    start = _date(_("Started"))
    end = _date(_("Ended"))
    medication_status = _choice(_("Status"), m.MedicationStatus, "active")
    note = _note()
    required_names = frozenset({"drug_name", "medication_status"})


class AllergyForm(SectionForm):
    substance = _text(_("Allergen"), 100)
    category = _choice(_("Category"), m.AllergyCategory)
    reaction = _text(_("Reaction"), 200)
    severity = _choice(_("Severity of the reaction"), m.Severity)
    note = _note()
    required_names = frozenset({"substance", "category"})


class SurgeryForm(SectionForm):
    name = _text(_("Operation"), 100)
    performed = _date(_("Date"))
    hospital = _text(_("Hospital"), 100)
    note = _note()
    required_names = frozenset({"name"})


class LifestyleForm(SectionForm):
    smoking = _choice(_("Smoking"), m.Smoking)
    cigarettes_per_day = _text(_("Cigarettes a day"), 5, inputmode="numeric")
    smoking_years = _text(_("Years smoked"), 5, inputmode="numeric")
    alcohol = _choice(_("Alcohol"), m.Alcohol)
    alcohol_grams_per_week = _text(_("Grams of alcohol a week"), 6, inputmode="numeric")
    diet_pattern = _choice(_("Diet"), m.DietPattern)
    salt = _choice(_("Salt intake"), m.Level)
    oil = _choice(_("Cooking oil intake"), m.Level)
    activity_minutes_per_week = _text(_("Exercise minutes a week"), 6, inputmode="numeric")
    activity_intensity = _choice(_("Exercise intensity"), m.Intensity)
    sleep_hours = _number(_("Sleep hours a night"))
    sleep_quality = _choice(_("Sleep quality"), m.Quality)
    note = _note()
    required_names = frozenset({"smoking", "alcohol"})


class VitalsForm(SectionForm):
    measured_at = forms.DateTimeField(
        label=_("Measured at"),
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    sbp = _number(_("Systolic pressure (mmHg)"))
    dbp = _number(_("Diastolic pressure (mmHg)"))
    heart_rate = _number(_("Heart rate (beats/min)"))
    height = _number(_("Height (cm)"))
    weight = _number(_("Weight (kg)"))
    waist = _number(_("Waist (cm)"))
    required_names = frozenset({"measured_at"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault(
            "initial", {"measured_at": timezone.localtime().replace(second=0, microsecond=0)}
        )
        super().__init__(*args, **kwargs)


class RetractForm(forms.Form):
    """Why an entry is wrong: kept, sealed, in its history."""

    reason = forms.CharField(
        label=_("Why is this entry wrong?"), max_length=MAX_REASON, required=False
    )


FORMS: dict[str, type[SectionForm]] = {
    "conditions": ConditionForm,
    "family_history": FamilyHistoryForm,
    "medications": MedicationForm,
    "allergies": AllergyForm,
    "surgeries": SurgeryForm,
    "lifestyle": LifestyleForm,
    "vitals": VitalsForm,
}
