"""Exports in a real browser (Debian's Chromium): the doctor fills the request form, the admin
(the second person) sees purpose, scope and counts and approves, the doctor downloads the
watermarked file. Screenshots in test-artifacts/screenshots/ (export-request-form,
export-approval, export-ready)."""

from __future__ import annotations

import pytest

from careledger.exports.models import ExportRequest, Status
from exports.conftest import SBP, Cohort
from web.browser_kit import launch_chromium
from web.test_browser import Session

pytestmark = pytest.mark.browser


@pytest.fixture
def browser(monkeypatch):  # type: ignore[no-untyped-def]
    yield from launch_chromium(monkeypatch)


def test_request_approve_and_download(browser, live_server, transactional_db, world, settings):  # type: ignore[no-untyped-def]
    from careledger.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = True
    app.conf.task_always_eager = True
    try:
        cohort = Cohort(world)
        doctor = Session(browser, live_server.url)
        doctor.sign_in("doctor")
        doctor.go("/exports/new/")
        page = doctor.page
        page.select_option("#id_purpose", "quality_improvement")
        page.select_option("#id_observation_codes", [SBP])
        page.check("#id_include_tags")
        page.fill("#id_k", "2")
        page.fill("#id_justification", "季度血压控制率质量改进分析")
        doctor.shot("export-request-form")
        page.click("button:has-text('提交审批')")
        page.wait_for_url(f"{live_server.url}/exports/*/")
        assert "等待审批" in page.content()
        export = ExportRequest.objects.get()

        admin = Session(browser, live_server.url)
        admin.sign_in("admin")
        admin.go("/exports/")
        assert "待您审批" in admin.page.content()
        admin.go(f"/exports/{export.id}/")
        text = admin.page.content()
        assert "季度血压控制率" in text and export.scope_sha256 in text
        assert not [s for s in cohort.secrets if s in text]
        admin.shot("export-approval")
        admin.page.click("button:has-text('批准')")
        admin.page.wait_for_url(f"{live_server.url}/exports/{export.id}/")
        admin.close()
        assert ExportRequest.objects.get(pk=export.id).status == Status.READY

        doctor.go(f"/exports/{export.id}/")
        assert "可下载" in doctor.page.content() and "实际 k 值" in doctor.page.content()
        doctor.shot("export-ready")
        with doctor.page.expect_download() as info:
            doctor.page.click("button:has-text('下载')")
        data = open(info.value.path(), encoding="utf-8-sig").read()  # noqa: SIM115
        assert str(export.id) in data.splitlines()[0]
        assert not [s for s in cohort.secrets if s in data]
        doctor.close()
    finally:
        app.conf.task_always_eager = False
