"""Money in and out: a payment confirmed at the desk, a provider's callback, a refund.

Each runs in one transaction under the order's row lock (`SELECT … FOR UPDATE`; SQLite
serialises writers), so concurrent deliveries and concurrent refunds of one order happen one
after the other, each seeing the other's result:

* Idempotency: a payment is keyed by (provider, provider transaction id) — a unique constraint
  in the database and a lookup under the lock. A callback delivered twice finds the payment and
  changes nothing; the second delivery is still acknowledged (so the provider stops retrying)
  and ledgered as a duplicate.
* Refunds never exceed payments: `money.check_refund` under the lock, and the database's check
  constraint `refunded_fen <= paid_fen` as the backstop.
* No money for a slot not held: a desk payment is refused when the order's appointment no
  longer holds its place; money that arrives by callback for such an order (or for one that was
  cancelled or expired meanwhile) is recorded and refunded in full at once, never kept.
* A callback that fails verification (signature, freshness, merchant, decryption, amount) is
  refused, answered so the provider retries, and ledgered with the reason and the SHA-256 of the
  body (never the body: it can carry the payer's details).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from careledger.access.roles import Action
from careledger.accounts.models import User
from careledger.booking.models import HOLDING
from careledger.clients.models import Client
from careledger.ledger import services as ledger
from careledger.store import money, states
from careledger.store import providers as payment_providers
from careledger.store.errors import OrderRefused
from careledger.store.models import Order, Payment, Refund, RefundStatus
from careledger.store.providers.base import CallbackRejected, PaymentStart
from careledger.store.services import release_visit_and_entitlement
from careledger.store.transitions import (
    PURPOSE,
    authorise,
    is_portal,
    ledger_actor,
    locked,
    move,
    order_of,
)

DESK_METHODS = ("cash", "bank_card", "pos", "transfer")
REFUND_REASONS = ("client_request", "centre_cancelled", "service_not_given", "overcharge", "other")


def _slot_held(order: Order) -> bool:
    return order.appointment is None or order.appointment.status in HOLDING


def _amount(raw: object) -> int:
    """Fen as an int, or yuan as text ("128.50"); a float is refused (money.BadAmount)."""
    try:
        return money.parse_yuan(raw) if isinstance(raw, str) else money.check_fen(raw)
    except money.BadAmount as exc:
        raise OrderRefused(exc.code) from exc


def start_payment(*, actor: User, client_id: uuid.UUID | str, order_id: uuid.UUID | str):
    """What the payer is shown for an order awaiting payment (desk note, QR code, redirect)."""
    client = Client.objects.get(pk=client_id)
    authorise(actor, Action.ORDER_VIEW, client)
    order = order_of(client, order_id)
    if order.state not in states.PAYABLE:
        raise OrderRefused("not_payable")
    provider = payment_providers.get(order.provider)
    start: PaymentStart = provider.start(
        order_number=order.number,
        amount_fen=order.outstanding_fen,
        description=order.package_version.name,
    )
    with transaction.atomic():
        ledger.record(
            actor=ledger_actor(actor),
            action="payment.start",
            purpose=PURPOSE,
            client_id=str(order.client_id),
            resource_type="Order",
            resource_id=str(order.id),
            detail={"provider": order.provider, "kind": start.kind},
        )
    return start


def _take_payment(order: Order, payment: Payment, who: ledger.Actor) -> None:
    """Record money received for a locked order, then move it (and refund at once if the order
    can no longer be served)."""
    order.paid_fen += payment.amount_fen
    if order.state in states.PAYABLE and _slot_held(order):
        move(order, states.Event.PAY, actor=who, sealed=[payment], paid_fen=payment.amount_fen)
        if order.appointment_id:
            move(order, states.Event.BOOK, actor=who)
        return
    # Late money: the order was cancelled or expired, or its slot was lost, while the client
    # was paying. It is kept on the order (paid) and refunded in full straight away.
    payment.late = True
    payment.save(update_fields=["late"])
    if order.state in states.PAYABLE:
        move(order, states.Event.PAY, actor=who, sealed=[payment], paid_fen=payment.amount_fen)
    refund = Refund(
        institution_id=order.institution_id,
        client_id=order.client_id,
        order=order,
        amount_fen=payment.amount_fen,
        status=RefundStatus.PENDING if payment.provider != "offline" else RefundStatus.DONE,
        reason_code="slot_not_held",
        issued_at=timezone.now(),
    )
    refund.save(force_insert=True)
    order.refunded_fen += payment.amount_fen
    detail = release_visit_and_entitlement(order, actor=None, who=who)
    move(
        order,
        states.Event.REFUND_ALL,
        actor=who,
        sealed=[payment, refund],
        refunded_fen=refund.amount_fen,
        reason="slot_not_held",
        **detail,
    )


def do_confirm_desk_payment(
    *,
    actor: User,
    client_id: uuid.UUID | str,
    order_id: uuid.UUID | str,
    amount: object,
    method: str = "cash",
) -> Payment:
    """Staff confirm they received the whole amount owed at the desk (到店支付)."""
    client = Client.objects.get(pk=client_id)
    if is_portal(actor):
        raise OrderRefused("not_payable")
    authorise(actor, Action.PAYMENT_CONFIRM, client)
    amount_fen = _amount(amount)
    if method not in DESK_METHODS:
        method = "cash"
    order = order_of(client, order_id)
    who = ledger_actor(actor)
    with transaction.atomic():
        order = locked(order.id)
        if order.provider != "offline" or order.state not in states.PAYABLE:
            raise OrderRefused("not_payable")
        if amount_fen != order.outstanding_fen or amount_fen == 0:
            raise OrderRefused("amount_mismatch", owed=money.format_yuan(order.outstanding_fen))
        if not _slot_held(order):
            raise OrderRefused("slot_not_held")
        payment = Payment.objects.create(
            institution_id=order.institution_id,
            order=order,
            provider="offline",
            transaction_id=f"desk-{uuid.uuid4()}",
            amount_fen=amount_fen,
            method=method,
            received_at=timezone.now(),
            confirmed_by=actor,
        )
        _take_payment(order, payment, who)
    return payment


@dataclass(frozen=True)
class CallbackResult:
    accepted: bool  # what the provider is told (accepted → stop retrying)
    outcome: str  # "paid", "duplicate", "late_refunded", "not_success", or the refusal code
    response: tuple[int, str, bytes]


def _refuse_callback(provider: str, code: str, digest: str, order: Order | None = None) -> None:
    with transaction.atomic():
        ledger.record(
            actor=ledger_actor(None, provider),
            action="payment.callback",
            outcome=ledger.Outcome.DENIED,
            purpose=PURPOSE,
            client_id=str(order.client_id) if order else "",
            resource_type="Order" if order else "",
            resource_id=str(order.id) if order else "",
            detail={"provider": provider, "reason": code, "body_sha256": digest},
        )


def do_handle_callback(
    *, provider_name: str, headers: Mapping[str, str], body: bytes, now: dt.datetime | None = None
) -> CallbackResult:
    """A provider's payment notification: verify, then apply exactly once."""
    digest = hashlib.sha256(body).hexdigest()
    try:
        provider = payment_providers.get(provider_name)
    except LookupError:
        _refuse_callback(provider_name[:16], "provider_not_enabled", digest)
        return CallbackResult(False, "provider_not_enabled", (404, "text/plain", b""))
    try:
        note = provider.parse_notification(headers=headers, body=body, now=now or timezone.now())
    except CallbackRejected as exc:
        _refuse_callback(provider.name, exc.code, digest)
        return CallbackResult(False, exc.code, provider.acknowledge(False))
    who = ledger_actor(None, provider.name)
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(number=note.order_number).first()
        refusal = ""
        if order is None:
            refusal = "unknown_order"
        elif order.provider != provider.name:
            refusal = "wrong_provider"
        if refusal:
            outcome = refusal
        elif Payment.objects.filter(
            provider=provider.name, transaction_id=note.transaction_id
        ).exists():
            outcome = "duplicate"
        elif not note.succeeded:
            outcome = "not_success"
        elif order.state in states.PAYABLE and note.amount_fen != order.outstanding_fen:
            refusal = outcome = "amount_mismatch"
        elif note.amount_fen > order.total_fen - order.paid_fen:
            refusal = outcome = "amount_mismatch"  # more than the order could ever take
        else:
            try:
                with transaction.atomic():
                    payment = Payment.objects.create(
                        institution_id=order.institution_id,
                        order=order,
                        provider=provider.name,
                        transaction_id=note.transaction_id,
                        amount_fen=note.amount_fen,
                        received_at=note.paid_at or timezone.now(),
                        body_digest=digest,
                    )
            except IntegrityError:  # another delivery got there first (unique constraint)
                outcome = "duplicate"
            else:
                _take_payment(order, payment, who)
                outcome = "late_refunded" if payment.late else "paid"
        if not refusal:
            ledger.record(
                actor=who,
                action="payment.callback",
                purpose=PURPOSE,
                client_id=str(order.client_id) if order else "",
                resource_type="Order",
                resource_id=str(order.id) if order else "",
                detail={"provider": provider.name, "outcome": outcome, "body_sha256": digest},
            )
    if refusal:
        _refuse_callback(provider.name, refusal, digest, order)
        return CallbackResult(False, refusal, provider.acknowledge(False))
    return CallbackResult(True, outcome, provider.acknowledge(True))


def do_refund(
    *,
    actor: User,
    client_id: uuid.UUID | str,
    order_id: uuid.UUID | str,
    amount: object,
    reason_code: str,
    note: str = "",
) -> Refund:
    """Give back part or all of what was paid, never more. A full refund also cancels the
    visit (while it can still be cancelled) and gives the card entitlement back."""
    client = Client.objects.get(pk=client_id)
    if is_portal(actor):
        raise OrderRefused("not_refundable")
    authorise(actor, Action.REFUND_ISSUE, client)
    amount_fen = _amount(amount)
    if reason_code not in REFUND_REASONS:
        raise OrderRefused("unknown_reason")
    order = order_of(client, order_id)
    who = ledger_actor(actor)
    with transaction.atomic():
        order = locked(order.id)
        if order.state not in states.REFUNDABLE:
            raise OrderRefused("not_refundable")
        try:
            money.check_refund(
                paid_fen=order.paid_fen, refunded_fen=order.refunded_fen, amount_fen=amount_fen
            )
        except money.BadAmount as exc:
            left = money.format_yuan(max(0, order.refundable_fen))
            raise OrderRefused(exc.code, left=left) from exc
        refund = Refund(
            institution_id=order.institution_id,
            client_id=order.client_id,
            order=order,
            amount_fen=amount_fen,
            status=RefundStatus.DONE if order.provider == "offline" else RefundStatus.PENDING,
            reason_code=reason_code,
            note=note.strip()[:500],
            issued_by=actor,
            issued_at=timezone.now(),
        )
        refund.save(force_insert=True)
        order.refunded_fen += amount_fen
        event = states.refund_event(paid_fen=order.paid_fen, refunded_after_fen=order.refunded_fen)
        detail: dict[str, object] = {}
        if event == states.Event.REFUND_ALL:
            detail = release_visit_and_entitlement(order, actor=actor, who=who)
        move(
            order,
            event,
            actor=who,
            sealed=[refund],
            refunded_fen=amount_fen,
            reason=reason_code,
            **detail,
        )
    return refund


def do_expire_due(*, now: dt.datetime | None = None, limit: int = 500) -> int:
    """Orders still awaiting payment past their time expire (the Celery beat entry calls this).
    Idempotent: an order already moved on is skipped under its lock."""
    now = now or timezone.now()
    due = list(
        Order.objects.filter(state=states.State.AWAITING_PAYMENT, expires_at__lt=now)
        .order_by("expires_at")
        .values_list("id", flat=True)[:limit]
    )
    expired = 0
    for order_id in due:
        with transaction.atomic():
            order = locked(order_id)
            if order.state != states.State.AWAITING_PAYMENT:
                continue
            detail = release_visit_and_entitlement(order, actor=None, who=ledger.SYSTEM)
            move(order, states.Event.EXPIRE, actor=ledger.SYSTEM, **detail)
            expired += 1
    return expired
