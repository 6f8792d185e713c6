"""The quarantine page (隔离区): who sees which items, matching a report to a client by hand,
retrying and discarding, each ledgered; refusals for every role without the right."""

from __future__ import annotations

import datetime as dt

import pytest

from careledger.exams.models import QuarantinedItem
from careledger.ledger.models import LedgerEntry
from careledger.observations.models import Observation
from careledger.observations.services import do_map_local_code
from conftest import make_citizen_id
from exams.test_import_pages import ALT, GLUCOSE, SOURCE, UNKNOWN, denials, hl7, run

pytestmark = pytest.mark.django_db

STRANGER = make_citizen_id(dt.date(1990, 1, 1), "M", 5)


@pytest.fixture
def person(world):  # type: ignore[no-untyped-def]
    from careledger.clients.models import Client

    birth = dt.date(1968, 7, 9)
    number = make_citizen_id(birth, "F", 21)
    enrolled = world.enrol(document_number=number, name="上官燕", sex="F", birth_date=birth)
    return Client.objects.get(pk=enrolled.client_id), number, enrolled.card_number


@pytest.fixture
def unmatched(world):  # type: ignore[no-untyped-def]
    """A report for someone who is nobody's client yet."""
    run(world.manager, hl7(STRANGER, GLUCOSE, ALT, name="无名^氏"), source_name=SOURCE)
    return QuarantinedItem.objects.get(reason="unmatched_client")


@pytest.fixture
def unknown_code(world, person):  # type: ignore[no-untyped-def]
    """A result of team A's client whose item code nothing maps."""
    _client, number, _card = person
    run(world.manager, hl7(number, UNKNOWN, order="U1"), source_name=SOURCE)
    return QuarantinedItem.objects.get(reason="unknown_code")


def test_the_quarantine_lists_items_with_reason_location_and_the_files_identifiers(
    world, login, unmatched, unknown_code
):
    page = login(world.manager).get("/imports/quarantine/").content.decode()
    assert "未匹配到客户" in page and "未知项目代码" in page
    assert "没有客户使用该身份证号或卡号" in page  # the reason explained
    assert "message 1" in page  # where in the file
    assert "无名氏" in page and STRANGER in page  # what the file says, for a manager in full
    assert "ZZ9" in page and "12 U/L" in page  # the result's code, value and unit
    assert page.count('class="card quarantine-item') == 2
    assert LedgerEntry.objects.filter(action="exam.quarantine.view").exists()


def test_filters_by_job_and_reason(world, login, unmatched, unknown_code):
    http = login(world.manager)
    by_reason = http.get("/imports/quarantine/", {"reason": "unknown_code"}).content.decode()
    assert by_reason.count('class="card quarantine-item') == 1 and "ZZ9" in by_reason
    by_job = http.get("/imports/quarantine/", {"job": str(unmatched.job_id)}).content.decode()
    assert by_job.count('class="card quarantine-item') == 1 and STRANGER in by_job
    assert SOURCE in by_job  # the filter names the job


@pytest.mark.parametrize("who", ["admin", "nurse", "doctor", "auditor", "analyst"])
def test_roles_without_the_quarantine_right_are_refused_and_it_is_ledgered(
    world, login, unmatched, person, who
):
    client, _number, _card = person
    user = getattr(world, who)
    http = login(user)
    before = denials(user)
    response = http.get("/imports/quarantine/")
    assert response.status_code == 403
    assert STRANGER not in response.content.decode()
    assert denials(user) == before + 1
    refused = [
        http.post(f"/imports/quarantine/{unmatched.id}/match/", {"client_id": str(client.id)}),
        http.post(f"/imports/quarantine/{unmatched.id}/discard/", {"reason": "测试"}),
        http.get(f"/imports/quarantine/{unmatched.id}/candidates/", {"q": "上官燕"}),
    ]
    assert [r.status_code for r in refused] == [403, 403, 403]
    unmatched.refresh_from_db()
    assert unmatched.status == "open"


def test_the_nurse_never_reaches_the_files_identifiers(world, login, unmatched):
    """A masked role holds no quarantine right at all: the raw identifiers a file carries are
    not shown to her, masked or not."""
    response = login(world.nurse).get("/imports/quarantine/")
    assert response.status_code == 403
    body = response.content.decode()
    assert STRANGER not in body and "无名" not in body


def test_manager_b_does_not_see_team_a_client_items(world, login, unmatched, unknown_code):
    page = login(world.manager_b).get("/imports/quarantine/").content.decode()
    assert "ZZ9" not in page and "上官" not in page  # team A's client's result
    assert STRANGER in page  # nobody's yet: any quarantine worker may match it


def test_another_institution_sees_none(world, login, unmatched, unknown_code):
    response = login(world.outsider).get("/imports/quarantine/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "quarantine-item" not in body and STRANGER not in body and "ZZ9" not in body
    job_filter = login(world.outsider).get("/imports/quarantine/", {"job": str(unmatched.job_id)})
    assert "quarantine-item" not in job_filter.content.decode()


def test_an_unmatched_report_is_found_and_matched_by_hand(world, login, person, unmatched):
    client, _number, card = person
    http = login(world.manager)
    # The client search (HTMX fragment) offers the client with a button to confirm.
    fragment = http.get(
        f"/imports/quarantine/{unmatched.id}/candidates/", {"q": card}
    ).content.decode()
    assert "<html" not in fragment and "上官燕" in fragment
    assert f'action="/imports/quarantine/{unmatched.id}/match/"' in fragment
    assert f'value="{client.id}"' in fragment
    # The same without JavaScript: the results come back inline on the page.
    page = http.get(
        "/imports/quarantine/", {"match": str(unmatched.id), "q": card}
    ).content.decode()
    assert f'value="{client.id}"' in page and "将报告归入此客户" in page
    response = http.post(
        f"/imports/quarantine/{unmatched.id}/match/",
        {"client_id": str(client.id), "back": "/imports/quarantine/?reason=unmatched_client"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/imports/quarantine/?reason=unmatched_client"
    unmatched.refresh_from_db()
    assert unmatched.status == "resolved" and unmatched.resolved_by == world.manager
    assert Observation.objects.filter(client=client).count() == 2
    event = LedgerEntry.objects.get(action="exam.quarantine.match")
    assert event.client_id == str(client.id) and event.actor_id == str(world.manager.id)
    after = http.get("/imports/quarantine/").content.decode()
    assert "2 项结果已入库" in after and STRANGER not in after


def test_matching_to_a_client_of_another_team_is_refused(world, login, person, unmatched):
    client, _number, _card = person
    user = world.manager_b
    before = denials(user)
    response = login(user).post(
        f"/imports/quarantine/{unmatched.id}/match/", {"client_id": str(client.id)}
    )
    assert response.status_code == 403 and denials(user) == before + 1
    unmatched.refresh_from_db()
    assert unmatched.status == "open"
    assert not Observation.objects.exists()


def test_the_back_address_cannot_lead_elsewhere(world, login, person, unmatched):
    client, _number, _card = person
    response = login(world.manager).post(
        f"/imports/quarantine/{unmatched.id}/match/",
        {"client_id": str(client.id), "back": "https://evil.example/imports/quarantine/"},
    )
    assert response["Location"] == "/imports/quarantine/"


def test_discarding_needs_a_reason_and_is_ledgered(world, login, unmatched):
    http = login(world.manager)
    http.post(f"/imports/quarantine/{unmatched.id}/discard/", {"reason": ""})
    unmatched.refresh_from_db()
    assert unmatched.status == "open"
    assert "请说明丢弃的原因" in http.get("/imports/quarantine/").content.decode()
    response = http.post(f"/imports/quarantine/{unmatched.id}/discard/", {"reason": "测试人员"})
    assert response.status_code == 302
    unmatched.refresh_from_db()
    assert unmatched.status == "discarded" and unmatched.resolution_note == "测试人员"
    assert LedgerEntry.objects.filter(
        action="exam.quarantine.discard", actor_id=str(world.manager.id)
    ).exists()
    again = http.post(f"/imports/quarantine/{unmatched.id}/discard/", {"reason": "又一次"})
    assert again.status_code == 302
    assert "该条目已被处理" in http.get("/imports/quarantine/").content.decode()


def test_a_result_is_retried_after_its_code_was_mapped(world, login, person, unknown_code):
    client, _number, _card = person
    http = login(world.manager)
    page = http.get("/imports/quarantine/").content.decode()
    assert 'action="/imports/quarantine/retry/"' in page
    do_map_local_code(actor=world.admin, source_name=SOURCE, local_code="ZZ9", code="1742-6")
    response = http.post("/imports/quarantine/retry/", {"item": [str(unknown_code.id)]})
    assert response.status_code == 302
    unknown_code.refresh_from_db()
    assert unknown_code.status == "resolved"
    assert Observation.objects.get(client=client, code="1742-6").source_code == "ZZ9"
    assert LedgerEntry.objects.filter(action="exam.quarantine.retry").exists()
    assert "1 项结果已入库" in http.get("/imports/quarantine/").content.decode()


def test_a_retry_without_a_mapping_keeps_the_item_open(world, login, unknown_code):
    http = login(world.manager)
    http.post("/imports/quarantine/retry/", {"item": [str(unknown_code.id), "not-an-id"]})
    unknown_code.refresh_from_db()
    assert (unknown_code.status, unknown_code.attempts) == ("open", 2)
    page = http.get("/imports/quarantine/").content.decode()
    assert "0 项结果已入库；1 项仍在隔离区" in page and "已尝试 2 次" in page


def test_the_quarantine_costs_the_same_queries_for_more_items(world, login, person):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _client, number, _card = person
    http = login(world.manager)
    run(world.manager, hl7(number, UNKNOWN, order="F1"))
    http.get("/imports/quarantine/")
    with CaptureQueriesContext(connection) as few:
        http.get("/imports/quarantine/")
    for i in range(5):
        run(world.manager, hl7(STRANGER, GLUCOSE, order=f"S{i}"))
        run(world.manager, hl7(number, UNKNOWN, order=f"M{i}"))
    with CaptureQueriesContext(connection) as many:
        page = http.get("/imports/quarantine/").content.decode()
    assert page.count('class="card quarantine-item') == 11
    assert len(many) == len(few)
