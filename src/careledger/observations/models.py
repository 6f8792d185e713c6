"""Results as the system keeps them: reports (FHIR DiagnosticReport) and their observations.

Pseudonymous by design (invariant 3): a row holds the client's internal UUID, a catalogue code
and numbers, never a name or document number, so population queries and trends run on it
directly. Values are stored in the catalogue's canonical unit (`value`, `unit`) beside exactly
what the source laboratory sent (`source_*`: its own code, value, unit, reference range and
flag), so two exam centres' glucose land on one series while each keeps its own range.

A report is identified by `report_key`, a blind index (HMAC) of the source's name and its own
report id, unique per institution: re-importing the same report finds it and adds nothing.
Observations are never edited in place: a corrected result supersedes the current one
(`is_current=False`, `superseded_at`), so the history of what was reported stays.

Row seals: the service seals the `Report` row; its digest covers its observations
(`sealed_children`), so an observation changed, added or deleted behind the application's back
is reported by `careledger ledger verify` without a seal per observation row.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from careledger.clients.models import Client
from careledger.institutions.models import Institution, TimeStamped


class ReportStatus(models.TextChoices):
    FINAL = "final", _("Final")
    CORRECTED = "corrected", _("Corrected")


class Report(TimeStamped):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="reports")
    source_name = models.CharField(max_length=100)  # the exam centre / laboratory it came from
    report_key = models.CharField(max_length=64)  # blind index of (source, source report id)
    effective_at = models.DateTimeField()  # when the specimens were taken / the exam done
    issued_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=ReportStatus.choices, default="final")
    version = models.PositiveIntegerField(default=1)
    import_job_id = models.UUIDField(null=True, blank=True)  # the exams.ImportJob that wrote it

    class Meta:
        ordering = ["-effective_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["institution", "report_key"], name="report_once_per_source_id"
            )
        ]
        indexes = [models.Index(fields=["client", "effective_at"], name="report_client_time")]

    def __str__(self) -> str:
        return f"Report {self.id}"

    def sealed_children(self) -> list[models.Model]:
        """What this row's ledger digest also covers (see ledger.rows.row_digest)."""
        return list(Observation.objects.filter(report_id=self.pk).order_by("id"))

    @classmethod
    def prefetch_sealed_children(cls, rows: list[Any]) -> None:
        """Load the children of many reports in one query (for `ledger verify`)."""
        by_report: dict[uuid.UUID, list[Observation]] = {row.pk: [] for row in rows}
        for obs in Observation.objects.filter(report_id__in=list(by_report)).order_by("id"):
            by_report[obs.report_id].append(obs)
        for row in rows:
            row._sealed_children = by_report[row.pk]


class Flag(models.TextChoices):
    NORMAL = "N", _("Normal")
    LOW = "L", _("Low")
    HIGH = "H", _("High")
    CRITICAL_LOW = "LL", _("Critically low")
    CRITICAL_HIGH = "HH", _("Critically high")
    ABNORMAL = "A", _("Abnormal")
    UNKNOWN = "", _("No range")


class Observation(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # No single-column indexes on the three foreign keys: each is the leading column of one of
    # the composite indexes below, which serve the same lookups (and cascades); a redundant index
    # cost ~11 % of the server's time per imported row (ADR 0007, Performance).
    institution = models.ForeignKey(
        Institution, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, related_name="observations", db_index=False
    )
    report = models.ForeignKey(
        Report, on_delete=models.CASCADE, related_name="observations", db_index=False
    )
    code = models.CharField(max_length=16)  # catalogue code (LOINC)
    effective_at = models.DateTimeField()
    # The value in the catalogue's canonical unit. Qualitative results ("阴性", "1+") keep their
    # canonical text in value_text and, for ordinal scales, their rank in `value`.
    value = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    comparator = models.CharField(max_length=2, blank=True, default="")  # "<", "<=", ">", ">="
    value_text = models.CharField(max_length=32, blank=True, default="")
    unit = models.CharField(max_length=24, blank=True, default="")
    flag = models.CharField(max_length=2, choices=Flag.choices, blank=True, default="")
    # Exactly what the source sent.
    source_code = models.CharField(max_length=64, blank=True, default="")
    source_value = models.CharField(max_length=64, blank=True, default="")
    source_unit = models.CharField(max_length=32, blank=True, default="")
    source_range = models.CharField(max_length=64, blank=True, default="")
    source_flag = models.CharField(max_length=8, blank=True, default="")
    is_current = models.BooleanField(default=True)
    superseded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["client", "code", "effective_at", "id"]
        indexes = [
            # One client's series of one indicator (the trend view).
            models.Index(fields=["client", "code", "effective_at"], name="obs_client_series"),
            # Population queries: everyone's latest value of an indicator in an institution.
            models.Index(fields=["institution", "code", "effective_at"], name="obs_population"),
            models.Index(fields=["report", "code"], name="obs_report_code"),
        ]

    def __str__(self) -> str:
        return f"Observation {self.id}"


class LocalCode(TimeStamped):
    """An exam centre's own code for an indicator, mapped by an admin to a catalogue entry."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    source_name = models.CharField(max_length=100)
    local_code = models.CharField(max_length=64)
    local_name = models.CharField(max_length=100, blank=True, default="")
    code = models.CharField(max_length=16)  # catalogue code it means
    mapped_by = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="+", null=True
    )

    class Meta:
        ordering = ["source_name", "local_code"]
        constraints = [
            models.UniqueConstraint(
                fields=["institution", "source_name", "local_code"], name="local_code_once"
            )
        ]
