"""The trend page /clients/<id>/trends/: the summary, the panels with their tables and the
chart data; refusals (with the emergency-access offer for a clinician of another team)."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid

import pytest

from careledger.ledger.models import LedgerEntry
from observations.test_trends_data import five_years

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_a(world):  # type: ignore[no-untyped-def]
    enrolled = world.enrol(name="欧阳明月", sex="M", birth_date=dt.date(1968, 3, 2))
    five_years(world.manager, enrolled.client_id)
    return enrolled.client_id


def chart_data(html: str) -> dict:
    found = re.search(r'<script id="trend-data" type="application/json">(.*?)</script>', html, re.S)
    assert found, "the page carries its chart data as json_script"
    return json.loads(found.group(1))


def test_the_page_shows_the_summary_panels_and_chart_data(world, client_a, login):
    response = login(world.manager).get(f"/clients/{client_a}/trends/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "欧阳明月" in html
    assert "指标趋势" in html
    # the summary: the last check-up against the one before
    assert "2024-05-12" in html and "2023-05-12" in html
    new = re.search(r'<ul class="summary-list[^"]*" id="summary-new">(.*?)</ul>', html, re.S)
    assert new and "肌酐" in new.group(1)
    resolved = re.search(r'id="summary-resolved">(.*?)</ul>', html, re.S).group(1)
    assert "收缩压" in resolved and "尿蛋白" in resolved
    # panels in catalogue order, each with its table and charts
    titles = re.findall(r'id="panel-(\w+)-title">([^<]+)<', html)
    assert [t[0] for t in titles] == [
        "body",
        "vitals",
        "blood_routine",
        "urine_routine",
        "liver",
        "kidney",
        "lipids",
        "glucose",
    ]
    assert titles[-1][1] == "血糖"
    assert html.count('class="trend-chart"') == 10
    data = chart_data(html)
    charts = {c["code"]: c for c in data["charts"]}
    assert len(charts) == 10
    glucose = charts["2345-7"]
    assert [p["v"] for p in glucose["points"]] == [5.4, 5.8, 6.2, 6.6, 7.4]
    assert [p["f"] for p in glucose["points"]] == ["N", "N", "H", "H", "H"]
    assert glucose["points"][0]["lo"] == 3.9 and glucose["points"][0]["hi"] == 6.1
    assert glucose["unit"] == "mmol/L"
    assert charts["2888-6"]["ordinal"] and charts["2888-6"]["scale"][0] == "阴性"
    assert data["labels"]["flags"]["H"] == "偏高"
    # no inline script, no inline style (CSP)
    assert "<script>" not in html and " style=" not in html
    assert "/static/observations/trends.js" in html
    assert "/static/vendor/echarts/echarts.min.js" in html


def test_the_lab_range_appears_where_it_differs(world, client_a, login):
    html = login(world.manager).get(f"/clients/{client_a}/trends/").content.decode()
    charts = {c["code"]: c for c in chart_data(html)["charts"]}
    assert charts["2345-7"]["points"][0]["sr"] == ""  # "3.9-6.1" is our band
    assert charts["18262-6"]["points"][0]["sr"] == "<3.37"  # ours is <3.4


def test_the_page_is_ledgered(world, client_a, login):
    before = LedgerEntry.objects.filter(client_id=str(client_a)).count()
    login(world.nurse).get(f"/clients/{client_a}/trends/")
    actions = list(
        LedgerEntry.objects.filter(client_id=str(client_a))
        .order_by("seq")
        .values_list("action", "actor_id")[before:]
    )
    assert ("observation.view", str(world.nurse.id)) in actions
    assert all(actor == str(world.nurse.id) for _action, actor in actions)


def test_a_nurse_sees_the_client_masked(world, client_a, login):
    html = login(world.nurse).get(f"/clients/{client_a}/trends/").content.decode()
    assert "欧阳明月" not in html
    assert "欧**月" in html


def test_a_clinician_of_another_team_is_offered_emergency_access(world, client_a, login):
    response = login(world.manager_b).get(f"/clients/{client_a}/trends/")
    assert response.status_code == 403
    html = response.content.decode()
    assert f"/clients/{client_a}/break-glass/" in html
    assert "欧阳明月" not in html and "trend-data" not in html
    denial = LedgerEntry.objects.filter(actor_id=str(world.manager_b.id)).last()
    assert (denial.action, denial.outcome) == ("observation.view", "denied")


def test_under_a_break_glass_grant_the_page_says_so(world, client_a, login):
    from careledger.audit import services as audit_services

    audit_services.do_open_break_glass(
        actor=world.manager_b,
        client_id=client_a,
        reason="患者在前台晕倒，需查看近年血糖结果",
        minutes=30,
    )
    response = login(world.manager_b).get(f"/clients/{client_a}/trends/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="emergency-banner"' in html and "trend-data" in html
    leaf = LedgerEntry.objects.filter(action="observation.view").order_by("seq").last().leaf
    assert json.loads(leaf)["purpose"] == "emergency"


@pytest.mark.parametrize("who", ["outsider", "admin", "auditor", "analyst"])
def test_others_are_refused(world, client_a, login, who):
    user = getattr(world, who)
    response = login(user).get(f"/clients/{client_a}/trends/")
    assert response.status_code == 403
    assert f"/clients/{client_a}/break-glass/" not in response.content.decode()
    assert LedgerEntry.objects.filter(actor_id=str(user.id), outcome="denied").exists()


def test_an_unknown_client_is_not_found(world, login):
    assert login(world.manager).get(f"/clients/{uuid.uuid4()}/trends/").status_code == 404


def test_a_client_without_results(world, login):
    enrolled = world.enrol()
    response = login(world.manager).get(f"/clients/{enrolled.client_id}/trends/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "暂无检查结果" in html
    assert "trend-data" not in html


def test_the_profile_links_to_the_trends(world, client_a, login):
    html = login(world.manager).get(f"/clients/{client_a}/").content.decode()
    assert f'href="/clients/{client_a}/trends/"' in html
