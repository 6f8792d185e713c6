"""What a person typed into a record section → the values the entry stores, every problem named.

One validator per section, all built from the same small readers, so the form, the API and any
later import share one set of rules. Each collects every field error at once as
`{field: [message, …]}` and raises `ValidationFailed` (the clients app's, so the API's handler
and the forms' error display work the same for both).

The rules that tie fields together live here too: a dose needs its unit and a unit its dose; an
end is not before its start; onset and operation dates are not in the future nor before the
client was born; a current smoker says how much; a severity needs the reaction it grades; vital
signs are plausible for a living adult and systolic is above diastolic.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _

from careledger.clients.validation import ValidationFailed
from careledger.records import dates, icd10
from careledger.records.models import (
    Alcohol,
    AllergyCategory,
    ClinicalStatus,
    DietPattern,
    DoseUnit,
    FamilyRelation,
    Frequency,
    Intensity,
    Level,
    MedicationStatus,
    Quality,
    Route,
    Severity,
    Smoking,
)

MAX_NOTE = 2000
MAX_NAME = 100
MAX_REACTION = 200
MAX_REASON = 500


class Reader:
    """Reads one input mapping field by field, collecting errors instead of stopping."""

    def __init__(self, data: Mapping[str, Any], *, today: dt.date, birth_date: dt.date) -> None:
        self.data = data
        self.today = today
        self.birth_date = birth_date
        self.errors: dict[str, list[str]] = {}

    def fail(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)

    def raw(self, name: str) -> str:
        value = self.data.get(name)
        return "" if value is None else str(value).strip()

    def text(self, name: str, *, required: bool = False, max_length: int = MAX_NAME) -> str:
        value = self.raw(name)
        if name != "note":
            value = " ".join(value.split())
        if required and not value:
            self.fail(name, _("This field is required."))
        elif len(value) > max_length:
            self.fail(
                name,
                _("At most %(max)d characters (%(count)d given).")
                % {"max": max_length, "count": len(value)},
            )
        return value

    def choice(
        self, name: str, choices: type[models.TextChoices], *, required: bool = False
    ) -> str:
        value = self.raw(name)
        if not value:
            if required:
                self.fail(name, _("This field is required."))
            return ""
        if value not in choices.values:
            self.fail(name, _("“%(value)s” is not one of the choices.") % {"value": value[:20]})
            return ""
        return value

    def number(
        self, name: str, *, low: Decimal, high: Decimal, places: int = 0, required: bool = False
    ) -> Decimal | None:
        value = self.raw(name)
        if not value:
            if required:
                self.fail(name, _("This field is required."))
            return None
        try:
            number = Decimal(value)
        except InvalidOperation:
            self.fail(name, _("“%(value)s” is not a number.") % {"value": value[:20]})
            return None
        if not number.is_finite() or number != round(number, places):
            message = _("Give a number with at most %(places)d decimal places.")
            self.fail(name, message % {"places": places})
            return None
        if not low <= number <= high:
            self.fail(
                name,
                _("%(value)s is outside the plausible range %(low)s–%(high)s.")
                % {"value": number, "low": low, "high": high},
            )
            return None
        # Stored as the database returns it (a DECIMAL column's scale), so a row's ledger
        # digest is the same from the saved instance and from the row read back.
        return number.quantize(Decimal(1).scaleb(-places))

    def whole(self, name: str, *, low: int, high: int, required: bool = False) -> int | None:
        number = self.number(name, low=Decimal(low), high=Decimal(high), required=required)
        return None if number is None else int(number)

    def partial_date(self, name: str, *, future_ok: bool = False) -> dates.PartialDate | None:
        value = self.raw(name)
        if not value:
            return None
        try:
            parsed = dates.parse(value)
        except dates.BadDate:
            self.fail(
                name,
                _("“%(value)s” is not a date: write 2015, 2015-06 or 2015-06-03.")
                % {"value": value[:20]},
            )
            return None
        if not future_ok and parsed.is_after(self.today):
            self.fail(name, _("%(date)s is in the future.") % {"date": parsed.text})
            return None
        if parsed.latest < self.birth_date:
            self.fail(name, _("%(date)s is before the client was born.") % {"date": parsed.text})
            return None
        return parsed

    def icd10(self, name: str) -> str:
        value = self.raw(name)
        if not value:
            self.fail(name, _("This field is required."))
            return ""
        try:
            return icd10.resolve(value).code
        except icd10.UnknownCode as exc:
            if exc.parent is not None:
                self.fail(
                    name,
                    _(
                        "Unknown ICD-10 code “%(code)s”. Did you mean %(parent)s "
                        "(%(name)s)? Choose a code from the list."
                    )
                    % {
                        "code": exc.text[:20],
                        "parent": exc.parent.code,
                        "name": exc.parent.name_zh,
                    },
                )
            else:
                self.fail(
                    name,
                    _("Unknown ICD-10 code “%(code)s”. Choose a code from the list.")
                    % {"code": exc.text[:20]},
                )
            return ""

    def finish(self, values: dict[str, Any]) -> dict[str, Any]:
        if self.errors:
            raise ValidationFailed(self.errors)
        return values


def _condition(r: Reader) -> dict[str, Any]:
    onset = r.partial_date("onset")
    return {
        "code": r.icd10("code"),
        "onset": onset.text if onset else "",
        "clinical_status": r.choice("clinical_status", ClinicalStatus, required=True),
        "note": r.text("note", max_length=MAX_NOTE),
    }


def _family_history(r: Reader) -> dict[str, Any]:
    return {
        "relation": r.choice("relation", FamilyRelation, required=True),
        "code": r.icd10("code"),
        "onset_age": r.whole("onset_age", low=0, high=120),
        "note": r.text("note", max_length=MAX_NOTE),
    }


def _medication(r: Reader) -> dict[str, Any]:
    dose = r.number("dose_value", low=Decimal("0.001"), high=Decimal(100000), places=3)
    unit = r.choice("dose_unit", DoseUnit)
    if dose is not None and not unit and "dose_unit" not in r.errors:
        r.fail("dose_unit", _("Give the unit of the dose (mg, tablets, …)."))
    if unit and dose is None and "dose_value" not in r.errors:
        r.fail("dose_value", _("Give the amount of each dose for this unit."))
    start = r.partial_date("start")
    end = r.partial_date("end", future_ok=True)
    if start and end and end.ends_before(start):
        r.fail(
            "end",
            _("The end (%(end)s) is before the start (%(start)s).")
            % {"end": end.text, "start": start.text},
        )
    return {
        "drug_name": r.text("drug_name", required=True),
        "dose_value": dose,
        "dose_unit": unit,
        "frequency": r.choice("frequency", Frequency),
        "route": r.choice("route", Route),
        "start": start.text if start else "",
        "end": end.text if end else "",
        "medication_status": r.choice("medication_status", MedicationStatus, required=True),
        "note": r.text("note", max_length=MAX_NOTE),
    }


def _allergy(r: Reader) -> dict[str, Any]:
    reaction = r.text("reaction", max_length=MAX_REACTION)
    severity = r.choice("severity", Severity)
    if severity and not reaction:
        r.fail("reaction", _("Describe the reaction whose severity is given."))
    return {
        "substance": r.text("substance", required=True),
        "category": r.choice("category", AllergyCategory, required=True),
        "reaction": reaction,
        "severity": severity,
        "note": r.text("note", max_length=MAX_NOTE),
    }


def _surgery(r: Reader) -> dict[str, Any]:
    performed = r.partial_date("performed")
    return {
        "name": r.text("name", required=True),
        "performed": performed.text if performed else "",
        "hospital": r.text("hospital"),
        "note": r.text("note", max_length=MAX_NOTE),
    }


def _not_for(r: Reader, name: str, answer: str) -> None:
    if r.raw(name):
        r.fail(name, _("Leave this empty for “%(answer)s”.") % {"answer": answer})


def _lifestyle(r: Reader) -> dict[str, Any]:
    smoking = r.choice("smoking", Smoking, required=True)
    cigarettes = r.whole("cigarettes_per_day", low=1, high=200)
    years = r.whole("smoking_years", low=0, high=100)
    if smoking == Smoking.CURRENT and cigarettes is None and "cigarettes_per_day" not in r.errors:
        r.fail("cigarettes_per_day", _("Give the cigarettes a day of a current smoker."))
    if smoking == Smoking.NEVER:
        _not_for(r, "cigarettes_per_day", Smoking.NEVER.label)
        _not_for(r, "smoking_years", Smoking.NEVER.label)
    alcohol = r.choice("alcohol", Alcohol, required=True)
    grams = r.whole("alcohol_grams_per_week", low=1, high=5000)
    if alcohol == Alcohol.REGULAR and grams is None and "alcohol_grams_per_week" not in r.errors:
        message = _("Give the grams of alcohol a week of a regular drinker.")
        r.fail("alcohol_grams_per_week", message)
    if alcohol == Alcohol.NEVER:
        _not_for(r, "alcohol_grams_per_week", Alcohol.NEVER.label)
    minutes = r.whole("activity_minutes_per_week", low=0, high=7 * 24 * 60)
    intensity = r.choice("activity_intensity", Intensity)
    if minutes and not intensity:
        r.fail("activity_intensity", _("Give the intensity of the activity."))
    return {
        "smoking": smoking,
        "cigarettes_per_day": cigarettes,
        "smoking_years": years,
        "alcohol": alcohol,
        "alcohol_grams_per_week": grams,
        "diet_pattern": r.choice("diet_pattern", DietPattern),
        "salt": r.choice("salt", Level),
        "oil": r.choice("oil", Level),
        "activity_minutes_per_week": minutes,
        "activity_intensity": intensity,
        "sleep_hours": r.number("sleep_hours", low=Decimal(0), high=Decimal(24), places=1),
        "sleep_quality": r.choice("sleep_quality", Quality),
        "note": r.text("note", max_length=MAX_NOTE),
    }


# Vital signs: (field, LOINC code, plausible low, high, decimal places). Values in the
# catalogue's canonical units: mm[Hg], /min, cm, kg.
VITAL_FIELDS: tuple[tuple[str, str, Decimal, Decimal, int], ...] = (
    ("sbp", "8480-6", Decimal(50), Decimal(300), 0),
    ("dbp", "8462-4", Decimal(20), Decimal(200), 0),
    ("heart_rate", "8867-4", Decimal(20), Decimal(250), 0),
    ("height", "8302-2", Decimal(50), Decimal(250), 1),
    ("weight", "29463-7", Decimal(10), Decimal(400), 1),
    ("waist", "8280-0", Decimal(30), Decimal(200), 1),
)
CLOCK_SKEW = dt.timedelta(minutes=5)


def _measured_at(r: Reader, now: dt.datetime) -> dt.datetime | None:
    value = r.data.get("measured_at")
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.strip()) if value.strip() else None
        except ValueError:
            r.fail("measured_at", _("“%(value)s” is not a date and time.") % {"value": value[:20]})
            return None
    if value is None:
        r.fail("measured_at", _("This field is required."))
        return None
    if timezone.is_naive(value):
        value = timezone.make_aware(value)  # a wall-clock time at the centre
    if value > now + CLOCK_SKEW:
        r.fail("measured_at", _("The measurement time is in the future."))
        return None
    if timezone.localtime(value).date() < r.birth_date:
        r.fail("measured_at", _("The measurement time is before the client was born."))
        return None
    return value


def validate_vitals(
    data: Mapping[str, Any], *, now: dt.datetime, birth_date: dt.date
) -> dict[str, Any]:
    r = Reader(data, today=timezone.localdate(now), birth_date=birth_date)
    measured_at = _measured_at(r, now)
    values = {
        name: r.number(name, low=low, high=high, places=places)
        for name, _code, low, high, places in VITAL_FIELDS
    }
    if not r.errors and all(v is None for v in values.values()):
        r.fail("__all__", _("Enter at least one measurement."))
    sbp, dbp = values["sbp"], values["dbp"]
    if sbp is not None and dbp is not None and sbp <= dbp:
        r.fail("dbp", _("Diastolic pressure must be below systolic."))
    if (sbp is None) != (dbp is None) and "sbp" not in r.errors and "dbp" not in r.errors:
        r.fail("dbp" if dbp is None else "sbp", _("Give both blood pressure values."))
    return r.finish({"measured_at": measured_at, **values})


VALIDATORS: dict[str, Callable[[Reader], dict[str, Any]]] = {
    "conditions": _condition,
    "family_history": _family_history,
    "medications": _medication,
    "allergies": _allergy,
    "surgeries": _surgery,
    "lifestyle": _lifestyle,
}


def validate_entry(
    section: str, data: Mapping[str, Any], *, today: dt.date, birth_date: dt.date
) -> dict[str, Any]:
    """The values to store for a section's entry, or ValidationFailed naming every problem."""
    reader = Reader(data, today=today, birth_date=birth_date)
    return reader.finish(VALIDATORS[section](reader))


def as_text(value: Any) -> str:
    """A stored value as a snapshot keeps it: numbers without trailing zeros, dates in ISO."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def clean_reason(text: str) -> str:
    return " ".join(str(text or "").split())[:MAX_REASON]
