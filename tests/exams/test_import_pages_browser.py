"""Report sync in a real browser (Debian's Chromium via Playwright): a health manager uploads an
HL7 file through the form, lands on the job page with its summary, then matches the unmatched
report by hand in the quarantine. No CSP violation or script error on the way (htmx included).
Screenshots: test-artifacts/screenshots/import-job.png, import-quarantine.png."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from careledger.clients.models import Client
from careledger.exams.models import ImportJob, QuarantinedItem
from careledger.observations.models import Observation
from conftest import TEST_PASSWORD, make_citizen_id, totp_code, totp_device
from exams.test_import_pages import ALT, GLUCOSE, UNKNOWN, hl7_message
from web.browser_kit import BrowserTab, launch_chromium

pytestmark = pytest.mark.browser


@pytest.fixture
def browser(monkeypatch):  # type: ignore[no-untyped-def]
    yield from launch_chromium(monkeypatch)


class Session(BrowserTab):
    def sign_in(self, username: str) -> None:
        from careledger.accounts.models import User

        device = totp_device(User.objects.get(username=username))
        self.go("/login/")
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", TEST_PASSWORD)
        self.page.click("button[type=submit]")
        self.page.wait_for_url(re.compile(r"/account/mfa/\?"))
        self.page.fill("#id_code", totp_code(device))
        self.page.click("button[type=submit]")
        self.page.wait_for_url(self.base + "/")


def test_upload_see_the_summary_and_match_by_hand(  # type: ignore[no-untyped-def]
    browser, live_server, transactional_db, world, settings, tmp_path
):
    from careledger.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = True
    app.conf.task_always_eager = True
    try:
        birth = dt.date(1968, 7, 9)
        number = make_citizen_id(birth, "F", 21)
        enrolled = world.enrol(document_number=number, name="上官燕", sex="F", birth_date=birth)
        client = Client.objects.get(pk=enrolled.client_id)
        stranger = make_citizen_id(dt.date(1990, 1, 1), "M", 5)
        data = (
            hl7_message(number, GLUCOSE, ALT, UNKNOWN, order="A1")
            + hl7_message(stranger, GLUCOSE, order="A2", name="无名^氏")
        ).encode()
        path = tmp_path / "城东-20240506.hl7"
        path.write_bytes(data)

        tab = Session(browser, live_server.url)
        tab.sign_in("manager")
        tab.page.click("nav a[href='/imports/']")
        tab.page.wait_for_url(live_server.url + "/imports/")
        tab.page.set_input_files("#id_file", str(path))
        tab.page.fill("#id_new_source", "城东体检中心")
        tab.page.click("form.upload-form button[type=submit]")
        tab.page.wait_for_url(re.compile(r"/imports/[0-9a-f-]{36}/$"))
        tab.page.wait_for_selector("text=汇总")
        job = ImportJob.objects.get()
        assert (job.status, job.imported, job.quarantined) == ("done", 2, 2)
        body = tab.page.inner_text("main")
        assert "未知项目代码" in body and "未匹配到客户" in body
        tab.shot("import-job")

        tab.page.click("text=查看本次导入的隔离区")
        tab.page.wait_for_selector("article.quarantine-item")
        item = QuarantinedItem.objects.get(reason="unmatched_client")
        card = tab.page.locator(f"#item-{item.id}")
        card.locator("input[name=q]").fill(enrolled.card_number)
        card.locator("form.match-search button[type=submit]").click()  # htmx: inline results
        card.locator("text=将报告归入此客户").wait_for()
        tab.shot("import-quarantine")
        card.locator("text=将报告归入此客户").click()
        tab.page.wait_for_selector("text=项结果已入库")
        item.refresh_from_db()
        assert item.status == "resolved"
        assert Observation.objects.filter(client=client, code="2345-7").count() == 2
        tab.close()
    finally:
        app.conf.task_always_eager = False


def test_the_admins_pages_render_without_script_or_csp_errors(  # type: ignore[no-untyped-def]
    browser, live_server, transactional_db, world
):
    from exams.test_import_pages import hl7, run

    number = make_citizen_id(dt.date(1968, 7, 9), "F", 21)
    world.enrol(document_number=number, name="上官燕", sex="F", birth_date=dt.date(1968, 7, 9))
    run(world.manager, hl7(number, GLUCOSE, UNKNOWN), source_name="城东体检中心")

    tab = Session(browser, live_server.url)
    tab.sign_in("admin")
    tab.go("/imports/")
    assert "城东体检中心" in tab.page.inner_text("main")
    tab.shot("import-history")
    tab.go("/config/sources/new/")
    tab.page.fill("#id_name", "南山体检")
    tab.page.select_option("#id_format", "csv")
    tab.shot("import-source-form")
    tab.go("/config/codes/")
    row = tab.page.locator("table.codes-table tbody tr").first
    row.locator("input[name=q]").fill("谷丙")
    row.locator("form.picker button[type=submit]").click()  # htmx: the picker's results
    row.locator(".picker-results button").first.wait_for()
    tab.shot("code-mapping")
    row.locator(".picker-results button", has_text="1742-6").click()
    tab.page.wait_for_selector("text=项等待中的结果已入库")
    tab.go("/config/catalogue/?q=血糖")
    assert "2345-7" in tab.page.inner_text("main")
    tab.shot("catalogue")
    tab.close()
