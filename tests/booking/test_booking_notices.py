"""Messages about a booking go only to clients who consented to SMS reminders (consent purpose
`followup_sms`), at most once each; and an imported report links back to its visit through the
import's after-commit hook."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone

from careledger.booking import hooks, services, tasks
from careledger.booking.models import Appointment, AppointmentStatus
from careledger.consent import services as consent
from careledger.consent import text_services
from careledger.consent.purposes import Purpose
from careledger.ledger.models import LedgerEntry

from .conftest import next_open_day


@pytest.fixture
def outbox(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.CARELEDGER_NOTIFY_BACKEND = "file"
    settings.CARELEDGER_OUTBOX_DIR = tmp_path / "outbox"
    return tmp_path / "outbox" / "sms.jsonl"


def sent(outbox) -> list[dict]:  # type: ignore[no-untyped-def]
    if not outbox.exists():
        return []
    return [json.loads(line) for line in outbox.read_text().splitlines() if line]


def consent_to_sms(world, client_id) -> None:  # type: ignore[no-untyped-def]
    draft = text_services.do_create_draft(
        actor=world.admin, purpose=Purpose.FOLLOWUP_SMS.value, title="短信提醒", body="同意。"
    )
    text = text_services.do_publish(actor=world.admin, text_id=draft.id)
    consent.do_record(
        actor=world.manager, client_id=client_id, text_id=text.id, method="paper", reference="x"
    )


def book(world, catalogue, client_id, day):  # type: ignore[no-untyped-def]
    return services.do_book(
        actor=world.manager, client_id=client_id, version_id=catalogue.version.id,
        branch_id=catalogue.branch.id, day=day,
    )  # fmt: skip


def test_no_consent_no_message(world, catalogue, outbox):
    client_id = world.enrol().client_id
    row = book(world, catalogue, client_id, next_open_day(catalogue.branch))
    assert tasks._send(row.id, "booking_confirmed", "confirmation_sent_at", expect_day=False) == (
        "no_consent"
    )
    assert sent(outbox) == []


def test_confirmation_and_one_reminder_with_consent(world, catalogue, outbox):
    client_id = world.enrol().client_id
    consent_to_sms(world, client_id)
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    row = book(world, catalogue, client_id, next_open_day(catalogue.branch))
    assert tasks.send_notice(str(row.id), "confirmed") == "sent"
    Appointment.objects.filter(pk=row.id).update(day=tomorrow)
    assert tasks.send_reminders() == 1
    assert tasks.send_reminders() == 0  # claimed: never twice
    messages = sent(outbox)
    assert [m["template"] for m in messages] == ["booking_confirmed", "booking_reminder"]
    assert f"{tomorrow.month}月{tomorrow.day}日" in messages[1]["text"]
    assert "基础体检套餐" not in json.dumps(messages, ensure_ascii=False)  # the day only
    assert LedgerEntry.objects.filter(action="notify.send", client_id=str(client_id)).count() == 2


def test_a_cancelled_booking_is_not_reminded(world, catalogue, outbox):
    client_id = world.enrol().client_id
    consent_to_sms(world, client_id)
    row = book(world, catalogue, client_id, next_open_day(catalogue.branch))
    services.do_cancel(actor=world.manager, appointment_id=row.id)
    assert tasks.send_notice(str(row.id), "confirmed") == "skipped"
    assert sent(outbox) == []


def test_the_import_hook_links_the_report_after_commit(
    world, catalogue, django_capture_on_commit_callbacks, monkeypatch
):  # type: ignore[no-untyped-def]
    from django.db import transaction

    from careledger.celery import app
    from observations.test_trends_data import write_report

    monkeypatch.setattr(app.conf, "task_always_eager", True)
    client_id = world.enrol().client_id
    day = next_open_day(catalogue.branch)
    row = book(world, catalogue, client_id, day)
    report = write_report(world.manager, client_id, day + dt.timedelta(days=1), [("2345-7", "5")])
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        hooks.reports_landed(report_ids=[report.id])
    row.refresh_from_db()
    assert row.report_id == report.id and row.status == AppointmentStatus.COMPLETED
