"""Booking in a real browser (Debian's Chromium through the shared kit), failing on any CSP
violation or script error: a client books, moves and sees a check-up in the portal at phone
width (390×844); a health manager books for a client; the admin reads the capacity table; the
nurse's front desk. Screenshots in test-artifacts/screenshots/ (portal-booking-choose,
portal-booking-days, portal-bookings, portal-booking-change, staff-client-bookings,
config-capacity, front-desk)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client as DjangoClient
from django.utils import timezone

from careledger.booking import services
from careledger.booking.models import Appointment
from careledger.clients.models import Client
from web.browser_kit import SHOTS, launch_chromium
from web.test_browser import Session

from .conftest import make_catalogue, next_open_day

pytestmark = pytest.mark.browser


@pytest.fixture
def browser(monkeypatch):  # type: ignore[no-untyped-def]
    yield from launch_chromium(monkeypatch)


def phone_page(browser, live_server, client_id):  # type: ignore[no-untyped-def]
    """A phone-sized tab signed in to the portal as the client (session cookie)."""
    from careledger.portal.services import _portal_user

    http = DjangoClient()
    http.force_login(_portal_user(Client.objects.get(pk=client_id)))
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True, has_touch=True
    )
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": http.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
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
    return context, page, problems


def test_portal_booking_on_a_phone(browser, live_server, transactional_db, world):  # type: ignore[no-untyped-def]
    make_catalogue(world)
    client_id = world.enrol(name="欧阳明月").client_id
    context, page, problems = phone_page(browser, live_server, client_id)
    page.goto(live_server.url + "/portal/")
    page.click("#my-bookings >> text=预约体检")
    page.wait_for_url("**/portal/bookings/new/")
    assert "基础体检套餐" in page.content() and "¥599.00" in page.content()
    page.screenshot(path=str(SHOTS / "portal-booking-choose.png"), full_page=True)
    page.click(".package-card a.btn")
    page.wait_for_selector("#book-form")
    page.locator(".day-cell:not(.closed)").first.click()
    page.check("text=肿瘤标志物")
    page.screenshot(path=str(SHOTS / "portal-booking-days.png"), full_page=True)
    page.click("#book-submit")
    page.wait_for_url("**/portal/bookings/")
    html = page.content()
    assert "预约成功" in html and "检查前一晚10点后禁食" in html and "¥799.00" in html
    page.screenshot(path=str(SHOTS / "portal-bookings.png"), full_page=True)
    first_day = Appointment.objects.get(client_id=client_id).day
    page.click("text=改期")
    page.wait_for_selector("#change-form")
    page.locator(".day-cell:not(.closed):has(input:not([disabled]))").nth(1).click()
    page.screenshot(path=str(SHOTS / "portal-booking-change.png"), full_page=True)
    page.click("#change-form button")
    page.wait_for_url("**/portal/bookings/")
    assert "您的体检已改期" in page.content()
    assert Appointment.objects.get(client_id=client_id).day != first_day
    context.close()
    assert not problems, problems


def test_staff_booking_capacity_and_desk(browser, live_server, transactional_db, world):  # type: ignore[no-untyped-def]
    cat = make_catalogue(world)
    client_id = world.enrol(name="欧阳明月").client_id
    other = world.enrol(name="司马青衫").client_id
    row = services.do_book(
        actor=world.manager, client_id=other, version_id=cat.version.id,
        branch_id=cat.branch.id, day=next_open_day(cat.branch),
    )  # fmt: skip
    Appointment.objects.filter(pk=row.id).update(day=timezone.localdate())

    manager = Session(browser, live_server.url)
    manager.sign_in("manager")
    manager.go(f"/clients/{client_id}/bookings/")
    manager.page.select_option("#version", str(cat.version.id))
    manager.page.wait_for_selector("#book-form")
    manager.page.locator("#book-form .day-cell:not(.closed)").first.click()
    manager.page.click("#book-submit")
    manager.page.wait_for_selector(".booking-row")
    assert "已预约" in manager.page.content()
    manager.shot("staff-client-bookings")
    manager.close()

    admin = Session(browser, live_server.url)
    admin.sign_in("admin")
    admin.go(f"/config/packages/capacity/?branch={cat.branch.id}")
    text = admin.page.locator("#capacity-table").inner_text()
    assert "2/5" in text and "欧阳" not in admin.page.content()  # two booked, no names
    admin.shot("config-capacity")
    admin.close()

    nurse = Session(browser, live_server.url)
    nurse.sign_in("nurse")
    nurse.go(f"/bookings/desk/?branch={cat.branch.id}")
    listed = nurse.page.locator("#desk-list").inner_text()
    assert "司" in listed and "*" in listed and "司马青衫" not in listed  # masked for nurses
    nurse.shot("front-desk")
    nurse.close()
