"""Consent and retention pages in a real browser (Debian's Chromium): the health manager
records a desk consent; the admin publishes a text; the client gives and withdraws a consent on
a phone, confirmed by the SMS code; the admin's retention page. Fails on any CSP violation or
script error. Screenshots in test-artifacts/screenshots/ (consent-staff, consent-text,
consent-portal-*, retention-config)."""

from __future__ import annotations

import pytest

from careledger.consent import selectors, services, text_services
from careledger.consent.purposes import Purpose
from careledger.notifications.backends import read_outbox
from web.browser_kit import SHOTS, launch_chromium
from web.test_browser import Session

pytestmark = pytest.mark.browser

PHONE = "13912345678"


@pytest.fixture(autouse=True)
def eager_tasks(settings):  # type: ignore[no-untyped-def]
    from careledger.celery import app

    settings.CELERY_TASK_ALWAYS_EAGER = True
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


@pytest.fixture
def browser(monkeypatch):  # type: ignore[no-untyped-def]
    yield from launch_chromium(monkeypatch)


def published(world):  # type: ignore[no-untyped-def]
    bodies = {
        Purpose.HEALTH_MANAGEMENT: "本人同意康链健康管理中心为提供健康管理服务处理本人的个人信息。",
        Purpose.SENSITIVE_PI: (
            "本人已知悉健康信息属于敏感个人信息，单独同意中心为健康管理目的处理。\n"
            "处理的必要性：……\n对个人权益的影响：……"
        ),
        Purpose.FOLLOWUP_SMS: "本人同意中心通过短信向本人发送随访与体检提醒，可随时撤回。",
        Purpose.FOLLOWUP_PHONE: "本人同意中心通过电话进行健康随访，可随时撤回。",
        Purpose.RESEARCH: "本人同意去标识化后的数据用于医学科研，可随时撤回。",
    }
    out = {}
    for purpose, body in bodies.items():
        draft = text_services.do_create_draft(
            actor=world.admin, purpose=purpose.value, title="知情同意书", body=body
        )
        out[purpose] = text_services.do_publish(actor=world.admin, text_id=draft.id)
    return out


def test_consent_pages_staff_admin_and_phone(browser, live_server, transactional_db, world, outbox):  # type: ignore[no-untyped-def]
    texts = published(world)
    enrolled = world.enrol(name="欧阳明月", phone=PHONE)
    services.do_record(
        actor=world.manager,
        client_id=enrolled.client_id,
        text_id=texts[Purpose.HEALTH_MANAGEMENT].id,
        method="paper",
        reference="同意书 2026-0001",
    )

    manager = Session(browser, live_server.url)
    manager.sign_in("manager")
    manager.go(f"/clients/{enrolled.client_id}/consents/")
    page = manager.page
    page.select_option("#text", str(texts[Purpose.SENSITIVE_PI].id))
    page.fill("#reference", "敏感信息单独同意书 2026-0002，档案柜 3")
    page.click("#record-submit")
    page.wait_for_selector("#in-force [data-purpose='sensitive_pi']")
    assert "敏感个人信息处理（单独同意）" in page.locator("#in-force").inner_text()
    manager.shot("consent-staff")
    manager.close()

    admin = Session(browser, live_server.url)
    admin.sign_in("admin")
    admin.go("/config/consents/")
    admin.page.select_option("#purpose", "followup_wechat")
    admin.page.fill("#title", "微信随访知情同意书")
    admin.page.fill("#body", "本人同意中心通过微信进行健康随访。\n可随时在客户门户撤回。")
    admin.page.click("#new-draft button")
    admin.page.wait_for_selector("#publish")
    admin.page.click("#publish")
    admin.page.wait_for_selector("#text-body")
    assert "已发布" in admin.page.locator("#text-status").inner_text()
    admin.shot("consent-text")
    admin.go("/config/retention/")
    assert "保存期限与删除" in admin.page.content()
    admin.shot("retention-config")
    admin.close()

    context = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True, has_touch=True
    )
    phone = context.new_page()
    problems: list[str] = []
    phone.on("pageerror", lambda e: problems.append(str(e)))
    phone.on(
        "console",
        lambda m: (
            problems.append(m.text)
            if m.type == "error" and "Failed to load resource" not in m.text
            else None
        ),
    )
    phone.goto(live_server.url + "/portal/login/")
    phone.select_option("#id_institution", str(world.inst.id))
    phone.fill("#id_phone", PHONE)
    phone.click("button[type=submit]")
    phone.wait_for_url(live_server.url + "/portal/login/code/")
    phone.fill("#id_code", read_outbox(outbox)[-1]["params"]["code"])
    phone.click("button[type=submit]")
    phone.wait_for_url(live_server.url + "/portal/")
    phone.click("text=查看、给出或撤回我的同意")
    phone.wait_for_url(live_server.url + "/portal/consents/")
    phone.screenshot(path=str(SHOTS / "consent-portal-list.png"), full_page=True)
    phone.click("#give-followup_sms")
    phone.wait_for_selector("#consent-text")
    phone.screenshot(path=str(SHOTS / "consent-portal-give.png"), full_page=True)
    phone.click("#send-code")
    phone.wait_for_url(live_server.url + "/portal/consents/confirm/")
    phone.fill("#id_code", read_outbox(outbox)[-1]["params"]["code"])
    phone.screenshot(path=str(SHOTS / "consent-portal-confirm.png"), full_page=True)
    phone.click("#confirm-submit")
    phone.wait_for_url(live_server.url + "/portal/consents/")
    assert selectors.has_consent(client_id=enrolled.client_id, purpose="followup_sms")
    phone.screenshot(path=str(SHOTS / "consent-portal-given.png"), full_page=True)
    phone.click("#withdraw-followup_sms")
    phone.wait_for_selector("text=已撤回，立即生效")
    assert not selectors.has_consent(client_id=enrolled.client_id, purpose="followup_sms")
    context.close()
    assert not problems, problems
