"""The portal's card and orders on a phone-sized screen (390×844) in a real browser, and the
staff order page: order a check-up, see how to pay, see the entitlements. Fails on any CSP
violation or script error. Screenshots go to test-artifacts/screenshots/store-*.png."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.test import Client as DjangoClient

from store.conftest import make_catalogue, next_open_day
from web.browser_kit import SHOTS, launch_chromium

pytestmark = pytest.mark.browser


@pytest.fixture
def browser(monkeypatch):  # type: ignore[no-untyped-def]
    yield from launch_chromium(monkeypatch)


def _signed_in(browser, live_server, user, **context):  # type: ignore[no-untyped-def]
    from conftest import login_verified

    http = login_verified(DjangoClient(), user)
    ctx = browser.new_context(locale="zh-CN", **context)
    ctx.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": http.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    page = ctx.new_page()
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
    return ctx, page, problems


def test_a_client_orders_a_check_up_on_a_phone(browser, live_server, transactional_db, world):  # type: ignore[no-untyped-def]
    from careledger.clients.models import Client
    from careledger.membership import services as membership
    from careledger.portal.services import _portal_user

    catalogue = make_catalogue(world)
    membership.do_set_level_table(
        actor=world.admin, data={"gold": {"annual_checkup": 1, "consultation": 4, "follow_up": 12}}
    )
    client = Client.objects.get(
        pk=world.enrol(name="欧阳明月", sex="F", birth_date=dt.date(1980, 3, 1)).client_id
    )
    membership.do_redeem(actor=world.doctor, client_id=client.id, kind="consultation")
    ctx, page, problems = _signed_in(
        browser,
        live_server,
        _portal_user(client),
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
    )
    page.goto(live_server.url + "/portal/")
    assert "我的权益" in page.content() and "健康咨询" in page.content()
    page.screenshot(path=str(SHOTS / "store-portal-home.png"), full_page=True)
    page.click("#my-orders >> text=预订体检")
    page.wait_for_selector("#order-form")
    page.fill("#day", next_open_day(catalogue.branch).isoformat())
    page.check("#use-entitlement")
    page.screenshot(path=str(SHOTS / "store-portal-new-order.png"), full_page=True)
    page.click("#order-form button")
    page.wait_for_selector("#order-detail")
    html = page.content()
    assert "会员卡权益抵扣" in html and "已预约" in html, html[:2000]
    page.screenshot(path=str(SHOTS / "store-portal-order.png"), full_page=True)
    page.goto(live_server.url + "/portal/card/")
    assert "年度体检" in page.content()
    page.screenshot(path=str(SHOTS / "store-portal-card.png"), full_page=True)
    page.goto(live_server.url + "/portal/orders/")
    page.screenshot(path=str(SHOTS / "store-portal-orders.png"), full_page=True)
    ctx.close()
    assert not problems, problems


def test_the_staff_order_page_with_an_order_awaiting_payment(  # type: ignore[no-untyped-def]
    browser, live_server, transactional_db, world
):
    from careledger.clients.models import Client
    from store.conftest import place

    catalogue = make_catalogue(world)
    client = Client.objects.get(pk=world.enrol(name="欧阳明月", sex="F").client_id)
    order = place(world, client, catalogue, addon_ids=[catalogue.addon_id])
    ctx, page, problems = _signed_in(
        browser, live_server, world.manager, viewport={"width": 1280, "height": 900}
    )
    page.goto(f"{live_server.url}/clients/{client.id}/orders/?order={order.id}")
    assert "确认已收款" in page.content()
    page.screenshot(path=str(SHOTS / "store-staff-order.png"), full_page=True)
    page.click("#pay-form button")
    page.wait_for_selector("#refund-form")
    assert "已预约" in page.content()
    page.screenshot(path=str(SHOTS / "store-staff-paid.png"), full_page=True)
    page.goto(f"{live_server.url}/clients/{client.id}/membership/")
    page.screenshot(path=str(SHOTS / "store-staff-membership.png"), full_page=True)
    ctx.close()
    assert not problems, problems
