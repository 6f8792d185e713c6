"""Invariant 1: every route refuses whoever has no business with client A's data.

The routes are enumerated from the URL resolver (pages and the API alike), not hand-listed, so a
new route is covered the day it is added. Each route falls in one class, decided by its prefix:

* PUBLIC — signing in, the health check, the language switch, the API description, the ledger's
  public key, reset-link pages (the token is the credential). May not take a client id.
* SELF — the signed-in staff user's own pages (workbench home, own account, MFA, step-up) and the
  institution admin's staff-account pages; no client data (their refusals: tests/accounts).
* OVERSIGHT — the auditor's workbench and ledger heads and proofs: ids and actions, no records.
* PORTAL — the client portal: always acts on the signed-in client, never takes a client id.
* INSTITUTION — institution-level work with no client id in the route: report imports and their
  history (counts), code mappings and import sources (configuration). Each is scoped to the
  asker's institution; their refusals are in their own tests (tests/exams, tests/observations).
  A quarantined result names no client until someone allowed to see the chosen client matches it.
* FHIR — the FHIR R4 API (fhir/R4/). Partner institutions authenticate by OAuth 2 (client
  credentials) and reach a client only through that client's share grant; staff use it under the
  care-team policy; outsiders are refused (401 without credentials, 403 ledgered with them). Its
  routes take resource types and ids, so `FHIR_URLS` gives each a concrete request; the
  CapabilityStatement, SMART configuration, published keys and token endpoint are PUBLIC.
* CLIENT — everything else: routes that reach client data.

The subjects: anonymous; a user of another institution; a clinician of the same institution in
another care team; the institution admin, the auditor and the analyst (separation of duties);
client B signed in to the portal; and client A on the staff side.
"""

from __future__ import annotations

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from careledger.clients.models import Client
from careledger.ledger.models import LedgerEntry

pytestmark = pytest.mark.django_db

PUBLIC = {
    "login/",
    "healthz",
    "language/",
    "api/openapi.json",
    "api/docs",
    "api/ledger/public-key",
    # FHIR: what a partner reads before it has a token, and the token endpoint (sharing).
    "fhir/R4/metadata",
    "fhir/R4/.well-known/smart-configuration",
    "fhir/R4/.well-known/jwks.json",
    "fhir/R4/auth/token",
    "api/reports/public-key",
    "portal/login/",
    "account/reset/<str:token>/",
    "account/reset/new-password/",
    # Payment providers' callbacks: the provider's signature is the credential (store).
    "api/payments/<provider>/notify",
}
SELF_PREFIXES = ("account/",)
SELF = {"", "logout/", "teams/"}
OVERSIGHT_PREFIXES = ("audit/", "api/ledger/")
PORTAL_PREFIXES = ("portal/",)
FHIR_PREFIXES = ("fhir/R4/",)
# The follow-up work queue and its tasks: institution-level routes scoped to the asker's care
# teams (the queue lists only their teams' clients; a task page asks the policy about the
# task's client). Their refusals: tests/followup/test_followup_access.py.
INSTITUTION_PREFIXES = (
    "imports/",
    "config/",
    "api/imports/",
    "api/config/",
    # Bulk and research exports: requests name purpose and scope, never a client in the route;
    # each is scoped to the asker's institution; their refusals are in tests/exports.
    "exports/",
    "api/exports",
    "followup/",
    "api/followup/",
)

# CLIENT routes that may answer 200 to someone outside the care team, because what they show is
# scoped to the asker (their own list, an empty search, an empty enrolment form) or holds nothing
# of the client (the break-glass request form, for a clinician of the same institution).
# The front desk's day list (bookings/desk/, api/bookings/desk) shows the asker's own teams only.
SCOPED_TO_ASKER = ("clients", "search", "enrol", "desk")


def enumerate_routes(patterns=None, prefix=""):  # type: ignore[no-untyped-def]
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            yield from enumerate_routes(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern)


def route_class(route: str) -> str:
    if route in PUBLIC:
        return "public"
    if route in SELF or route.startswith(SELF_PREFIXES):
        return "self"
    if route.startswith(OVERSIGHT_PREFIXES):
        return "oversight"
    if route.startswith(FHIR_PREFIXES):
        return "fhir"
    if route.startswith(PORTAL_PREFIXES):
        return "portal"
    if route.startswith(INSTITUTION_PREFIXES):
        return "institution"
    return "client"


def concrete(route: str, client_id: str, seq: int) -> str:
    route = route.lstrip("^").rstrip("$")
    route = re.sub(r"<uuid:\w+>|<client_id>", client_id, route)
    route = re.sub(r"<int:seq>|<seq>", str(seq), route)
    route = re.sub(r"<int:\w+>", "1", route)
    return "/" + route


class Target:
    """Client A, what must never leak of them, and one ledger entry of theirs."""

    def __init__(self, world) -> None:  # type: ignore[no-untyped-def]
        enrolled = world.enrol(name="欧阳明月", phone="13912340000")
        client = Client.objects.get(pk=enrolled.client_id)
        self.client = client
        self.id = str(client.id)
        self.secrets = [client.name, client.phone, client.document_number, enrolled.card_number]
        self.seq = LedgerEntry.objects.filter(client_id=self.id).order_by("seq").first().seq

    def routes(self, *classes: str) -> list[str]:
        routes = sorted(set(enumerate_routes()))
        return [concrete(r, self.id, self.seq) for r in routes if route_class(r) in classes]

    def leaks(self, body: str) -> list[str]:
        return [s for s in self.secrets if s in body]


@pytest.fixture
def target(world):  # type: ignore[no-untyped-def]
    return Target(world)


def portal_user(client):  # type: ignore[no-untyped-def]
    """The portal account a client gets at their first sign-in (tests/portal drive the SMS)."""
    from careledger.portal.services import _portal_user

    return _portal_user(client)


def params(url: str) -> dict[str, object]:
    """Query parameters that make each route reach its authorisation (not a 422 on shape)."""
    return {"first": 1, "second": 2} if url.endswith("/consistency") else {"q": "欧阳"}


def body(response) -> str:  # type: ignore[no-untyped-def]
    raw = b"".join(response.streaming_content) if response.streaming else response.content
    return raw.decode(errors="ignore")


def denials(user) -> int:  # type: ignore[no-untyped-def]
    return LedgerEntry.objects.filter(actor_id=str(user.id), outcome="denied").count()


def test_every_route_has_a_class_and_public_ones_take_no_client(target):
    routes = set(enumerate_routes())
    assert {route_class(r) for r in routes} == {
        "public",
        "self",
        "oversight",
        "portal",
        "client",
        "institution",
        "fhir",
    }
    assert f"/clients/{target.id}/" in target.routes("client")
    assert f"/api/clients/{target.id}" in target.routes("client")
    assert "/portal/access-log/" in target.routes("portal")
    assert "/audit/events/" in target.routes("oversight")
    assert not [r for r in PUBLIC if "client" in r or "<uuid" in r]
    assert not [r for r in routes if route_class(r) == "portal" and "<uuid" in r]


def test_anonymous_is_refused_everywhere(client, target):
    for url in target.routes("self", "oversight", "portal", "client", "institution"):
        for method in ("get", "post"):
            response = getattr(client, method)(url, params(url))
            assert response.status_code in {302, 401, 403, 404, 405}, (method, url)
            if response.status_code == 302:
                assert "/login/" in response["Location"], (method, url)
            assert not target.leaks(body(response)), (method, url)


@pytest.mark.parametrize("who", ["outsider", "manager_b", "admin", "auditor", "analyst"])
def test_staff_without_a_care_team_link_are_refused_and_it_is_ledgered(world, target, login, who):
    user = getattr(world, who)
    http = login(user)
    for url in target.routes("client", "oversight", "portal"):
        before = denials(user)
        response = http.get(url, params(url))
        assert not target.leaks(body(response)), (who, url)
        if who == "auditor" and url.startswith(("/audit/", "/api/ledger/")):
            # Their own workbench (a made-up grant or alert id is simply not found).
            assert response.status_code in {200, 302, 404}, (url, response.status_code)
            continue
        if response.status_code == 200:
            allowed = url.rstrip("/").endswith(SCOPED_TO_ASKER) or (
                who == "manager_b" and url.endswith("/break-glass/")
            )
            assert allowed, (who, url)
            continue
        assert response.status_code in {403, 404}, (who, url, response.status_code)
        if response.status_code == 403:
            assert denials(user) > before, (who, url)
    for url in target.routes("institution"):
        # Scoped to the asker's institution: whatever it answers, nothing of client A.
        response = http.get(url, params(url))
        assert not target.leaks(body(response)), (who, url)


def test_client_b_in_the_portal_is_refused_client_as_data(world, target, client):
    other = Client.objects.get(pk=world.enrol(name="司马青衫").client_id)
    user_b = portal_user(other)
    client.force_login(user_b)
    for url in target.routes("client", "oversight", "self", "portal", "institution"):
        if url == "/portal/logout/":
            continue
        before = denials(user_b)
        response = client.get(url, params(url))
        assert not target.leaks(body(response)), url
        if url.startswith("/portal/") and "/receipt/" not in url:
            # Their own portal, about themselves (the code page sends a signed-in client home).
            assert response.status_code in {200, 302}, url
            continue
        if url == "/":  # the staff home sends a portal user to the portal home
            assert response.status_code == 302 and response["Location"] == "/portal/"
            continue
        assert response.status_code in {401, 403, 404}, (url, response.status_code)
        if response.status_code in {403, 404}:
            assert denials(user_b) > before, url


def test_client_a_cannot_use_the_staff_side_either(target, client):
    user_a = portal_user(target.client)
    client.force_login(user_a)
    for url in target.routes("client", "oversight", "institution"):
        response = client.get(url, params(url))
        assert response.status_code in {401, 403, 404}, (url, response.status_code)


def test_the_care_team_does_get_the_client_routes(world, target, login):
    http = login(world.manager)
    for url in target.routes("client"):
        response = http.get(url, params(url))
        if url == "/api/":  # django-ninja's bare root: a pattern with no GET operation
            assert response.status_code == 404
        elif url.endswith("/tags/manual/"):  # a form's POST target: GET goes to the tags page
            assert response.status_code == 302 and response["Location"].endswith(
                f"/clients/{target.id}/tags/"
            )
        elif url.endswith("/report/pdf"):  # a print names its purpose: without one, a 422
            assert response.status_code == 422 and "purpose" in response.json()["errors"]
        elif url.endswith("/break-glass/"):  # nothing to break: straight to the record
            assert response.status_code == 302 and response["Location"].endswith(
                f"/clients/{target.id}/"
            )
        else:
            assert response.status_code == 200, (url, response.status_code)
    for url in target.routes("portal", "oversight"):
        assert http.get(url, params(url)).status_code in {403, 404}, url
    assert target.secrets[0] in http.get(f"/clients/{target.id}/").content.decode()


def test_own_pages_still_need_a_login(client):
    for route in SELF:
        response = client.get("/" + route)
        assert response.status_code in {302, 405}, route
        if response.status_code == 302:
            assert "/login/" in response["Location"]


# FHIR routes → a request that reaches each one's authorisation ({id}: client A's id).
FHIR_URLS = {
    "fhir/R4/$share/<grant_id>": ("get", "/fhir/R4/$share/{id}"),
    "fhir/R4/Patient/<client_id>/$everything": ("get", "/fhir/R4/Patient/{id}/$everything"),
    "fhir/R4/<rtype>/<rid>": ("get", "/fhir/R4/Patient/{id}"),
    "fhir/R4/<rtype>": ("get", "/fhir/R4/Observation?patient=Patient/{id}"),
    "fhir/R4/": ("post", "/fhir/R4/"),
}


def fhir_requests(target):  # type: ignore[no-untyped-def]
    routes = {r for r in enumerate_routes() if route_class(r) == "fhir"}
    assert routes == set(FHIR_URLS), "a new FHIR route needs its request in FHIR_URLS"
    return [(m, url.format(id=target.id)) for m, url in FHIR_URLS.values()]


def test_fhir_routes_refuse_outsiders_and_serve_the_care_team(world, target, client, login):
    from django.test import Client as Http
    from tests.sharing.conftest import register, token

    from careledger.access.roles import Action, permits

    for method, url in fhir_requests(target):  # anonymous: no credentials, no data
        response = getattr(Http(), method)(url)
        assert response.status_code == 401, (method, url)
        assert not target.leaks(body(response))
    for who in ("outsider", "manager_b", "admin", "auditor", "analyst"):
        user = getattr(world, who)
        http = login(user)
        for method, url in fhir_requests(target):
            before = denials(user)
            response = getattr(http, method)(url, content_type="application/fhir+json")
            assert not target.leaks(body(response)), (who, url)
            if method == "post" and permits(user.role, Action.EXAM_IMPORT):
                # A Bundle import is institution-level: it lands in the asker's own institution.
                assert response.status_code == 202, (who, url)
                continue
            assert response.status_code == 403, (who, method, url, response.status_code)
            assert denials(user) > before, (who, url)
    other = Client.objects.get(pk=world.enrol(name="司马青衫").client_id)
    user_b = portal_user(other)
    http_b = Http()
    http_b.force_login(user_b)
    for method, url in fhir_requests(target):
        before = denials(user_b)
        response = getattr(http_b, method)(url)
        assert response.status_code == 403 and denials(user_b) > before, url
        assert not target.leaks(body(response))
    # A partner institution with a valid token but no share grant from client A.
    partnered = register(world)
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {token(Http(), partnered)}"}
    for method, url in fhir_requests(target):
        response = getattr(Http(), method)(url, **bearer)
        assert response.status_code in {403, 404}, (method, url, response.status_code)
        assert not target.leaks(body(response))
    partner_denials = LedgerEntry.objects.filter(
        actor_id=str(partnered.partner.id), outcome="denied"
    ).count()
    assert partner_denials >= 4
    # The care team reads client A (the $share route is a partner's; the import is a POST).
    manager = login(world.manager)
    for _method, url in fhir_requests(target)[1:4]:
        response = manager.get(url)
        assert response.status_code == 200, url
