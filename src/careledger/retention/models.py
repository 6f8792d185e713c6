"""Retention policy, legal holds, erasure requests and the nightly runs' accounts.

Reasons and notes are sealed under the institution's data key, not the client's: they are part
of the audit trail of an erasure and must outlive the client's key. None of these rows carries
an identifier.
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


class PolicyAction(models.TextChoices):
    ARCHIVE = "archive", _("Archive")
    ANONYMISE = "anonymise", _("Anonymise")


class RetentionPolicy(TimeStamped):
    institution = models.OneToOneField(
        Institution, on_delete=models.CASCADE, primary_key=True, related_name="retention_policy"
    )
    inactive_days = models.PositiveIntegerField()
    action = models.CharField(max_length=16, choices=PolicyAction.choices, default="archive")
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )

    class Meta:
        ordering = ["institution"]

    def __str__(self) -> str:
        return f"RetentionPolicy {self.institution_id}"


class LegalHold(InstitutionSealed, TimeStamped):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="legal_holds")
    reason = EncryptedTextField()
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    placed_at = models.DateTimeField()
    released_at = models.DateTimeField(null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )

    class Meta:
        ordering = ["-placed_at"]
        indexes = [models.Index(fields=["client", "released_at"], name="legal_hold_client")]

    def __str__(self) -> str:
        return f"LegalHold {self.id}"


class ErasureGround(models.TextChoices):
    # PIPL Art. 47 grounds for deletion.
    CLIENT_REQUEST = "client_request", _("The client asked for deletion")
    PURPOSE_FULFILLED = "purpose_fulfilled", _("The purpose is fulfilled or no longer needed")
    CONSENT_WITHDRAWN = "consent_withdrawn", _("The client withdrew consent")
    SERVICE_ENDED = "service_ended", _("The service ended and the retention period expired")
    UNLAWFUL = "unlawful", _("Processing violated the law or the agreement")


class ErasureStatus(models.TextChoices):
    REQUESTED = "requested", _("Awaiting approval")
    EXECUTED = "executed", _("Approved and executed")
    REJECTED = "rejected", _("Rejected")


class ErasureRequest(InstitutionSealed, TimeStamped):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="erasure_requests")
    ground = models.CharField(max_length=24, choices=ErasureGround.choices)
    note = EncryptedTextField(blank=True, default="")
    status = models.CharField(max_length=16, choices=ErasureStatus.choices, default="requested")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = EncryptedTextField(blank=True, default="")
    keys_destroyed = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["client"],
                condition=models.Q(status="requested"),
                name="erasure_one_open_per_client",
            )
        ]

    def __str__(self) -> str:
        return f"ErasureRequest {self.id}"


class RetentionRun(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    institution = models.ForeignKey(Institution, on_delete=models.CASCADE, related_name="+")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    action = models.CharField(max_length=16)
    inactive_days = models.PositiveIntegerField()
    examined = models.PositiveIntegerField(default=0)
    archived = models.PositiveIntegerField(default=0)
    anonymised = models.PositiveIntegerField(default=0)
    held = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"RetentionRun {self.id}"
