"""Sign-in in a real browser (Debian's Chromium via Playwright): the login page, lockout,
MFA enrolment with the inline-SVG QR code, the MFA page, step-up and the admin's locked-
accounts page, all under the CSP with no script error. Screenshots go to
test-artifacts/screenshots/ (gitignored)."""

from __future__ import annotations

import re

import pytest
from auth_helpers import sign_in
from django.test import Client as HttpClient
from django_otp.plugins.otp_totp.models import TOTPDevice

from careledger.accounts import lockout
from conftest import TEST_PASSWORD, totp_code, totp_device
from web.browser_kit import BrowserTab, launch_chromium

pytestmark = pytest.mark.browser


@pytest.fixture
def browser(monkeypatch):  # type: ignore[no-untyped-def]
    yield from launch_chromium(monkeypatch)


class Tab(BrowserTab):
    """One browser tab that records CSP violations and script errors."""

    def __init__(self, browser, base: str, width: int = 1280, height: int = 860) -> None:  # type: ignore[no-untyped-def]
        super().__init__(browser, base, width, height)

    def password(self, username: str, password: str = TEST_PASSWORD) -> None:
        self.go("/login/")
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", password)
        self.page.click("button[type=submit]")
        self.page.wait_for_load_state()

    def code(self, code: str) -> None:
        self.page.fill("#id_code", code)
        self.page.click("button[type=submit]")
        self.page.wait_for_load_state()


def test_first_sign_in_enrols_an_authenticator(browser, live_server, transactional_db, world):  # type: ignore[no-untyped-def]
    tab = Tab(browser, live_server.url)
    tab.go("/login/")
    tab.shot("auth-login")
    tab.password("doctor")
    tab.page.wait_for_url(re.compile(r"/account/mfa/enrol/"))
    qr = tab.page.locator("#mfa-qr svg.mfa-qr")
    box = qr.bounding_box()
    assert box and box["width"] > 150 and box["height"] > 150  # drawn, not blocked by the CSP
    secret = tab.page.locator("#mfa-secret").inner_text()
    device = TOTPDevice.objects.get(user=world.doctor, confirmed=False)
    assert secret.replace(" ", "") in device.config_url
    tab.shot("auth-mfa-enrol")
    tab.code(totp_code(device))
    assert tab.page.locator("#backup-codes li").count() == 10
    tab.shot("auth-mfa-backup-codes")
    tab.page.click("text=我已保存备用码，继续")
    tab.page.wait_for_url(live_server.url + "/")
    tab.close()


def test_sign_in_with_a_code_and_the_lockout_message(browser, live_server, transactional_db, world):  # type: ignore[no-untyped-def]
    device = totp_device(world.manager)
    tab = Tab(browser, live_server.url, width=390, height=844)
    tab.password("manager")
    tab.page.wait_for_url(re.compile(r"/account/mfa/\?"))
    tab.shot("auth-mfa-verify-phone")
    tab.code("000000")
    assert tab.page.locator("#code-error").is_visible()
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0)
    tab.code(totp_code(device))
    tab.page.wait_for_url(live_server.url + "/")
    tab.close()

    intruder = Tab(browser, live_server.url)
    for _ in range(lockout.failure_limit()):
        intruder.password("nurse", "Wrong-password-1")
    intruder.password("nurse")  # the right password, now locked: the same answer
    assert "/login/" in intruder.page.url
    assert intruder.page.locator("#login-error").is_visible()
    assert "登录将被锁定" in intruder.page.locator("#lockout-rule").inner_text()
    intruder.shot("auth-lockout")
    intruder.close()


def test_admin_unlocks_after_a_step_up(browser, live_server, transactional_db, world, settings):  # type: ignore[no-untyped-def]
    device = totp_device(world.admin)
    totp_device(world.doctor)
    for _ in range(lockout.failure_limit()):  # from elsewhere: 127.0.0.1 must stay unlocked
        sign_in(HttpClient(), "nurse", "Wrong-password-1", ip="10.4.4.4")
    assert lockout.is_locked("nurse")
    tab = Tab(browser, live_server.url)
    tab.password("admin")
    tab.code(totp_code(device))
    tab.go("/account/admin/locked/")
    assert tab.page.locator("#locked-nurse").is_visible()
    tab.shot("auth-admin-locked")
    tab.page.click("#locked-nurse button")
    tab.page.wait_for_load_state()
    assert "已可重新登录" in tab.page.content()
    assert not lockout.is_locked("nurse")
    tab.go("/account/admin/users/")
    tab.shot("auth-admin-users")

    settings.CARELEDGER_STEP_UP_SECONDS = 1  # MFA from sign-in counts as stale now
    import time

    time.sleep(1.1)
    tab.page.click("#user-doctor >> text=重置验证器")
    tab.page.wait_for_url(re.compile(r"/account/step-up/\?next="))
    tab.shot("auth-step-up")
    settings.CARELEDGER_STEP_UP_SECONDS = 300
    tab.code(totp_code(device, steps_ahead=1))
    tab.page.wait_for_url(re.compile(r"/account/admin/mfa-reset/\?user="))
    tab.shot("auth-admin-mfa-reset-confirm")
    tab.close()
