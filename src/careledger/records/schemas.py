"""API schemas of the health record: a separate output schema per section (never the model), and
one input schema per section, told apart by their `section` field."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Annotated, Literal

from ninja import Schema
from pydantic import Field

from careledger.records.validation import MAX_NAME, MAX_NOTE, MAX_REACTION


class EntryRead(Schema):
    id: uuid.UUID
    version: int
    updated_at: dt.datetime
    note: str


class ConditionRead(EntryRead):
    code: str
    code_name: str
    onset: str = Field(description="YYYY, YYYY-MM or YYYY-MM-DD")
    clinical_status: str


class FamilyHistoryRead(EntryRead):
    relation: str = Field(description="HL7 v3 RoleCode (FTH, MTH, …)")
    code: str
    code_name: str
    onset_age: int | None


class MedicationRead(EntryRead):
    drug_name: str
    dose_value: Decimal | None
    dose_unit: str = Field(description="UCUM")
    frequency: str
    route: str
    start: str
    end: str
    medication_status: str


class AllergyRead(EntryRead):
    substance: str
    category: str
    reaction: str
    severity: str


class SurgeryRead(EntryRead):
    name: str
    performed: str
    hospital: str


class LifestyleRead(EntryRead):
    smoking: str
    cigarettes_per_day: int | None
    smoking_years: int | None
    alcohol: str
    alcohol_grams_per_week: int | None
    diet_pattern: str
    salt: str
    oil: str
    activity_minutes_per_week: int | None
    activity_intensity: str
    sleep_hours: Decimal | None
    sleep_quality: str


class VitalSetRead(Schema):
    id: uuid.UUID = Field(description="the observation report of this measurement set")
    measured_at: dt.datetime
    source_name: str
    sbp: Decimal | None = Field(None, description="mm[Hg]")
    dbp: Decimal | None = Field(None, description="mm[Hg]")
    heart_rate: Decimal | None = Field(None, description="/min")
    height: Decimal | None = Field(None, description="cm")
    weight: Decimal | None = Field(None, description="kg")
    waist: Decimal | None = Field(None, description="cm")
    bmi: Decimal | None = Field(None, description="kg/m2, computed from height and weight")


class HealthRecordRead(Schema):
    client_id: uuid.UUID
    emergency: bool = Field(description="read under a break-glass grant")
    conditions: list[ConditionRead]
    family_history: list[FamilyHistoryRead]
    medications: list[MedicationRead]
    allergies: list[AllergyRead]
    surgeries: list[SurgeryRead]
    lifestyle: LifestyleRead | None
    vitals: list[VitalSetRead]


Text = Annotated[str, Field(max_length=MAX_NAME)]
Note = Annotated[str, Field(max_length=MAX_NOTE)]
Number = Decimal | None


class ConditionCreate(Schema):
    section: Literal["conditions"]
    code: Text = Field(description="ICD-10 code of the catalogue, e.g. I10")
    onset: Text = ""
    clinical_status: Text = "active"
    note: Note = ""


class FamilyHistoryCreate(Schema):
    section: Literal["family_history"]
    relation: Text
    code: Text
    onset_age: int | None = None
    note: Note = ""


class MedicationCreate(Schema):
    section: Literal["medications"]
    drug_name: Text
    dose_value: Number = None
    dose_unit: Text = ""
    frequency: Text = ""
    route: Text = ""
    start: Text = ""
    end: Text = ""
    medication_status: Text = "active"
    note: Note = ""


class AllergyCreate(Schema):
    section: Literal["allergies"]
    substance: Text
    category: Text
    reaction: Annotated[str, Field(max_length=MAX_REACTION)] = ""
    severity: Text = ""
    note: Note = ""


class SurgeryCreate(Schema):
    section: Literal["surgeries"]
    name: Text
    performed: Text = ""
    hospital: Text = ""
    note: Note = ""


class LifestyleCreate(Schema):
    section: Literal["lifestyle"]
    smoking: Text
    cigarettes_per_day: int | None = None
    smoking_years: int | None = None
    alcohol: Text
    alcohol_grams_per_week: int | None = None
    diet_pattern: Text = ""
    salt: Text = ""
    oil: Text = ""
    activity_minutes_per_week: int | None = None
    activity_intensity: Text = ""
    sleep_hours: Number = None
    sleep_quality: Text = ""
    note: Note = ""


class VitalsCreate(Schema):
    section: Literal["vitals"]
    measured_at: dt.datetime
    sbp: Number = None
    dbp: Number = None
    heart_rate: Number = None
    height: Number = None
    weight: Number = None
    waist: Number = None


EntryCreate = Annotated[
    ConditionCreate
    | FamilyHistoryCreate
    | MedicationCreate
    | AllergyCreate
    | SurgeryCreate
    | LifestyleCreate
    | VitalsCreate,
    Field(discriminator="section"),
]


class EntryCreated(Schema):
    section: str
    id: uuid.UUID
    version: int
