"""Security alerts (安全告警) for the auditor's workbench.

An alert is raised at once by a break-glass grant and by the anomaly scan (see `anomaly.py`).
It names a rule, the staff user it concerns and the time window, and carries counts and ids only;
the auditor's handling note is free text, so it is sealed under the institution's data key.
`(institution, rule, subject_key, window_start)` is unique, which makes the scan idempotent:
re-running it over the same hour raises nothing new.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from careledger.crypto.fields import EncryptedTextField
from careledger.crypto.models import KeyScope
from careledger.institutions.models import Institution


class Severity(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")


class AlertStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    CLOSED = "closed", _("Closed")


class AlertRule(models.TextChoices):
    BREAK_GLASS = "break_glass", _("Emergency access used")
    MANY_CLIENTS = "many_clients", _("Unusually many clients in an hour")
    NIGHT_BULK = "night_bulk", _("Bulk reads at night")
    REPEATED_DENIALS = "repeated_denials", _("Repeated refusals")


class Alert(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    rule = models.CharField(max_length=32, choices=AlertRule.choices)
    severity = models.CharField(max_length=8, choices=Severity.choices)
    subject_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="security_alerts",
    )
    subject_key = models.CharField(max_length=64)
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    observed = models.PositiveIntegerField(default=0)
    expected = models.PositiveIntegerField(default=0)
    detail = models.JSONField(default=dict)
    status = models.CharField(
        max_length=16, choices=AlertStatus.choices, default=AlertStatus.OPEN, db_index=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="handled_alerts",
    )
    handled_at = models.DateTimeField(null=True, blank=True)
    note = EncryptedTextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["institution", "rule", "subject_key", "window_start"],
                name="alert_once_per_rule_subject_window",
            )
        ]

    def __str__(self) -> str:  # ids only
        return f"alert {self.rule} {self.subject_key} {self.window_start:%Y-%m-%d %H:%M}"

    def data_key_owner(self) -> tuple[str, uuid.UUID]:
        return KeyScope.INSTITUTION, self.institution_id
