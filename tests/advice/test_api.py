"""The advice API mirrors the pages: a client's sheet (read, issue, the issued sheet) and the
catalogue (list with filters, add, a new version, retire, reinstate), same policy and ledger."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from advice.conftest import tag
from careledger.advice.models import AdviceItem, AdviceSheet
from careledger.ledger.models import LedgerEntry

pytestmark = pytest.mark.django_db


def api(member, tail: str = "") -> str:  # type: ignore[no-untyped-def]
    return f"/api/clients/{member.id}/advice{tail}"


def test_read_issue_and_read_back_a_sheet(world, member, login):
    tag(world, member, "hypertension", "高血压")
    http = login(world.manager)
    data = http.get(api(member)).json()
    assert data["client_keys"] == ["tag:hypertension"]
    assert data["sources"] == {"tags": "available", "risks": "available", "scores": "available"}
    salt = next(i for i in data["items"] if i["code"] == "htn.diet.salt")
    assert salt["keys"] == ["tag:hypertension"] and not salt["general"]
    assert "中国高血压防治指南2018年修订版" in salt["citation"]
    assert http.get(api(member, "/sheet")).json() == {"sheet": None}
    created = http.post(
        api(member),
        {"note": "少吃咸菜", "fingerprint": data["fingerprint"]},
        content_type="application/json",
    )
    assert created.status_code == 201
    sheet_id = created.json()["id"]
    assert created.json()["items"] == len(data["items"])
    latest = http.get(api(member, "/sheet")).json()["sheet"]
    assert latest["id"] == sheet_id and latest["note"] == "少吃咸菜"
    assert latest["matched_keys"] == ["tag:hypertension"]
    one = http.get(api(member, f"/sheet?id={sheet_id}")).json()["sheet"]
    assert [i["code"] for i in one["items"]] == [i["code"] for i in latest["items"]]
    assert http.get(api(member, "/sheet?id=not-a-uuid")).status_code == 404
    assert http.get(api(member)).json()["issued"][0]["id"] == sheet_id


def test_a_stale_fingerprint_is_a_422_and_issues_nothing(world, member, login):
    http = login(world.doctor)
    seen = http.get(api(member)).json()["fingerprint"]
    tag(world, member, "smoker", "吸烟")
    response = http.post(api(member), {"fingerprint": seen}, content_type="application/json")
    assert response.status_code == 422 and "__all__" in response.json()["errors"]
    assert not AdviceSheet.objects.exists()


def test_the_nurse_reads_but_may_not_issue(world, member, login):
    http = login(world.nurse)
    assert http.get(api(member)).status_code == 200
    assert http.post(api(member), {}, content_type="application/json").status_code == 403
    assert LedgerEntry.objects.filter(
        actor_id=str(world.nurse.id), outcome="denied", action="advice.issue"
    ).exists()


@pytest.mark.parametrize("who", ["outsider", "manager_b", "admin", "auditor", "analyst"])
def test_outsiders_are_refused_the_client_routes(world, member, login, who):
    http = login(getattr(world, who))
    for response in (
        http.get(api(member)),
        http.get(api(member, "/sheet")),
        http.post(api(member), {}, content_type="application/json"),
    ):
        assert response.status_code == 403
    assert not AdviceSheet.objects.exists()


def test_the_sheet_read_costs_the_same_queries_whatever_the_client_s_keys(world, member, login):
    http = login(world.manager)
    http.get(api(member))
    with CaptureQueriesContext(connection) as plain:
        http.get(api(member))
    for code in ("hypertension", "diabetes", "smoker", "fatty_liver"):
        tag(world, member, code)
    with CaptureQueriesContext(connection) as tagged:
        assert len(http.get(api(member)).json()["client_keys"]) == 4
    assert len(tagged) == len(plain)


# --- the catalogue ----------------------------------------------------------------------------

NEW = {
    "code": "center.walk",
    "domain": "exercise",
    "priority": 30,
    "title": "本中心健步走",
    "body": "每周六上午在中心门口集合健步走。",
    "citations": [
        {"guideline": "中国人群身体活动指南(2021)", "edition": "2021年版", "section": "总则"}
    ],
    "applies": [["tag:sedentary"]],
}


def test_the_admin_lists_filters_adds_edits_retires_and_reinstates(world, login):
    http = login(world.admin)
    everything = http.get("/api/config/advice").json()
    assert len(everything) >= 60
    tcm = http.get("/api/config/advice?domain=tcm").json()
    assert tcm and {i["domain"] for i in tcm} == {"tcm"}
    phq = http.get("/api/config/advice?key=risk:phq9").json()
    assert {i["code"] for i in phq} >= {"mood.item9", "mood.severe", "mood.moderate", "mood.mild"}
    created = http.post("/api/config/advice", NEW, content_type="application/json")
    assert created.status_code == 201 and created.json()["version"] == 1
    edit = {k: v for k, v in NEW.items() if k != "code"} | {
        "body": "每周六上午八点在中心门口集合健步走。",
        "change_note": "写明时间",
    }
    edited = http.put(
        "/api/config/advice/item?code=center.walk", edit, content_type="application/json"
    )
    assert edited.status_code == 200 and edited.json()["version"] == 2
    detail = http.get("/api/config/advice/item?code=center.walk").json()
    assert [v["version"] for v in detail["versions"]] == [2, 1]
    assert detail["versions"][0]["change_note"] == "写明时间"
    assert (
        http.post("/api/config/advice/item/retire?code=center.walk").json()["status"] == "retired"
    )
    assert (
        http.post("/api/config/advice/item/reinstate?code=center.walk").json()["status"] == "active"
    )
    assert http.get("/api/config/advice/item?code=nope").status_code == 404
    assert http.get("/api/config/advice/item").status_code == 404


def test_a_bad_item_is_a_422_naming_the_fields(world, login):
    http = login(world.admin)
    bad = NEW | {"domain": "astrology", "applies": [["hypertension"]], "citations": []}
    response = http.post("/api/config/advice", bad, content_type="application/json")
    assert response.status_code == 422
    assert set(response.json()["errors"]) == {"domain", "applies", "citations"}
    assert not AdviceItem.objects.filter(code="center.walk").exists()


@pytest.mark.parametrize("who", ["manager", "doctor", "nurse", "auditor", "analyst"])
def test_everyone_but_the_admin_is_refused_the_catalogue(world, login, who):
    http = login(getattr(world, who))
    assert http.get("/api/config/advice").status_code == 403
    assert http.post("/api/config/advice", NEW, content_type="application/json").status_code == 403
    assert http.get("/api/config/advice/item?code=general.diet.salt").status_code == 403
    assert http.post("/api/config/advice/item/retire?code=general.diet.salt").status_code == 403
