"""The portal on a phone-sized screen in a real browser (Debian's Chromium via Playwright):
sign in with the SMS code, see the card, read who looked at the record. Fails on any CSP
violation or script error. Screenshots (390×844) go to test-artifacts/screenshots/portal-*.png."""

from __future__ import annotations

import pytest

from careledger.notifications.backends import read_outbox
from web.browser_kit import SHOTS, launch_chromium

PHONE = "13912340000"

pytestmark = pytest.mark.browser


@pytest.fixture
def browser(monkeypatch):  # type: ignore[no-untyped-def]
    yield from launch_chromium(monkeypatch)


def test_sign_in_and_read_the_access_log_on_a_phone(  # type: ignore[no-untyped-def]
    browser, live_server, transactional_db, world, outbox
):
    from careledger.clients import selectors

    enrolled = world.enrol(name="欧阳明月", phone=PHONE)
    selectors.get_client(world.doctor, enrolled.client_id)
    selectors.search_clients(world.nurse, PHONE)

    context = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True, has_touch=True
    )
    page = context.new_page()
    problems: list[str] = []
    page.on(
        "console",
        lambda m: (
            problems.append(m.text)
            if m.type == "error" and "Failed to load resource" not in m.text
            else None
        ),
    )
    page.on("pageerror", lambda e: problems.append(str(e)))

    page.goto(live_server.url + "/portal/login/")
    page.select_option("#id_institution", str(world.inst.id))  # two centres: choose one
    page.fill("#id_phone", "139 1234 0000")
    page.screenshot(path=str(SHOTS / "portal-login.png"), full_page=True)
    page.click("button[type=submit]")
    page.wait_for_url(live_server.url + "/portal/login/code/")
    assert "如果该号码已在中心登记" in page.content()
    [sms] = read_outbox(outbox)
    page.fill("#id_code", "000000")
    page.click("button[type=submit]")
    page.wait_for_selector("#code-error")
    assert "还可以再试 4 次" in page.content()
    page.fill("#id_code", sms["params"]["code"])
    page.screenshot(path=str(SHOTS / "portal-code.png"), full_page=True)
    page.click("button[type=submit]")
    page.wait_for_url(live_server.url + "/portal/")
    assert "欧阳明月" in page.content() and enrolled.card_number in page.content()
    page.screenshot(path=str(SHOTS / "portal-home.png"), full_page=True)

    page.click("text=查看全部访问记录")
    page.wait_for_url(live_server.url + "/portal/access-log/")
    html = page.content()
    assert "查看档案" in html and "搜索时找到您" in html and "如何自行核验凭证" in html
    page.screenshot(path=str(SHOTS / "portal-access-log.png"), full_page=True)
    with page.expect_download() as download:
        page.locator("a.access-receipt").first.click()
    assert download.value.suggested_filename.startswith("careledger-receipt-")

    page.click("text=退出")
    page.wait_for_url(live_server.url + "/portal/login/")
    context.close()
    assert not problems, problems
