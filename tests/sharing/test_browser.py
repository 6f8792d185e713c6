"""Sharing in a real browser (Debian's Chromium): the health manager's share page for a client
with a fetched share, the admin's partner page, and the client's share page and confirmation on
a phone-sized screen. Fails on any CSP violation or script error. Screenshots in
test-artifacts/screenshots/ (share-staff, share-partners, share-portal, share-portal-confirm)."""

from __future__ import annotations

import pytest

from careledger.sharing import services
from careledger.sharing.principal import PartnerPrincipal
from web.browser_kit import SHOTS, launch_chromium
from web.test_browser import Session

pytestmark = pytest.mark.browser


@pytest.fixture
def browser(monkeypatch):  # type: ignore[no-untyped-def]
    yield from launch_chromium(monkeypatch)


def test_share_pages(browser, live_server, transactional_db, world, shared, partnered, outbox):  # type: ignore[no-untyped-def]
    enrolled, grant = shared
    principal = PartnerPrincipal(partner=partnered.partner, scopes=frozenset({"system/*.read"}))
    services.do_fetch_share(principal=principal, grant_id=grant.id, base="http://x/fhir/R4")

    manager = Session(browser, live_server.url)
    manager.sign_in("manager")
    manager.go(f"/clients/{enrolled.client_id}/shares/")
    page = manager.page
    assert "跨机构共享" in page.content() and "已签名的共享包" in page.content()
    page.click("summary")
    manager.shot("share-staff")
    manager.close()

    admin = Session(browser, live_server.url)
    admin.sign_in("admin")
    admin.go("/config/partners/")
    admin.page.fill("#id_name", "市第一人民医院")
    admin.page.fill("#id_code", "H-01")
    admin.page.check("input[value='system/Observation.read']")
    admin.page.click("button:has-text('登记')")
    admin.page.wait_for_selector("#new-credentials")
    admin.shot("share-partners")
    admin.close()

    # The client, on a phone: their shares, then a new one confirmed by the SMS code.
    from careledger.notifications.backends import read_outbox

    context = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True, has_touch=True
    )
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto(live_server.url + "/portal/login/")
    page.select_option("#id_institution", str(world.inst.id))
    page.fill("#id_phone", "13912340000")
    page.click("button[type=submit]")
    page.wait_for_url(live_server.url + "/portal/login/code/")
    page.fill("#id_code", read_outbox(outbox)[-1]["params"]["code"])
    page.click("button[type=submit]")
    page.wait_for_url(live_server.url + "/portal/")
    page.click("text=我的共享")
    page.wait_for_url(live_server.url + "/portal/shares/")
    assert "与其他机构共享" in page.content()
    page.screenshot(path=str(SHOTS / "share-portal.png"), full_page=True)
    page.select_option("#id_partner", str(partnered.partner.id))
    page.check("input[value='results']")
    page.click("button:has-text('发送验证码确认')")
    page.wait_for_selector("#code-form")
    page.fill("#id_code", read_outbox(outbox)[-1]["params"]["code"])
    page.screenshot(path=str(SHOTS / "share-portal-confirm.png"), full_page=True)
    page.click("button:has-text('确认')")
    page.wait_for_url(live_server.url + "/portal/shares/")
    assert page.locator("article.share-grant[data-state='active']").count() == 2
    context.close()
    assert not problems, problems
