"""Who may see and work follow-up: the care team works its queue and tasks; nurses and call
agents see masked identifiers and never the raw number; outsiders (another team, another
institution), the admin, the auditor and the analyst are refused on every task and client
route, and the refusal is ledgered; only the admin writes plans. Query counts stay fixed."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from careledger.clients.models import Client
from careledger.followup import generation
from careledger.followup.models import CallRequest, FollowupTask
from careledger.ledger.models import LedgerEntry

pytestmark = pytest.mark.django_db

PHONE = "13912345678"
NAME = "欧阳明月"


@pytest.fixture
def task(world, fu):  # type: ignore[no-untyped-def]
    client_id = world.enrol(name=NAME, phone=PHONE).client_id
    fu.consent(client_id)
    fu.tag_client(client_id)
    fu.plan()
    generation.generate_institution(institution_id=world.inst.id)
    return FollowupTask.objects.get(client_id=client_id)


def denials(user) -> int:  # type: ignore[no-untyped-def]
    return LedgerEntry.objects.filter(actor_id=str(user.id), outcome="denied").count()


def urls(task) -> list[str]:  # type: ignore[no-untyped-def]
    return [
        f"/followup/tasks/{task.id}/",
        f"/clients/{task.client_id}/followup/",
        f"/api/followup/tasks/{task.id}",
        f"/api/clients/{task.client_id}/followup",
    ]


def test_the_nurse_sees_the_task_masked_and_never_the_number(world, task, login):
    http = login(world.nurse)
    page = http.get("/followup/?scope=team").content.decode()
    assert "欧**月" in page and NAME not in page
    perform = http.get(f"/followup/tasks/{task.id}/").content.decode()
    assert "139****5678" in perform and PHONE not in perform and NAME not in perform
    api = http.get(f"/api/followup/tasks/{task.id}").json()
    assert api["phone"] == "139****5678" and api["client_name"] == "欧**月"


def test_the_manager_sees_the_name_but_still_dials_through_the_gateway(world, task, login):
    http = login(world.manager)
    perform = http.get(f"/followup/tasks/{task.id}/").content.decode()
    assert NAME in perform and PHONE not in perform


def test_click_to_call_records_the_request_without_the_number(world, task, login):
    http = login(world.nurse)
    response = http.post(f"/api/followup/tasks/{task.id}/call", content_type="application/json")
    assert response.status_code == 200 and response.json()["status"] == "queued"
    assert PHONE not in response.content.decode()
    call = CallRequest.objects.get(task=task)
    assert call.backend == "record" and call.requested_by_id == world.nurse.id
    event = LedgerEntry.objects.filter(action="followup.call.request").get()
    assert PHONE not in event.leaf


def test_claim_and_outcome_through_the_api(world, task, login):
    http = login(world.nurse)
    claimed = http.post(f"/api/followup/tasks/{task.id}/claim", content_type="application/json")
    assert claimed.status_code == 200 and claimed.json()["status"] == "claimed"
    done = http.post(
        f"/api/followup/tasks/{task.id}/outcome",
        {"outcome": "reached", "note": "血压平稳"},
        content_type="application/json",
    )
    assert done.status_code == 200 and done.json()["status"] == "done"
    bad = http.post(
        f"/api/followup/tasks/{task.id}/outcome",
        {"outcome": "maybe"},
        content_type="application/json",
    )
    assert bad.status_code == 422


@pytest.mark.parametrize("who", ["manager_b", "outsider", "admin", "auditor", "analyst"])
def test_everyone_else_is_refused_and_it_is_ledgered(world, task, login, who):
    user = getattr(world, who)
    http = login(user)
    for url in urls(task):
        before = denials(user)
        response = http.get(url)
        body = response.content.decode()
        assert response.status_code in {403, 404}, (who, url, response.status_code)
        assert NAME not in body and PHONE not in body and "欧**月" not in body
        if response.status_code == 403:
            assert denials(user) > before, (who, url)
    for op in ("claim", "call"):
        response = http.post(f"/api/followup/tasks/{task.id}/{op}", content_type="application/json")
        assert response.status_code in {403, 404}, (who, op)
    assert FollowupTask.objects.get(pk=task.pk).status == "open"


@pytest.mark.parametrize("who", ["manager_b", "outsider", "admin", "auditor", "analyst"])
def test_the_queue_shows_nothing_of_other_teams(world, task, login, who):
    http = login(getattr(world, who))
    response = http.get("/followup/?scope=team")
    assert response.status_code in {200, 403}
    assert NAME not in response.content.decode() and "欧**月" not in response.content.decode()


def test_a_client_moved_to_another_team_leaves_the_old_queue(world, task, login):
    from careledger.clients.models import ClientCareTeam

    ClientCareTeam.objects.filter(client_id=task.client_id).update(care_team=world.team_b)
    page = login(world.nurse).get("/followup/?scope=team").content.decode()
    assert "欧**月" not in page


def test_the_nurse_cannot_assign_or_write_plans(world, task, login):
    http = login(world.nurse)
    response = http.post(
        f"/api/followup/tasks/{task.id}/assign",
        {"assignee_id": str(world.nurse.id)},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert http.get("/config/followup-plans/").status_code == 403
    assert http.get("/api/config/followup-plans").status_code == 403


def test_the_admin_manages_plans_and_sees_counts_not_people(world, task, login):
    http = login(world.admin)
    page = http.get("/config/followup-plans/").content.decode()
    assert "高血压随访" in page and NAME not in page
    plans = http.get("/api/config/followup-plans").json()
    assert plans[0]["active_enrolments"] == 1
    created = http.post(
        "/api/config/followup-plans",
        {
            "code": "prediabetes",
            "name_zh": "糖尿病前期",
            "plan": {
                "trigger_kind": "tag",
                "trigger_params": {"tag": "prediabetes"},
                "first_days": 7,
                "repeat_frequency": "monthly",
                "repeat_interval": 3,
                "repeat_count": 3,
                "channel": "phone",
                "assignee_role": "nurse",
            },
        },
        content_type="application/json",
    )
    assert created.status_code == 201 and created.json()["status"] == "draft"
    bad = http.post(
        "/api/config/followup-plans",
        {"code": "x", "name_zh": "坏", "plan": {"trigger_kind": "moon"}},
        content_type="application/json",
    )
    assert bad.status_code == 422 and "trigger_kind" in bad.json()["errors"]


def test_the_queue_costs_the_same_queries_for_one_task_or_many(world, fu, task, login):
    http = login(world.nurse)
    http.get("/followup/?scope=team")  # warm the session and caches
    with CaptureQueriesContext(connection) as one:
        assert http.get("/followup/?scope=team").status_code == 200
    for _ in range(5):
        client_id = world.enrol().client_id
        fu.consent(client_id)
        fu.tag_client(client_id)
    generation.generate_institution(institution_id=world.inst.id)
    assert FollowupTask.objects.count() == 6
    with CaptureQueriesContext(connection) as six:
        assert http.get("/followup/?scope=team").status_code == 200

    def counted(ctx, ledger=False):  # type: ignore[no-untyped-def]
        # The session row is re-saved when the idle timer slides (timing, not the page's work);
        # the ledger append is one statement for one event on PostgreSQL, two for several, and
        # completes a tile now and then (its nodes): counted apart.
        return [
            q["sql"]
            for q in ctx.captured_queries
            if "django_session" not in q["sql"] and ("ledger_" in q["sql"]) == ledger
        ]

    assert len(counted(six)) == len(counted(one)), counted(six)
    assert len(counted(six, ledger=True)) <= 4
    with CaptureQueriesContext(connection) as api:
        assert http.get("/api/followup/queue?scope=team").json()["count"] == 6
    assert len(api) <= len(six) + 2


def test_the_client_page_for_the_care_team(world, task, login):
    page = login(world.doctor).get(f"/clients/{task.client_id}/followup/").content.decode()
    assert "高血压随访" in page
    assert Client.objects.filter(pk=task.client_id).exists()
