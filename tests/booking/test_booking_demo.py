"""The demo's booking data comes through the real services and is idempotent."""

from __future__ import annotations

import pytest

from careledger.booking.models import Appointment, Capacity, PackageVersion


@pytest.mark.django_db
def test_demo_seed_makes_packages_capacity_and_bookings_once(settings):
    from careledger.demo.seed import seed

    settings.DEMO_MODE = True
    seed(client_count=24)
    published = PackageVersion.objects.filter(status="published")
    assert sorted(published.values_list("package__code", flat=True)) == ["basic", "senior", "women"]
    assert Capacity.objects.filter(used__gt=0).exists()
    made = Appointment.objects.count()
    assert made >= 8
    seed(client_count=24)
    assert Appointment.objects.count() == made
    assert PackageVersion.objects.count() == 3
