"""GET /api/clients/{id}/trends: the same data as the page through the same selector (policy
and ledger), with its own output schema; `?code=` limits it, an unknown code is a 422 naming
the code."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from careledger.ledger.models import LedgerEntry
from observations.test_trends_data import five_years

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_a(world):  # type: ignore[no-untyped-def]
    enrolled = world.enrol(sex="M", birth_date=dt.date(1968, 3, 2))
    five_years(world.manager, enrolled.client_id)
    return enrolled.client_id


def test_the_trends_of_every_panel(world, client_a, login):
    response = login(world.doctor).get(f"/api/clients/{client_a}/trends")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "client_id",
        "checkup_dates",
        "result_count",
        "emergency",
        "summary",
        "panels",
    }
    assert body["client_id"] == str(client_a)
    assert body["result_count"] == 50 and body["emergency"] is False
    assert body["checkup_dates"] == [f"{y}-05-12" for y in range(2020, 2025)]
    assert [p["key"] for p in body["panels"]][-2:] == ["lipids", "glucose"]
    glucose = body["panels"][-1]["indicators"][0]
    assert glucose["code"] == "2345-7" and glucose["name_zh"] == "空腹血糖"
    assert glucose["unit"] == "mmol/L" and glucose["decimals"] == 2
    assert glucose["rcv_down"] == pytest.approx(-13.55, abs=0.01)
    assert glucose["rcv_up"] == pytest.approx(15.67, abs=0.01)
    assert glucose["direction"] == "up"
    assert glucose["slope_per_year"] == pytest.approx(0.49, abs=0.01)
    assert [p["value"] for p in glucose["points"]] == [5.4, 5.8, 6.2, 6.6, 7.4]
    latest = glucose["latest"]
    assert latest == glucose["points"][-1]
    assert latest["date"] == "2024-05-12"
    assert latest["display"] == "7.40" and latest["flag"] == "H"
    assert latest["band"] == {"low": 3.9, "high": 6.1, "text": "3.9–6.1"}
    assert latest["source_range"] == "3.9-6.1" and latest["source_range_differs"] is False
    assert latest["change_previous"] == {
        "absolute": pytest.approx(0.8),
        "percent": pytest.approx(12.12, abs=0.01),
        "significance": "within",
    }
    assert latest["change_baseline"]["significance"] == "rise"
    assert glucose["points"][0]["change_previous"] is None
    protein = next(i for p in body["panels"] for i in p["indicators"] if i["code"] == "2888-6")
    assert protein["kind"] == "ordinal" and protein["ordinal_scale"][:3] == ["阴性", "±", "1+"]
    assert [p["text"] for p in protein["points"]] == ["阴性", "阴性", "±", "1+", "阴性"]
    assert protein["slope_per_year"] is None
    summary = body["summary"]
    assert summary["latest_date"] == "2024-05-12" and summary["previous_date"] == "2023-05-12"
    assert [i["code"] for i in summary["new_abnormal"]] == ["2160-0"]
    assert [i["code"] for i in summary["resolved"]] == ["8480-6", "8462-4", "2888-6", "1742-6"]
    alt = summary["significant"][0]
    assert alt["code"] == "1742-6" and alt["unit"] == "U/L"
    assert alt["before"]["display"] == "58" and alt["after"]["display"] == "30"
    assert alt["change"]["significance"] == "fall"


def test_code_limits_the_indicators(world, client_a, login):
    http = login(world.manager)
    body = http.get(f"/api/clients/{client_a}/trends", {"code": ["2345-7", "4548-4"]}).json()
    assert [i["code"] for p in body["panels"] for i in p["indicators"]] == ["2345-7", "4548-4"]
    body = http.get(f"/api/clients/{client_a}/trends?code=1742-6,2160-0").json()
    assert [i["code"] for p in body["panels"] for i in p["indicators"]] == ["1742-6", "2160-0"]
    assert body["result_count"] == 10


def test_an_unknown_code_is_a_422_naming_it(world, client_a, login):
    response = login(world.manager).get(f"/api/clients/{client_a}/trends?code=GLU-X")
    assert response.status_code == 422
    assert response.json() == {
        "detail": "invalid",
        "errors": {"code": ["unknown indicator code: GLU-X"]},
    }


def test_each_call_is_ledgered(world, client_a, login):
    http = login(world.nurse)
    before = LedgerEntry.objects.filter(action="observation.view").count()
    http.get(f"/api/clients/{client_a}/trends")
    http.get(f"/api/clients/{client_a}/trends?code=2345-7")
    entries = LedgerEntry.objects.filter(action="observation.view").order_by("seq")[before:]
    assert [(e.actor_id, e.client_id, e.outcome) for e in entries] == [
        (str(world.nurse.id), str(client_a), "allowed")
    ] * 2


@pytest.mark.parametrize("who", ["outsider", "manager_b", "admin", "auditor", "analyst"])
def test_refused_with_a_ledgered_denial(world, client_a, login, who):
    user = getattr(world, who)
    response = login(user).get(f"/api/clients/{client_a}/trends")
    assert response.status_code == 403
    assert response.json() == {"detail": "forbidden"}
    denial = LedgerEntry.objects.filter(actor_id=str(user.id)).order_by("seq").last()
    assert (denial.action, denial.outcome, denial.client_id) == (
        "observation.view",
        "denied",
        str(client_a),
    )


def test_anonymous_and_unknown_clients(world, client_a, client, login):
    assert client.get(f"/api/clients/{client_a}/trends").status_code == 401
    assert login(world.manager).get(f"/api/clients/{uuid.uuid4()}/trends").status_code == 404


def test_the_schema_is_in_the_openapi_description(world, login):
    spec = login(world.manager).get("/api/openapi.json").json()
    operation = spec["paths"]["/api/clients/{client_id}/trends"]["get"]
    assert operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/ClientTrendsRead"
    )
    assert any(p["name"] == "code" for p in operation["parameters"])
