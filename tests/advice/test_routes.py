"""Invariant 1 for the advice routes alone: the repository-wide enumeration
(tests/access/test_every_route_refuses_outsiders.py) run over just the routes this app adds, so
a failure elsewhere cannot hide one here."""

from __future__ import annotations

import pytest

from access.test_every_route_refuses_outsiders import Target, body, denials, params

pytestmark = pytest.mark.django_db


def advice_routes(target: Target, *classes: str) -> list[str]:
    return [u for u in target.routes(*classes) if "/advice" in u]


@pytest.fixture
def target(world):  # type: ignore[no-untyped-def]
    return Target(world)


def test_the_app_adds_client_and_institution_routes(target):
    client = advice_routes(target, "client")
    assert f"/clients/{target.id}/advice/" in client
    assert f"/api/clients/{target.id}/advice" in client
    assert "/config/advice/" in advice_routes(target, "institution")
    assert "/api/config/advice" in advice_routes(target, "institution")


@pytest.mark.parametrize("who", ["outsider", "manager_b", "admin", "auditor", "analyst"])
def test_outsiders_are_refused_every_client_route_and_it_is_ledgered(world, target, login, who):
    user = getattr(world, who)
    http = login(user)
    for url in advice_routes(target, "client"):
        for method in ("get", "post"):
            before = denials(user)
            if method == "post" and url.startswith("/api/"):  # a well-formed body: the policy
                response = http.post(url, {}, content_type="application/json")  # answers
            else:
                response = getattr(http, method)(url, params(url))
            if method == "post" and response.status_code == 405:
                continue  # a read-only route: no handler runs
            assert response.status_code in {403, 404}, (who, method, url, response.status_code)
            assert not target.leaks(body(response)), (who, url)
            if response.status_code == 403:
                assert denials(user) > before, (who, url)


def test_anonymous_is_sent_to_sign_in_or_refused(client, target):
    for url in advice_routes(target, "client", "institution"):
        response = client.get(url, params(url))
        assert response.status_code in {302, 401, 405}, url
        if response.status_code == 302:
            assert "/login/" in response["Location"]


def test_the_care_team_gets_every_client_route(world, target, login):
    http = login(world.manager)
    for url in advice_routes(target, "client"):
        assert http.get(url, params(url)).status_code == 200, url


@pytest.mark.parametrize("who", ["manager", "doctor", "nurse", "auditor", "analyst", "outsider"])
def test_only_the_admin_reaches_the_catalogue_routes(world, target, login, who):
    user = getattr(world, who)
    http = login(user)
    for url in advice_routes(target, "institution"):
        before = denials(user)
        response = http.get(url, params(url))
        assert response.status_code in {403, 405}, (who, url, response.status_code)
        if response.status_code == 403:
            assert denials(user) > before, (who, url)


def test_the_admin_reads_the_catalogue_and_nothing_of_the_client(world, target, login):
    http = login(world.admin)
    for url in advice_routes(target, "institution"):
        response = http.get(url, params(url))
        assert response.status_code in {200, 404, 405}, (url, response.status_code)
        assert not target.leaks(body(response)), url
