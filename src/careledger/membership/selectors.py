"""Reads of membership entitlements: a client's card year, balances and history (staff with
`membership.view` through the care team; the client in the portal for their own), and the
level table (the admin). Each read of a client's entitlements is ledgered in its transaction.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from django.db import transaction

from careledger.access.enforce import actor_of, require
from careledger.access.roles import Action
from careledger.accounts.models import User
from careledger.clients.models import Client, MembershipCard, MembershipLevel
from careledger.clients.services import client_scope
from careledger.ledger import services as ledger
from careledger.membership import entitlements as ent
from careledger.membership import services
from careledger.membership.models import EntitlementKind, EntitlementUse, LevelEntitlement

HISTORY = 50


@dataclass(frozen=True)
class UseRow:
    id: uuid.UUID
    kind: str
    kind_label: str
    entry: str
    reference: str
    recorded_at: dt.datetime
    reversed: bool


@dataclass(frozen=True)
class MembershipView:
    client_id: uuid.UUID
    level: str
    level_label: str
    card_status: str
    period: ent.Period | None
    expires_on: dt.date | None
    problem: str  # "" or a NotEntitled code (no card, expired)
    balances: tuple[ent.Balance, ...]
    history: tuple[UseRow, ...]

    def label(self, kind: str) -> str:
        return str(EntitlementKind(kind).label)


def _view(client: Client) -> MembershipView:
    card: MembershipCard | None
    problem = ""
    period = None
    balances: list[ent.Balance] = []
    try:
        card = services.active_card(client)
    except ent.NotEntitled as exc:
        card, problem = None, exc.code
    if card is not None:
        try:
            period = services.period_of(card)
            balances = services.balances(card, period)
        except ent.NotEntitled as exc:
            problem = exc.code
    uses = list(
        EntitlementUse.objects.filter(client=client)
        .order_by("-recorded_at", "id")
        .values_list("id", "kind", "entry", "reference", "recorded_at", "reverses_id")[:HISTORY]
    )
    reversed_ids = {row[5] for row in uses if row[5]}
    history = tuple(
        UseRow(
            id=i,
            kind=k,
            kind_label=str(EntitlementKind(k).label),
            entry=e,
            reference=r,
            recorded_at=at,
            reversed=i in reversed_ids,
        )
        for i, k, e, r, at, _rev in uses
    )
    level = card.level if card else ""
    return MembershipView(
        client_id=client.id,
        level=level,
        level_label=str(MembershipLevel(level).label) if level else "",
        card_status=card.status if card else "",
        period=period,
        expires_on=card.expires_on if card else None,
        problem=problem,
        balances=tuple(balances),
        history=history,
    )


def client_membership(actor: User, client_id: uuid.UUID) -> MembershipView:
    client = Client.objects.get(pk=client_id)
    require(actor, Action.MEMBERSHIP_VIEW, client_scope(client), purpose="care")
    with transaction.atomic():
        view = _view(client)
        ledger.record(
            actor=actor_of(actor),
            action="membership.view",
            purpose="care",
            client_id=str(client.id),
            resource_type="EntitlementUse",
        )
    return view


def my_membership(account) -> MembershipView:  # type: ignore[no-untyped-def]
    """The portal: the signed-in client's own card year and balances."""
    with transaction.atomic():
        view = _view(account.client)
        ledger.record(
            actor=actor_of(account.user),
            action="portal.membership.view",
            purpose="portal",
            client_id=str(account.client_id),
        )
    return view


@dataclass(frozen=True)
class LevelTable:
    levels: tuple[tuple[str, str], ...]  # (code, label)
    kinds: tuple[tuple[str, str], ...]
    quantities: dict[str, dict[str, int]]  # level → kind → quantity


def level_table(actor: User) -> LevelTable:
    require(actor, Action.MEMBERSHIP_MANAGE, purpose="admin")
    rows = LevelEntitlement.objects.filter(institution_id=actor.institution_id).values_list(
        "level", "kind", "quantity"
    )
    quantities: dict[str, dict[str, int]] = {level: {} for level in MembershipLevel.values}
    for level, kind, quantity in rows:
        quantities.setdefault(level, {})[kind] = quantity
    return LevelTable(
        levels=tuple((c, str(label)) for c, label in MembershipLevel.choices),
        kinds=tuple((c, str(label)) for c, label in EntitlementKind.choices),
        quantities=quantities,
    )
