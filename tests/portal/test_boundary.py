"""A portal user reaches their own portal and nothing else: no staff page, no API route, no
other client's entries or receipts; staff do not use the portal. Every refusal is ledgered."""

from __future__ import annotations

import json
import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from careledger.ledger.models import LedgerEntry
from careledger.ledger.receipts import verify_receipt

pytestmark = pytest.mark.django_db
PHONE_A = "13912340000"
PHONE_B = "13912341111"
OPEN_TO_ALL = {"healthz", "language/", "api/ledger/public-key"}


def routes(patterns=None, prefix=""):  # type: ignore[no-untyped-def]
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            yield from routes(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern)


def concrete(route: str, client_id: str) -> str:
    route = route.lstrip("^").rstrip("$")
    route = re.sub(r"<uuid:\w+>|<client_id>", client_id, route)
    route = re.sub(r"<int:\w+>", "1", route)
    route = re.sub(r"<(?:str:)?\w+>", "x", route)
    return "/" + route


@pytest.fixture
def two_clients(world):  # type: ignore[no-untyped-def]
    a = world.enrol(name="欧阳明月", phone=PHONE_A)
    b = world.enrol(name="司马青山", phone=PHONE_B)
    return a, b


def denials(user_id: str, action: str = "portal.boundary") -> int:
    return LedgerEntry.objects.filter(actor_id=user_id, action=action, outcome="denied").count()


def portal_user_id(p) -> str:  # type: ignore[no-untyped-def]
    return str(p.http.session["_auth_user_id"])


def test_portal_urls_take_no_client_id() -> None:
    portal_routes = [r for r in routes() if r.startswith("portal/")]
    assert portal_routes, "the portal is mounted"
    for route in portal_routes:
        assert "client" not in route and "uuid" not in route, route
        # A receipt's ledger sequence, or a signed questionnaire link's token (the token is the
        # credential, single use and expiring, as a password-reset link's is).
        assert set(re.findall(r"<([^>]+)>", route)) <= {"int:seq", "str:token"}, route


def test_a_portal_user_is_refused_on_every_staff_route(two_clients, sign_in) -> None:  # type: ignore[no-untyped-def]
    a, _b = two_clients
    p = sign_in(PHONE_B)
    me = portal_user_id(p)
    staff_routes = [
        r for r in sorted(set(routes())) if not r.startswith("portal/") and r not in OPEN_TO_ALL
    ]
    assert "clients/<uuid:client_id>/" in staff_routes and "api/" in staff_routes
    for route in staff_routes:
        url = concrete(route, str(a.client_id))
        for method in ("get", "post"):
            before = denials(me)
            response = getattr(p.http, method)(url, {"q": "欧阳"})
            body = response.content.decode(errors="ignore")
            assert "欧阳明月" not in body and PHONE_A not in body, (method, url)
            if url == "/":  # the site root sends a portal user home
                assert response.status_code == 302 and response["Location"] == "/portal/"
                continue
            assert response.status_code == 403, (method, url, response.status_code)
            assert denials(me) == before + 1, (method, url)


def test_a_portal_user_gets_nothing_from_the_api(two_clients, sign_in) -> None:  # type: ignore[no-untyped-def]
    a, _b = two_clients
    p = sign_in(PHONE_B)
    for url in ("/api/clients", f"/api/clients/{a.client_id}", "/api/clients/search?q=欧阳明月"):
        response = p.http.get(url)
        assert response.status_code == 403
        assert response.json() == {"detail": "forbidden"}
    leaf = json.loads(LedgerEntry.objects.filter(action="portal.boundary").latest("seq").leaf)
    assert leaf["detail"]["reason"] == "portal_user_outside_portal"
    assert "欧阳" not in json.dumps(leaf, ensure_ascii=False)  # the route, never the query


def test_the_public_key_stays_reachable_from_the_portal(two_clients, sign_in) -> None:  # type: ignore[no-untyped-def]
    p = sign_in(PHONE_B)
    response = p.http.get("/api/ledger/public-key")
    assert response.status_code == 200 and "public_key" in response.json()


@pytest.mark.parametrize("who", ["manager", "doctor", "nurse", "admin", "auditor", "outsider"])
def test_staff_are_refused_on_the_portal(world, two_clients, login, who) -> None:  # type: ignore[no-untyped-def]
    user = getattr(world, who)
    http = login(user)
    for url in (
        "/portal/",
        "/portal/access-log/",
        "/portal/access-log/1/receipt/",
        "/portal/login/",
    ):
        before = denials(str(user.id))
        response = http.get(url)
        assert response.status_code == 403, (who, url)
        assert "欧阳明月" not in response.content.decode()
        assert denials(str(user.id)) == before + 1


def test_client_b_sees_only_their_own_record(two_clients, sign_in) -> None:  # type: ignore[no-untyped-def]
    a, b = two_clients
    p = sign_in(PHONE_B)
    home = p.http.get("/portal/", {"client": str(a.client_id)}).content.decode()
    assert "司马青山" in home and b.card_number in home
    assert "欧阳明月" not in home and a.card_number not in home
    rows = p.http.get("/portal/access-log/", {"client": str(a.client_id), "mine": "1"}).context[
        "rows"
    ]
    ours = set(LedgerEntry.objects.filter(client_id=str(b.client_id)).values_list("seq", flat=True))
    assert rows and {r.seq for r in rows} <= ours


def test_client_b_is_refused_client_a_receipt_and_it_is_ledgered(two_clients, sign_in) -> None:  # type: ignore[no-untyped-def]
    a, b = two_clients
    a_seq = LedgerEntry.objects.filter(client_id=str(a.client_id)).latest("seq").seq
    p = sign_in(PHONE_B)
    response = p.http.get(f"/portal/access-log/{a_seq}/receipt/")
    assert response.status_code == 404
    assert "欧阳明月" not in response.content.decode()
    missing = p.http.get("/portal/access-log/999999/receipt/")
    assert missing.status_code == 404  # the same answer whether or not the entry exists
    refusals = LedgerEntry.objects.filter(action="portal.receipt.download", outcome="denied")
    assert refusals.count() == 2
    first = refusals.order_by("seq").first()
    assert first.client_id == str(b.client_id)
    assert json.loads(first.leaf)["detail"] == {"seq": a_seq, "reason": "not_this_client"}


def test_a_client_downloads_a_receipt_that_verifies(world, two_clients, sign_in) -> None:  # type: ignore[no-untyped-def]
    from careledger.clients import selectors as client_selectors
    from careledger.ledger import heads, sth

    a, _b = two_clients
    client_selectors.get_client(world.doctor, a.client_id)
    seq = LedgerEntry.objects.filter(client_id=str(a.client_id), action="client.view").get().seq
    p = sign_in(PHONE_A)
    response = p.http.get(f"/portal/access-log/{seq}/receipt/")
    assert response.status_code == 200
    assert (
        response["Content-Disposition"] == f'attachment; filename="careledger-receipt-{seq}.json"'
    )
    receipt = json.loads(response.content)
    assert receipt["leaf_index"] == seq and json.loads(receipt["leaf"])["action"] == "client.view"
    public_key = sth.parse_public_key(heads.public_key_info()["public_key"])
    ok, why = verify_receipt(receipt, public_key)
    assert ok, why
    tampered = dict(receipt, leaf=receipt["leaf"].replace("client.view", "client.list"))
    assert not verify_receipt(tampered, public_key)[0]
    [download] = LedgerEntry.objects.filter(action="portal.receipt.download", outcome="allowed")
    assert download.client_id == str(a.client_id)


def test_anonymous_visitors_are_sent_to_the_portal_sign_in(client) -> None:  # type: ignore[no-untyped-def]
    for url in ("/portal/", "/portal/access-log/", "/portal/access-log/1/receipt/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/portal/login/")
    assert client.get("/portal/login/code/")["Location"] == "/portal/login/"


def test_a_portal_account_cannot_sign_in_as_staff(two_clients, sign_in, client) -> None:  # type: ignore[no-untyped-def]
    from careledger.accounts.models import User

    sign_in(PHONE_A)
    portal_user = User.objects.get(role="client")
    response = client.post("/login/", {"username": portal_user.username, "password": ""})
    assert response.status_code == 200  # the form again: no password works for it
    assert "_auth_user_id" not in client.session


def test_a_portal_user_may_switch_the_language(two_clients, sign_in) -> None:  # type: ignore[no-untyped-def]
    p = sign_in(PHONE_A)
    response = p.http.post("/language/", {"language": "en", "next": "/portal/"})
    assert response.status_code == 302 and response["Location"] == "/portal/"
    assert "Who looked at my record" in p.http.get("/portal/").content.decode()
