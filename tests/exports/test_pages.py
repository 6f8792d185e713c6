"""The export pages and API: request form, approval behind step-up, download behind step-up,
what each role sees, the Chinese UI, and query counts that do not grow with the list."""

from __future__ import annotations

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from careledger.accounts import session_rules
from careledger.exports import services
from careledger.exports.models import ExportRequest, Status
from exports.conftest import SBP, qi_scope

pytestmark = pytest.mark.django_db
WHY = "季度血压控制率质量改进分析"


def stale_mfa(http) -> None:  # type: ignore[no-untyped-def]
    session = http.session
    session[session_rules.MFA_AT] = time.time() - 3600
    session.save()


def request_export(world, actor=None):  # type: ignore[no-untyped-def]
    return services.do_request_export(
        actor=actor or world.doctor, data=qi_scope(), justification=WHY
    )


def test_the_doctor_requests_an_export_from_the_form(world, cohort, login):
    http = login(world.doctor)
    page = http.get("/exports/new/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "用途" in text and "A组" in text and "B组" not in text  # own teams only
    assert "收缩压" in text
    response = http.post(
        "/exports/new/",
        {
            "purpose": "quality_improvement",
            "observation_codes": [SBP],
            "include_tags": "on",
            "format": "csv",
            "k": "2",
            "justification": WHY,
        },
    )
    assert response.status_code == 302
    export = ExportRequest.objects.get()
    assert response["Location"] == f"/exports/{export.id}/"
    assert export.scope["categories"] == ["demographics", "observations", "tags"]
    detail = http.get(response["Location"]).content.decode()
    assert "等待审批" in detail or "Awaiting approval" in detail
    assert export.scope_sha256 in detail


def test_a_bad_form_says_what_is_wrong(world, cohort, login):
    http = login(world.doctor)
    response = http.post(
        "/exports/new/", {"purpose": "quality_improvement", "format": "csv", "justification": "短"}
    )
    assert response.status_code == 400
    assert not ExportRequest.objects.exists()


def test_the_analyst_form_offers_no_identifiers(world, cohort, login):
    text = login(world.analyst).get("/exports/new/").content.decode()
    assert 'name="identifier_fields"' not in text
    assert "continuity_of_care" not in text and "regulatory_report" not in text


def test_approval_needs_a_fresh_code_then_runs(
    world, cohort, login, eager, django_capture_on_commit_callbacks
):
    export = request_export(world)
    http = login(world.admin)
    listing = http.get("/exports/").content.decode()
    assert f"/exports/{export.id}/" in listing
    stale_mfa(http)
    response = http.post(f"/exports/{export.id}/approve/", {"note": "同意"})
    assert response.status_code == 302 and response["Location"].startswith("/account/step-up/")
    assert ExportRequest.objects.get(pk=export.id).status == Status.PENDING
    login(world.admin)  # passes MFA again
    with django_capture_on_commit_callbacks(execute=True):
        response = http.post(f"/exports/{export.id}/approve/", {"note": "同意"})
    assert response.status_code == 302
    assert ExportRequest.objects.get(pk=export.id).status == Status.READY


def test_the_requester_sees_no_approve_button_and_is_refused(world, cohort, login):
    export = request_export(world)
    http = login(world.doctor)
    assert (
        f"/exports/{export.id}/approve/" not in http.get(f"/exports/{export.id}/").content.decode()
    )
    assert http.post(f"/exports/{export.id}/approve/").status_code == 403


def test_download_needs_a_fresh_code_and_returns_the_watermarked_file(world, cohort, login):
    export = request_export(world)
    services.do_approve_export(actor=world.admin, request_id=export.id, mfa_fresh=True)
    services.run_export(export.id)
    http = login(world.doctor)
    stale_mfa(http)
    response = http.post(f"/exports/{export.id}/download/")
    assert response.status_code == 302 and "/account/step-up/" in response["Location"]
    login(world.doctor)
    confirm = http.get(f"/exports/{export.id}/download/")
    assert confirm.status_code == 200
    response = http.post(f"/exports/{export.id}/download/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    body = response.content.decode("utf-8-sig")
    assert str(export.id) in body.splitlines()[0]
    assert not [s for s in cohort.secrets if s in body]
    assert ExportRequest.objects.get(pk=export.id).downloads == 1


def test_the_nurse_has_no_export_pages(world, cohort, login):
    export = request_export(world)
    http = login(world.nurse)
    for url in ("/exports/", "/exports/new/", f"/exports/{export.id}/", "/exports/projects/"):
        assert http.get(url).status_code == 403, url
    assert http.post(f"/exports/{export.id}/download/").status_code == 403


def test_another_institution_sees_only_its_own_and_is_refused_ours(world, cohort, login):
    export = request_export(world)
    http = login(world.outsider)
    listing = http.get("/exports/")
    assert listing.status_code == 200 and str(export.id) not in listing.content.decode()
    assert http.get(f"/exports/{export.id}/").status_code == 403
    assert http.post(f"/exports/{export.id}/download/").status_code == 403
    assert http.get(f"/api/exports/{export.id}").status_code == 403


def test_another_clinician_cannot_open_someone_elses_request(world, cohort, login):
    export = request_export(world)
    http = login(world.manager)
    assert http.get(f"/exports/{export.id}/").status_code == 403
    assert http.post(f"/exports/{export.id}/download/").status_code == 403


def test_projects_page_is_the_admins(world, login):
    http = login(world.admin)
    response = http.post("/exports/projects/", {"code": "htn", "title": "高血压队列", "k": "5"})
    assert response.status_code == 302
    assert "高血压队列" in http.get("/exports/projects/").content.decode()
    assert login(world.analyst).get("/exports/projects/").status_code == 403


def test_the_list_and_the_api_cost_the_same_queries_for_3_or_12_requests(world, cohort, login):
    def count(url: str) -> int:
        http = login(world.admin)
        with CaptureQueriesContext(connection) as ctx:
            assert http.get(url).status_code == 200
        return len(ctx)

    for _ in range(3):
        request_export(world)
    few_page, few_api = count("/exports/"), count("/api/exports")
    for _ in range(9):
        request_export(world)
    assert count("/exports/") == few_page
    assert count("/api/exports") == few_api


def test_api_request_approve_and_download(world, cohort, login):
    http = login(world.doctor)
    response = http.post(
        "/api/exports",
        {**qi_scope(), "justification": WHY},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    export_id = response.json()["id"]
    assert response.json()["status"] == "pending"
    assert http.post(f"/api/exports/{export_id}/approve", {}, "application/json").status_code == 403
    admin = login(world.admin)
    stale_mfa(admin)
    assert (
        admin.post(f"/api/exports/{export_id}/approve", {}, "application/json").status_code == 403
    )
    login(world.admin)
    response = admin.post(f"/api/exports/{export_id}/approve", {"note": "ok"}, "application/json")
    assert response.status_code == 200
    services.run_export(ExportRequest.objects.get(pk=export_id).id)
    http = login(world.doctor)
    file = http.get(f"/api/exports/{export_id}/file")
    assert file.status_code == 200 and export_id in file.content.decode("utf-8-sig")
    bad = http.post("/api/exports", {"purpose": "nope", "justification": WHY}, "application/json")
    assert bad.status_code == 422 and "purpose" in bad.json()["errors"]
    assert http.get(f"/api/exports/{world.inst.id}").status_code == 404
