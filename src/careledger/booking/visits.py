"""The visit itself: desk check-in by membership card, no-shows, and the imported report
linked back to its visit. Split from `services` (booking and changing) because these run at or
after the visit day, mostly as the system.

Check-in needs `booking.checkin` (health manager, nurse) on the client through their care team;
the card number finds the client through the card blind index (`clients.indexing`), never by
decrypting cards. No-show marking and report linking act as the system (`ledger.SYSTEM`), are
idempotent, and seal each appointment they change in the ledger event that changed it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone

from careledger.access.enforce import actor_of, refuse
from careledger.access.policy import deny
from careledger.access.roles import Action, permits
from careledger.accounts.models import User
from careledger.booking.errors import BookingRefused
from careledger.booking.models import HOLDING, Appointment, AppointmentStatus
from careledger.booking.services import PURPOSE, _ledger, authorise
from careledger.clients.models import Client
from careledger.ledger import services as ledger


def find_card_client(institution_id: uuid.UUID, number: str) -> Client | None:
    from careledger.clients import identifiers
    from careledger.clients.indexing import card_index
    from careledger.clients.models import CardStatus, MembershipCard

    try:
        normal = identifiers.normalise_card_number(number)
    except identifiers.IdentifierError:
        return None
    card = (
        MembershipCard.objects.select_related("client")
        .filter(
            institution_id=institution_id,
            number_index=card_index(institution_id, normal),
            status=CardStatus.ACTIVE,
        )
        .first()
    )
    return card.client if card else None


def do_check_in(*, actor: User, card_number: str, branch_id: uuid.UUID | str) -> Appointment:
    """Desk check-in: the card number finds the client through the blind index, the policy
    checks the desk user's care team, today's booking at this branch becomes checked in."""
    if not (actor.is_active and permits(actor.role, Action.BOOKING_CHECKIN)):
        raise refuse(actor, Action.BOOKING_CHECKIN, deny("role_lacks_permission"))
    client = find_card_client(actor.institution_id, card_number)
    if client is None:
        with transaction.atomic():
            ledger.record(
                actor=actor_of(actor),
                action=str(Action.BOOKING_CHECKIN),
                outcome=ledger.Outcome.FAILED,
                purpose=PURPOSE,
                detail={"reason": "card_not_found"},
            )
        raise BookingRefused("card_not_found")
    authorise(actor, Action.BOOKING_CHECKIN, client)
    today = timezone.localdate()
    with transaction.atomic():
        appointment = (
            Appointment.objects.select_for_update()
            .filter(client=client, branch_id=branch_id, day=today, status=AppointmentStatus.BOOKED)
            .first()
        )
        if appointment is None:
            raise BookingRefused("no_appointment_today")
        appointment.status = AppointmentStatus.CHECKED_IN
        appointment.checked_in_at = timezone.now()
        appointment.checked_in_by = actor
        appointment.save()
        _ledger(actor, "booking.checkin", appointment)
    return appointment


def mark_no_shows(*, today: dt.date | None = None) -> int:
    """Bookings whose day has passed without a check-in become no-shows (the scheduled task;
    idempotent: a second run finds nothing left to mark). Acts as the system."""
    today = today or timezone.localdate()
    marked = 0
    while True:
        with transaction.atomic():
            batch = list(
                Appointment.objects.select_for_update()
                .filter(status=AppointmentStatus.BOOKED, day__lt=today)
                .order_by("id")[:500]
            )
            if not batch:
                return marked
            now = timezone.now()
            for row in batch:
                row.status, row.no_show_at = AppointmentStatus.NO_SHOW, now
            Appointment.objects.bulk_update(batch, ["status", "no_show_at", "updated_at"])
            ledger.record_many(
                actor=ledger.SYSTEM,
                action="booking.no_show",
                purpose=PURPOSE,
                client_ids=[str(r.client_id) for r in batch],
                resource_type="Appointment",
                resource_ids=[str(r.id) for r in batch],
                details=[{"day": r.day.isoformat()} for r in batch],
                sealed=[[r] for r in batch],
            )
            marked += len(batch)


# A report whose exam date is the visit day, or up to this many days after it (results taken
# at a second visit, e.g. a fasting draw the next morning), belongs to that visit.
VISIT_WINDOW_DAYS = 3


def link_reports(*, report_ids: Sequence[uuid.UUID | str]) -> int:
    """Link newly imported reports to their visit (the system, after an import commits).
    A report links to the client's latest booked, checked-in or completed appointment whose day
    is at most `VISIT_WINDOW_DAYS` before the report's exam date and not after it, and which has
    no report yet; the visit is then completed. Idempotent: a linked report is not linked again."""
    from careledger.observations.models import Report

    linked = 0
    reports = Report.objects.filter(pk__in=list(report_ids)).order_by("effective_at")
    for report in reports:
        exam_day = timezone.localdate(report.effective_at)
        with transaction.atomic():
            if Appointment.objects.filter(report_id=report.id).exists():
                continue
            appointment = (
                Appointment.objects.select_for_update()
                .filter(
                    client_id=report.client_id,
                    report__isnull=True,
                    status__in=[*HOLDING],
                    day__lte=exam_day,
                    day__gte=exam_day - dt.timedelta(days=VISIT_WINDOW_DAYS),
                )
                .order_by("-day")
                .first()
            )
            if appointment is None:
                continue
            appointment.report_id = report.id
            if appointment.status != AppointmentStatus.COMPLETED:
                appointment.status = AppointmentStatus.COMPLETED
                appointment.completed_at = timezone.now()
            appointment.save()
            _ledger(None, "booking.report_link", appointment, report=str(report.id))
            linked += 1
    return linked
