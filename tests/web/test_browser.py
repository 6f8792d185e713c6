"""The workbench in a real browser (Debian's Chromium driven by Playwright): a health manager
enrols a client through the form and finds them again; a follow-up nurse sees them masked.
Screenshots go to test-artifacts/screenshots/ (gitignored)."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from conftest import TEST_PASSWORD, make_citizen_id, totp_code, totp_device
from web.browser_kit import BrowserTab, launch_chromium

pytestmark = pytest.mark.browser


@pytest.fixture
def browser(monkeypatch):  # type: ignore[no-untyped-def]
    yield from launch_chromium(monkeypatch)


class Session(BrowserTab):
    """One signed-in browser tab that fails the test on any CSP violation or script error."""

    def sign_in(self, username: str) -> None:
        from careledger.accounts.models import User

        device = totp_device(User.objects.get(username=username))  # enrolled before
        self.go("/login/")
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", TEST_PASSWORD)
        self.page.click("button[type=submit]")
        # Then the real MFA page, with the code the user's authenticator app would show.
        self.page.wait_for_url(re.compile(r"/account/mfa/\?"))
        self.page.fill("#id_code", totp_code(device))
        self.page.click("button[type=submit]")
        self.page.wait_for_url(self.base + "/")


def test_enrol_find_and_see_masked(browser, live_server, transactional_db, world):  # type: ignore[no-untyped-def]
    birth = dt.date(1986, 3, 9)
    number = make_citizen_id(birth, "F", 321)
    phone = "13987654321"

    manager = Session(browser, live_server.url)
    manager.sign_in("manager")
    assert "manager，您好" in manager.page.content()
    manager.go("/clients/enrol/")
    page = manager.page
    page.fill("#id_name", "林晓梅")
    page.check("#id_sex_1")  # Female
    page.fill("#id_birth_date", birth.isoformat())
    page.select_option("#id_document_type", "resident_id")
    page.fill("#id_document_number", number)
    page.fill("#id_phone", phone)
    page.fill("#id_address", "浙江省杭州市西湖区文三路100号")
    page.fill("#id_emergency_contact_name", "林大海")
    page.fill("#id_emergency_contact_phone", "13712345678")
    page.select_option("#id_emergency_contact_relation", "parent")
    page.select_option("#id_membership_level", "gold")
    team_box = page.locator(f"input[name=care_team_ids][value='{world.team_a.id}']")
    if not team_box.is_checked():
        team_box.check()
    manager.shot("enrol-filled")
    page.click("form.enrol-form button[type=submit]")
    page.wait_for_url(re.compile(r"/clients/[0-9a-f-]{36}/$"))
    profile_url = page.url.removeprefix(live_server.url)
    card = page.locator("#card-number").inner_text().strip()
    assert re.fullmatch(r"\d{12,}", card), card
    assert f"开卡成功，卡号 {card}" in page.content()
    assert page.locator("#client-name").inner_text() == "林晓梅"
    manager.shot("profile-after-enrolment")

    manager.go("/")
    page.fill("#home-q", phone)
    page.press("#home-q", "Enter")
    page.wait_for_url(re.compile(r"/clients/search/\?q="))
    assert "找到 1 位客户" in page.content()
    assert page.locator("a.client-link").inner_text() == "林晓梅"
    assert card in page.content()
    manager.shot("search-by-phone")
    manager.close()

    nurse = Session(browser, live_server.url, width=390, height=844)
    nurse.sign_in("nurse")
    nurse.go(profile_url)
    html = nurse.page.content()
    assert nurse.page.locator("#client-name").inner_text() == "林*梅"
    assert "139****4321" in html and phone not in html and number not in html
    assert "身份信息已脱敏" in html
    nurse.shot("profile-masked-for-nurse-phone")
    nurse.page.click("button[aria-controls=sidebar]")
    nurse.page.wait_for_selector("#sidebar.show")
    nurse.shot("menu-open-phone", full_page=False)
    nurse.close()


def test_failed_enrolment_keeps_the_form(browser, live_server, transactional_db, world):  # type: ignore[no-untyped-def]
    session = Session(browser, live_server.url, width=390, height=844)
    session.sign_in("manager")
    session.go("/clients/enrol/")
    page = session.page
    page.fill("#id_name", "林晓梅")
    page.fill("#id_document_number", "110101199003071234")
    page.fill("#id_phone", "12345")
    page.click("form.enrol-form button[type=submit]")
    page.wait_for_selector(".error-summary")
    assert page.evaluate("document.activeElement.classList.contains('error-summary')")
    assert page.input_value("#id_name") == "林晓梅"
    assert page.input_value("#id_phone") == "12345"
    assert page.locator("#id_phone_err").is_visible()
    assert page.locator("#id_document_number_err").is_visible()
    session.shot("enrol-errors-phone")
    session.close()


def test_resident_id_fills_birth_date_and_sex(browser, live_server, transactional_db, world):  # type: ignore[no-untyped-def]
    session = Session(browser, live_server.url)
    session.sign_in("manager")
    session.go("/clients/enrol/")
    page = session.page
    page.fill("#id_document_number", make_citizen_id(dt.date(1972, 11, 30), "M", 5))
    assert page.input_value("#id_birth_date") == "1972-11-30"
    assert page.is_checked("#id_sex_0")  # Male
    session.close()
