"""Invariant 1 for the store's and membership's own routes: the shared route test
(tests/access/test_every_route_refuses_outsiders.py) run again on just these routes, so a
regression here is named even while another app's route fails the shared test first."""

from __future__ import annotations

import pytest

from access import test_every_route_refuses_outsiders as shared

MINE = ("orders", "membership", "payments", "portal/card")


@pytest.fixture(autouse=True)
def only_my_routes(monkeypatch):  # type: ignore[no-untyped-def]
    everything = shared.enumerate_routes

    def mine(patterns=None, prefix=""):  # type: ignore[no-untyped-def]
        for route in everything(patterns, prefix):
            if (
                any(part in route for part in MINE)
                or route in shared.PUBLIC
                or route in shared.SELF
            ):
                yield route

    monkeypatch.setattr(shared, "enumerate_routes", mine)


def test_my_routes_are_classified(target):
    routes = set(shared.enumerate_routes())
    assert "api/payments/<provider>/notify" in routes
    assert {shared.route_class(r) for r in routes if "orders" in r} == {"client", "portal"}
    assert shared.route_class("config/membership/") == "institution"


test_anonymous_is_refused_everywhere = shared.test_anonymous_is_refused_everywhere
test_staff_without_a_care_team_link_are_refused_and_it_is_ledgered = (
    shared.test_staff_without_a_care_team_link_are_refused_and_it_is_ledgered
)
test_client_b_in_the_portal_is_refused_client_as_data = (
    shared.test_client_b_in_the_portal_is_refused_client_as_data
)
test_client_a_cannot_use_the_staff_side_either = (
    shared.test_client_a_cannot_use_the_staff_side_either
)
test_the_care_team_does_get_the_client_routes = shared.test_the_care_team_does_get_the_client_routes
target = shared.target
pytestmark = shared.pytestmark
