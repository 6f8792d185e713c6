"""Configuration writes: branches, scarce resources, packages and their versions, the centre's
calendar and capacity. Institution-level work under `package.manage` (the admin); no client data
is read or written here, and every write is ledgered with the rows it wrote sealed.

A version is edited only as a draft. Publishing seals the version and its items in the ledger
and retires the version published before it (appointments and orders keep pointing at theirs),
so "what was sold" can always be shown and an edit behind the application's back is caught by
`careledger ledger verify`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from careledger.access.enforce import actor_of, require
from careledger.access.roles import Action
from careledger.accounts.models import User
from careledger.booking.errors import BookingRefused
from careledger.booking.models import (
    Branch,
    Capacity,
    DayOverride,
    ItemKind,
    Package,
    PackageItem,
    PackageVersion,
    Resource,
    VersionStatus,
)
from careledger.ledger import services as ledger
from careledger.observations import catalogue

PURPOSE = "operations"
MAX_RANGE_DAYS = 366
EDITABLE = (
    "name",
    "description",
    "price_fen",
    "sex",
    "min_age",
    "max_age",
    "lead_days",
    "horizon_days",
    "cancel_hours",
    "preparation",
)


@dataclass(frozen=True)
class ItemSpec:
    name: str
    kind: str = ItemKind.EXAMINATION
    indicator_code: str = ""
    resource_id: uuid.UUID | None = None
    is_addon: bool = False
    addon_price_fen: int = 0


@dataclass(frozen=True)
class VersionSpec:
    name: str
    price_fen: int
    description: str = ""
    sex: str = ""
    min_age: int | None = None
    max_age: int | None = None
    lead_days: int = 1
    horizon_days: int = 60
    cancel_hours: int = 24
    preparation: str = ""
    branch_ids: Sequence[uuid.UUID] = field(default_factory=tuple)


def check_can_manage(actor: User) -> uuid.UUID:
    require(actor, Action.PACKAGE_MANAGE, purpose=PURPOSE)
    return actor.institution_id


def _record(actor: User, action: str, resource_type: str, resource_id: str, **kw: Any) -> None:
    ledger.record(
        actor=actor_of(actor),
        action=action,
        purpose=PURPOSE,
        resource_type=resource_type,
        resource_id=resource_id,
        **kw,
    )


def do_create_branch(
    *, actor: User, code: str, name: str, address: str = "", open_weekdays: Iterable[int]
) -> Branch:
    institution_id = check_can_manage(actor)
    weekdays = sorted({int(d) for d in open_weekdays})
    if not weekdays or not set(weekdays) <= set(range(1, 8)):
        raise BookingRefused("weekly_closed")
    with transaction.atomic():
        if Branch.objects.filter(institution_id=institution_id, code=code).exists():
            raise BookingRefused("duplicate_code")
        branch = Branch.objects.create(
            institution_id=institution_id,
            code=code,
            name=name,
            address=address,
            open_weekdays=weekdays,
        )
        _record(actor, "package.branch.create", "Location", str(branch.id), sealed=[branch])
    return branch


def do_create_resource(*, actor: User, code: str, name: str) -> Resource:
    institution_id = check_can_manage(actor)
    with transaction.atomic():
        if Resource.objects.filter(institution_id=institution_id, code=code).exists():
            raise BookingRefused("duplicate_code")
        resource = Resource.objects.create(institution_id=institution_id, code=code, name=name)
        _record(actor, "package.resource.create", "Device", str(resource.id), sealed=[resource])
    return resource


def _check_spec(spec: VersionSpec) -> None:
    if not isinstance(spec.price_fen, int) or isinstance(spec.price_fen, bool):
        raise BookingRefused("bad_price")
    if spec.price_fen < 0:
        raise BookingRefused("bad_price")
    if spec.min_age is not None and spec.max_age is not None and spec.min_age > spec.max_age:
        raise BookingRefused("bad_age_range")


def _check_items(institution_id: uuid.UUID, items: Sequence[ItemSpec]) -> None:
    resources = set(
        Resource.objects.filter(institution_id=institution_id).values_list("id", flat=True)
    )
    for item in items:
        if item.kind == ItemKind.INDICATOR:
            if not item.indicator_code:
                raise BookingRefused("indicator_needs_code")
            if catalogue.find(item.indicator_code) is None:
                raise BookingRefused("unknown_indicator", indicator=item.indicator_code)
        if item.resource_id is not None and item.resource_id not in resources:
            raise BookingRefused("no_capacity")
        price = item.addon_price_fen
        if not isinstance(price, int) or price < 0 or (price and not item.is_addon):
            raise BookingRefused("bad_price")


def _branches(institution_id: uuid.UUID, ids: Sequence[uuid.UUID]) -> list[Branch]:
    found = list(Branch.objects.filter(institution_id=institution_id, id__in=list(ids)))
    if len(found) != len(set(ids)):
        raise BookingRefused("branch_not_offered")
    return found


def _write_items(version: PackageVersion, items: Sequence[ItemSpec]) -> list[PackageItem]:
    rows = [
        PackageItem(
            version=version,
            position=n,
            kind=item.kind,
            indicator_code=item.indicator_code,
            name=item.name,
            resource_id=item.resource_id,
            is_addon=item.is_addon,
            addon_price_fen=item.addon_price_fen if item.is_addon else 0,
        )
        for n, item in enumerate(items)
    ]
    PackageItem.objects.bulk_create(rows)
    return rows


def do_create_package(
    *, actor: User, code: str, spec: VersionSpec, items: Sequence[ItemSpec] = ()
) -> PackageVersion:
    """A new package with its first version as a draft."""
    institution_id = check_can_manage(actor)
    _check_spec(spec)
    _check_items(institution_id, items)
    branches = _branches(institution_id, spec.branch_ids)
    with transaction.atomic():
        if Package.objects.filter(institution_id=institution_id, code=code).exists():
            raise BookingRefused("duplicate_code")
        package = Package.objects.create(institution_id=institution_id, code=code)
        version = PackageVersion.objects.create(
            institution_id=institution_id,
            package=package,
            number=1,
            **{k: getattr(spec, k) for k in EDITABLE},
        )
        version.branches.set(branches)
        _write_items(version, items)
        _record(actor, "package.create", "PlanDefinition", str(version.id), sealed=[package])
    return version


def _draft(institution_id: uuid.UUID, version_id: uuid.UUID) -> PackageVersion:
    version = (
        PackageVersion.objects.select_for_update()
        .select_related("package")
        .get(pk=version_id, institution_id=institution_id)
    )
    if version.status != VersionStatus.DRAFT:
        raise BookingRefused("version_not_draft")
    return version


def do_update_draft(
    *,
    actor: User,
    version_id: uuid.UUID,
    spec: VersionSpec,
    items: Sequence[ItemSpec] | None = None,
) -> PackageVersion:
    institution_id = check_can_manage(actor)
    _check_spec(spec)
    if items is not None:
        _check_items(institution_id, items)
    branches = _branches(institution_id, spec.branch_ids)
    with transaction.atomic():
        version = _draft(institution_id, version_id)
        for name in EDITABLE:
            setattr(version, name, getattr(spec, name))
        version.save()
        version.branches.set(branches)
        if items is not None:
            version.items.all().delete()
            _write_items(version, items)
        _record(actor, "package.version.update", "PlanDefinition", str(version.id))
    return version


def do_new_version(*, actor: User, package_id: uuid.UUID) -> PackageVersion:
    """A draft copied from the package's latest version (its items and branches too)."""
    institution_id = check_can_manage(actor)
    with transaction.atomic():
        package = Package.objects.select_for_update().get(
            pk=package_id, institution_id=institution_id
        )
        if package.retired_at is not None:
            raise BookingRefused("package_not_bookable")
        if package.versions.filter(status=VersionStatus.DRAFT).exists():
            return package.versions.get(status=VersionStatus.DRAFT)
        latest = package.versions.order_by("-number").first()
        assert latest is not None  # a package is created with its first version
        number = (package.versions.aggregate(n=Max("number"))["n"] or 0) + 1
        version = PackageVersion.objects.create(
            institution_id=institution_id,
            package=package,
            number=number,
            **{k: getattr(latest, k) for k in EDITABLE},
        )
        version.branches.set(latest.branches.all())
        items = [
            ItemSpec(
                name=i.name,
                kind=i.kind,
                indicator_code=i.indicator_code,
                resource_id=i.resource_id,
                is_addon=i.is_addon,
                addon_price_fen=i.addon_price_fen,
            )
            for i in latest.items.all()
        ]
        _write_items(version, items)
        _record(actor, "package.version.create", "PlanDefinition", str(version.id))
    return version


def do_publish(*, actor: User, version_id: uuid.UUID) -> PackageVersion:
    institution_id = check_can_manage(actor)
    now = timezone.now()
    with transaction.atomic():
        version = _draft(institution_id, version_id)
        if version.package.retired_at is not None:
            raise BookingRefused("package_not_bookable")
        items = list(version.items.all())
        if not [i for i in items if not i.is_addon]:
            raise BookingRefused("empty_package")
        if not version.branches.exists():
            raise BookingRefused("no_branches")
        previous = list(
            PackageVersion.objects.select_for_update().filter(
                package_id=version.package_id, status=VersionStatus.PUBLISHED
            )
        )
        for old in previous:
            old.status, old.retired_at = VersionStatus.RETIRED, now
            old.save(update_fields=["status", "retired_at", "updated_at"])
        version.status, version.published_at, version.published_by = (
            VersionStatus.PUBLISHED,
            now,
            actor,
        )
        version.save(update_fields=["status", "published_at", "published_by", "updated_at"])
        _record(
            actor,
            "package.version.publish",
            "PlanDefinition",
            str(version.id),
            detail={"number": version.number, "retired": [str(v.id) for v in previous]},
            sealed=[version, *items, *previous],
        )
    return version


def do_retire_package(*, actor: User, package_id: uuid.UUID) -> Package:
    """No new bookings; existing appointments and orders keep their version."""
    institution_id = check_can_manage(actor)
    now = timezone.now()
    with transaction.atomic():
        package = Package.objects.select_for_update().get(
            pk=package_id, institution_id=institution_id
        )
        package.retired_at = package.retired_at or now
        package.save(update_fields=["retired_at", "updated_at"])
        versions = list(
            PackageVersion.objects.filter(package=package, status=VersionStatus.PUBLISHED)
        )
        for v in versions:
            v.status, v.retired_at = VersionStatus.RETIRED, now
            v.save(update_fields=["status", "retired_at", "updated_at"])
        _record(actor, "package.retire", "PlanDefinition", str(package.id), sealed=versions)
    return package


def do_set_day(
    *, actor: User, day: dt.date, is_open: bool | None, branch_id: uuid.UUID | None = None
) -> None:
    """Open or close a day for one branch or every branch (None: back to the public calendar)."""
    institution_id = check_can_manage(actor)
    with transaction.atomic():
        if branch_id is not None:
            Branch.objects.get(pk=branch_id, institution_id=institution_id)
        rows = DayOverride.objects.filter(institution_id=institution_id, branch_id=branch_id)
        rows.filter(day=day).delete()
        if is_open is not None:
            DayOverride.objects.create(
                institution_id=institution_id, branch_id=branch_id, day=day, is_open=is_open
            )
        _record(
            actor,
            "package.calendar.set",
            "Schedule",
            str(branch_id or institution_id),
            detail={"day": day.isoformat(), "open": is_open},
        )


def do_set_capacity(
    *,
    actor: User,
    branch_id: uuid.UUID,
    start: dt.date,
    end: dt.date,
    limit: int,
    package_id: uuid.UUID | None = None,
    resource_id: uuid.UUID | None = None,
) -> int:
    """Set the daily limit for a package or a resource at a branch over a range of days (rows
    are created or updated; a limit below what is already booked on a day is refused). Closed
    days get rows too: capacity says how many, the calendar says whether."""
    from careledger.booking.calendar import days_between

    institution_id = check_can_manage(actor)
    if (package_id is None) == (resource_id is None):
        raise BookingRefused("no_capacity")
    if end < start or (end - start).days > MAX_RANGE_DAYS or limit < 0:
        raise BookingRefused("bad_range")
    days = days_between(start, end)
    with transaction.atomic():
        branch = Branch.objects.get(pk=branch_id, institution_id=institution_id)
        if package_id is not None:
            Package.objects.get(pk=package_id, institution_id=institution_id)
        else:
            Resource.objects.get(pk=resource_id, institution_id=institution_id)
        k = {"package_id": package_id} if package_id else {"resource_id": resource_id}
        existing = {
            row.day: row
            for row in Capacity.objects.select_for_update()
            .filter(branch=branch, day__in=days, **k)
            .order_by("id")
        }
        for row in existing.values():
            if row.used > limit:
                raise BookingRefused("limit_below_booked", day=row.day.isoformat(), used=row.used)
            row.limit = limit
        Capacity.objects.bulk_update(list(existing.values()), ["limit"])
        try:
            Capacity.objects.bulk_create(
                [
                    Capacity(institution_id=institution_id, branch=branch, day=d, limit=limit, **k)
                    for d in days
                    if d not in existing
                ]
            )
        except IntegrityError:  # a concurrent admin made the same rows: ask again
            raise BookingRefused("duplicate_code") from None
        _record(
            actor,
            "package.capacity.set",
            "Schedule",
            str(branch.id),
            detail={
                "from": start.isoformat(),
                "to": end.isoformat(),
                "limit": limit,
                "package": str(package_id or ""),
                "resource": str(resource_id or ""),
            },
        )
    return len(days)
