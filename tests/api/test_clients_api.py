"""The JSON API: bearer and session auth, create/read/update/search under the same policy,
specific errors, masking, and no N+1 on the list."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client as HttpClient
from django.utils import timezone

from careledger.accounts.models import ApiToken
from conftest import client_input, login_verified

pytestmark = pytest.mark.django_db


def bearer(user, *, days: int = 1, revoked: bool = False) -> dict[str, str]:
    token = ApiToken.generate()
    ApiToken.objects.create(
        user=user,
        name="t",
        digest=ApiToken.hash(token),
        expires_at=timezone.now() + dt.timedelta(days=days),
        revoked_at=timezone.now() if revoked else None,
    )
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def payload(world, **overrides) -> dict:
    data = client_input(world.team_a, **overrides).__dict__
    data["birth_date"] = data["birth_date"].isoformat()
    data["care_team_ids"] = [str(t) for t in data["care_team_ids"]]
    return data


def post(http, url, body, **headers):  # type: ignore[no-untyped-def]
    return http.post(url, json.dumps(body), content_type="application/json", **headers)


def test_create_read_search_update_with_a_bearer_token(world, client):
    auth = bearer(world.manager)
    body = payload(world, name="王小明", phone="13900001234")
    created = post(client, "/api/clients/", body, **auth)
    assert created.status_code == 201, created.content
    cid, card = created.json()["id"], created.json()["card_number"]
    read = client.get(f"/api/clients/{cid}", **auth).json()
    assert read["name"] == "王小明" and read["card_number"] == card and not read["masked"]
    for q in ("13900001234", card, body["document_number"], "王小明"):
        found = client.get("/api/clients/search", {"q": q}, **auth).json()
        assert [r["id"] for r in found] == [cid], q
    body.update(name="王晓明", reason="更正姓名")
    updated = client.put(
        f"/api/clients/{cid}", json.dumps(body), content_type="application/json", **auth
    )
    assert updated.status_code == 200 and updated.json()["version"] == 2


def test_errors_name_the_field_and_duplicates_name_the_card(world, client):
    auth = bearer(world.manager)
    first = post(client, "/api/clients/", payload(world, phone="13900004321"), **auth).json()
    duplicate = post(client, "/api/clients/", payload(world, phone="13900004321"), **auth)
    assert duplicate.status_code == 422
    assert first["card_number"] in " ".join(duplicate.json()["errors"]["phone"])
    bad = post(
        client, "/api/clients/", payload(world, document_number="110105194912310021"), **auth
    )
    assert bad.status_code == 422 and "document_number" in bad.json()["errors"]


def test_nurse_gets_masked_values_through_the_api(world, client):
    enrolled = world.enrol(name="张三明", phone="13812345678")
    read = client.get(f"/api/clients/{enrolled.client_id}", **bearer(world.nurse)).json()
    assert read["masked"] and read["name"] == "张*明" and read["phone"] == "138****5678"


@pytest.mark.parametrize("who", ["outsider", "manager_b", "admin", "auditor", "analyst"])
def test_outsiders_are_refused(world, client, who):
    enrolled = world.enrol()
    response = client.get(f"/api/clients/{enrolled.client_id}", **bearer(getattr(world, who)))
    assert response.status_code == 403


def test_expired_revoked_and_missing_tokens_get_401(world, client):
    enrolled = world.enrol()
    url = f"/api/clients/{enrolled.client_id}"
    assert client.get(url).status_code == 401
    assert client.get(url, **bearer(world.manager, days=-1)).status_code == 401
    assert client.get(url, **bearer(world.manager, revoked=True)).status_code == 401
    assert client.get(url, HTTP_AUTHORIZATION="Bearer clt_nonsense").status_code == 401


def test_session_writes_need_csrf(world):
    http = login_verified(HttpClient(enforce_csrf_checks=True), world.manager)
    response = post(http, "/api/clients/", payload(world))
    assert response.status_code in {401, 403}
    assert http.get("/api/clients/").status_code == 200  # reads work on the session


def test_list_pages_without_n_plus_one(world, client, django_assert_max_num_queries):
    auth = bearer(world.manager)
    for _ in range(5):
        world.enrol()
    with django_assert_max_num_queries(25) as small:
        client.get("/api/clients/", **auth)
    for _ in range(25):
        world.enrol()
    with django_assert_max_num_queries(25) as large:
        page = client.get("/api/clients/", **auth).json()
    assert page["total"] == 30 and len(page["items"]) == 25 and page["pages"] == 2

    def per_page(captured):  # type: ignore[no-untyped-def]
        # A ledger append may also store the Merkle nodes it completes: a bounded write that
        # depends on the ledger's size, not on the page (see ledger.models.LedgerNode).
        return [q for q in captured if "ledger_ledgernode" not in q["sql"]]

    assert len(per_page(large.captured_queries)) == len(per_page(small.captured_queries))


def test_openapi_lists_the_client_routes(client):
    spec = client.get("/api/openapi.json").json()
    assert {"/api/clients/", "/api/clients/{client_id}", "/api/clients/search"} <= set(
        spec["paths"]
    )
