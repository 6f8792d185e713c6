"""Invariant 1: every route that touches client data refuses an outsider.

The routes are enumerated from the URL resolver (pages and the API alike), not hand-listed, so a
new route is covered the day it is added; the allow-list of public routes is explicit and may not
contain a route that takes a client id.
"""

from __future__ import annotations

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from careledger.clients.models import Client
from careledger.ledger.models import LedgerEntry

pytestmark = pytest.mark.django_db

# Public by design: signing in, the health check, the language switch and the API description.
PUBLIC = {"login/", "healthz", "language/", "api/openapi.json", "api/docs", "portal/login/"}
# Pages that hold no client data but need a login (the workbench home, the logout action, the
# care-team structure that admins and auditors see).
NO_CLIENT_DATA = {"", "logout/", "teams/"}
# A user's own account, MFA and step-up, and the institution admin's staff-account pages
# (careledger.accounts; refusals are tested in tests/accounts). The reset-link pages are public:
# the token is the credential, and using it signs no one in.
PUBLIC |= {"account/reset/<str:token>/", "account/reset/new-password/"}
NO_CLIENT_DATA |= {
    "account/",
    "account/mfa/",
    "account/mfa/enrol/",
    "account/mfa/backup-codes/",
    "account/step-up/",
    "account/password/",
    "account/logout-everywhere/",
    "account/admin/users/",
    "account/admin/locked/",
    "account/admin/unlock/",
    "account/admin/active/",
    "account/admin/reset-link/",
    "account/admin/mfa-reset/",
}

# The audit ledger (careledger.ledger.api): its public key is public by design; heads and proofs
# are for auditors of the entry's institution only, and hold audit data, not client records.
# Their refusals (anonymous, every other role, other institutions) are tested, ledgered, in
# tests/ledger/test_ledger_api.py.
PUBLIC |= {"api/ledger/public-key"}
AUDITORS_ONLY = {
    "api/ledger/tree-head",
    "api/ledger/entries/<seq>/inclusion",
    "api/ledger/consistency",
}


def enumerate_routes(patterns=None, prefix=""):  # type: ignore[no-untyped-def]
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            yield from enumerate_routes(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern)


def concrete(route: str, client_id: str) -> str:
    route = route.lstrip("^").rstrip("$")
    route = re.sub(r"<uuid:\w+>|<client_id>", client_id, route)
    route = re.sub(r"<int:\w+>", "1", route)
    return "/" + route


@pytest.fixture
def target(world):  # type: ignore[no-untyped-def]
    enrolled = world.enrol(name="欧阳明月", phone="13912340000")
    client = Client.objects.get(pk=enrolled.client_id)
    secrets = [client.name, client.phone, client.document_number, enrolled.card_number]
    return str(client.id), secrets


def routes_to_check(client_id: str) -> list[str]:
    routes = sorted(set(enumerate_routes()))
    skip = PUBLIC | NO_CLIENT_DATA | AUDITORS_ONLY
    return [concrete(r, client_id) for r in routes if r not in skip]


def test_the_enumeration_finds_the_client_routes(target):
    client_id, _ = target
    urls = routes_to_check(client_id)
    assert f"/clients/{client_id}/" in urls
    assert f"/api/clients/{client_id}" in urls
    assert "/clients/search/" in urls and "/api/clients/search" in urls
    assert not [r for r in PUBLIC if "client" in r]


def test_anonymous_is_refused_everywhere(client, target):
    client_id, secrets = target
    for url in routes_to_check(client_id):
        for method in ("get", "post"):
            response = getattr(client, method)(url, {"q": "欧阳"})
            assert response.status_code in {302, 401, 403, 404, 405}, (method, url)
            if response.status_code == 302:
                assert "/login/" in response["Location"], url
            body = response.content.decode(errors="ignore")
            assert not any(s in body for s in secrets), (method, url)


@pytest.mark.parametrize("who", ["outsider", "manager_b", "admin", "auditor", "analyst"])
def test_users_outside_the_care_team_are_refused_and_it_is_ledgered(world, target, login, who):
    client_id, secrets = target
    user = getattr(world, who)
    http = login(user)
    for url in routes_to_check(client_id):
        before = LedgerEntry.objects.filter(actor_id=str(user.id), outcome="denied").count()
        response = http.get(url, {"q": "欧阳"})
        body = response.content.decode(errors="ignore")
        assert not any(s in body for s in secrets), (who, url)
        if response.status_code == 200:
            # Only list, search and the empty enrolment form may answer, never with this client.
            assert url.rstrip("/").endswith(("clients", "search", "enrol")), (who, url)
            continue
        assert response.status_code in {403, 404}, (who, url, response.status_code)
        if response.status_code == 403:
            after = LedgerEntry.objects.filter(actor_id=str(user.id), outcome="denied").count()
            assert after > before, (who, url)


def test_the_care_team_does_get_the_same_routes(world, target, login):
    client_id, secrets = target
    http = login(world.manager)
    for url in routes_to_check(client_id):
        response = http.get(url, {"q": "欧阳"})
        if url.startswith("/portal/"):  # the client portal is for clients (tests/portal)
            assert response.status_code == 403, (url, response.status_code)
            continue
        if url == "/api/":  # django-ninja's bare root: a pattern with no GET operation
            assert response.status_code == 404
            continue
        assert response.status_code == 200, (url, response.status_code)
    assert secrets[0] in http.get(f"/clients/{client_id}/").content.decode()


def test_pages_without_client_data_still_need_a_login(client):
    for route in NO_CLIENT_DATA:
        response = client.get("/" + route)
        assert response.status_code in {302, 405}, route
        if response.status_code == 302:
            assert "/login/" in response["Location"]
