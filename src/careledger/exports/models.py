"""Bulk exports with two-person approval (批量导出双人审批) and research projects.

Why these rows look as they do:

* `ExportRequest` states purpose and scope (which clients, which categories and fields, the
  format). The scope is JSON in the clear: it names care teams, tags, dates and indicator codes,
  never a person. The requester's justification is free text, sealed under the institution key.
  `scope_sha256` is the hash of the canonical scope, computed at request time and shown to the
  approver; the run recomputes it, so a scope changed behind the application's back is caught.
* `ExportApproval` is the second person's yes: one row per request (one-to-one), holding the
  scope hash it approved and a seal (AES-256-GCM under the institution key, bound to this row)
  over request id, scope hash and approval id. The job opens the seal, compares all three with
  the request it runs, and marks the approval used in the same transaction: an approval cannot
  be moved to another request, cannot outlive a scope change, and cannot be replayed.
* The file is sealed with a fresh 256-bit key per export (`file_key_wrapped`, wrapped by the
  master key with associated data naming the request). Expiry deletes the file and blanks the
  wrapped key, so a copy of the sealed file that survives anywhere opens for nobody.
* `ResearchProject` holds the project's pseudonym key, wrapped by the master key like a data key
  and never shown or exported: pseudonyms and date shifts are stable within the project and
  cannot be reversed or recomputed without it.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from careledger.crypto.fields import EncryptedTextField
from careledger.crypto.models import KeyScope
from careledger.institutions.models import Institution, TimeStamped


class Kind(models.TextChoices):
    BULK = "bulk", _("Bulk export")
    RESEARCH = "research", _("Research export")


class Purpose(models.TextChoices):
    QUALITY = "quality_improvement", _("Quality improvement")
    STATISTICS = "service_statistics", _("Service statistics")
    CONTINUITY = "continuity_of_care", _("Continuity of care (handover to another provider)")
    REGULATORY = "regulatory_report", _("Report required by law or a regulator")
    RESEARCH = "research", _("Research (de-identified, consented clients only)")


class Format(models.TextChoices):
    CSV = "csv", "CSV"
    XLSX = "xlsx", "Excel (XLSX)"


class Status(models.TextChoices):
    PENDING = "pending", _("Awaiting approval")
    APPROVED = "approved", _("Approved, queued")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    RUNNING = "running", _("Running")
    READY = "ready", _("Ready to download")
    REFUSED = "refused", _("Refused at run")
    FAILED = "failed", _("Failed")
    EXPIRED = "expired", _("Expired")


class ResearchProject(TimeStamped):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    code = models.SlugField(max_length=40)
    title = models.CharField(max_length=200)
    k = models.PositiveSmallIntegerField(default=5)
    shift_days = models.PositiveSmallIntegerField(default=180)
    key_kek_id = models.CharField(max_length=32)
    key_wrapped = models.BinaryField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["institution", "code"]
        constraints = [
            models.UniqueConstraint(fields=["institution", "code"], name="research_project_code")
        ]

    def __str__(self) -> str:
        return f"ResearchProject {self.code}"

    def key_aad(self) -> bytes:
        return "\x00".join(
            ("careledger-research-key", str(self.institution_id), str(self.id))
        ).encode()


class ExportRequest(TimeStamped):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.BULK)
    project = models.ForeignKey(
        ResearchProject, on_delete=models.PROTECT, null=True, blank=True, related_name="exports"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="export_requests"
    )
    purpose = models.CharField(max_length=24, choices=Purpose.choices)
    justification = EncryptedTextField()
    scope = models.JSONField()
    scope_sha256 = models.CharField(max_length=64)
    identified = models.BooleanField(default=False)
    file_format = models.CharField(max_length=8, choices=Format.choices, default=Format.CSV)
    client_count = models.PositiveIntegerField(default=0)  # in scope when requested
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = EncryptedTextField(blank=True, default="")
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    failure_reason = models.CharField(max_length=64, blank=True, default="")
    row_count = models.PositiveIntegerField(default=0)
    deid_report = models.JSONField(default=dict, blank=True)
    file_sha256 = models.CharField(max_length=64, blank=True, default="")
    file_bytes = models.PositiveBigIntegerField(default=0)
    file_kek_id = models.CharField(max_length=32, blank=True, default="")
    file_key_wrapped = models.BinaryField(default=b"", blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    downloads = models.PositiveSmallIntegerField(default=0)
    max_downloads = models.PositiveSmallIntegerField(default=3)
    purged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "id"]
        indexes = [
            models.Index(fields=["institution", "status"], name="export_inst_status"),
            models.Index(fields=["requested_by", "created_at"], name="export_requester"),
        ]

    def __str__(self) -> str:
        return f"ExportRequest {self.id}"

    def data_key_owner(self) -> tuple[str, uuid.UUID]:
        return KeyScope.INSTITUTION, self.institution_id

    def file_key_aad(self) -> bytes:
        return "\x00".join(
            ("careledger-export-file", str(self.institution_id), str(self.id))
        ).encode()


class ExportApproval(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    request = models.OneToOneField(ExportRequest, on_delete=models.PROTECT, related_name="approval")
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    scope_sha256 = models.CharField(max_length=64)
    seal = models.TextField()  # aead token over {approval, request, scope}, bound to this row
    approved_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-approved_at"]

    def __str__(self) -> str:
        return f"ExportApproval {self.id}"
