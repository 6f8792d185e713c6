"""Booking through the services: the happy paths (book, add-ons, reschedule, cancel, waiting
list and its promotion, desk check-in, no-shows, report link) and every refusal by rule."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from careledger.access.enforce import AccessDenied
from careledger.booking import package_services as ps
from careledger.booking import services, visits
from careledger.booking.errors import BookingRefused
from careledger.booking.models import Appointment, AppointmentStatus, Capacity
from careledger.ledger.models import LedgerEntry

from .conftest import make_catalogue, next_open_day, open_days


def used(catalogue, day, *, resource: bool = False) -> int:  # type: ignore[no-untyped-def]
    key = (
        {"resource": catalogue.gastroscopy}
        if resource
        else {"package_id": catalogue.version.package_id}
    )
    return Capacity.objects.get(branch=catalogue.branch, day=day, **key).used


def book(world, catalogue, client_id, day, **kw):  # type: ignore[no-untyped-def]
    return services.do_book(
        actor=kw.pop("actor", world.manager),
        client_id=client_id,
        version_id=catalogue.version.id,
        branch_id=kw.pop("branch_id", catalogue.branch.id),
        day=day,
        **kw,
    )


def refused(code: str, call, *args, **kwargs):  # type: ignore[no-untyped-def]
    with pytest.raises(BookingRefused) as info:
        call(*args, **kwargs)
    assert info.value.code == code, info.value.code
    assert info.value.message  # a sentence for the person, never empty
    return info.value


def test_booking_takes_one_place_and_is_ledgered_with_the_row_sealed(world, catalogue):
    client_id = world.enrol().client_id
    day = next_open_day(catalogue.branch)
    appointment = book(world, catalogue, client_id, day, addon_ids=[catalogue.addon_id])
    assert appointment.status == AppointmentStatus.BOOKED
    assert appointment.version_id == catalogue.version.id
    assert list(appointment.addons.values_list("id", flat=True)) == [catalogue.addon_id]
    assert used(catalogue, day) == 1
    assert used(catalogue, day, resource=True) == 0
    entry = LedgerEntry.objects.filter(action="booking.create").get()
    assert entry.client_id == str(client_id)
    assert '"Appointment"' in entry.leaf and str(appointment.id) in entry.leaf


def test_a_scarce_addon_takes_its_resource_too_and_a_full_resource_refuses(world):
    cat = make_catalogue(world, limit=5, gastro_limit=1)
    day = next_open_day(cat.branch)
    first, second = world.enrol().client_id, world.enrol().client_id
    book(world, cat, first, day, addon_ids=[cat.gastro_addon_id])
    assert used(cat, day, resource=True) == 1
    error = refused("resource_full", book, world, cat, second, day, addon_ids=[cat.gastro_addon_id])
    assert "胃镜" in error.message
    assert used(cat, day) == 1  # the package place taken before the resource was refused is back
    book(world, cat, second, day)  # without the gastroscopy there is room


def test_the_last_place_goes_to_one_client_and_the_next_is_refused_or_waitlisted(world):
    cat = make_catalogue(world, limit=1)
    day = next_open_day(cat.branch)
    a, b, c = (world.enrol().client_id for _ in range(3))
    book(world, cat, a, day)
    refused("full", book, world, cat, b, day)
    waiting = book(world, cat, b, day, waitlist=True)
    assert waiting.status == AppointmentStatus.WAITLISTED
    later = book(world, cat, c, day, waitlist=True)
    assert used(cat, day) == 1
    first = Appointment.objects.get(client_id=a)
    services.do_cancel(actor=world.manager, appointment_id=first.id)
    waiting.refresh_from_db()
    later.refresh_from_db()
    assert waiting.status == AppointmentStatus.BOOKED  # first come, first served
    assert later.status == AppointmentStatus.WAITLISTED
    assert used(cat, day) == 1
    assert LedgerEntry.objects.filter(action="booking.promote").count() == 1


def test_reschedule_moves_the_place_and_cancel_gives_it_back(world, catalogue):
    client_id = world.enrol().client_id
    first_day, second_day = open_days(catalogue.branch, 2)
    appointment = book(world, catalogue, client_id, first_day)
    moved = services.do_reschedule(
        actor=world.manager, appointment_id=appointment.id, day=second_day
    )
    assert moved.day == second_day and moved.reschedules == 1
    assert used(catalogue, first_day) == 0 and used(catalogue, second_day) == 1
    refused(
        "same_day",
        services.do_reschedule,
        actor=world.manager,
        appointment_id=appointment.id,
        day=second_day,
    )
    services.do_cancel(actor=world.manager, appointment_id=appointment.id)
    assert used(catalogue, second_day) == 0
    refused("not_changeable", services.do_cancel, actor=world.manager, appointment_id=moved.id)


def test_one_live_booking_per_client_and_day(world, catalogue):
    client_id = world.enrol().client_id
    day = next_open_day(catalogue.branch)
    book(world, catalogue, client_id, day)
    refused("already_booked", book, world, catalogue, client_id, day)
    assert used(catalogue, day) == 1


def test_bad_dates_are_refused_each_with_its_reason(world, catalogue):
    client_id = world.enrol().client_id
    today = timezone.localdate()
    refused("past_date", book, world, catalogue, client_id, today - dt.timedelta(days=1))
    refused("inside_lead_time", book, world, catalogue, client_id, today)
    refused("beyond_horizon", book, world, catalogue, client_id, today + dt.timedelta(days=120))
    # A Sunday: this branch works Monday to Saturday.
    sunday = today + dt.timedelta(days=(6 - today.weekday()) % 7 or 7)
    if sunday - today < dt.timedelta(days=2):
        sunday += dt.timedelta(days=7)
    status = services.day_status(catalogue.branch, sunday)
    if status.reason == "weekly_closed":
        refused("weekly_closed", book, world, catalogue, client_id, sunday)
    day = next_open_day(catalogue.branch)
    ps.do_set_day(actor=world.admin, day=day, is_open=False)
    refused("override_closed", book, world, catalogue, client_id, day)
    ps.do_set_day(actor=world.admin, day=day, is_open=None)
    book(world, catalogue, client_id, day)


def test_a_day_with_no_capacity_row_is_refused(world, catalogue):
    client_id = world.enrol().client_id
    ps.do_set_day(actor=world.admin, day=timezone.localdate() + dt.timedelta(days=75), is_open=True)
    refused(
        "no_capacity", book, world, catalogue, client_id, timezone.localdate() + dt.timedelta(75)
    )


def test_unsuitable_packages_are_refused_by_sex_and_age(world):
    cat = make_catalogue(world, sex="F", min_age=30, max_age=60)
    day = next_open_day(cat.branch)
    man = world.enrol(sex="M", birth_date=dt.date(1980, 1, 1)).client_id
    refused("unsuitable_sex", book, world, cat, man, day)
    young = world.enrol(sex="F", birth_date=day.replace(year=day.year - 20)).client_id
    assert "30" in refused("too_young", book, world, cat, young, day).message
    old = world.enrol(sex="F", birth_date=dt.date(1940, 1, 1)).client_id
    refused("too_old", book, world, cat, old, day)
    fits = world.enrol(sex="F", birth_date=dt.date(1980, 1, 1)).client_id
    book(world, cat, fits, day)


def test_the_package_must_be_published_offered_at_the_branch_and_addons_its_own(world, catalogue):
    client_id = world.enrol().client_id
    day = next_open_day(catalogue.branch)
    refused(
        "branch_not_offered", book, world, catalogue, client_id, day,
        branch_id=catalogue.other_branch.id,
    )  # fmt: skip
    other_item = catalogue.version.items.filter(is_addon=False).first().id
    refused("addon_not_in_package", book, world, catalogue, client_id, day, addon_ids=[other_item])
    ps.do_retire_package(actor=world.admin, package_id=catalogue.version.package_id)
    refused("package_not_bookable", book, world, catalogue, client_id, day)


def test_cancel_after_the_window_is_refused(world, catalogue):
    client_id = world.enrol().client_id
    day = next_open_day(catalogue.branch, after=1)
    # One day ahead with a 24-hour window: bookable, but changes close at midnight before.
    catalogue.version.__class__.objects.filter(pk=catalogue.version.pk).update(cancel_hours=48)
    appointment = book(world, catalogue, client_id, day)
    if (day - timezone.localdate()).days <= 2:
        error = refused(
            "after_cancel_window",
            services.do_cancel,
            actor=world.manager,
            appointment_id=appointment.id,
        )
        assert "48" in error.message


def test_outsiders_cannot_book_and_their_refusal_is_ledgered(world, catalogue):
    client_id = world.enrol().client_id
    day = next_open_day(catalogue.branch)
    for actor in (world.manager_b, world.outsider, world.admin, world.auditor, world.analyst,
                  world.doctor):  # fmt: skip
        with pytest.raises(AccessDenied):
            book(world, catalogue, client_id, day, actor=actor)
    denied = LedgerEntry.objects.filter(action="booking.manage", outcome="denied")
    assert denied.count() == 6
    assert not Appointment.objects.exists()
    assert used(catalogue, day) == 0


def test_the_nurse_books_for_her_team(world, catalogue):
    client_id = world.enrol().client_id
    day = next_open_day(catalogue.branch)
    assert book(world, catalogue, client_id, day, actor=world.nurse).booked_by == world.nurse


def test_desk_check_in_by_card_number(world, catalogue):
    from careledger.clients.models import MembershipCard

    enrolled = world.enrol()
    today = timezone.localdate()
    appointment = book(world, catalogue, enrolled.client_id, next_open_day(catalogue.branch))
    Appointment.objects.filter(pk=appointment.id).update(day=today)
    number = MembershipCard.objects.get(client_id=enrolled.client_id).number
    refused(
        "card_not_found", visits.do_check_in, actor=world.nurse, card_number="1001000000",
        branch_id=catalogue.branch.id,
    )  # fmt: skip
    with pytest.raises(AccessDenied):
        visits.do_check_in(
            actor=world.manager_b, card_number=str(number), branch_id=catalogue.branch.id
        )
    checked = visits.do_check_in(
        actor=world.nurse, card_number=str(number), branch_id=catalogue.branch.id
    )
    assert checked.status == AppointmentStatus.CHECKED_IN and checked.checked_in_by == world.nurse
    refused(
        "no_appointment_today", visits.do_check_in, actor=world.nurse, card_number=str(number),
        branch_id=catalogue.branch.id,
    )  # fmt: skip


def test_no_shows_are_marked_once(world, catalogue):
    client_id = world.enrol().client_id
    appointment = book(world, catalogue, client_id, next_open_day(catalogue.branch))
    Appointment.objects.filter(pk=appointment.id).update(
        day=timezone.localdate() - dt.timedelta(days=1)
    )
    assert visits.mark_no_shows() == 1
    assert visits.mark_no_shows() == 0
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.NO_SHOW


def test_an_imported_report_links_back_to_its_visit(world, catalogue):
    from observations.test_trends_data import write_report

    client_id = world.enrol().client_id
    day = next_open_day(catalogue.branch)
    appointment = book(world, catalogue, client_id, day)
    report = write_report(world.manager, client_id, day, [("2345-7", "5.4")])
    assert visits.link_reports(report_ids=[report.id]) == 1
    assert visits.link_reports(report_ids=[report.id]) == 0  # idempotent
    appointment.refresh_from_db()
    assert appointment.report_id == report.id
    assert appointment.status == AppointmentStatus.COMPLETED
    far = write_report(world.manager, client_id, day + dt.timedelta(days=20), [("2345-7", "5.1")])
    assert visits.link_reports(report_ids=[far.id]) == 0
