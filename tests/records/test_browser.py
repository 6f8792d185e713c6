"""The health record in a real browser (Debian's Chromium through the shared kit): a health
manager reads the record, adds a condition picked from the ICD-10 list, and sees a bad entry
come back with its error beside the field. Screenshots in test-artifacts/screenshots/."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from careledger.clients.models import Client
from careledger.records.services import do_add_entry
from records.conftest import VALID, vitals_data
from web.browser_kit import launch_chromium
from web.test_browser import Session

pytestmark = pytest.mark.browser


@pytest.fixture
def browser(monkeypatch):  # type: ignore[no-untyped-def]
    yield from launch_chromium(monkeypatch)


def test_record_page_add_a_condition_and_see_an_error(
    browser, live_server, transactional_db, world
):  # type: ignore[no-untyped-def]
    enrolled = world.enrol(name="欧阳明月", birth_date=dt.date(1970, 3, 9), sex="M")
    client = Client.objects.get(pk=enrolled.client_id)
    for section, data in VALID.items():
        do_add_entry(actor=world.manager, client_id=client.id, section=section, data=data)
    for days, sbp in ((700, 132), (330, 141), (1, 148)):
        do_add_entry(
            actor=world.manager,
            client_id=client.id,
            section="vitals",
            data=vitals_data(
                measured_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=days), sbp=sbp
            ),
        )
    record_url = f"/clients/{client.id}/record/"

    manager = Session(browser, live_server.url)
    manager.sign_in("manager")
    manager.go(f"/clients/{client.id}/")
    manager.page.click("#record-link")
    manager.page.wait_for_url(re.compile(r"/record/$"))
    page = manager.page
    assert page.locator("#client-name").inner_text() == "欧阳明月"
    assert "青霉素" in page.locator("#allergy-alert").inner_text()
    assert page.locator("#vitals-table tbody tr").count() == 3
    manager.shot("health-record")

    page.click("#conditions a.btn")  # 添加
    page.fill("#id_code", "K76.0")
    page.fill("#id_onset", "2021")
    page.select_option("#id_clinical_status", "active")
    page.fill("#id_note", "腹部超声提示轻度脂肪肝")
    page.click("form.record-form button[type=submit]")
    page.wait_for_url(re.compile(r"/record/#conditions$"))
    assert "K76.0 脂肪肝" in page.locator("#conditions").inner_text()

    manager.go(f"{record_url}medications/")
    page.fill("#id_drug_name", "二甲双胍")
    page.fill("#id_dose_value", "500")
    page.fill("#id_start", "2030-01")
    page.click("form.record-form button[type=submit]")
    page.wait_for_selector(".error-summary")
    assert page.locator("#id_dose_unit_err").is_visible()
    assert "将来" in page.locator("#id_start_err").inner_text()
    assert page.input_value("#id_drug_name") == "二甲双胍"
    manager.shot("health-record-medication-errors")
    manager.close()

    nurse = Session(browser, live_server.url, width=390, height=844)
    nurse.sign_in("nurse")
    nurse.go(record_url)
    assert nurse.page.locator("#client-name").inner_text() == "欧**月"
    assert nurse.page.locator("a:has-text('添加')").count() == 0
    nurse.shot("health-record-nurse-phone")
    nurse.close()
