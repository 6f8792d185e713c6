"""What the institution keeps of each printed report: who printed it, for whom, why, when, and
its sealed hash. Not the PDF and not its content: a print is a copy handed out, and the record
of it (with the hash the QR code carries) is enough to answer "did we issue this sheet?" without
keeping a second, plaintext copy of the client's data. Ids and codes only, nothing to encrypt.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Purpose(models.TextChoices):
    """Why a report is printed or downloaded (ledgered with each print; no free text)."""

    CARE = "care", _("Care of the client")
    CLIENT_COPY = "client_copy", _("Copy for the client")
    REFERRAL = "referral", _("Referral to another clinician")
    CHECKUP_REVIEW = "checkup_review", _("Check-up review meeting")


class ReportPrint(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    institution = models.ForeignKey(
        "institutions.Institution", on_delete=models.PROTECT, related_name="+"
    )
    client = models.ForeignKey("clients.Client", on_delete=models.CASCADE, related_name="+")
    printed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    role = models.CharField(max_length=32)
    purpose = models.CharField(max_length=32, choices=Purpose.choices)
    sha256 = models.CharField(max_length=64, unique=True)
    key_id = models.CharField(max_length=64)
    renderer = models.CharField(max_length=40)
    pages = models.PositiveIntegerField()
    size_bytes = models.PositiveIntegerField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["client", "-created_at"], name="report_print_client")]

    def __str__(self) -> str:
        return f"report print {self.id}"
