"""Stored risk assessments (FHIR RiskAssessment): what a model said about a client, from what.

One row per (client, model) evaluation that differed from the one before: the model's id and
version, the outcome (assessed, or not applicable with the reasons), the value, level and
probability, and the inputs used with where each came from (an observation and its date, a record
entry, the institution's settings, a clinician's answer). Everything here is coded clinical data,
keyed by the client's internal id (pseudonymous, as invariant 3 allows), so population queries
and tag rules can read it; no free text and no identifier is stored.

`basis` is a digest of (model, version, inputs): assessing again from the same facts writes
nothing, so the nightly population run and re-evaluation after each result are idempotent. A
new evaluation marks the previous current row of that model `is_current=False` and keeps it, so
the history of a client's risk is never lost. Each written row is sealed in the ledger event that
wrote it (ledger verify catches an edit behind the application's back).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from careledger.clients.models import Client
from careledger.institutions.models import Institution


class Outcome(models.TextChoices):
    ASSESSED = "assessed", _("Assessed")
    NOT_APPLICABLE = "not_applicable", _("Not applicable")


class Trigger(models.TextChoices):
    MANUAL = "manual", _("Run by a clinician")
    DATA_CHANGE = "data_change", _("New data")
    POPULATION = "population", _("Scheduled run")


class RiskAssessment(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    model_id = models.CharField(max_length=32)
    model_version = models.CharField(max_length=16)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    value = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    unit = models.CharField(max_length=16, blank=True, default="")
    probability = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    level = models.CharField(max_length=32, blank=True, default="")
    # {name: {"value": …, "unit": …, "source": …, "code": …, "at": ISO date}} — coded only.
    inputs = models.JSONField(default=dict)
    # The model's own details (points per item, intermediate values) or its reasons.
    result = models.JSONField(default=dict)
    basis = models.CharField(max_length=64)
    is_current = models.BooleanField(default=True)
    trigger = models.CharField(max_length=16, choices=Trigger.choices)
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    assessed_at = models.DateTimeField()

    class Meta:
        ordering = ["client", "model_id", "-assessed_at", "id"]
        indexes = [
            models.Index(fields=["client", "model_id", "assessed_at"], name="risk_client_model"),
            models.Index(fields=["institution", "model_id", "is_current"], name="risk_population"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["client", "model_id"],
                condition=models.Q(is_current=True),
                name="risk_one_current_per_model",
            )
        ]

    def __str__(self) -> str:  # ids only: this lands in logs and tracebacks
        return f"RiskAssessment {self.id}"


class SuppliedFact(models.Model):
    """A fact a clinician gave or corrected on the assessment page (on BP treatment, eats
    vegetables every day, …), used by every later assessment of the client — automatic ones
    too — until changed or withdrawn. Coded values only (true/false or a choice code)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=32)
    value = models.JSONField()
    set_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    set_at = models.DateTimeField()

    class Meta:
        ordering = ["client", "name"]
        constraints = [
            models.UniqueConstraint(fields=["client", "name"], name="risk_one_supplied_fact")
        ]

    def __str__(self) -> str:
        return f"SuppliedFact {self.id}"
