"""Step-up: sensitive actions need a TOTP code younger than five minutes, on the web
(`step_up_required`, the step-up page) and on the command line (`keys rotate`)."""

from __future__ import annotations

import time

import pytest
from auth_helpers import events
from django.core.management import CommandError, call_command
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse

from careledger.accounts import session_rules, stepup
from conftest import totp_code, totp_device

pytestmark = pytest.mark.django_db


def set_mfa_age(http, seconds: float) -> None:  # type: ignore[no-untyped-def]
    session = http.session
    session[session_rules.MFA_AT] = time.time() - seconds
    session.save()


def test_mfa_is_fresh_for_five_minutes_after_a_code(world, login):  # type: ignore[no-untyped-def]
    http = login(world.manager)  # the fixture passed MFA just now
    request = http.get("/").wsgi_request
    assert stepup.mfa_is_fresh(request)
    set_mfa_age(http, 301)
    request = http.get("/").wsgi_request
    assert not stepup.mfa_is_fresh(request)
    assert stepup.mfa_is_fresh(request, max_age_seconds=600)


def test_a_session_without_mfa_is_never_fresh(world, login_without_mfa):  # type: ignore[no-untyped-def]
    http = login_without_mfa(world.manager)
    session = http.session
    session[session_rules.MFA_AT] = time.time()  # a timestamp alone proves nothing
    session.save()
    request = http.get(reverse("accounts:mfa_verify")).wsgi_request
    assert not stepup.mfa_is_fresh(request)


def test_the_decorator_sends_a_stale_session_to_the_step_up_page_and_back(world, login):  # type: ignore[no-untyped-def]
    @stepup.step_up_required
    def sensitive(request):  # type: ignore[no-untyped-def]
        return HttpResponse("done")

    @stepup.step_up_required(max_age_seconds=60)
    def very_sensitive(request):  # type: ignore[no-untyped-def]
        return HttpResponse("done")

    http = login(world.manager)
    set_mfa_age(http, 120)
    request = http.get("/").wsgi_request
    request.get_full_path = lambda: "/clients/x/break-glass/?a=1"  # type: ignore[method-assign]
    assert sensitive(request).content == b"done"
    response = very_sensitive(request)
    assert response.status_code == 302
    assert response["Location"] == "/account/step-up/?next=%2Fclients%2Fx%2Fbreak-glass%2F%3Fa%3D1"
    anonymous = RequestFactory().get("/x/")
    from django.contrib.auth.models import AnonymousUser

    anonymous.user = AnonymousUser()
    anonymous.session = {}  # type: ignore[assignment]
    assert sensitive(anonymous).status_code == 302


def test_the_step_up_page_takes_a_totp_code_and_returns_to_next(world, login, settings):  # type: ignore[no-untyped-def]
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_STATIC_THROTTLE_FACTOR = 0
    device = totp_device(world.admin)
    http = login(world.admin)
    set_mfa_age(http, 600)
    url = reverse("accounts:step_up") + "?next=/account/admin/users/"
    assert "确认是您本人" in http.get(url).content.decode()
    from careledger.accounts import mfa

    backup = mfa.new_backup_codes(world.admin)[0]
    response = http.post(url, {"code": backup, "next": "/account/admin/users/"})
    assert response.status_code == 200  # backup codes do not step up
    response = http.post(
        url, {"code": totp_code(device, steps_ahead=1), "next": "/account/admin/users/"}
    )
    assert response.status_code == 302 and response["Location"] == "/account/admin/users/"
    assert stepup.mfa_is_fresh(http.get("/").wsgi_request)
    assert [e["outcome"] for e in events("auth.step_up")] == ["denied", "allowed"]


def test_the_step_up_page_never_sends_you_off_site(world, login):  # type: ignore[no-untyped-def]
    device = totp_device(world.manager)
    http = login(world.manager)
    response = http.post(
        reverse("accounts:step_up"),
        {"code": totp_code(device, steps_ahead=1), "next": "https://evil.example/"},
    )
    assert response.status_code == 302 and response["Location"] == reverse("web:home")


# ---- the command line ------------------------------------------------------------------------


def rotate(*args: str) -> None:
    call_command("keys", "rotate", *args)


def test_key_rotation_needs_a_named_admin_or_auditor(world):  # type: ignore[no-untyped-def]
    with pytest.raises(CommandError, match="totp-user"):
        rotate()


@pytest.mark.parametrize("who", ["auditor", "admin"])
def test_key_rotation_with_a_fresh_code_is_done_and_ledgered(world, who):  # type: ignore[no-untyped-def]
    user = getattr(world, who)
    device = totp_device(user)
    rotate("--totp-user", user.username, "--code", totp_code(device))
    step_up, rotation = events("auth.step_up")[0], events("keys.rotate")[0]
    assert step_up["actor"] == str(user.id) and step_up["purpose"] == "keys.rotate"
    assert step_up["channel"] == "cli" and step_up["outcome"] == "allowed"
    assert rotation["request"] == step_up["request"]  # one command, one request id


def test_key_rotation_is_refused_for_a_wrong_reused_or_unentitled_code(world):  # type: ignore[no-untyped-def]
    device = totp_device(world.auditor)
    code = totp_code(device)
    rotate("--totp-user", "auditor", "--code", code)
    with pytest.raises(CommandError, match="step-up refused"):
        rotate("--totp-user", "auditor", "--code", code)  # the same code again
    manager_device = totp_device(world.manager)
    with pytest.raises(CommandError, match="step-up refused"):
        rotate("--totp-user", "manager", "--code", totp_code(manager_device))
    with pytest.raises(CommandError, match="step-up refused"):
        rotate("--totp-user", "nobody", "--code", "123456")
    assert len(events("keys.rotate")) == 1
    denied = events("auth.step_up", outcome="denied")
    assert len(denied) == 3
    assert "nobody" not in str(denied)


def test_key_rotation_prompts_for_the_code(world, monkeypatch):  # type: ignore[no-untyped-def]
    device = totp_device(world.admin)
    monkeypatch.setattr("getpass.getpass", lambda prompt: totp_code(device))
    rotate("--totp-user", "admin")
    assert len(events("keys.rotate")) == 1
