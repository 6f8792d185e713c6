"""Retention pages: an archived client's profile asks for a reason first; the care team
requests an erasure; the admin sets the policy and holds; a second person approves; everyone
else is refused."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from careledger.clients.models import Client
from careledger.retention import services
from careledger.retention.models import ErasureRequest, LegalHold, RetentionPolicy

pytestmark = pytest.mark.django_db


def archived(world):  # type: ignore[no-untyped-def]
    member = world.enrol()
    services.run_institution(world.inst, now=timezone.now() + dt.timedelta(days=800))
    return member.client_id


def test_an_archived_profile_asks_for_a_reason_then_opens(world, login):  # type: ignore[no-untyped-def]
    client_id = archived(world)
    http = login(world.manager)
    response = http.get(f"/clients/{client_id}/")
    assert (
        response.status_code == 302 and response["Location"] == f"/clients/{client_id}/retention/"
    )
    page = http.get(response["Location"]).content.decode()
    assert "该客户已归档" in page and 'id="archive-reason"' in page
    response = http.post(
        f"/clients/{client_id}/retention/",
        {"action": "reason", "reason": "客户来电复诊", "minutes": "60"},
    )
    assert response["Location"] == f"/clients/{client_id}/"
    assert http.get(f"/clients/{client_id}/").status_code == 200
    empty = http.post(
        f"/clients/{client_id}/retention/", {"action": "reason", "reason": ""}, follow=True
    )
    assert "请说明理由" in empty.content.decode()


def test_erasure_request_and_second_person_approval_through_the_pages(world, login):  # type: ignore[no-untyped-def]
    member = world.enrol()
    manager = login(world.manager)
    manager.post(
        f"/clients/{member.client_id}/retention/", {"action": "erase", "ground": "client_request"}
    )
    request = ErasureRequest.objects.get()
    from django.test import Client as Http

    admin = Http()
    from conftest import login_verified

    login_verified(admin, world.admin)
    page = admin.get("/config/retention/").content.decode()
    assert "待审批的删除申请" in page and str(member.client_id) in page
    assert "张三明" not in page  # ids only, never the name
    admin.post(f"/config/retention/erasures/{request.id}/decide/", {"decision": "approve"})
    assert Client.objects.get(pk=member.client_id).status == "erased"


def test_policy_and_holds_by_the_admin(world, login):  # type: ignore[no-untyped-def]
    member = world.enrol()
    http = login(world.admin)
    http.post("/config/retention/", {"inactive_days": "365", "action": "anonymise"})
    assert RetentionPolicy.objects.get().inactive_days == 365
    bad = http.post("/config/retention/", {"inactive_days": "3", "action": "archive"}, follow=True)
    assert "期限至少为 30 天" in bad.content.decode()
    http.post(
        "/config/retention/holds/", {"client": str(member.client_id), "reason": "诉讼保全 123 号"}
    )
    hold = LegalHold.objects.get()
    assert "诉讼保全 123 号" in http.get("/config/retention/").content.decode()
    http.post(f"/config/retention/holds/{hold.id}/release/")
    assert LegalHold.objects.get().released_at is not None


@pytest.mark.parametrize("who", ["manager", "doctor", "nurse", "analyst", "outsider"])
def test_the_config_page_is_refused_to_others(world, login, who):  # type: ignore[no-untyped-def]
    assert login(getattr(world, who)).get("/config/retention/").status_code == 403


def test_the_auditor_sees_the_queue_but_not_the_policy_or_holds(world, login):  # type: ignore[no-untyped-def]
    page = login(world.auditor).get("/config/retention/").content.decode()
    assert 'id="erasure-queue"' in page and 'id="policy"' not in page and 'id="holds"' not in page


@pytest.mark.parametrize("who", ["manager_b", "outsider", "admin", "auditor", "analyst"])
def test_the_client_retention_page_is_refused_outside_the_care_team(world, login, who):  # type: ignore[no-untyped-def]
    member = world.enrol()
    http = login(getattr(world, who))
    assert http.get(f"/clients/{member.client_id}/retention/").status_code == 403
    http.post(
        f"/clients/{member.client_id}/retention/", {"action": "erase", "ground": "client_request"}
    )
    assert not ErasureRequest.objects.exists()
