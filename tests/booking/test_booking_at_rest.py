"""Invariant 3 and 6 for booking: after booking, check-in by card number (a good and an
unknown one), the desk list, a move and a cancel, neither the database nor the logs hold the
client's name, phone, ID number or card number in plaintext."""

from __future__ import annotations

import logging

import pytest
from django.utils import timezone

from careledger.booking import selectors, services, visits
from careledger.booking.errors import BookingRefused
from careledger.booking.models import Appointment
from careledger.clients.models import Client
from test_no_plaintext_at_rest import dump_database

from .conftest import open_days


def test_booking_leaves_no_identifier_in_plaintext(world, catalogue, caplog):
    caplog.set_level(logging.DEBUG)
    enrolled = world.enrol(name="欧阳明月", phone="13912345678")
    client = Client.objects.get(pk=enrolled.client_id)
    secrets = ["欧阳明月", "13912345678", str(client.document_number), enrolled.card_number]
    first, second = open_days(catalogue.branch, 2)
    row = services.do_book(
        actor=world.manager, client_id=client.id, version_id=catalogue.version.id,
        branch_id=catalogue.branch.id, day=first, addon_ids=[catalogue.addon_id],
    )  # fmt: skip
    services.do_reschedule(actor=world.nurse, appointment_id=row.id, day=second)
    Appointment.objects.filter(pk=row.id).update(day=timezone.localdate())
    selectors.desk_day(actor=world.nurse, branch_id=catalogue.branch.id, day=timezone.localdate())
    with pytest.raises(BookingRefused):
        visits.do_check_in(actor=world.nurse, card_number="100100000019", branch_id=row.branch_id)
    visits.do_check_in(
        actor=world.nurse, card_number=enrolled.card_number, branch_id=catalogue.branch.id
    )
    other = services.do_book(
        actor=world.manager, client_id=client.id, version_id=catalogue.version.id,
        branch_id=catalogue.branch.id, day=first,
    )  # fmt: skip
    services.do_cancel(actor=world.manager, appointment_id=other.id)
    dump = dump_database()
    for value in secrets:
        assert value not in dump, f"plaintext in the database: {value[:2]}…"
        assert value not in caplog.text, f"plaintext in the logs: {value[:2]}…"
