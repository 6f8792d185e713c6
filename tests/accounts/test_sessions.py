"""Sessions end when they should: idle and absolute limits, "log out everywhere", a password
change, an account disabled by an admin (at the very next request), a session nobody stamped.
Passwords are validated wherever they are set."""

from __future__ import annotations

import time

import pytest
from auth_helpers import events, sign_in
from django.test import Client as HttpClient
from django.urls import reverse

from careledger.accounts import session_rules
from conftest import TEST_PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Lantern-river-2048"


def age_session(http: HttpClient, **seconds_ago: float) -> None:
    session = http.session
    for key, ago in seconds_ago.items():
        session[getattr(session_rules, key)] = time.time() - ago
    session.save()


def sent_to_login(response) -> bool:  # type: ignore[no-untyped-def]
    return response.status_code == 302 and response["Location"].startswith(reverse("web:login"))


@pytest.fixture
def limits(settings):  # type: ignore[no-untyped-def]
    settings.CARELEDGER_SESSION_IDLE_SECONDS = 900
    settings.CARELEDGER_SESSION_ABSOLUTE_SECONDS = 12 * 3600
    return settings


def test_an_idle_session_ends_and_the_user_is_told_why(world, login, limits):  # type: ignore[no-untyped-def]
    http = login(world.manager)
    assert http.get("/").status_code == 200
    age_session(http, SEEN_AT=901)
    response = http.get("/clients/")
    assert sent_to_login(response)
    assert "_auth_user_id" not in http.session
    page = http.get(response["Location"]).content.decode()
    assert "由于长时间未操作，您已自动退出登录。" in page
    [event] = events("auth.session_end")
    assert event["actor"] == str(world.manager.id) and event["detail"] == {"reason": "idle"}


def test_activity_keeps_a_session_alive(world, login, limits):  # type: ignore[no-untyped-def]
    http = login(world.manager)
    age_session(http, SEEN_AT=800, AUTH_AT=800)
    assert http.get("/").status_code == 200
    assert time.time() - http.session[session_rules.SEEN_AT] < 5


def test_a_busy_session_still_ends_at_the_absolute_limit(world, login, limits):  # type: ignore[no-untyped-def]
    http = login(world.manager)
    age_session(http, AUTH_AT=12 * 3600 + 1, SEEN_AT=10)
    assert sent_to_login(http.get("/"))
    assert events("auth.session_end")[0]["detail"] == {"reason": "absolute"}


def test_the_api_answers_401_when_the_session_ended(world, login, limits):  # type: ignore[no-untyped-def]
    http = login(world.manager)
    age_session(http, SEEN_AT=901)
    assert http.get("/api/clients/").status_code == 401


def test_a_session_nobody_stamped_is_refused(world, login):  # type: ignore[no-untyped-def]
    http = login(world.manager)
    session = http.session
    del session[session_rules.EPOCH]
    session.save()
    assert sent_to_login(http.get("/"))


def test_log_out_everywhere_ends_every_session_of_the_user_only(world, login):  # type: ignore[no-untyped-def]
    from conftest import login_verified

    desk = login(world.manager)
    phone = login_verified(HttpClient(), world.manager)
    colleague = login_verified(HttpClient(), world.doctor)
    response = desk.post(reverse("accounts:logout_everywhere"))
    assert sent_to_login(response)
    assert sent_to_login(desk.get("/"))
    assert sent_to_login(phone.get("/"))
    assert colleague.get("/").status_code == 200
    [event] = events("auth.logout_everywhere")
    assert event["actor"] == str(world.manager.id)
    assert [e["detail"]["reason"] for e in events("auth.session_end")] == ["epoch"]


def test_log_out_everywhere_is_a_post(world, login):  # type: ignore[no-untyped-def]
    assert login(world.manager).get(reverse("accounts:logout_everywhere")).status_code == 405


@pytest.mark.parametrize(
    ("password", "error"),
    [
        ("Short-1", "密码长度太短"),
        ("20481024409681921638", "只包含数字"),
        ("password123", "太常见"),
        ("manager2024x", "相似"),
    ],
)
def test_a_new_password_must_pass_the_validators(world, login, password, error):  # type: ignore[no-untyped-def]
    http = login(world.manager)
    response = http.post(
        reverse("accounts:password_change"),
        {"old_password": TEST_PASSWORD, "new_password1": password, "new_password2": password},
    )
    assert response.status_code == 200
    assert error in response.content.decode()
    world.manager.refresh_from_db()
    assert world.manager.check_password(TEST_PASSWORD)


def test_changing_the_password_keeps_this_session_and_ends_the_others(world, login):  # type: ignore[no-untyped-def]
    from conftest import login_verified

    desk = login(world.manager)
    other = login_verified(HttpClient(), world.manager)
    response = desk.post(
        reverse("accounts:password_change"),
        {
            "old_password": TEST_PASSWORD,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302 and response["Location"] == reverse("accounts:overview")
    assert desk.get("/").status_code == 200
    assert sent_to_login(other.get("/"))
    world.manager.refresh_from_db()
    assert world.manager.check_password(NEW_PASSWORD)
    assert events("auth.password_change")[0]["actor"] == str(world.manager.id)


def test_a_wrong_old_password_changes_nothing(world, login):  # type: ignore[no-untyped-def]
    http = login(world.manager)
    response = http.post(
        reverse("accounts:password_change"),
        {
            "old_password": "nope-nope-1",
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )
    assert response.status_code == 200
    assert not events("auth.password_change")


def test_disabling_an_account_takes_effect_at_the_very_next_request(world, login):  # type: ignore[no-untyped-def]
    from conftest import login_verified

    nurse = login_verified(HttpClient(), world.nurse)
    assert nurse.get("/").status_code == 200
    admin = login(world.admin)
    response = admin.post(
        reverse("accounts:admin_set_active"), {"user": world.nurse.pk, "active": "0"}
    )
    assert response.status_code == 302
    assert sent_to_login(nurse.get("/"))
    assert nurse.get("/api/clients/").status_code == 401
    # Re-enabling does not bring the old session back, and the password works again.
    admin.post(reverse("accounts:admin_set_active"), {"user": world.nurse.pk, "active": "1"})
    assert sent_to_login(nurse.get("/"))
    assert sign_in(HttpClient(), "nurse").status_code == 302
    assert [e["action"] for e in events("account.disable") + events("account.enable")] == [
        "account.disable",
        "account.enable",
    ]


def test_logout_is_ledgered_and_ends_the_session(world, login):  # type: ignore[no-untyped-def]
    http = login(world.manager)
    assert sent_to_login(http.post(reverse("web:logout")))
    assert sent_to_login(http.get("/"))
    assert events("auth.logout")[0]["actor"] == str(world.manager.id)
