"""Background work of booking: messages after commit, the daily reminder and no-show runs, and
linking imported reports to their visit. Each task is idempotent: a message is claimed
(`confirmation_sent_at` / `reminder_sent_at`) before it goes, so a retry or a duplicate never
sends twice; no-show marking and report linking find nothing left to do the second time.
"""

from __future__ import annotations

import datetime as dt
import uuid

import structlog
from celery import shared_task
from django.db import transaction
from django.utils import timezone

from careledger.booking import services, visits
from careledger.booking.consent import may_notify
from careledger.booking.models import Appointment, AppointmentStatus
from careledger.notifications import gateway
from careledger.notifications.backends import NotificationError
from careledger.request_context import RequestContext, bound, new_request_id

log = structlog.get_logger("careledger.booking")
TEMPLATES = {"confirmed": "booking_confirmed", "promoted": "booking_promoted"}


def _day_text(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _send(appointment_id: uuid.UUID, template: str, field: str, *, expect_day: bool) -> str:
    with transaction.atomic():
        row = (
            Appointment.objects.select_for_update(of=("self",))
            .select_related("client")
            .filter(pk=appointment_id)
            .first()
        )
        if row is None or row.status != AppointmentStatus.BOOKED:
            return "skipped"
        if expect_day and getattr(row, field) is not None:
            return "skipped"
        if not may_notify(client_id=row.client_id):
            return "no_consent"
        setattr(row, field, timezone.now())
        row.save(update_fields=[field, "updated_at"])
        phone, client_id, day = row.client.phone, row.client_id, row.day
    try:
        gateway.send(
            channel="sms",
            to=str(phone),
            template=template,
            params={"day": _day_text(day)},
            client_id=client_id,
            purpose=services.PURPOSE,
        )
    except NotificationError:
        log.warning("booking.notice.undelivered", appointment_id=str(appointment_id))
        return "failed"
    return "sent"


@shared_task(name="careledger.booking.send_notice")
def send_notice(appointment_id: str, kind: str) -> str:
    """Confirmation of a booking (or of a waiting-list promotion, or a moved day)."""
    with bound(RequestContext(request_id=new_request_id(), channel="task")):
        return _send(
            uuid.UUID(appointment_id), TEMPLATES[kind], "confirmation_sent_at", expect_day=False
        )


@shared_task(name="careledger.booking.send_reminders")
def send_reminders() -> int:
    """The day-before reminder for every booking of tomorrow not yet reminded."""
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    ids = list(
        Appointment.objects.filter(
            day=tomorrow, status=AppointmentStatus.BOOKED, reminder_sent_at__isnull=True
        ).values_list("id", flat=True)
    )
    sent = 0
    with bound(RequestContext(request_id=new_request_id(), channel="task")):
        for appointment_id in ids:
            outcome = _send(appointment_id, "booking_reminder", "reminder_sent_at", expect_day=True)
            sent += outcome == "sent"
    return sent


@shared_task(name="careledger.booking.mark_no_shows")
def mark_no_shows() -> int:
    with bound(RequestContext(request_id=new_request_id(), channel="task")):
        return visits.mark_no_shows()


@shared_task(name="careledger.booking.link_reports")
def link_reports(report_ids: list[str]) -> int:
    with bound(RequestContext(request_id=new_request_id(), channel="task")):
        return visits.link_reports(report_ids=report_ids)
