"""What can be ordered: published, unretired package versions of the institution with their
branches and add-ons (configuration, no client data), in a fixed number of queries."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db.models import Prefetch

from careledger.booking.models import Branch, PackageItem, PackageVersion, VersionStatus
from careledger.store import money


@dataclass(frozen=True)
class Offer:
    version_id: uuid.UUID
    name: str
    price: str
    branches: tuple[tuple[uuid.UUID, str], ...]
    addons: tuple[tuple[uuid.UUID, str, str], ...]  # id, name, price


def offers(institution_id: uuid.UUID | None) -> list[Offer]:
    versions = (
        PackageVersion.objects.filter(
            institution_id=institution_id,
            status=VersionStatus.PUBLISHED,
            package__retired_at__isnull=True,
        )
        .prefetch_related(
            Prefetch("branches", queryset=Branch.objects.filter(is_active=True).order_by("code")),
            Prefetch(
                "items",
                queryset=PackageItem.objects.filter(is_addon=True).order_by("position", "id"),
            ),
        )
        .order_by("name", "id")
    )
    return [
        Offer(
            version_id=v.id,
            name=v.name,
            price=money.format_yuan(v.price_fen),
            branches=tuple((b.id, b.name) for b in v.branches.all()),
            addons=tuple(
                (i.id, i.name, money.format_yuan(i.addon_price_fen)) for i in v.items.all()
            ),
        )
        for v in versions
    ]
