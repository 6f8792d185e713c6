"""Membership entitlements (会员卡权益): what each card level grants, and every use of it.

The card itself (`clients.MembershipCard`, its level, status and expiry) belongs to the client
registry; this app only reads it. `LevelEntitlement` is configuration (the admin says a gold
card gives one annual check-up, 4 consultations and 12 follow-ups a card year).
`EntitlementUse` is an append-only usage ledger: a use is a row, a reversal is another row
pointing at it, nothing is updated or deleted, so the balance is always recomputable and the
history complete. Rows are sealed in the ledger event that wrote them.

Redemption is idempotent by reference (an appointment or order id): redeeming twice for the
same appointment in the same card year is refused by a unique constraint and answered with
the first use.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from careledger.clients.models import Client, ClientSealed, MembershipCard, MembershipLevel
from careledger.crypto.fields import EncryptedTextField
from careledger.institutions.models import Institution, TimeStamped


class EntitlementKind(models.TextChoices):
    ANNUAL_CHECKUP = "annual_checkup", _("Annual check-up")
    CONSULTATION = "consultation", _("Consultation")
    FOLLOW_UP = "follow_up", _("Follow-up")
    NUTRITION = "nutrition", _("Diet and nutrition session")
    GREEN_CHANNEL = "green_channel", _("Specialist referral (green channel)")


MAX_QUANTITY = 365


class LevelEntitlement(TimeStamped):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    level = models.CharField(max_length=16, choices=MembershipLevel.choices)
    kind = models.CharField(max_length=24, choices=EntitlementKind.choices)
    quantity = models.PositiveSmallIntegerField()  # per card year; 0 = none
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )

    class Meta:
        ordering = ["institution", "level", "kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["institution", "level", "kind"], name="membership_one_per_level_kind"
            ),
            models.CheckConstraint(
                condition=Q(quantity__lte=MAX_QUANTITY), name="membership_quantity_bounded"
            ),
        ]

    def __str__(self) -> str:
        return f"LevelEntitlement {self.level}/{self.kind}"


class UseKind(models.TextChoices):
    USE = "use", _("Used")
    REVERSAL = "reversal", _("Given back")


class EntitlementUse(ClientSealed, models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    card = models.ForeignKey(MembershipCard, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=24, choices=EntitlementKind.choices)
    entry = models.CharField(max_length=8, choices=UseKind.choices, default=UseKind.USE)
    period_start = models.DateField()
    # What the use was for: "appointment:<uuid>", "order:<uuid>", or "" for a desk use.
    reference = models.CharField(max_length=64, blank=True, default="")
    reverses = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversed_by"
    )
    note = EncryptedTextField(blank=True, default="")  # free text: sealed under the client key
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    recorded_at = models.DateTimeField()

    class Meta:
        ordering = ["client", "-recorded_at", "id"]
        indexes = [
            models.Index(fields=["card", "kind", "period_start"], name="membership_use_period")
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["card", "kind", "period_start", "reference"],
                condition=Q(entry="use") & ~Q(reference=""),
                name="membership_use_once_per_reference",
            ),
            models.CheckConstraint(
                condition=(Q(entry="use") & Q(reverses__isnull=True))
                | (Q(entry="reversal") & Q(reverses__isnull=False)),
                name="membership_reversal_points_at_use",
            ),
        ]

    def __str__(self) -> str:
        return f"EntitlementUse {self.id}"
