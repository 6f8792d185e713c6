"""Every write of membership entitlements: the admin's level table, a use, a reversal.

`check_*` authorises and validates, `do_*` writes; each write is one transaction that locks the
card row (`select_for_update` on `clients.MembershipCard`), counts the uses of the current card
year, asks `entitlements.check_use`, inserts the use and ledgers it with the row sealed. Two
desks redeeming the last consultation at once: the second waits for the lock, counts again and
is refused `exhausted`.

`redeem_within(...)` is for other services that have already authorised their own action (the
booking service redeems the annual check-up when it books; the store when an order is paid with
a card entitlement): it takes a ledger actor, does not ask the policy again, and is idempotent
by reference.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone

from careledger.access.enforce import actor_of, require
from careledger.access.roles import Action
from careledger.accounts.models import User
from careledger.clients.models import CardStatus, Client, MembershipCard, MembershipLevel
from careledger.clients.services import client_scope
from careledger.ledger import services as ledger
from careledger.membership import entitlements as ent
from careledger.membership.models import (
    MAX_QUANTITY,
    EntitlementKind,
    EntitlementUse,
    LevelEntitlement,
    UseKind,
)

PURPOSE = "care"
NotEntitled = ent.NotEntitled


class BadEntitlementInput(ValueError):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors


@dataclass(frozen=True)
class Redemption:
    use_id: uuid.UUID
    kind: str
    left: int
    already: bool = False  # the same reference had been redeemed before: nothing new written


def today() -> dt.date:
    return timezone.localdate()


def active_card(client: Client, *, lock: bool = False) -> MembershipCard:
    rows = MembershipCard.objects.filter(client=client, status=CardStatus.ACTIVE)
    if lock:
        rows = rows.select_for_update()
    card = rows.order_by("-issued_at").first()
    if card is None:
        raise NotEntitled("no_active_card")
    return card


def period_of(card: MembershipCard, day: dt.date | None = None) -> ent.Period:
    issued = timezone.localtime(card.issued_at).date()
    return ent.card_period(issued, day or today(), card.expires_on)


def granted(institution_id: uuid.UUID, level: str) -> dict[str, int]:
    return dict(
        LevelEntitlement.objects.filter(institution_id=institution_id, level=level).values_list(
            "kind", "quantity"
        )
    )


def usage(card: MembershipCard, period: ent.Period) -> dict[str, tuple[int, int]]:
    """{kind: (uses, reversals)} in the period."""
    rows = (
        EntitlementUse.objects.filter(card=card, period_start=period.start)
        .values_list("kind", "entry")
        .annotate(n=Count("id"))
    )
    found: dict[str, list[int]] = {}
    for kind, entry, n in rows:
        pair = found.setdefault(kind, [0, 0])
        pair[0 if entry == UseKind.USE else 1] += n
    return {k: (v[0], v[1]) for k, v in found.items()}


def balances(card: MembershipCard, period: ent.Period) -> list[ent.Balance]:
    table = granted(card.institution_id, card.level)
    used = usage(card, period)
    kinds = [k for k in EntitlementKind.values if k in table or k in used]
    return [ent.balance(k, table.get(k, 0), *used.get(k, (0, 0))) for k in kinds]


# -- configuration (admin) ----------------------------------------------------------------


def check_level_table(data: Mapping[str, Mapping[str, object]]) -> dict[tuple[str, str], int]:
    """{level: {kind: quantity}} → validated {(level, kind): quantity}; every error at once."""
    errors: dict[str, str] = {}
    clean: dict[tuple[str, str], int] = {}
    for level, kinds in data.items():
        if level not in MembershipLevel.values:
            errors[str(level)] = "unknown_level"
            continue
        for kind, raw in kinds.items():
            key = f"{level}.{kind}"
            if kind not in EntitlementKind.values:
                errors[key] = "unknown_kind"
                continue
            try:
                quantity = int(str(raw).strip() or "0")
            except ValueError:
                errors[key] = "not_a_whole_number"
                continue
            if quantity < 0 or quantity > MAX_QUANTITY:
                errors[key] = "out_of_range"
                continue
            clean[(level, kind)] = quantity
    if errors:
        raise BadEntitlementInput(errors)
    return clean


def do_set_level_table(
    *, actor: User, data: Mapping[str, Mapping[str, object]]
) -> list[LevelEntitlement]:
    require(actor, Action.MEMBERSHIP_MANAGE, purpose="admin")
    clean = check_level_table(data)
    with transaction.atomic():
        existing = {
            (r.level, r.kind): r
            for r in LevelEntitlement.objects.select_for_update().filter(
                institution_id=actor.institution_id
            )
        }
        changed: list[LevelEntitlement] = []
        for (level, kind), quantity in clean.items():
            row = existing.get((level, kind))
            if row is None:
                row = LevelEntitlement(
                    institution_id=actor.institution_id, level=level, kind=kind, quantity=quantity
                )
            elif row.quantity == quantity:
                continue
            row.quantity = quantity
            row.updated_by = actor
            row.save()
            changed.append(row)
        if changed:
            ledger.record(
                actor=actor_of(actor),
                action="membership.entitlement.set",
                purpose="admin",
                resource_type="LevelEntitlement",
                detail={"changed": sorted(f"{r.level}.{r.kind}={r.quantity}" for r in changed)},
                sealed=changed,
            )
    return changed


# -- uses -----------------------------------------------------------------------------------


def _redeem(
    *,
    client: Client,
    kind: str,
    reference: str,
    note: str,
    by: User | None,
    actor: ledger.Actor,
    action: str,
) -> Redemption:
    if kind not in EntitlementKind.values:
        raise NotEntitled("unknown_kind")
    with transaction.atomic():
        card = active_card(client, lock=True)
        period = period_of(card)
        if reference:
            first = EntitlementUse.objects.filter(
                card=card, kind=kind, period_start=period.start, reference=reference, entry="use"
            ).first()
            if first is not None:
                left = _left(card, period, kind)
                return Redemption(first.id, kind, left, already=True)
        current = next((b for b in balances(card, period) if b.kind == kind), None)
        ent.check_use(current)
        use = EntitlementUse(
            institution_id=client.institution_id,
            client=client,
            card=card,
            kind=kind,
            entry=UseKind.USE,
            period_start=period.start,
            reference=reference,
            note=note,
            recorded_by=by,
            recorded_at=timezone.now(),
        )
        try:
            with transaction.atomic():
                use.save(force_insert=True)
        except IntegrityError as exc:  # a concurrent redemption of the same reference
            raise NotEntitled("already_redeemed") from exc
        ledger.record(
            actor=actor,
            action=action,
            purpose=PURPOSE,
            client_id=str(client.id),
            resource_type="EntitlementUse",
            resource_id=str(use.id),
            detail={"kind": kind, "period": period.start.isoformat(), "ref": reference[:64]},
            sealed=[use],
        )
        assert current is not None
        return Redemption(use.id, kind, current.left - 1)


def _left(card: MembershipCard, period: ent.Period, kind: str) -> int:
    found = next((b for b in balances(card, period) if b.kind == kind), None)
    return found.left if found else 0


def _refused(actor: User | ledger.Actor, client: Client, kind: str, code: str) -> None:
    with transaction.atomic():
        ledger.record(
            actor=actor if isinstance(actor, ledger.Actor) else actor_of(actor),
            action="membership.redeem",
            outcome=ledger.Outcome.FAILED,
            purpose=PURPOSE,
            client_id=str(client.id),
            detail={"kind": kind, "reason": code},
        )


def check_can_redeem(*, actor: User, client_id: uuid.UUID) -> Client:
    client = Client.objects.get(pk=client_id)
    require(actor, Action.MEMBERSHIP_REDEEM, client_scope(client), purpose=PURPOSE)
    return client


def do_redeem(
    *, actor: User, client_id: uuid.UUID, kind: str, reference: str = "", note: str = ""
) -> Redemption:
    """A member of staff uses one of the client's entitlements (a consultation, a follow-up)."""
    client = check_can_redeem(actor=actor, client_id=client_id)
    try:
        return _redeem(
            client=client,
            kind=kind,
            reference=reference,
            note=note.strip()[:500],
            by=actor,
            actor=actor_of(actor),
            action="membership.redeem",
        )
    except NotEntitled as exc:
        _refused(actor, client, kind, exc.code)
        raise


def redeem_within(
    *, client: Client, kind: str, reference: str, actor: ledger.Actor, by: User | None = None
) -> Redemption:
    """For a service that has authorised its own action (booking, store): use one entitlement,
    idempotently by `reference`. Runs in the caller's transaction if there is one. Refusals
    raise `NotEntitled` (the caller decides whether that stops its own work)."""
    if not reference:
        raise ValueError("a reference is required")
    return _redeem(
        client=client,
        kind=kind,
        reference=reference,
        note="",
        by=by,
        actor=actor,
        action="membership.redeem",
    )


def _reverse(*, use: EntitlementUse, by: User | None, actor: ledger.Actor) -> EntitlementUse:
    with transaction.atomic():
        MembershipCard.objects.select_for_update().filter(pk=use.card_id).first()
        if EntitlementUse.objects.filter(reverses=use).exists():
            raise NotEntitled("already_reversed")
        reversal = EntitlementUse(
            institution_id=use.institution_id,
            client_id=use.client_id,
            card_id=use.card_id,
            kind=use.kind,
            entry=UseKind.REVERSAL,
            period_start=use.period_start,
            reference=use.reference,
            reverses=use,
            recorded_by=by,
            recorded_at=timezone.now(),
        )
        try:
            with transaction.atomic():
                reversal.save(force_insert=True)
        except IntegrityError as exc:
            raise NotEntitled("already_reversed") from exc
        ledger.record(
            actor=actor,
            action="membership.reverse",
            purpose=PURPOSE,
            client_id=str(use.client_id),
            resource_type="EntitlementUse",
            resource_id=str(reversal.id),
            detail={"kind": use.kind, "reverses": str(use.id)},
            sealed=[reversal],
        )
        return reversal


def do_reverse(*, actor: User, client_id: uuid.UUID, use_id: uuid.UUID) -> EntitlementUse:
    """Give a use back (recorded by mistake, or its appointment was cancelled)."""
    client = check_can_redeem(actor=actor, client_id=client_id)
    use = EntitlementUse.objects.filter(pk=use_id, client=client, entry=UseKind.USE).first()
    if use is None:
        raise NotEntitled("no_such_use")
    return _reverse(use=use, by=actor, actor=actor_of(actor))


def reverse_within(*, client: Client, reference: str, actor: ledger.Actor) -> int:
    """Give back every unreversed use made for `reference` (an appointment cancelled)."""
    uses = EntitlementUse.objects.filter(
        client=client, reference=reference, entry=UseKind.USE, reversed_by__isnull=True
    )
    count = 0
    for use in uses:
        _reverse(use=use, by=None, actor=actor)
        count += 1
    return count
