"""Clients racing for the last places: exactly as many win as there are places, every other one
is told plainly that the day is full, and the capacity row never goes past its limit (real
threads, each its own database connection and transaction; meaningful on PostgreSQL, where the
row lock is what serialises them)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from careledger.booking import services
from careledger.booking.errors import BookingRefused
from careledger.booking.models import Appointment, AppointmentStatus, Capacity
from conftest import World

from .conftest import make_catalogue, open_days

pytestmark = pytest.mark.django_db(transaction=True)


def _needs_real_connections() -> None:
    name = str(connection.settings_dict["NAME"])
    if connection.vendor == "sqlite" and (name in ("", ":memory:") or "mode=memory" in name):
        pytest.skip("in-memory SQLite is one connection; the race needs real connections")


def race(calls):  # type: ignore[no-untyped-def]
    """Run the calls at the same moment; each outcome is "ok" or the refusal's code: message."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(call):  # type: ignore[no-untyped-def]
        barrier.wait()
        try:
            call()
            result = "ok"
        except BookingRefused as exc:
            result = f"{exc.code}: {exc.message}"
        except Exception as exc:  # a crash is an outcome the test must see
            result = f"crash: {type(exc).__name__}: {exc}"
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=run, args=(c,)) for c in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def _booker(world, cat, client_id, day):  # type: ignore[no-untyped-def]
    return lambda: services.do_book(
        actor=world.manager,
        client_id=client_id,
        version_id=cat.version.id,
        branch_id=cat.branch.id,
        day=day,
    )


def test_two_clients_racing_for_the_last_place_one_wins_the_other_is_told():
    _needs_real_connections()
    world = World()
    cat = make_catalogue(world, limit=1)
    day = open_days(cat.branch, 1)[0]
    a, b = world.enrol().client_id, world.enrol().client_id
    outcomes = race([_booker(world, cat, a, day), _booker(world, cat, b, day)])
    assert sorted(o.split(":")[0] for o in outcomes) == ["full", "ok"], outcomes
    refused = next(o for o in outcomes if o.startswith("full"))
    assert "最后一个名额" in refused or "last place" in refused
    row = Capacity.objects.get(branch=cat.branch, day=day, package_id=cat.version.package_id)
    assert (row.used, row.limit) == (1, 1)
    assert Appointment.objects.filter(status=AppointmentStatus.BOOKED).count() == 1


def test_many_clients_racing_for_a_few_places_never_oversell():
    _needs_real_connections()
    world = World()
    cat = make_catalogue(world, limit=3, gastro_limit=2)
    day = open_days(cat.branch, 1)[0]
    clients = [world.enrol().client_id for _ in range(10)]
    calls = [_booker(world, cat, c, day) for c in clients]
    # Half of them also want the gastroscopy, which has two places.
    calls = [
        (lambda c=c: services.do_book(
            actor=world.manager, client_id=c, version_id=cat.version.id,
            branch_id=cat.branch.id, day=day, addon_ids=[cat.gastro_addon_id],
        )) if n % 2 else calls[n]
        for n, c in enumerate(clients)
    ]  # fmt: skip
    outcomes = race(calls)
    assert not [o for o in outcomes if o.startswith("crash")], outcomes
    assert outcomes.count("ok") == 3, outcomes
    package_row = Capacity.objects.get(
        branch=cat.branch, day=day, package_id=cat.version.package_id
    )
    gastro_row = Capacity.objects.get(branch=cat.branch, day=day, resource=cat.gastroscopy)
    booked = Appointment.objects.filter(status=AppointmentStatus.BOOKED)
    assert package_row.used == booked.count() == 3
    with_gastro = booked.filter(addons=cat.gastro_addon_id).count()
    assert gastro_row.used == with_gastro <= 2


def test_one_client_booking_twice_at_once_gets_one_booking():
    _needs_real_connections()
    world = World()
    cat = make_catalogue(world, limit=5)
    day = open_days(cat.branch, 1)[0]
    client_id = world.enrol().client_id
    outcomes = race([_booker(world, cat, client_id, day) for _ in range(3)])
    assert outcomes.count("ok") == 1, outcomes
    assert all(o.startswith("already_booked") for o in outcomes if o != "ok"), outcomes
    row = Capacity.objects.get(branch=cat.branch, day=day, package_id=cat.version.package_id)
    assert row.used == 1


def test_a_cancellation_and_a_new_booking_racing_leave_the_count_right():
    _needs_real_connections()
    world = World()
    cat = make_catalogue(world, limit=1)
    day = open_days(cat.branch, 1)[0]
    a, b = world.enrol().client_id, world.enrol().client_id
    first = _booker(world, cat, a, day)()
    outcomes = race(
        [
            lambda: services.do_cancel(actor=world.manager, appointment_id=first.id),
            _booker(world, cat, b, day),
        ]
    )
    assert not [o for o in outcomes if o.startswith("crash")], outcomes
    row = Capacity.objects.get(branch=cat.branch, day=day, package_id=cat.version.package_id)
    assert row.used == Appointment.objects.filter(status=AppointmentStatus.BOOKED).count() <= 1
