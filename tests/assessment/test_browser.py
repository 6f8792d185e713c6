"""Risk assessment in a real browser (Debian's Chromium through the shared kit): a health manager
opens a client's risk page, assesses, and sees each model's level with the inputs it used and
its source; a nurse sees the same page without the buttons. Screenshots in
test-artifacts/screenshots/ (risk-page, risk-page-nurse)."""

from __future__ import annotations

import pytest

from web.browser_kit import launch_chromium
from web.test_browser import Session

pytestmark = pytest.mark.browser


@pytest.fixture
def browser(monkeypatch):  # type: ignore[no-untyped-def]
    yield from launch_chromium(monkeypatch)


def test_the_risk_page_shows_levels_inputs_and_sources(
    browser, live_server, transactional_db, world, patient
):  # type: ignore[no-untyped-def]
    manager = Session(browser, live_server.url)
    manager.sign_in("manager")
    manager.go(f"/clients/{patient}/risk/")
    page = manager.page
    page.click("#assess-now")
    page.wait_for_selector("#risk-china_par")
    page.click("#risk-china_par details.risk-inputs summary")
    china_par = page.locator("#risk-china_par").inner_text()
    assert "China-PAR" in china_par and "收缩压" in china_par and "146" in china_par
    assert "Yang" in china_par  # the cited paper
    assert "146.0 mmHg" in china_par and "男" in china_par and "58 岁" in china_par
    assert "mm[Hg]" not in page.content() and "{score}" not in page.content()
    assert "1级高血压" in page.locator("#risk-bp_grade").inner_text() or "2级" in page.content()
    manager.shot("risk-page")
    manager.close()

    nurse = Session(browser, live_server.url)
    nurse.sign_in("nurse")
    nurse.go(f"/clients/{patient}/risk/")
    assert nurse.page.locator("#risk-china_par").count() == 1
    assert nurse.page.locator("#assess-now").count() == 0
    nurse.shot("risk-page-nurse")
    nurse.close()
