"""The health record (健康档案): one row per entry, per FHIR-aligned section.

What is sealed and what stays clear (docs/decisions/0006-health-record-sections.md): every
free-text field — notes, drug and allergen names, reactions, operation and hospital names — is
sealed under the client's own data key (`ClientSealed`), because free text can say anything
(a drug name can reveal a diagnosis the client keeps private). Coded data — ICD-10 codes,
statuses, categories, dates, doses, lifestyle answers — stays clear and pseudonymous, keyed by
the client's internal UUID, so risk models and cohort queries can use it (invariant 3).

Entries are never deleted: a mistaken one is marked entered-in-error with a reason. Every write
bumps `version` and writes an `EntryRevision` holding that version's sealed snapshot, so the
history of an entry (who, when, what fields, the values then) is kept. The services seal each
written row and its revision in the ledger, so a change made behind the application's back is
reported by `careledger ledger verify`.

Vital signs are not here: they are observations (`careledger.observations`), written by
`careledger.records.vitals` as one "manual" report per measurement set.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from careledger.clients.models import Client, ClientSealed
from careledger.crypto.fields import EncryptedTextField
from careledger.institutions.models import Institution, TimeStamped


class EntryStatus(models.TextChoices):
    ACTIVE = "active", _("In the record")
    ENTERED_IN_ERROR = "entered_in_error", _("Entered in error")


class ClinicalStatus(models.TextChoices):
    ACTIVE = "active", _("Ongoing")
    REMISSION = "remission", _("In remission")
    RESOLVED = "resolved", _("Resolved")


class FamilyRelation(models.TextChoices):
    """HL7 v3 RoleCode, the code system FHIR's FamilyMemberHistory.relationship uses."""

    FATHER = "FTH", _("Father")
    MOTHER = "MTH", _("Mother")
    BROTHER = "BRO", _("Brother")
    SISTER = "SIS", _("Sister")
    SON = "SON", _("Son")
    DAUGHTER = "DAU", _("Daughter")
    PATERNAL_GRANDFATHER = "PGRFTH", _("Paternal grandfather")
    PATERNAL_GRANDMOTHER = "PGRMTH", _("Paternal grandmother")
    MATERNAL_GRANDFATHER = "MGRFTH", _("Maternal grandfather")
    MATERNAL_GRANDMOTHER = "MGRMTH", _("Maternal grandmother")
    UNCLE = "UNCLE", _("Uncle")
    AUNT = "AUNT", _("Aunt")


class DoseUnit(models.TextChoices):
    """UCUM codes (annotations in braces for countable forms)."""

    MG = "mg", _("mg")
    G = "g", _("g")
    UG = "ug", _("µg")
    ML = "mL", _("mL")
    IU = "[iU]", _("IU")
    U = "U", _("U (units)")
    TABLET = "{tbl}", _("tablet(s)")
    CAPSULE = "{cap}", _("capsule(s)")
    PUFF = "{puff}", _("puff(s)")
    DROP = "{drop}", _("drop(s)")
    SACHET = "{sachet}", _("sachet(s)")


class Frequency(models.TextChoices):
    QD = "qd", _("Once a day")
    BID = "bid", _("Twice a day")
    TID = "tid", _("Three times a day")
    QID = "qid", _("Four times a day")
    Q8H = "q8h", _("Every 8 hours")
    QOD = "qod", _("Every other day")
    BED = "bed", _("At bedtime")
    WK = "wk", _("Once a week")
    PRN = "prn", _("As needed")


class Route(models.TextChoices):
    ORAL = "oral", _("Oral")
    SUBLINGUAL = "sublingual", _("Sublingual")
    SUBCUTANEOUS = "sc", _("Subcutaneous injection")
    INTRAMUSCULAR = "im", _("Intramuscular injection")
    INTRAVENOUS = "iv", _("Intravenous")
    INHALED = "inhaled", _("Inhaled")
    NASAL = "nasal", _("Nasal")
    OPHTHALMIC = "ophthalmic", _("Eye")
    TOPICAL = "topical", _("Topical (skin)")
    TRANSDERMAL = "transdermal", _("Transdermal patch")
    RECTAL = "rectal", _("Rectal")


class MedicationStatus(models.TextChoices):
    ACTIVE = "active", _("Taking")
    ON_HOLD = "on_hold", _("Paused")
    STOPPED = "stopped", _("Stopped")
    COMPLETED = "completed", _("Course completed")


class AllergyCategory(models.TextChoices):
    MEDICATION = "medication", _("Medication")
    FOOD = "food", _("Food")
    ENVIRONMENT = "environment", _("Environment")
    BIOLOGIC = "biologic", _("Biologic (vaccine, blood product)")


class Severity(models.TextChoices):
    MILD = "mild", _("Mild")
    MODERATE = "moderate", _("Moderate")
    SEVERE = "severe", _("Severe")


class Smoking(models.TextChoices):
    NEVER = "never", _("Never smoked")
    FORMER = "former", _("Former smoker")
    CURRENT = "current", _("Current smoker")


class Alcohol(models.TextChoices):
    NEVER = "never", _("Does not drink")
    OCCASIONAL = "occasional", _("Drinks occasionally")
    REGULAR = "regular", _("Drinks regularly")


class DietPattern(models.TextChoices):
    BALANCED = "balanced", _("Balanced")
    MEAT_HEAVY = "meat_heavy", _("Mostly meat")
    VEGETARIAN = "vegetarian", _("Mostly vegetarian")
    HIGH_SUGAR = "high_sugar", _("High in sugar and refined starch")


class Level(models.TextChoices):
    LOW = "low", _("Low")
    MODERATE = "moderate", _("Medium")
    HIGH = "high", _("High")


class Intensity(models.TextChoices):
    LIGHT = "light", _("Light intensity")
    MODERATE = "moderate", _("Moderate intensity")
    VIGOROUS = "vigorous", _("Vigorous intensity")


class Quality(models.TextChoices):
    GOOD = "good", _("Good")
    FAIR = "fair", _("Fair")
    POOR = "poor", _("Poor")


class RecordEntry(ClientSealed, TimeStamped):
    """What every entry of every section has."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    version = models.PositiveIntegerField(default=1)
    status = models.CharField(max_length=20, choices=EntryStatus.choices, default="active")
    note = EncryptedTextField(blank=True, default="")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )

    class Meta:
        abstract = True
        ordering = ["created_at", "id"]

    def __str__(self) -> str:  # ids only: this lands in logs and tracebacks
        return f"{type(self).__name__} {self.id}"


class ConditionEntry(RecordEntry):
    """Past history and current conditions (既往史) — FHIR Condition."""

    code = models.CharField(max_length=8)  # ICD-10, from records/data/icd10_cn.csv
    onset = models.CharField(max_length=10, blank=True, default="")  # partial date
    clinical_status = models.CharField(max_length=12, choices=ClinicalStatus.choices)

    class Meta(RecordEntry.Meta):
        indexes = [
            models.Index(fields=["client", "status"], name="rec_condition_client"),
            models.Index(fields=["institution", "code"], name="rec_condition_code"),
        ]


class FamilyHistoryEntry(RecordEntry):
    """Family history (家族史) — FHIR FamilyMemberHistory, one relative and condition a row."""

    relation = models.CharField(max_length=8, choices=FamilyRelation.choices)
    code = models.CharField(max_length=8)  # ICD-10
    onset_age = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta(RecordEntry.Meta):
        indexes = [
            models.Index(fields=["client", "status"], name="rec_family_client"),
            models.Index(fields=["institution", "code"], name="rec_family_code"),
        ]


class MedicationEntry(RecordEntry):
    """Medications (用药) — FHIR MedicationStatement."""

    drug_name = EncryptedTextField()
    dose_value = models.DecimalField(max_digits=10, decimal_places=3, null=True, blank=True)
    dose_unit = models.CharField(max_length=10, choices=DoseUnit.choices, blank=True, default="")
    frequency = models.CharField(max_length=6, choices=Frequency.choices, blank=True, default="")
    route = models.CharField(max_length=12, choices=Route.choices, blank=True, default="")
    start = models.CharField(max_length=10, blank=True, default="")  # partial date
    end = models.CharField(max_length=10, blank=True, default="")  # partial date
    medication_status = models.CharField(max_length=10, choices=MedicationStatus.choices)

    class Meta(RecordEntry.Meta):
        indexes = [models.Index(fields=["client", "status"], name="rec_medication_client")]


class AllergyEntry(RecordEntry):
    """Allergies and intolerances (过敏史) — FHIR AllergyIntolerance."""

    substance = EncryptedTextField()
    category = models.CharField(max_length=12, choices=AllergyCategory.choices)
    reaction = EncryptedTextField(blank=True, default="")
    severity = models.CharField(max_length=8, choices=Severity.choices, blank=True, default="")

    class Meta(RecordEntry.Meta):
        indexes = [models.Index(fields=["client", "status"], name="rec_allergy_client")]


class SurgeryEntry(RecordEntry):
    """Operations (手术史) — FHIR Procedure."""

    name = EncryptedTextField()
    performed = models.CharField(max_length=10, blank=True, default="")  # partial date
    hospital = EncryptedTextField(blank=True, default="")

    class Meta(RecordEntry.Meta):
        indexes = [models.Index(fields=["client", "status"], name="rec_surgery_client")]


class LifestyleEntry(RecordEntry):
    """Lifestyle (生活方式): one current entry per client, edited in place and versioned —
    FHIR social-history Observations (tobacco 72166-2 and the others, see fhir.py)."""

    smoking = models.CharField(max_length=8, choices=Smoking.choices)
    cigarettes_per_day = models.PositiveSmallIntegerField(null=True, blank=True)
    smoking_years = models.PositiveSmallIntegerField(null=True, blank=True)
    alcohol = models.CharField(max_length=10, choices=Alcohol.choices)
    alcohol_grams_per_week = models.PositiveSmallIntegerField(null=True, blank=True)
    diet_pattern = models.CharField(
        max_length=12, choices=DietPattern.choices, blank=True, default=""
    )
    salt = models.CharField(max_length=8, choices=Level.choices, blank=True, default="")
    oil = models.CharField(max_length=8, choices=Level.choices, blank=True, default="")
    activity_minutes_per_week = models.PositiveSmallIntegerField(null=True, blank=True)
    activity_intensity = models.CharField(
        max_length=8, choices=Intensity.choices, blank=True, default=""
    )
    sleep_hours = models.DecimalField(max_digits=3, decimal_places=1, null=True, blank=True)
    sleep_quality = models.CharField(max_length=4, choices=Quality.choices, blank=True, default="")

    class Meta(RecordEntry.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["client"], condition=Q(status="active"), name="rec_one_current_lifestyle"
            )
        ]


class EntryRevision(ClientSealed):
    """One version of one entry (of any section, vital-sign sets included): who, when, which
    fields changed, why, and that version's values as a sealed snapshot."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    section = models.CharField(max_length=16)
    entry_id = models.UUIDField()  # the entry's row, or the vital-sign set's Report
    version = models.PositiveIntegerField()
    status = models.CharField(max_length=20, choices=EntryStatus.choices)
    changed_fields = models.JSONField(default=list)  # field names only, never values
    snapshot = EncryptedTextField()  # canonical JSON of the entry's values at this version
    reason = EncryptedTextField(blank=True, default="")
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    changed_at = models.DateTimeField()

    class Meta:
        ordering = ["-changed_at", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["section", "entry_id", "version"], name="rec_revision_once_per_version"
            )
        ]
        indexes = [
            models.Index(fields=["client", "changed_at"], name="rec_revision_client"),
            models.Index(fields=["entry_id", "version"], name="rec_revision_entry"),
        ]

    def __str__(self) -> str:
        return f"EntryRevision {self.id}"
