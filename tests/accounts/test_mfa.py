"""TOTP for every staff role: enrolment with a QR code, codes after the password, ±1 step
tolerance, no code reuse, single-use backup codes, throttling, and a session that has not
passed MFA reaching nothing but the MFA pages (pages redirect, the API answers 401, bearer
tokens keep working)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from auth_helpers import all_leaves, events, sign_in
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from careledger.accounts import mfa
from careledger.accounts.models import ApiToken
from conftest import totp_code, totp_device

pytestmark = pytest.mark.django_db

NOW = 1_800_000_015.0  # a fixed clock, mid-step, so ±1-step checks never straddle a boundary


@pytest.fixture
def frozen(monkeypatch):  # type: ignore[no-untyped-def]
    """django-otp's TOTP clock stands still at NOW."""

    class Clock:
        @staticmethod
        def time() -> float:
            return NOW

    monkeypatch.setattr("django_otp.plugins.otp_totp.models.time", Clock)
    return NOW


@pytest.fixture
def no_throttle(settings):  # type: ignore[no-untyped-def]
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_STATIC_THROTTLE_FACTOR = 0


def code_at(device: TOTPDevice, when: float) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = when
    return f"{totp.token():06d}"


def after_password(user) -> HttpClient:  # type: ignore[no-untyped-def]
    http = HttpClient()
    assert sign_in(http, user.username).status_code == 302
    return http


def submit(http: HttpClient, code: str):  # type: ignore[no-untyped-def]
    return http.post(reverse("accounts:mfa_verify"), {"code": code, "next": "/"})


# ---- enrolment -----------------------------------------------------------------------------


def test_a_staff_user_without_a_device_enrols_with_a_qr_code_and_gets_ten_backup_codes(world):  # type: ignore[no-untyped-def]
    http = after_password(world.doctor)
    response = http.get(reverse("accounts:mfa_verify"), follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("accounts:mfa_enrol"))
    html = response.content.decode()
    assert re.search(r'<svg class="mfa-qr" role="img"[^>]*viewBox', html)  # inline, no <img>
    assert "<img" not in html and "<script>" not in html
    device = TOTPDevice.objects.get(user=world.doctor)
    assert not device.confirmed
    assert mfa.secret_text(device) in html
    assert "otpauth://" not in html  # the URI lives only inside the QR code

    # A reload keeps the same secret (one scan is enough).
    http.get(reverse("accounts:mfa_enrol"))
    assert TOTPDevice.objects.filter(user=world.doctor).count() == 1

    response = http.post(reverse("accounts:mfa_enrol"), {"code": "000000", "next": "/"})
    assert response.status_code == 200 and "验证码无效" in response.content.decode()
    device.refresh_from_db()
    device.throttle_reset()

    response = http.post(reverse("accounts:mfa_enrol"), {"code": totp_code(device), "next": "/"})
    assert response.status_code == 200
    html = response.content.decode()
    codes = re.findall(r'user-select-all">([a-z2-7]{8})<', html)
    assert len(codes) == 10
    assert set(codes) == set(
        StaticToken.objects.filter(device__user=world.doctor).values_list("token", flat=True)
    )
    device.refresh_from_db()
    assert device.confirmed
    assert http.get(reverse("web:home")).status_code == 200  # verified now
    assert [e["outcome"] for e in events("auth.mfa_enrol")] == ["denied", "allowed"]
    assert not any(code in all_leaves() for code in codes)

    # Enrolment cannot be repeated to swap the authenticator behind the user's back.
    response = http.get(reverse("accounts:mfa_enrol"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:mfa_verify"))


@pytest.mark.parametrize(
    "who", ["manager", "doctor", "nurse", "admin", "auditor", "analyst", "outsider"]
)
def test_every_staff_role_must_pass_mfa(world, who):  # type: ignore[no-untyped-def]
    http = after_password(getattr(world, who))
    response = http.get(reverse("web:home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:mfa_verify"))


def test_only_portal_clients_skip_staff_mfa() -> None:
    class U:
        is_authenticated = True

        def __init__(self, role: str) -> None:
            self.role = role

    roles = ["health_manager", "doctor", "nurse", "institution_admin", "auditor", "analyst", ""]
    assert all(mfa.needs_mfa(U(role)) for role in roles)
    assert not mfa.needs_mfa(U("client"))


# ---- codes after the password --------------------------------------------------------------


def test_the_code_opens_the_workbench_rotates_the_key_and_is_ledgered(world, frozen):  # type: ignore[no-untyped-def]
    device = totp_device(world.manager)
    http = after_password(world.manager)
    before = http.session.session_key
    response = submit(http, code_at(device, NOW))
    assert response.status_code == 302 and response["Location"] == "/"
    assert http.session.session_key != before
    assert http.get(reverse("web:home")).status_code == 200
    [event] = events("auth.mfa")
    assert event["outcome"] == "allowed" and event["detail"] == {"method": "totp"}


@pytest.mark.parametrize(
    ("steps", "accepted"), [(-2, False), (-1, True), (0, True), (1, True), (2, False)]
)
def test_one_step_of_clock_drift_either_way_is_tolerated(world, frozen, steps, accepted):  # type: ignore[no-untyped-def]
    device = totp_device(world.manager)
    http = after_password(world.manager)
    response = submit(http, code_at(device, NOW + steps * 30))
    assert (response.status_code == 302) is accepted


def test_a_code_cannot_be_used_twice(world, frozen, no_throttle):  # type: ignore[no-untyped-def]
    device = totp_device(world.manager)
    code = code_at(device, NOW)
    assert submit(after_password(world.manager), code).status_code == 302
    second = after_password(world.manager)
    response = submit(second, code)
    assert response.status_code == 200 and "只能使用一次" in response.content.decode()
    # Nor an older one still inside the tolerance window: last_t only moves forward.
    assert submit(second, code_at(device, NOW - 30)).status_code == 200
    assert submit(second, code_at(device, NOW + 30)).status_code == 302


def test_backup_codes_work_once_each(world, no_throttle):  # type: ignore[no-untyped-def]
    totp_device(world.manager)
    codes = mfa.new_backup_codes(world.manager)
    http = after_password(world.manager)
    assert submit(http, codes[0].upper()).status_code == 302  # case and spaces do not matter
    [event] = events("auth.mfa", outcome="allowed")
    assert event["detail"] == {"method": "backup", "backup_codes_left": 9}
    again = after_password(world.manager)
    assert submit(again, codes[0]).status_code == 200
    assert mfa.backup_codes_left(world.manager) == 9


def test_few_backup_codes_left_brings_a_warning(world, no_throttle):  # type: ignore[no-untyped-def]
    totp_device(world.manager)
    codes = mfa.new_backup_codes(world.manager, count=3)
    http = after_password(world.manager)
    response = http.post(reverse("accounts:mfa_verify"), {"code": codes[0]}, follow=True)
    assert "您只剩 2 个备用码" in response.content.decode()


def test_wrong_codes_are_refused_ledgered_and_throttled(world, frozen):  # type: ignore[no-untyped-def]
    device = totp_device(world.manager)
    http = after_password(world.manager)
    response = submit(http, "123456" if code_at(device, NOW) != "123456" else "654321")
    assert response.status_code == 200 and "验证码无效" in response.content.decode()
    # Straight after a failure django-otp makes the user wait, even with the right code.
    response = submit(http, code_at(device, NOW))
    assert response.status_code == 200 and "错误次数过多" in response.content.decode()
    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_timestamp=timezone.now() - dt.timedelta(minutes=5)
    )
    assert submit(http, code_at(device, NOW)).status_code == 302
    outcomes = [(e["outcome"], e["detail"]) for e in events("auth.mfa")]
    assert outcomes == [
        ("denied", {"method": "totp"}),
        ("denied", {"method": "", "throttled": True}),
        ("allowed", {"method": "totp"}),
    ]


# ---- what a session without MFA may reach ----------------------------------------------------


def test_before_mfa_pages_redirect_and_the_api_answers_401(world, login_without_mfa):  # type: ignore[no-untyped-def]
    enrolled = world.enrol()
    http = login_without_mfa(world.manager)
    for url in ("/", "/clients/", f"/clients/{enrolled.client_id}/", "/teams/", "/account/"):
        response = http.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/account/mfa/?next="), url
    assert http.post("/clients/enrol/", {}).status_code == 302
    for url in ("/api/clients/", f"/api/clients/{enrolled.client_id}", "/api/clients/search"):
        response = http.get(url)
        assert response.status_code == 401, url
        assert response.json() == {"detail": "mfa required"}
    # Logout, the MFA page itself and the language switch stay open.
    assert http.get(reverse("accounts:mfa_verify")).status_code in {200, 302}
    assert http.post(reverse("web:set_language"), {"language": "en"}).status_code == 302
    assert http.post(reverse("web:logout")).status_code == 302
    assert http.get("/").status_code == 302  # now anonymous: to the sign-in page
    assert http.get("/")["Location"].startswith(reverse("web:login"))


def test_bearer_tokens_keep_working_whatever_session_comes_along(world, login_without_mfa):  # type: ignore[no-untyped-def]
    token = ApiToken.generate()
    ApiToken.objects.create(
        user=world.manager,
        name="t",
        digest=ApiToken.hash(token),
        expires_at=timezone.now() + dt.timedelta(days=1),
    )
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    assert HttpClient().get("/api/clients/", **auth).status_code == 200
    http = login_without_mfa(world.doctor)  # an unverified session cookie rides along
    assert http.get("/api/clients/", **auth).status_code == 200
    assert http.get("/api/clients/").status_code == 401


def test_a_verified_session_uses_the_api(world, login):  # type: ignore[no-untyped-def]
    assert login(world.manager).get("/api/clients/").status_code == 200
