"""Reads for booking: a client's appointments (authorised, ledgered), the desk's day list for
the user's care teams, and what can be booked (packages, days, places left — configuration and
counts, no client data, so not ledgered).

Each read of client data is one ledger event per client in the same transaction as the read, and
a fixed number of queries whatever the number of appointments (query-count tests prove it).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from careledger.access.enforce import actor_of, team_ids
from careledger.access.masking import mask_name
from careledger.access.roles import Action, masks_identifiers
from careledger.accounts.models import User
from careledger.booking import calendar, rules
from careledger.booking.models import (
    Appointment,
    AppointmentStatus,
    Branch,
    Capacity,
    DayOverride,
    PackageItem,
    PackageVersion,
    VersionStatus,
)
from careledger.booking.services import PURPOSE, authorise
from careledger.clients.models import Client
from careledger.crypto import keyring
from careledger.ledger import services as ledger


@dataclass(frozen=True)
class AppointmentView:
    id: uuid.UUID
    day: dt.date
    status: str
    status_label: str
    package_name: str
    version_number: int
    price_fen: int
    addons: tuple[tuple[str, int], ...]  # (name, price in fen)
    branch_name: str
    branch_address: str
    preparation: str
    changeable: bool  # booked or waitlisted, and inside the change window
    change_deadline: dt.datetime
    has_report: bool
    channel: str

    @property
    def total_fen(self) -> int:
        return self.price_fen + sum(p for _n, p in self.addons)


def _appointments() -> QuerySet[Appointment]:
    return Appointment.objects.select_related("version", "branch").prefetch_related(
        Prefetch("addons", queryset=PackageItem.objects.order_by("position"))
    )


def _view(row: Appointment, now: dt.datetime) -> AppointmentView:
    deadline = rules.change_deadline(
        row.day, cancel_hours=row.version.cancel_hours, tz=now.tzinfo or dt.UTC
    )
    live = row.status in (AppointmentStatus.BOOKED, AppointmentStatus.WAITLISTED)
    return AppointmentView(
        id=row.id,
        day=row.day,
        status=row.status,
        status_label=str(AppointmentStatus(row.status).label),
        package_name=row.version.name,
        version_number=row.version.number,
        price_fen=row.version.price_fen,
        addons=tuple((a.name, a.addon_price_fen) for a in row.addons.all()),
        branch_name=row.branch.name,
        branch_address=row.branch.address,
        preparation=row.version.preparation,
        changeable=live and (row.status == AppointmentStatus.WAITLISTED or now <= deadline),
        change_deadline=deadline,
        has_report=row.report_id is not None,
        channel=row.channel,
    )


def view_of(row: Appointment) -> AppointmentView:
    """The view of an appointment a service has just written and ledgered (version, branch and
    add-ons loaded by the service): no query, and no second ledger event for reading back
    one's own write."""
    return _view(row, timezone.localtime())


def client_bookings(*, actor: User, client_id: uuid.UUID | str) -> list[AppointmentView]:
    """Every appointment of one client, newest day first."""
    client = Client.objects.get(pk=client_id)
    authorise(actor, Action.BOOKING_VIEW, client)
    now = timezone.localtime()
    with transaction.atomic():
        rows = list(_appointments().filter(client=client).order_by("-day", "-created_at"))
        ledger.record(
            actor=actor_of(actor),
            action=str(Action.BOOKING_VIEW),
            purpose=PURPOSE,
            client_id=str(client.id),
            resource_type="Appointment",
            detail={"count": len(rows)},
        )
    return [_view(r, now) for r in rows]


def appointment(*, actor: User, appointment_id: uuid.UUID | str) -> AppointmentView:
    row = _appointments().select_related("client").get(pk=appointment_id)
    authorise(actor, Action.BOOKING_VIEW, row.client)
    with transaction.atomic():
        ledger.record(
            actor=actor_of(actor),
            action=str(Action.BOOKING_VIEW),
            purpose=PURPOSE,
            client_id=str(row.client_id),
            resource_type="Appointment",
            resource_id=str(row.id),
        )
    return _view(row, timezone.localtime())


@dataclass(frozen=True)
class DeskRow:
    appointment_id: uuid.UUID
    client_id: uuid.UUID
    name: str  # masked for roles that see no full identifier
    package_name: str
    status: str
    status_label: str


def check_desk(actor: User) -> None:
    """The desk list needs `booking.view` at role level (the rows are then the actor's teams')."""
    from careledger.access.enforce import refuse
    from careledger.access.policy import deny
    from careledger.access.roles import permits

    if not (getattr(actor, "is_active", False) and permits(actor.role, Action.BOOKING_VIEW)):
        raise refuse(actor, Action.BOOKING_VIEW, deny("role_lacks_permission"))


def desk_day(*, actor: User, branch_id: uuid.UUID | str, day: dt.date) -> list[DeskRow]:
    """The day's appointments at a branch for the clients of the actor's care teams (the
    front desk's list); one ledger event per client shown."""
    check_desk(actor)
    with transaction.atomic():
        rows = list(
            Appointment.objects.select_related("version", "client")
            .filter(
                institution_id=actor.institution_id,
                branch_id=branch_id,
                day=day,
                client__care_team_links__care_team_id__in=team_ids(actor),
            )
            .exclude(status=AppointmentStatus.CANCELLED)
            .distinct()
            .order_by("status", "created_at")
        )
        clients = [r.client for r in rows]
        keyring.preload(clients, ["name"])
        if rows:
            ledger.record_many(
                actor=actor_of(actor),
                action=str(Action.BOOKING_VIEW),
                purpose=PURPOSE,
                client_ids=[str(r.client_id) for r in rows],
                resource_type="Appointment",
                resource_ids=[str(r.id) for r in rows],
                details=[{"desk": day.isoformat()} for _r in rows],
            )
    masked = masks_identifiers(actor.role)
    return [
        DeskRow(
            appointment_id=r.id,
            client_id=r.client_id,
            name=mask_name(str(r.client.name)) if masked else str(r.client.name),
            package_name=r.version.name,
            status=r.status,
            status_label=str(AppointmentStatus(r.status).label),
        )
        for r in rows
    ]


# --- what can be booked (configuration and counts) --------------------------------------------


def bookable_versions(institution_id: uuid.UUID) -> list[PackageVersion]:
    return list(
        PackageVersion.objects.filter(
            institution_id=institution_id,
            status=VersionStatus.PUBLISHED,
            package__retired_at__isnull=True,
        )
        .select_related("package")
        .prefetch_related(
            Prefetch("items", queryset=PackageItem.objects.order_by("is_addon", "position")),
            Prefetch("branches", queryset=Branch.objects.filter(is_active=True)),
        )
        .order_by("price_fen", "name")
    )


def bookable_version(institution_id: uuid.UUID, version_id: uuid.UUID | str) -> PackageVersion:
    for version in bookable_versions(institution_id):
        if str(version.id) == str(version_id):
            return version
    raise PackageVersion.DoesNotExist


@dataclass(frozen=True)
class DayOffer:
    day: dt.date
    is_open: bool
    reason: str
    holiday: str
    left: int  # places left for the package (0 when closed or no capacity)

    @property
    def bookable(self) -> bool:
        return self.is_open and self.left > 0


def offers(*, version: PackageVersion, branch: Branch, start: dt.date, days: int) -> list[DayOffer]:
    """Each day from `start`: open or why not, and places left for this package (3 queries)."""
    end = start + dt.timedelta(days=days - 1)
    capacity = {
        row.day: row.limit - row.used
        for row in Capacity.objects.filter(
            branch=branch, package_id=version.package_id, day__gte=start, day__lte=end
        )
    }
    overrides = list(
        DayOverride.objects.filter(
            Q(branch=branch) | Q(branch__isnull=True),
            institution_id=branch.institution_id,
            day__gte=start,
            day__lte=end,
        )
    )
    mine = {o.day: o.is_open for o in overrides if o.branch_id == branch.id}
    everyone = {o.day: o.is_open for o in overrides if o.branch_id is None}
    today = timezone.localdate()
    found = []
    for day in calendar.days_between(start, end):
        status = calendar.day_status(
            day,
            open_weekdays=branch.open_weekdays,
            branch_overrides=mine,
            institution_overrides=everyone,
        )
        timing = rules.timing_problem(
            day, today=today, lead_days=version.lead_days, horizon_days=version.horizon_days
        )
        is_open = status.is_open and not timing
        found.append(
            DayOffer(
                day=day,
                is_open=is_open,
                reason=timing or status.reason,
                holiday=status.holiday,
                left=max(0, capacity.get(day, 0)) if is_open else 0,
            )
        )
    return found


@dataclass(frozen=True)
class CapacityRow:
    day: dt.date
    label: str
    limit: int
    used: int


def capacity_table(
    *, institution_id: uuid.UUID, branch: Branch, start: dt.date, days: int
) -> list[CapacityRow]:
    """Limits and places taken per day (counts only: the admin sees no one's booking)."""
    end = start + dt.timedelta(days=days - 1)
    rows = (
        Capacity.objects.filter(
            institution_id=institution_id, branch=branch, day__gte=start, day__lte=end
        )
        .select_related("package", "resource")
        .order_by("day", "resource_id", "package__code")
    )
    return [
        CapacityRow(
            day=r.day,
            label=r.package.code if r.package else r.resource.name,  # type: ignore[union-attr]
            limit=r.limit,
            used=r.used,
        )
        for r in rows
    ]


def branches(institution_id: uuid.UUID) -> Sequence[Branch]:
    return list(Branch.objects.filter(institution_id=institution_id).order_by("code"))
