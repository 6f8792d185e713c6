"""The demo seeds card entitlements and orders through the real services, once."""

from __future__ import annotations

import pytest

from careledger.membership.models import LevelEntitlement
from careledger.store.models import Order

pytestmark = pytest.mark.django_db


def test_the_demo_has_entitlements_and_orders_in_several_states_and_adds_nothing_twice():
    from careledger.demo.seed import seed

    seed(client_count=40)
    states = set(Order.objects.values_list("state", flat=True))
    assert {"booked", "awaiting_payment"} <= states, states
    assert Order.objects.filter(entitlement_use__isnull=False).exists()  # card covered one
    assert Order.objects.exclude(beneficiary_id=models_f("client_id")).exists()
    assert LevelEntitlement.objects.filter(level="gold", kind="consultation", quantity=4).exists()
    count = Order.objects.count()
    seed(client_count=40)
    assert Order.objects.count() == count


def models_f(name):  # type: ignore[no-untyped-def]
    from django.db.models import F

    return F(name)
