"""The store (体检商城): orders, their lines, payments, refunds, invoice requests.

Amounts are integer fen (`PositiveBigIntegerField`), never floats or decimals, and the database
itself refuses the impossible: a line whose amount is not unit × quantity, an order refunded
beyond what it was paid, paid beyond its total (check constraints, on SQLite and PostgreSQL).

An order is bought by one client (`client`, the payer) for themselves or for a family member
(`beneficiary`, with the `relation` from `clients.Relation`); the package is B1's
`booking.PackageVersion` (the version sold is kept for ever), and the visit is B1's
`booking.Appointment`, held when the order is placed, so money is never taken for a slot that
is not held. Store depends on booking, never the reverse.

Payments are unique by (provider, provider transaction id): a callback delivered twice finds
its payment and changes nothing. Each state change is an `OrderTransition` row sealed in the
ledger event that made it. Invoice details and refund notes identify people or are free text:
sealed under the payer's data key.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from careledger.booking.models import Appointment, PackageItem, PackageVersion
from careledger.clients.models import Client, ClientSealed, Relation
from careledger.crypto.fields import EncryptedTextField
from careledger.institutions.models import Institution, TimeStamped
from careledger.store.states import State


class OrderState(models.TextChoices):
    CREATED = State.CREATED, _("Order created")
    AWAITING_PAYMENT = State.AWAITING_PAYMENT, _("Awaiting payment")
    PAID = State.PAID, _("Paid")
    BOOKED = State.BOOKED, _("Booked")
    FULFILLED = State.FULFILLED, _("Completed")
    PARTIALLY_REFUNDED = State.PARTIALLY_REFUNDED, _("Partly refunded")
    REFUNDED = State.REFUNDED, _("Refunded")
    CANCELLED = State.CANCELLED, _("Cancelled")
    EXPIRED = State.EXPIRED, _("Expired")


class OrderChannel(models.TextChoices):
    STAFF = "staff", _("By staff")
    PORTAL = "portal", _("In the portal")
    API = "api", _("Through the API")


class FamilyLink(ClientSealed, TimeStamped):
    """A family member a client may buy for (家庭成员): recorded by staff of both clients' care
    teams; the portal offers these people as beneficiaries."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    relative = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    relation = models.CharField(max_length=16, choices=Relation.choices)
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )

    class Meta:
        ordering = ["client", "created_at"]
        constraints = [
            models.UniqueConstraint(fields=["client", "relative"], name="store_family_once"),
            models.CheckConstraint(condition=~Q(client=F("relative")), name="store_family_other"),
        ]

    def __str__(self) -> str:
        return f"FamilyLink {self.id}"


class Order(ClientSealed, TimeStamped):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    number = models.CharField(max_length=32, unique=True)  # out_trade_no: no personal data
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="+")
    beneficiary = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="+")
    relation = models.CharField(max_length=16, choices=Relation.choices, blank=True, default="")
    state = models.CharField(max_length=24, choices=OrderState.choices, default=State.CREATED)
    channel = models.CharField(max_length=8, choices=OrderChannel.choices)
    provider = models.CharField(max_length=16, default="offline")
    total_fen = models.PositiveBigIntegerField()
    paid_fen = models.PositiveBigIntegerField(default=0)
    refunded_fen = models.PositiveBigIntegerField(default=0)
    package_version = models.ForeignKey(PackageVersion, on_delete=models.PROTECT, related_name="+")
    appointment = models.ForeignKey(
        Appointment, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    # An entitlement of the card covered the package (会员卡权益): its use's id.
    entitlement_use = models.UUIDField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-created_at", "id"]
        indexes = [
            models.Index(fields=["client", "created_at"], name="store_order_client"),
            models.Index(fields=["beneficiary", "created_at"], name="store_order_benef"),
            models.Index(fields=["state", "expires_at"], name="store_order_expiry"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(refunded_fen__lte=F("paid_fen")), name="store_refund_within_paid"
            ),
            models.CheckConstraint(
                condition=Q(paid_fen__lte=F("total_fen")), name="store_paid_within_total"
            ),
        ]

    def __str__(self) -> str:
        return f"Order {self.id}"

    @property
    def outstanding_fen(self) -> int:
        return self.total_fen - self.paid_fen

    @property
    def refundable_fen(self) -> int:
        return self.paid_fen - self.refunded_fen


class LineKind(models.TextChoices):
    PACKAGE = "package", _("Package")
    ADDON = "addon", _("Add-on")


class OrderLine(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=8, choices=LineKind.choices)
    package_version = models.ForeignKey(PackageVersion, on_delete=models.PROTECT, related_name="+")
    item = models.ForeignKey(
        PackageItem, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    name = models.CharField(max_length=100)  # the catalogue's name at the time of sale
    unit_fen = models.PositiveBigIntegerField()
    quantity = models.PositiveSmallIntegerField(default=1)
    amount_fen = models.PositiveBigIntegerField()
    covered_by_entitlement = models.BooleanField(default=False)

    class Meta:
        ordering = ["order", "position"]
        constraints = [
            models.UniqueConstraint(fields=["order", "position"], name="store_line_position"),
            models.CheckConstraint(
                condition=(
                    Q(covered_by_entitlement=False, amount_fen=F("unit_fen") * F("quantity"))
                    | Q(covered_by_entitlement=True, amount_fen=0)
                ),
                name="store_line_amount_is_unit_times_quantity",
            ),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="store_line_quantity"),
        ]

    def __str__(self) -> str:
        return f"OrderLine {self.id}"


class Payment(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="payments")
    provider = models.CharField(max_length=16)
    transaction_id = models.CharField(max_length=64)
    amount_fen = models.PositiveBigIntegerField()
    method = models.CharField(max_length=16, blank=True, default="")  # desk: cash, card, pos…
    received_at = models.DateTimeField()
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    body_digest = models.CharField(max_length=64, blank=True, default="")  # callback's SHA-256
    # True when the money came for an order that could no longer be served (refunded at once).
    late = models.BooleanField(default=False)

    class Meta:
        ordering = ["order", "received_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "transaction_id"], name="store_payment_once_per_txn"
            ),
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="store_payment_positive"),
        ]

    def __str__(self) -> str:
        return f"Payment {self.id}"


class RefundStatus(models.TextChoices):
    DONE = "done", _("Refunded")
    PENDING = "pending", _("Sent to the payment provider")


class Refund(ClientSealed, models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="+")  # the payer
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="refunds")
    amount_fen = models.PositiveBigIntegerField()
    status = models.CharField(max_length=8, choices=RefundStatus.choices)
    reason_code = models.CharField(max_length=24)
    note = EncryptedTextField(blank=True, default="")
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )
    issued_at = models.DateTimeField()

    class Meta:
        ordering = ["order", "issued_at"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="store_refund_positive")
        ]

    def __str__(self) -> str:
        return f"Refund {self.id}"


class InvoiceKind(models.TextChoices):
    PERSONAL = "personal", _("Personal (个人)")
    COMPANY = "company", _("Company (单位)")


class InvoiceRequest(ClientSealed, TimeStamped):
    """发票 request details. Title, tax number and email identify a person or employer: sealed."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    institution = models.ForeignKey(Institution, on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="+")
    order = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="invoice")
    kind = models.CharField(max_length=8, choices=InvoiceKind.choices)
    title = EncryptedTextField()
    tax_number = EncryptedTextField(blank=True, default="")
    email = EncryptedTextField()
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True
    )

    class Meta:
        ordering = ["-created_at", "id"]

    def __str__(self) -> str:
        return f"InvoiceRequest {self.id}"


class OrderTransition(models.Model):
    """One state change of an order (the history page reads these; the ledger seals each)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="transitions")
    from_state = models.CharField(max_length=24, choices=OrderState.choices)
    to_state = models.CharField(max_length=24, choices=OrderState.choices)
    event = models.CharField(max_length=16)
    actor_id = models.CharField(max_length=40)  # user id, "system" or "provider:<name>"
    at = models.DateTimeField()

    class Meta:
        ordering = ["order", "at", "id"]

    def __str__(self) -> str:
        return f"OrderTransition {self.id}"
