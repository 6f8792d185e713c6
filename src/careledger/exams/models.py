"""Report sync bookkeeping: sources, import jobs and the quarantine.

An `ImportSource` is an exam centre or laboratory that sends results, with its file format and,
for CSV/XLSX, the saved column mapping. An `ImportJob` is one file: its progress, its summary
(read, imported, duplicates, quarantined by reason) and the sealed copy of the file, kept so the
job can be re-run (re-running is safe: reports are found again by their blind-indexed key).

A `QuarantinedItem` is whatever did not land: a report whose client could not be matched, a
result whose code or unit is unknown, a row the parser could not read. It keeps the location
(row / message / entry), the field and a reason code in the clear (none of them identify a
person), and the parsed content sealed under the institution's data key, so a person allowed to
can match it by hand or retry it after a code mapping is added. Items for a matched client name
that client, so only the client's care team sees them.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from careledger.clients.models import Client
from careledger.crypto.fields import EncryptedTextField
from careledger.crypto.models import KeyScope
from careledger.institutions.models import Institution, TimeStamped


class InstitutionSealed(models.Model):
    class Meta:
        abstract = True

    def data_key_owner(self) -> tuple[str, uuid.UUID]:
        return KeyScope.INSTITUTION, self.institution_id  # type: ignore[attr-defined]


class SourceFormat(models.TextChoices):
    DETECT = "", _("Detect from content")
    HL7V2 = "hl7v2", _("HL7 v2 (ORU^R01)")
    FHIR = "fhir", _("FHIR R4 Bundle")
    CSV = "csv", _("CSV")
    XLSX = "xlsx", _("Excel (XLSX)")


class ImportSource(TimeStamped):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=100)
    format = models.CharField(max_length=8, choices=SourceFormat.choices, blank=True, default="")
    column_mapping = models.JSONField(default=dict, blank=True)  # tabular.ColumnMapping.to_dict
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["institution", "name"], name="import_source_name_once")
        ]

    def __str__(self) -> str:
        return self.name


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class ImportJob(InstitutionSealed, TimeStamped):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    source = models.ForeignKey(ImportSource, on_delete=models.PROTECT, related_name="jobs")
    format = models.CharField(max_length=8, choices=SourceFormat.choices)
    filename = EncryptedTextField()  # a file name can hold a person's name
    file_sha256 = models.CharField(max_length=64)
    size_bytes = models.PositiveBigIntegerField()
    channel = models.CharField(max_length=8, default="web")  # web / cli / api
    status = models.CharField(max_length=8, choices=JobStatus.choices, default="queued")
    encoding = models.CharField(max_length=16, blank=True, default="")
    # Progress and summary (counts only).
    units_total = models.PositiveIntegerField(default=0)  # reports found in the file
    units_done = models.PositiveIntegerField(default=0)
    results_read = models.PositiveIntegerField(default=0)
    imported = models.PositiveIntegerField(default=0)  # observations written
    reports_created = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    corrected = models.PositiveIntegerField(default=0)
    quarantined = models.PositiveIntegerField(default=0)
    by_reason = models.JSONField(default=dict, blank=True)
    # Problems the parser noted on reports that landed anyway (e.g. an invalid ID number beside
    # a valid card number): counted by reason, not quarantined (nothing is left to resolve).
    warnings = models.JSONField(default=dict, blank=True)
    error_reason = models.CharField(max_length=32, blank=True, default="")
    error_message = models.TextField(blank=True, default="")  # never names a person
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "id"]
        indexes = [models.Index(fields=["institution", "created_at"], name="job_inst_created")]

    def __str__(self) -> str:
        return f"ImportJob {self.id}"


class QuarantineStatus(models.TextChoices):
    OPEN = "open", _("Open")
    RESOLVED = "resolved", _("Resolved")
    DISCARDED = "discarded", _("Discarded")


class QuarantineScope(models.TextChoices):
    FILE = "file", _("Whole file")
    REPORT = "report", _("Report")
    RESULT = "result", _("Result")


class QuarantinedItem(InstitutionSealed, TimeStamped):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="quarantine")
    scope = models.CharField(max_length=8, choices=QuarantineScope.choices)
    location = models.CharField(max_length=100)  # "row 12", "message 3, OBX 7"
    field = models.CharField(max_length=64, blank=True, default="")
    reason = models.CharField(max_length=32)
    message = models.TextField()  # English, names the field and the problem, never a person
    # Codes are not personal data: kept clear so admins can map unknown codes.
    local_code = models.CharField(max_length=64, blank=True, default="")
    local_name = models.CharField(max_length=100, blank=True, default="")
    # The client the report was matched to, when it was (the item is then theirs).
    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, related_name="+", null=True, blank=True
    )
    payload = EncryptedTextField(blank=True, default="")  # JSON of the parsed report (sealed)
    status = models.CharField(max_length=10, choices=QuarantineStatus.choices, default="open")
    attempts = models.PositiveIntegerField(default=1)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution_note = EncryptedTextField(blank=True, default="")  # why it was discarded

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["institution", "status", "reason"], name="quarantine_open"),
            models.Index(fields=["job", "status"], name="quarantine_job"),
        ]

    def __str__(self) -> str:
        return f"QuarantinedItem {self.id}"
