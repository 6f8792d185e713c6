"""The order state machine (订单状态), as a table.

Why a table: every state change of an order is money or a promise to a client, so the set of
legal moves must be small, readable and enforced in one place; the service applies a move only
through `advance()`, and writes each one to the ledger. No Django here.

    created ─submit→ awaiting_payment ─pay→ paid ─book→ booked ─fulfil→ fulfilled
    created | awaiting_payment ─cancel→ cancelled  (paid | booked too, if nothing was paid)
    awaiting_payment ─expire→ expired
    paid | booked | fulfilled | partially_refunded ─refund_part→ partially_refunded
    paid | booked | fulfilled | partially_refunded ─refund_all→ refunded

A payment received for an order that is no longer payable (cancelled or expired while the
client was paying, or its slot was lost) is kept and refunded in full: `refund_all` applies to
those states too, so no money is ever kept for nothing.
"""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    CREATED = "created"
    AWAITING_PAYMENT = "awaiting_payment"
    PAID = "paid"
    BOOKED = "booked"
    FULFILLED = "fulfilled"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class Event(StrEnum):
    SUBMIT = "submit"
    PAY = "pay"
    BOOK = "book"
    FULFIL = "fulfil"
    REFUND_PART = "refund_part"
    REFUND_ALL = "refund_all"
    CANCEL = "cancel"
    EXPIRE = "expire"


class IllegalTransition(ValueError):
    def __init__(self, state: str, event: str) -> None:
        super().__init__(f"{event} is not allowed in state {state}")
        self.state = state
        self.event = event


_MONEY_HELD = (State.PAID, State.BOOKED, State.FULFILLED, State.PARTIALLY_REFUNDED)

TRANSITIONS: dict[tuple[State, Event], State] = {
    (State.CREATED, Event.SUBMIT): State.AWAITING_PAYMENT,
    (State.CREATED, Event.CANCEL): State.CANCELLED,
    (State.AWAITING_PAYMENT, Event.PAY): State.PAID,
    (State.AWAITING_PAYMENT, Event.CANCEL): State.CANCELLED,
    (State.AWAITING_PAYMENT, Event.EXPIRE): State.EXPIRED,
    # Only an order that took no money (a card entitlement covered it) is cancelled once paid;
    # the service checks that; money paid leaves through a refund.
    (State.PAID, Event.CANCEL): State.CANCELLED,
    (State.BOOKED, Event.CANCEL): State.CANCELLED,
    (State.PAID, Event.BOOK): State.BOOKED,
    (State.PAID, Event.FULFIL): State.FULFILLED,
    (State.BOOKED, Event.FULFIL): State.FULFILLED,
    (State.PARTIALLY_REFUNDED, Event.FULFIL): State.FULFILLED,
    **{(s, Event.REFUND_PART): State.PARTIALLY_REFUNDED for s in _MONEY_HELD},
    **{(s, Event.REFUND_ALL): State.REFUNDED for s in _MONEY_HELD},
    # Money that arrived late for an order that can no longer be served goes straight back.
    (State.CANCELLED, Event.REFUND_ALL): State.REFUNDED,
    (State.EXPIRED, Event.REFUND_ALL): State.REFUNDED,
}

PAYABLE = frozenset({State.AWAITING_PAYMENT})
REFUNDABLE = frozenset(_MONEY_HELD)
CANCELLABLE = frozenset({State.CREATED, State.AWAITING_PAYMENT})
CANCELLABLE_WHEN_FREE = frozenset({State.PAID, State.BOOKED})
FINAL = frozenset({State.REFUNDED, State.CANCELLED, State.EXPIRED})


def advance(state: str, event: str) -> State:
    """The state after `event`, or `IllegalTransition`."""
    try:
        key = (State(state), Event(event))
    except ValueError as exc:
        raise IllegalTransition(state, event) from exc
    if key not in TRANSITIONS:
        raise IllegalTransition(state, event)
    return TRANSITIONS[key]


def refund_event(*, paid_fen: int, refunded_after_fen: int) -> Event:
    """Full or partial, from the totals after the refund."""
    return Event.REFUND_ALL if refunded_after_fen >= paid_fen else Event.REFUND_PART
