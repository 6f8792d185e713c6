"""Demo data for the store and card entitlements (`careledger seed-demo`), made through the
real services: the admin's level table, and for clients of 慢病管理一组 a few orders — paid at
the desk and booked, one partly refunded, one covered by the card's annual check-up, one for a
family member, one still awaiting payment. Idempotent: nothing is added once orders exist."""

from __future__ import annotations

import contextlib
import datetime as dt

from django.utils import timezone

from careledger.accounts.models import User
from careledger.booking.errors import BookingRefused
from careledger.institutions.models import Institution
from careledger.membership import services as membership
from careledger.membership.entitlements import NotEntitled
from careledger.store import payments, services
from careledger.store.catalogue import offers
from careledger.store.errors import OrderRefused
from careledger.store.models import Order

LEVELS = {
    "standard": {"annual_checkup": 0, "consultation": 1, "follow_up": 4},
    "silver": {"annual_checkup": 1, "consultation": 2, "follow_up": 6},
    "gold": {"annual_checkup": 1, "consultation": 4, "follow_up": 12},
    "platinum": {"annual_checkup": 1, "consultation": 8, "follow_up": 24, "nutrition": 4},
    "diamond": {
        "annual_checkup": 2,
        "consultation": 12,
        "follow_up": 52,
        "nutrition": 12,
        "green_channel": 2,
    },
}


def seed_store(institution: Institution, teams: dict, users: dict[str, User]) -> int:  # type: ignore[type-arg]
    """Returns the number of orders placed now."""
    membership.do_set_level_table(actor=users["admin"], data=LEVELS)
    if Order.objects.filter(institution=institution).exists():
        return 0
    manager = users["manager"]
    catalogue = offers(institution.id)
    if not catalogue:
        return 0
    clients = list(
        institution.clients.filter(care_team_links__care_team=teams["慢病管理一组"]).order_by(
            "created_at", "id"
        )[12:20]
    )
    today = timezone.localdate()
    placed = 0
    covered = family = False
    for n, client in enumerate(clients):
        extra: dict[str, object] = {}
        level = client.cards.filter(status="active").values_list("level", flat=True).first()
        if not covered and LEVELS.get(level or "", {}).get("annual_checkup"):
            extra["use_entitlement"] = True
        if not family and n >= 3 and not extra and n + 1 < len(clients):
            extra.update(beneficiary_id=clients[n + 1].id, relation="spouse")
        order = None
        tries = [(o, d) for o in catalogue[n % len(catalogue) :] + catalogue for d in range(5, 19)]
        for offer, offset in tries:
            if not offer.branches:
                continue
            try:
                order = services.do_place_order(
                    actor=manager,
                    client_id=client.id,
                    version_id=offer.version_id,
                    branch_id=offer.branches[0][0],
                    day=today + dt.timedelta(days=offset + n),
                    addon_ids=[offer.addons[0][0]] if offer.addons and n % 2 else [],
                    **extra,  # type: ignore[arg-type]
                )
                break
            except BookingRefused as exc:
                if exc.code in {"unsuitable_sex", "too_young", "too_old"}:
                    continue
            except (OrderRefused, NotEntitled):
                extra.pop("use_entitlement", None)
        if order is None:
            continue
        placed += 1
        covered = covered or bool(extra.get("use_entitlement"))
        family = family or "beneficiary_id" in extra
        kw = {"actor": manager, "client_id": client.id, "order_id": order.id}
        if n % 4 != 3 and order.total_fen:
            payments.do_confirm_desk_payment(**kw, amount=order.total_fen)
            if n == 1:
                with contextlib.suppress(OrderRefused):
                    payments.do_refund(
                        **kw, amount=min(5000, order.total_fen), reason_code="overcharge"
                    )
    return placed
