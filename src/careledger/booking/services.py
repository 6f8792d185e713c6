"""Booking and changing: book (or join the waiting list), reschedule, cancel, and the waiting
list's promotion (check-in, no-shows and the report link are in `visits`).

Who may: staff need `booking.manage` on the client through their
care team (health manager and nurse; see `access.roles`); a portal client acts on their own
record only. Every refusal is ledgered by the policy, every write is ledgered with the
appointment row sealed, in the transaction that wrote it.

No overselling: the capacity rows a booking needs (its package's row for that branch and day, and
one per scarce resource its items use) are locked with one `select_for_update … ORDER BY id`
(PostgreSQL; SQLite's IMMEDIATE transactions serialise writers), and each is taken with a
conditional `UPDATE … SET used = used + 1 WHERE used < limit`, so even without the lock a row can
never go past its limit. Two clients racing for the last place: the second waits on the row lock,
then finds it full and gets `BookingRefused("full")`.

Messages (confirmation, waiting-list promotion) are enqueued after commit and sent only on a
channel the client consented to (`careledger.booking.consent`).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from careledger.access.enforce import actor_of, refuse, require
from careledger.access.policy import deny
from careledger.access.roles import Action
from careledger.accounts.models import User
from careledger.booking import calendar, rules
from careledger.booking.errors import BookingRefused
from careledger.booking.models import (
    LIVE,
    Appointment,
    AppointmentStatus,
    Branch,
    CancelReason,
    Capacity,
    Channel,
    DayOverride,
    PackageItem,
    PackageVersion,
    VersionStatus,
)
from careledger.clients.models import Client, ClientStatus
from careledger.clients.services import client_scope
from careledger.ledger import services as ledger

PURPOSE = "care"
CLIENT_ROLE = "client"


@dataclass(frozen=True)
class Plan:
    """A checked booking request: what to take from which capacity rows."""

    client: Client
    version: PackageVersion
    branch: Branch
    day: dt.date
    addons: tuple[PackageItem, ...]
    resource_ids: tuple[uuid.UUID, ...]


def own_client_id(actor: User) -> uuid.UUID | None:
    from careledger.portal.models import PortalAccount

    return PortalAccount.objects.filter(user=actor).values_list("client_id", flat=True).first()


def authorise(actor: User, action: Action, client: Client) -> None:
    """Staff through the policy; a portal client only for their own, active record."""
    if getattr(actor, "role", "") == CLIENT_ROLE:
        allowed = (
            actor.is_active
            and own_client_id(actor) == client.id
            and client.status == ClientStatus.ACTIVE
        )
        if not allowed:
            raise refuse(actor, action, deny("not_own_record"), client_id=str(client.id))
        return
    require(actor, action, client_scope(client), purpose=PURPOSE)


def _client(actor: User, client_id: uuid.UUID | str, action: Action) -> Client:
    client = Client.objects.get(pk=client_id)
    authorise(actor, action, client)
    return client


def day_status(branch: Branch, day: dt.date) -> calendar.DayStatus:
    overrides = DayOverride.objects.filter(institution_id=branch.institution_id, day=day).filter(
        Q(branch=branch) | Q(branch__isnull=True)
    )
    mine = {o.day: o.is_open for o in overrides if o.branch_id == branch.id}
    everyone = {o.day: o.is_open for o in overrides if o.branch_id is None}
    return calendar.day_status(
        day,
        open_weekdays=branch.open_weekdays,
        branch_overrides=mine,
        institution_overrides=everyone,
    )


def _check_day(branch: Branch, day: dt.date) -> None:
    status = day_status(branch, day)
    if not status.is_open:
        raise BookingRefused(status.reason, holiday=status.holiday, year=day.year)


def _check_timing(version: PackageVersion, day: dt.date) -> None:
    problem = rules.timing_problem(
        day,
        today=timezone.localdate(),
        lead_days=version.lead_days,
        horizon_days=version.horizon_days,
    )
    if problem:
        raise BookingRefused(problem, lead=version.lead_days, horizon=version.horizon_days)


def check_booking(
    *,
    client: Client,
    version_id: uuid.UUID | str,
    branch_id: uuid.UUID | str,
    day: dt.date,
    addon_ids: Iterable[uuid.UUID | str] = (),
) -> Plan:
    """Every rule a booking must pass before capacity is asked: a specific refusal each."""
    version = (
        PackageVersion.objects.select_related("package")
        .filter(pk=version_id, institution_id=client.institution_id)
        .first()
    )
    if (
        version is None
        or version.status != VersionStatus.PUBLISHED
        or version.package.retired_at is not None
    ):
        raise BookingRefused("package_not_bookable")
    branch = version.branches.filter(pk=branch_id, is_active=True).first()
    if branch is None:
        raise BookingRefused("branch_not_offered")
    wanted = {str(a) for a in addon_ids}
    items = list(version.items.all())
    addons = tuple(i for i in items if i.is_addon and str(i.id) in wanted)
    if len(addons) != len(wanted):
        raise BookingRefused("addon_not_in_package")
    _check_timing(version, day)
    _check_day(branch, day)
    problem = rules.suitability_problem(
        rules.Suitability(version.sex, version.min_age, version.max_age),
        sex=client.sex,
        birth_date=client.birth_date,
        day=day,
    )
    if problem:
        raise BookingRefused(problem, min=version.min_age, max=version.max_age)
    resources = {i.resource_id for i in items if not i.is_addon and i.resource_id}
    resources |= {i.resource_id for i in addons if i.resource_id}
    return Plan(client, version, branch, day, addons, tuple(sorted(resources, key=str)))


def _lock(plans: Sequence[tuple[Branch, dt.date, uuid.UUID, Sequence[uuid.UUID]]]) -> dict:
    """Lock every capacity row the plans need, in one statement ordered by id."""
    wanted = Q(pk__in=[])
    for branch, day, package_id, resource_ids in plans:
        wanted |= Q(branch=branch, day=day) & (
            Q(package_id=package_id) | Q(resource_id__in=list(resource_ids))
        )
    rows = list(Capacity.objects.select_for_update().filter(wanted).order_by("id"))
    return {(r.branch_id, r.day, r.package_id or r.resource_id): r for r in rows}


def _take(rows: dict, plan: Plan) -> str:
    """Take one place of the package and of each resource; "" or the reason it cannot."""
    package_row = rows.get((plan.branch.id, plan.day, plan.version.package_id))
    if package_row is None or package_row.limit == 0:
        return "no_capacity"
    needed = [package_row]
    for rid in plan.resource_ids:
        row = rows.get((plan.branch.id, plan.day, rid))
        if row is None:
            return "resource_full:" + str(rid)
        needed.append(row)
    taken: list[Capacity] = []
    for row in needed:
        got = Capacity.objects.filter(pk=row.pk, used__lt=F("limit")).update(used=F("used") + 1)
        if not got:
            for back in taken:  # undo within the transaction (the caller may go on)
                Capacity.objects.filter(pk=back.pk).update(used=F("used") - 1)
            return "full" if row is package_row else "resource_full:" + str(row.resource_id)
        taken.append(row)
    return ""


def _refuse_if_full(plan: Plan) -> None:
    """A read without a lock: when the day is already full, say so at once instead of queueing
    on the row lock behind the bookings that filled it. (Places only come back by a
    cancellation; a request refused a moment before one is told what it would have been told a
    moment earlier.) The decision that counts is still the locked, conditional take."""
    row = (
        Capacity.objects.filter(
            branch=plan.branch, day=plan.day, package_id=plan.version.package_id
        )
        .values_list("limit", "used")
        .first()
    )
    if row is None or row[0] == 0:
        raise BookingRefused("no_capacity")
    if row[1] >= row[0]:
        raise BookingRefused("full")


def _release(appointment: Appointment) -> None:
    ids = _resource_ids(appointment)
    Capacity.objects.filter(
        Q(package_id=appointment.version.package_id) | Q(resource_id__in=ids),
        branch_id=appointment.branch_id,
        day=appointment.day,
        used__gt=0,
    ).update(used=F("used") - 1)


def _resource_ids(appointment: Appointment) -> list[uuid.UUID]:
    items = PackageItem.objects.filter(version_id=appointment.version_id, is_addon=False)
    ids = {i for i in items.exclude(resource=None).values_list("resource_id", flat=True)}
    ids |= set(appointment.addons.exclude(resource=None).values_list("resource_id", flat=True))
    return sorted(ids, key=str)


def _raise_full(reason: str) -> None:
    if reason.startswith("resource_full:"):
        from careledger.booking.models import Resource

        name = Resource.objects.filter(pk=reason.split(":", 1)[1]).values_list("name", flat=True)
        raise BookingRefused("resource_full", resource=name.first() or "")
    raise BookingRefused(reason)


def _ledger(actor: User | None, action: str, appointment: Appointment, **detail: object) -> None:
    ledger.record(
        actor=actor_of(actor) if actor is not None else ledger.SYSTEM,
        action=action,
        purpose=PURPOSE,
        client_id=str(appointment.client_id),
        resource_type="Appointment",
        resource_id=str(appointment.id),
        detail={"status": appointment.status, "day": appointment.day.isoformat(), **detail},
        sealed=[appointment],
    )


def _notify_after_commit(appointment_id: uuid.UUID, kind: str) -> None:
    from careledger.booking import tasks

    def enqueue() -> None:
        try:
            tasks.send_notice.delay(str(appointment_id), kind)
        except Exception:  # the broker is down: the reminder run sends it later
            import structlog

            structlog.get_logger("careledger.booking").exception(
                "booking.notice.enqueue_failed", appointment_id=str(appointment_id)
            )

    transaction.on_commit(enqueue)


def do_book(
    *,
    actor: User,
    client_id: uuid.UUID | str,
    version_id: uuid.UUID | str,
    branch_id: uuid.UUID | str,
    day: dt.date,
    addon_ids: Iterable[uuid.UUID | str] = (),
    waitlist: bool = False,
    channel: str = Channel.STAFF,
) -> Appointment:
    """Book a check-up, or — when `waitlist` and the day is full — join its waiting list."""
    client = _client(actor, client_id, Action.BOOKING_MANAGE)
    plan = check_booking(
        client=client, version_id=version_id, branch_id=branch_id, day=day, addon_ids=addon_ids
    )
    if Appointment.objects.filter(client=client, day=day, status__in=LIVE).exists():
        raise BookingRefused("already_booked")  # a race past this is the unique constraint's
    if not waitlist:
        _refuse_if_full(plan)
    try:
        with transaction.atomic():
            rows = _lock([(plan.branch, day, plan.version.package_id, plan.resource_ids)])
            reason = _take(rows, plan)
            status = AppointmentStatus.BOOKED
            if reason:
                if not waitlist or reason == "no_capacity":
                    _raise_full(reason)
                status = AppointmentStatus.WAITLISTED
            appointment = Appointment.objects.create(
                institution_id=client.institution_id,
                client=client,
                branch=plan.branch,
                version=plan.version,
                day=day,
                status=status,
                channel=channel,
                booked_by=actor,
                waitlisted_at=timezone.now() if status == AppointmentStatus.WAITLISTED else None,
            )
            if plan.addons:
                appointment.addons.set(plan.addons)
            # What the caller shows back needs no query (`addons.all()` reads this), as if
            # prefetched: a queryset whose results are already known.
            known = PackageItem.objects.filter(pk__in=[a.pk for a in plan.addons])
            known._result_cache = list(plan.addons)
            known._prefetch_done = True
            appointment._prefetched_objects_cache = {"addons": known}
            _ledger(
                actor,
                "booking.create",
                appointment,
                version=str(plan.version.id),
                channel=channel,
                addons=len(plan.addons),
            )
            if status == AppointmentStatus.BOOKED:
                _notify_after_commit(appointment.id, "confirmed")
    except IntegrityError:  # the one-live-per-day constraint: a duplicate raced us
        raise BookingRefused("already_booked") from None
    return appointment


def _locked_appointment(appointment_id: uuid.UUID | str) -> Appointment:
    return (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("version", "version__package", "branch")
        .get(pk=appointment_id)
    )


def _check_change(appointment: Appointment) -> None:
    if appointment.status not in (AppointmentStatus.BOOKED, AppointmentStatus.WAITLISTED):
        raise BookingRefused("not_changeable")
    if appointment.status == AppointmentStatus.BOOKED:
        problem = rules.change_problem(
            appointment.day, now=timezone.localtime(), cancel_hours=appointment.version.cancel_hours
        )
        if problem:
            raise BookingRefused(problem, hours=appointment.version.cancel_hours)


def _promote(branch: Branch, day: dt.date, package_id: uuid.UUID) -> list[Appointment]:
    """Give freed places to the waiting list, first come first served (in the caller's lock)."""
    promoted: list[Appointment] = []
    waiting = (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("version", "client")
        .filter(
            branch=branch,
            day=day,
            status=AppointmentStatus.WAITLISTED,
            version__package_id=package_id,
        )
        .order_by("waitlisted_at", "id")
    )
    for entry in waiting:
        resource_ids = tuple(_resource_ids(entry))
        plan = Plan(entry.client, entry.version, branch, day, (), resource_ids)
        rows = _lock([(branch, day, package_id, resource_ids)])
        if _take(rows, plan):
            continue
        entry.status = AppointmentStatus.BOOKED
        entry.save(update_fields=["status", "updated_at"])
        _ledger(None, "booking.promote", entry)
        _notify_after_commit(entry.id, "promoted")
        promoted.append(entry)
    return promoted


def do_cancel(
    *, actor: User, appointment_id: uuid.UUID | str, reason: str = CancelReason.CLIENT
) -> Appointment:
    if reason not in CancelReason.values:
        raise BookingRefused("not_changeable")
    current = Appointment.objects.select_related("client").get(pk=appointment_id)
    authorise(actor, Action.BOOKING_MANAGE, current.client)
    with transaction.atomic():
        appointment = _locked_appointment(appointment_id)
        _check_change(appointment)
        held = appointment.status == AppointmentStatus.BOOKED
        if held:
            _lock([(appointment.branch, appointment.day, appointment.version.package_id, [])])
            _release(appointment)
        appointment.status = AppointmentStatus.CANCELLED
        appointment.cancelled_at = timezone.now()
        appointment.cancel_reason = reason
        appointment.save()
        _ledger(actor, "booking.cancel", appointment, reason=reason)
        if held:
            _promote(appointment.branch, appointment.day, appointment.version.package_id)
    return appointment


def do_reschedule(*, actor: User, appointment_id: uuid.UUID | str, day: dt.date) -> Appointment:
    """Move a booking to another day of the same branch and version (all rules of a new
    booking apply to the new day; the old day's place goes to its waiting list)."""
    current = Appointment.objects.select_related("client").get(pk=appointment_id)
    authorise(actor, Action.BOOKING_MANAGE, current.client)
    if current.day == day:
        raise BookingRefused("same_day")
    plan = check_booking(
        client=current.client,
        version_id=current.version_id,
        branch_id=current.branch_id,
        day=day,
        addon_ids=current.addons.values_list("id", flat=True),
    )
    try:
        with transaction.atomic():
            appointment = _locked_appointment(appointment_id)
            _check_change(appointment)
            if (
                Appointment.objects.filter(client=appointment.client_id, day=day, status__in=LIVE)
                .exclude(pk=appointment.pk)
                .exists()
            ):
                raise BookingRefused("already_booked")
            old_day, held = appointment.day, appointment.status == AppointmentStatus.BOOKED
            package_id = appointment.version.package_id
            rows = _lock(
                [
                    (plan.branch, old_day, package_id, plan.resource_ids),
                    (plan.branch, day, package_id, plan.resource_ids),
                ]
            )
            reason = _take(rows, plan)
            if reason:
                _raise_full(reason)
            if held:
                _release(appointment)
            appointment.day = day
            appointment.status = AppointmentStatus.BOOKED
            appointment.reschedules += 1
            appointment.reminder_sent_at = None
            appointment.save()
            _ledger(actor, "booking.reschedule", appointment, previous=old_day.isoformat())
            _notify_after_commit(appointment.id, "confirmed")
            if held:
                _promote(plan.branch, old_day, package_id)
    except IntegrityError:
        raise BookingRefused("already_booked") from None
    return appointment
