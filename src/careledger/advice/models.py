"""The advice catalogue (建议库) and issued advice sheets (健康建议单).

`AdviceItem` holds one *version* of one item of an institution's catalogue: editing the wording
writes a new row (version + 1) and marks the previous one superseded, so every version ever
shown stays readable. At most one row per (institution, code) is not superseded: the current
version, active or retired. Catalogue rows are configuration, not client data: no identifiers,
nothing sealed; their writes are ledgered and row-sealed all the same, so a wording changed
behind the application's back is reported by `careledger ledger verify`.

`AdviceSheet` is what a health manager or doctor issued to one client: who, when, the client's
keys at that moment and which of them the advice answered, and `AdviceSheetItem` rows pointing
at the exact item versions shown, with the key groups that put each there. The optional personal
note is free text, sealed under the client's own key (crypto-shredding erases it with the
client). Keys are coded data (tag codes, risk levels, constitution codes): pseudonymous, clear.
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


class Domain(models.TextChoices):
    FOLLOW_UP = "follow_up", _("Follow-up and seeing a doctor")
    DIET = "diet", _("Diet")
    EXERCISE = "exercise", _("Physical activity")
    LIFESTYLE = "lifestyle", _("Lifestyle")
    MENTAL = "mental", _("Mental health")
    TCM = "tcm", _("TCM constitution care")


class ItemStatus(models.TextChoices):
    ACTIVE = "active", _("In use")
    SUPERSEDED = "superseded", _("Earlier version")
    RETIRED = "retired", _("Retired")


class Origin(models.TextChoices):
    BUILTIN = "builtin", _("Built-in")
    INSTITUTION = "institution", _("Written by the institution")


class AdviceItem(TimeStamped):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    code = models.CharField(max_length=80)
    version = models.PositiveIntegerField(default=1)
    status = models.CharField(max_length=12, choices=ItemStatus.choices, default="active")
    domain = models.CharField(max_length=12, choices=Domain.choices)
    priority = models.PositiveSmallIntegerField(default=50)
    title = models.CharField(max_length=200)
    body = models.TextField()
    title_en = models.CharField(max_length=200, blank=True, default="")
    body_en = models.TextField(blank=True, default="")
    citations = models.JSONField(default=list)  # [{guideline, edition, section}]
    applies = models.JSONField(default=list)  # [[key, ...], ...]; [] = general advice
    replaces = models.JSONField(default=list)  # codes of items this one stands in for
    needs_clinician = models.BooleanField(default=False)
    # Where this version's wording came from: the built-in file (with the digest of what it
    # said, so a reload can refresh untouched items) or the institution's own edit.
    origin = models.CharField(max_length=12, choices=Origin.choices, default="builtin")
    builtin_digest = models.CharField(max_length=64, blank=True, default="")
    change_note = models.CharField(max_length=200, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    retired_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["domain", "priority", "code", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["institution", "code", "version"], name="advice_item_version_once"
            ),
            models.UniqueConstraint(
                fields=["institution", "code"],
                condition=~Q(status="superseded"),
                name="advice_item_one_current",
            ),
        ]
        indexes = [models.Index(fields=["institution", "status"], name="advice_item_current")]

    def __str__(self) -> str:
        return f"AdviceItem {self.code} v{self.version}"


class AdviceSheet(ClientSealed, TimeStamped):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    issued_at = models.DateTimeField()
    client_keys = models.JSONField(default=list)  # every key the client had, sorted
    matched_keys = models.JSONField(default=list)  # those some item answered
    needs_clinician = models.BooleanField(default=False)
    note = EncryptedTextField(blank=True, default="")

    class Meta:
        ordering = ["-issued_at", "-id"]
        indexes = [models.Index(fields=["client", "issued_at"], name="advice_sheet_client")]

    def __str__(self) -> str:  # ids only: this lands in logs and tracebacks
        return f"AdviceSheet {self.id}"


class AdviceSheetItem(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    sheet = models.ForeignKey(AdviceSheet, on_delete=models.CASCADE, related_name="items")
    item = models.ForeignKey(AdviceItem, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField()
    general = models.BooleanField(default=False)
    groups = models.JSONField(default=list)  # the key groups that matched: [[key, ...], ...]

    class Meta:
        ordering = ["sheet", "position"]
        constraints = [
            models.UniqueConstraint(fields=["sheet", "position"], name="advice_sheet_position"),
            models.UniqueConstraint(fields=["sheet", "item"], name="advice_sheet_item_once"),
        ]

    def __str__(self) -> str:
        return f"AdviceSheetItem {self.id}"
