"""Signing in with the password: key rotation, lockout per account and per IP, and no user
enumeration (unknown name, wrong password, locked, disabled and portal accounts all answer
alike, and each runs the password hasher exactly once)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from auth_helpers import all_leaves, events, sign_in
from axes.models import AccessAttempt
from django.contrib.auth.hashers import MD5PasswordHasher
from django.core.management import call_command
from django.test import Client as HttpClient
from django.urls import reverse

from careledger.accounts import lockout
from careledger.accounts.mfa import username_hash
from conftest import TEST_PASSWORD

pytestmark = pytest.mark.django_db

WRONG = "Not-the-password-1"


def failure_page(response) -> str:  # type: ignore[no-untyped-def]
    """The page minus what differs per request (CSRF token, request id, echoed username)."""
    html = response.content.decode()
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
    html = re.sub(r"[0-9a-f]{32}", "", html)
    return re.sub(r'id="id_username"[^>]*>', "", html)


def lock_out(http: HttpClient, username: str, ip: str = "10.1.1.1") -> None:
    for _ in range(lockout.failure_limit()):
        sign_in(http, username, WRONG, ip=ip)


# ---- the happy path ------------------------------------------------------------------------


def test_the_password_rotates_the_session_key_and_leads_to_mfa(client, world):  # type: ignore[no-untyped-def]
    client.get(reverse("web:login"))
    session = client.session
    session["probe"] = 1
    session.save()
    before = client.session.session_key
    response = sign_in(client, "manager")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:mfa_verify") + "?next=")
    assert client.session.session_key != before
    [event] = events("auth.login", outcome="allowed")
    assert event["actor"] == str(world.manager.id)
    assert event["detail"] == {"stage": "password", "mfa": "required"}


def test_a_safe_next_survives_the_mfa_detour(client, world):  # type: ignore[no-untyped-def]
    response = client.post(
        reverse("web:login"),
        {"username": "manager", "password": TEST_PASSWORD, "next": "/clients/"},
    )
    assert response["Location"] == reverse("accounts:mfa_verify") + "?next=%2Fclients%2F"
    client.logout()
    response = client.post(
        reverse("web:login"),
        {"username": "manager", "password": TEST_PASSWORD, "next": "https://evil.example/"},
    )
    assert "evil" not in response["Location"]


# ---- one answer for every failure ------------------------------------------------------------


def test_unknown_wrong_locked_disabled_and_portal_accounts_answer_alike(world):  # type: ignore[no-untyped-def]
    from careledger.accounts.models import User

    User.objects.create_user(username="portal1", password=TEST_PASSWORD, role="client")
    world.nurse.is_active = False
    world.nurse.save()
    lock_out(HttpClient(), "doctor", ip="10.9.9.9")  # locks the name "doctor" (not this IP)
    assert lockout.is_locked("doctor")

    answers = {
        "unknown": sign_in(HttpClient(), "nobody-here", WRONG),
        "wrong password": sign_in(HttpClient(), "manager", WRONG),
        "locked, right password": sign_in(HttpClient(), "doctor", TEST_PASSWORD),
        "disabled, right password": sign_in(HttpClient(), "nurse", TEST_PASSWORD),
        "portal client, right password": sign_in(HttpClient(), "portal1", TEST_PASSWORD),
    }
    statuses = {name: r.status_code for name, r in answers.items()}
    assert set(statuses.values()) == {200}, statuses  # not axes' 403/429, not a redirect
    pages = {name: failure_page(r) for name, r in answers.items()}
    reference = pages["unknown"]
    for name, page in pages.items():
        assert page == reference, name
    assert "用户名或密码错误。" in reference
    assert "连续失败 5 次后，登录将被锁定 15 分钟" in reference


@pytest.mark.parametrize("case", ["unknown", "wrong", "locked", "disabled", "no password"])
def test_each_failure_runs_the_password_hasher_once(world, monkeypatch, case):  # type: ignore[no-untyped-def]
    if case == "no password":  # a portal account: signs in by phone code, never here
        world.manager.set_unusable_password()
        world.manager.role = "client"
        world.manager.save()
    if case == "locked":
        lock_out(HttpClient(), "manager", ip="10.9.9.9")
        assert lockout.is_locked("manager")
    if case == "disabled":
        world.manager.is_active = False
        world.manager.save()
    calls = []
    real_encode = MD5PasswordHasher.encode

    def counting(self, password, salt):  # type: ignore[no-untyped-def]
        calls.append(1)
        return real_encode(self, password, salt)

    monkeypatch.setattr(MD5PasswordHasher, "encode", counting)
    username = "nobody-here" if case == "unknown" else "manager"
    password = WRONG if case in {"unknown", "wrong"} else TEST_PASSWORD
    response = sign_in(HttpClient(), username, password)
    assert response.status_code == 200
    assert len(calls) == 1, case


def test_failures_are_ledgered_with_a_hash_of_the_name_never_the_name(world):  # type: ignore[no-untyped-def]
    sign_in(HttpClient(), "manager", WRONG)
    sign_in(HttpClient(), "no-such-person", WRONG)
    denied = events("auth.login", outcome="denied")
    assert [e["detail"]["username_sha256"] for e in denied] == [
        username_hash("manager"),
        username_hash("no-such-person"),
    ]
    assert all(e["actor"] == "anonymous" for e in denied)
    leaves = all_leaves()
    assert "no-such-person" not in leaves and WRONG not in leaves


# ---- lockout ---------------------------------------------------------------------------------


def test_an_account_locks_after_five_failures_and_the_right_password_no_longer_works(world):  # type: ignore[no-untyped-def]
    http = HttpClient()
    for attempt in range(1, 5):
        sign_in(http, "manager", WRONG, ip=f"10.0.0.{attempt}")
    assert sign_in(http, "manager", TEST_PASSWORD, ip="10.0.0.9").status_code == 302
    http.logout()
    sign_in(http, "manager", WRONG, ip="10.0.0.5")  # the fifth failure
    assert lockout.is_locked("manager")
    response = sign_in(HttpClient(), "manager", TEST_PASSWORD, ip="10.0.0.77")
    assert response.status_code == 200 and "用户名或密码错误。" in response.content.decode()
    [locked] = events("auth.lockout")
    assert locked["detail"] == {"username_sha256": username_hash("manager")}
    assert "manager" not in all_leaves().replace(world.manager.role, "")


def test_an_ip_locks_after_five_failures_whatever_the_names(world):  # type: ignore[no-untyped-def]
    for n in range(5):
        sign_in(HttpClient(), f"guess{n}", WRONG, ip="10.6.6.6")
    assert sign_in(HttpClient(), "doctor", TEST_PASSWORD, ip="10.6.6.6").status_code == 200
    assert sign_in(HttpClient(), "doctor", TEST_PASSWORD, ip="10.7.7.7").status_code == 302


def test_the_lock_lifts_after_the_cool_off(world):  # type: ignore[no-untyped-def]
    lock_out(HttpClient(), "manager")
    assert sign_in(HttpClient(), "manager", ip="10.2.2.2").status_code == 200
    AccessAttempt.objects.update(
        attempt_time=dt.datetime.now(dt.UTC) - lockout.cool_off() - dt.timedelta(seconds=1)
    )
    assert not lockout.is_locked("manager")
    assert sign_in(HttpClient(), "manager", ip="10.2.2.2").status_code == 302


def test_careledger_unlock_lifts_it_at_once_and_is_ledgered(world):  # type: ignore[no-untyped-def]
    lock_out(HttpClient(), "manager", ip="10.3.3.3")
    call_command("unlock", "manager", "--ip", "10.3.3.3")
    assert not lockout.is_locked("manager")
    assert sign_in(HttpClient(), "manager", ip="10.3.3.3").status_code == 302
    by_user, by_ip = events("auth.unlock")
    assert by_user["resource"] == {"type": "user", "id": str(world.manager.id)}
    assert by_user["actor"] == "system" and by_user["channel"] == "cli"
    assert by_ip["detail"] == {"ip": "10.3.3.3"}


def test_lockout_limits_come_from_the_environment(monkeypatch):  # type: ignore[no-untyped-def]
    import runpy

    from careledger import settings as settings_module

    monkeypatch.setenv("CARELEDGER_LOCKOUT_FAILURES", "7")
    monkeypatch.setenv("CARELEDGER_LOCKOUT_SECONDS", "600")
    monkeypatch.setenv("CARELEDGER_SESSION_ABSOLUTE_SECONDS", "3600")
    values = runpy.run_path(settings_module.__file__)
    assert values["AXES_FAILURE_LIMIT"] == 7
    assert values["AXES_COOLOFF_TIME"] == dt.timedelta(minutes=10)
    assert values["CARELEDGER_SESSION_ABSOLUTE_SECONDS"] == 3600
    assert values["AXES_LOCKOUT_PARAMETERS"] == ["username", "ip_address"]
