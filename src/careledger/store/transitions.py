"""Shared by the order and payment services: who may act on an order, locking it, and moving
it through the state machine with the move written to the ledger.

Every state change goes through `move()`: the state machine (`states.advance`) says whether it
is legal, an `OrderTransition` row records it, the order's `version` is bumped, and one ledger
event seals both rows — in the caller's transaction, under the order's row lock (`locked()`),
so two concurrent changes of one order are serialised and each sees the other's result.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import Q
from django.utils import timezone

from careledger.access.enforce import actor_of, refuse, require
from careledger.access.policy import deny
from careledger.access.roles import Action
from careledger.accounts.models import User
from careledger.clients.models import Client, ClientStatus
from careledger.clients.services import client_scope
from careledger.ledger import services as ledger
from careledger.store import states
from careledger.store.models import Order, OrderTransition

PURPOSE = "care"
CLIENT_ROLE = "client"
# What a portal client may do to their own orders (never money in or out by hand).
PORTAL_ACTIONS = frozenset({Action.ORDER_VIEW, Action.ORDER_MANAGE})


def own_client_id(actor: User) -> uuid.UUID | None:
    from careledger.portal.models import PortalAccount

    return PortalAccount.objects.filter(user=actor).values_list("client_id", flat=True).first()


def is_portal(actor: User) -> bool:
    return getattr(actor, "role", "") == CLIENT_ROLE


def authorise(actor: User, action: Action, client: Client) -> None:
    """Staff through the one policy (care team); a portal client only on their own record and
    only for viewing and placing/cancelling their own orders. Refusals are ledgered."""
    if is_portal(actor):
        allowed = (
            action in PORTAL_ACTIONS
            and actor.is_active
            and own_client_id(actor) == client.id
            and client.status == ClientStatus.ACTIVE
        )
        if not allowed:
            raise refuse(actor, action, deny("not_own_record"), client_id=str(client.id))
        return
    require(actor, action, client_scope(client), purpose=PURPOSE)


def order_of(client: Client, order_id: uuid.UUID | str) -> Order:
    """An order the client paid for or is the beneficiary of; `Order.DoesNotExist` otherwise."""
    return Order.objects.get(Q(client=client) | Q(beneficiary=client), pk=order_id)


def locked(order_id: uuid.UUID) -> Order:
    return Order.objects.select_for_update().get(pk=order_id)


def ledger_actor(actor: User | None, provider: str = "") -> ledger.Actor:
    if actor is not None:
        return actor_of(actor)
    if provider:
        return ledger.Actor(id=f"provider:{provider}", role="payment_provider", institution_id="")
    return ledger.SYSTEM


def move(
    order: Order,
    event: states.Event,
    *,
    actor: ledger.Actor,
    sealed: list[Any] | None = None,
    **detail: Any,
) -> OrderTransition:
    """Apply one event to a locked order and ledger it (raises `IllegalTransition`)."""
    before = order.state
    after = states.advance(before, event)
    order.state = after
    order.version += 1
    order.save()
    transition = OrderTransition.objects.create(
        order=order,
        from_state=before,
        to_state=after,
        event=str(event),
        actor_id=actor.id,
        at=timezone.now(),
    )
    ledger.record(
        actor=actor,
        action=f"order.{event}",
        purpose=PURPOSE,
        client_id=str(order.client_id),
        resource_type="Order",
        resource_id=str(order.id),
        detail={"from": before, "to": str(after), "version": order.version, **detail},
        sealed=[order, transition, *(sealed or [])],
    )
    return transition
