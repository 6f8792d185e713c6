"""Reads of orders: a client's orders for their care team (`order.view`), the client's own in
the portal, one order with its lines, payments, refunds, history and invoice details. Each read
is ledgered in its transaction; a fixed number of queries per page (tests count them).

Invoice details (title, tax number, e-mail) are opened only for readers allowed to see them
unmasked: the payer in the portal, and staff whose role sees identifiers (a follow-up nurse
sees them masked, as every identifier).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Prefetch, Q

from careledger.access.enforce import actor_of, decide_for
from careledger.access.masking import mask_name
from careledger.access.roles import Action
from careledger.accounts.models import User
from careledger.clients.models import Client
from careledger.clients.services import client_scope
from careledger.ledger import services as ledger
from careledger.store import money, states
from careledger.store.models import (
    FamilyLink,
    InvoiceRequest,
    Order,
    OrderLine,
    OrderState,
    OrderTransition,
    Payment,
    Refund,
)
from careledger.store.transitions import PURPOSE, authorise

LIST_LIMIT = 100


@dataclass(frozen=True)
class LineView:
    name: str
    kind: str
    amount: str
    covered: bool


@dataclass(frozen=True)
class InvoiceView:
    kind: str
    title: str
    tax_number: str
    email: str


@dataclass(frozen=True)
class OrderView:
    id: uuid.UUID
    number: str
    state: str
    state_label: str
    created_at: dt.datetime
    package: str
    total: str
    paid: str
    refunded: str
    outstanding_fen: int
    refundable_fen: int
    provider: str
    for_self: bool
    relation: str
    beneficiary_id: uuid.UUID
    appointment_id: uuid.UUID | None
    visit_day: dt.date | None
    lines: tuple[LineView, ...]
    history: tuple[tuple[str, str, dt.datetime], ...] = ()
    payments: tuple[tuple[str, str, dt.datetime], ...] = ()
    refunds: tuple[tuple[str, str, str, dt.datetime], ...] = ()
    invoice: InvoiceView | None = None

    @property
    def payable(self) -> bool:
        return self.state in states.PAYABLE

    @property
    def refundable(self) -> bool:
        return self.state in states.REFUNDABLE and self.refundable_fen > 0

    @property
    def cancellable(self) -> bool:
        free = self.paid == "0.00" and self.state in states.CANCELLABLE_WHEN_FREE
        return self.state in states.CANCELLABLE or free

    @property
    def outstanding(self) -> str:
        return money.format_yuan(self.outstanding_fen)

    @property
    def refundable_amount(self) -> str:
        return money.format_yuan(max(0, self.refundable_fen))


def _label(state: str) -> str:
    return str(OrderState(state).label)


def _view(order: Order, *, detail: bool = False, invoice: InvoiceView | None = None) -> OrderView:
    lines = tuple(
        LineView(
            line.name, line.kind, money.format_yuan(line.amount_fen), line.covered_by_entitlement
        )
        for line in order.lines.all()
    )
    visit = order.appointment
    extra = {}
    if detail:
        extra = {
            "history": tuple(
                (_label(t.from_state), _label(t.to_state), t.at) for t in order.transitions.all()
            ),
            "payments": tuple(
                (p.provider, money.format_yuan(p.amount_fen), p.received_at)
                for p in order.payments.all()
            ),
            "refunds": tuple(
                (money.format_yuan(r.amount_fen), r.reason_code, r.status, r.issued_at)
                for r in order.refunds.all()
            ),
            "invoice": invoice,
        }
    return OrderView(
        id=order.id,
        number=order.number,
        state=order.state,
        state_label=_label(order.state),
        created_at=order.created_at,
        package=order.package_version.name,
        total=money.format_yuan(order.total_fen),
        paid=money.format_yuan(order.paid_fen),
        refunded=money.format_yuan(order.refunded_fen),
        outstanding_fen=order.outstanding_fen,
        refundable_fen=order.refundable_fen,
        provider=order.provider,
        for_self=order.beneficiary_id == order.client_id,
        relation=order.relation,
        beneficiary_id=order.beneficiary_id,
        appointment_id=order.appointment_id,
        visit_day=visit.day if visit else None,
        lines=lines,
        **extra,
    )


def _orders_of(client: Client):  # type: ignore[no-untyped-def]
    return (
        Order.objects.filter(Q(client=client) | Q(beneficiary=client))
        .select_related("package_version", "appointment")
        .prefetch_related(Prefetch("lines", queryset=OrderLine.objects.order_by("position")))
        .order_by("-created_at", "id")
    )


def _record(actor: ledger.Actor, action: str, client_id: uuid.UUID, **detail: object) -> None:
    ledger.record(
        actor=actor,
        action=action,
        purpose=PURPOSE,
        client_id=str(client_id),
        resource_type="Order",
        detail=dict(detail) or None,
    )


def client_orders(actor: User, client_id: uuid.UUID | str) -> list[OrderView]:
    client = Client.objects.get(pk=client_id)
    authorise(actor, Action.ORDER_VIEW, client)
    with transaction.atomic():
        views = [_view(o) for o in _orders_of(client)[:LIST_LIMIT]]
        _record(actor_of(actor), "order.list", client.id, count=len(views))
    return views


def _invoice(order: Order, *, masked: bool) -> InvoiceView | None:
    row = InvoiceRequest.objects.filter(order=order).first()
    if row is None:
        return None
    if masked:
        return InvoiceView(row.kind, mask_name(row.title), "****", "****")
    return InvoiceView(row.kind, row.title, row.tax_number, row.email)


def order_detail(actor: User, client_id: uuid.UUID | str, order_id: uuid.UUID | str) -> OrderView:
    """One order; `Order.DoesNotExist` if it is not this client's (as payer or beneficiary)."""
    client = Client.objects.get(pk=client_id)
    authorise(actor, Action.ORDER_VIEW, client)
    order = _detail_query(client).get(pk=order_id)
    portal = getattr(actor, "role", "") == "client"
    masked = (
        not portal and decide_for(actor, Action.ORDER_VIEW, client_scope(client)).mask_identifiers
    )
    with transaction.atomic():
        # Invoice details are the payer's: shown on the payer's page, not the beneficiary's.
        invoice = _invoice(order, masked=masked) if order.client_id == client.id else None
        view = _view(order, detail=True, invoice=invoice)
        _record(actor_of(actor), "order.view", order.client_id, order=str(order.id))
    return view


def _detail_query(client: Client):  # type: ignore[no-untyped-def]
    return _orders_of(client).prefetch_related(
        Prefetch("transitions", queryset=OrderTransition.objects.order_by("at", "id")),
        "payments",
        "refunds",
    )


def family_of(client: Client) -> list[tuple[uuid.UUID, str, str]]:
    """(relative id, relation, masked name) of the client's linked family members."""
    links = FamilyLink.objects.filter(client=client).select_related("relative")
    return [(link.relative_id, link.relation, mask_name(link.relative.name)) for link in links]


def client_money(
    actor: User, client_id: uuid.UUID | str, kind: str
) -> list[tuple[uuid.UUID, str, str, dt.datetime]]:
    """(order id, provider, amount in yuan, when) of the client's payments or refunds."""
    client = Client.objects.get(pk=client_id)
    authorise(actor, Action.ORDER_VIEW, client)
    mine = Q(order__client=client) | Q(order__beneficiary=client)
    with transaction.atomic():
        if kind == "payments":
            rows = [
                (p.order_id, p.provider, money.format_yuan(p.amount_fen), p.received_at)
                for p in Payment.objects.filter(mine).order_by("-received_at")[:LIST_LIMIT]
            ]
        else:
            rows = [
                (r.order_id, r.order.provider, money.format_yuan(r.amount_fen), r.issued_at)
                for r in Refund.objects.filter(mine)
                .select_related("order")
                .order_by("-issued_at")[:LIST_LIMIT]
            ]
        _record(actor_of(actor), f"order.{kind}.list", client.id, count=len(rows))
    return rows
